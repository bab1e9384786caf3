"""The engine services without Gradio or visitors: :class:`rlhf.services.inference.Inference` (token counts,
generation with the starter, its caches) and its prompt helpers."""

from __future__ import annotations

import pytest

from rlhf.services.inference import Inference, prompt_for, token_sequences


def test_prompts_follow_the_prompt_format():
    from rlhf.errors import ConfigError

    assert prompt_for("Hi?", "ctx").startswith("### Instruction: Hi?") and prompt_for("Hi?").endswith("Response:")
    assert prompt_for("Hi?", history=[{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}],
                      prompt_format="chat") == [{"role": "user", "content": "a"}, {"role": "user", "content": "Hi?"}]
    assert prompt_for("Hi?", prompt_format="raw") == "Hi?"
    with pytest.raises(ConfigError, match="prompt_format"):
        prompt_for("Hi?", prompt_format="nope")


def test_token_sequences_name_each_text_by_its_last_column():
    dpo = (("prompt", "chosen"), ("prompt", "rejected"))
    assert token_sequences(dpo, ["prompt", "chosen", "rejected"]) == {"chosen": ("prompt", "chosen"),
                                                                      "rejected": ("prompt", "rejected")}
    assert token_sequences((("text",),), ["id", "prompt"]) == {"prompt": ("prompt",)}  # fallback: a text column


def test_token_lengths_and_generation_with_the_starter(starter_cache, monkeypatch):
    import datasets

    monkeypatch.setenv("RLHF_CACHE_DIR", str(starter_cache))
    inference = Inference()
    rows = datasets.Dataset.from_dict({"prompt": ["a b", "c"], "completion": [" d e f", " g"],
                                       "label": [True, False]})

    result = inference.token_lengths("starter", rows, (("prompt", "completion"),))

    assert list(result["lengths"]) == ["completion"] and len(result["lengths"]["completion"]) == 2
    assert result["stats"]["completion"]["count"] == 2
    assert inference.tokenizer("starter") is inference.tokenizer("starter")  # cached
    replies = list(inference.generate("starter", prompt_for("Is a toad a frog?"), max_new_tokens=4, seed=1))
    assert replies and all(isinstance(r, str) for r in replies)
