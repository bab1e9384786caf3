"""The starter model: built offline from the bundled sample, loadable by the usual classes, cached once."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported: these tests never touch the Hub

import json
import subprocess
import sys
import threading

import pytest
import torch
from transformers import (
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    GPT2LMHeadModel,
)

from rlhf import starter
from rlhf.starter import build, corpus

STEPS = 60  # enough for the loss to fall clearly, short enough for a quick test
PROMPT = "### Instruction: What is a cat?\n\n### Context: \n\n### Response:"  # the seed's stripped template


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return starter.build_starter(tmp_path_factory.mktemp("starter"), steps=STEPS)


@pytest.fixture(scope="module")
def tokenizer(built):
    return AutoTokenizer.from_pretrained(built)


@pytest.fixture
def builds(tmp_path, monkeypatch):
    """Cache in tmp_path, and record each real (2-step) build that `ensure_starter` starts."""
    monkeypatch.setenv("RLHF_CACHE_DIR", str(tmp_path))
    calls = []
    real = build.build_starter

    def counted(out_dir, **kwargs):
        calls.append(out_dir)
        return real(out_dir, **kwargs, steps=2)

    monkeypatch.setattr(build, "build_starter", counted)
    return calls


def test_name_is_case_insensitive():
    assert starter.is_starter("starter") and starter.is_starter("Starter")
    assert not starter.is_starter("gpt2")


def test_other_names_pass_through():
    assert starter.resolve_model("openai-community/gpt2") == "openai-community/gpt2"


def test_import_is_light():
    code = "import sys, rlhf.starter; print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cache_dir_follows_env(tmp_path, monkeypatch):
    monkeypatch.setenv("RLHF_CACHE_DIR", str(tmp_path))
    assert starter.starter_dir().parent == tmp_path
    assert starter.starter_dir().name.startswith("starter-")


def test_corpus_uses_submitted_rewrites():
    record = {
        "original-instruction": "Is a toad a frog?",
        "original-context": None,
        "original-response": "Yes.",
        "new-instruction": [],
        "new-context": [],
        "new-response": [
            {"user_id": "a", "value": "Yes, toads are frogs.", "status": "submitted"},
            {"user_id": "b", "value": "Unfinished", "status": "draft"},
        ],
    }
    texts = list(corpus.record_texts(record))
    assert texts == ["Is a toad a frog?\n\nYes.", "Is a toad a frog?\n\nYes, toads are frogs."]
    assert not any("Unfinished" in text for text in texts)


def test_corpus_leaves_the_prompt_template_to_sft():
    texts = corpus.training_texts()
    assert texts and not any("### Instruction" in text for text in texts)


@pytest.mark.slow
def test_reloads_as_causal_lm(built):
    assert isinstance(AutoModelForCausalLM.from_pretrained(built), GPT2LMHeadModel)
    assert GPT2LMHeadModel.from_pretrained(built).config.n_layer == 2


@pytest.mark.slow
def test_pad_is_not_eos(built, tokenizer):
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    config = GPT2LMHeadModel.from_pretrained(built).config
    assert (config.pad_token_id, config.eos_token_id) == (tokenizer.pad_token_id, tokenizer.eos_token_id)


@pytest.mark.slow
def test_tokenizer_round_trips_text(tokenizer):
    text = "  Two spaces,\ttabs,\n\nblank lines and café 🙂 \n"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text


@pytest.mark.slow
def test_chat_prompt_is_the_template_prompt(tokenizer):
    messages = [{"role": "user", "content": "What is a cat?"}]
    assert tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False) == PROMPT


@pytest.mark.slow
def test_template_headers_and_empty_fields_are_one_token_each(tokenizer):
    tokens = tokenizer.convert_ids_to_tokens(tokenizer(PROMPT + " Yes.", add_special_tokens=False)["input_ids"])
    context, response = tokens.index("### Context:"), tokens.index("### Response:")
    assert tokens[0] == "### Instruction:"
    assert response == context + 2  # the empty context between the headers is one token
    assert tokens[response + 1] != "Ġ"  # the answer's first word carries its space: no lone space token


@pytest.mark.slow
def test_chat_template_takes_system_and_assistant_turns(tokenizer):
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi?"},
        {"role": "assistant", "content": "Hello."},
    ]
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    assert text.startswith("### System: Be brief.\n\n### Instruction: Hi?")
    assert "### Response: Hello.<|endoftext|>" in text


@pytest.mark.slow
def test_generates_new_text(built, tokenizer):
    model = AutoModelForCausalLM.from_pretrained(built)
    inputs = tokenizer(PROMPT, return_tensors="pt")
    output = model.generate(**inputs, max_new_tokens=20, do_sample=False)
    new = tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    assert new.strip()


@pytest.mark.slow
def test_training_lowers_loss(built):
    log = json.loads((built / "build.json").read_text())
    assert log["steps"] == STEPS
    assert log["final_loss"] < 0.75 * log["initial_loss"]


@pytest.mark.slow
def test_same_seed_same_losses(tmp_path):
    logs = [
        json.loads((starter.build_starter(tmp_path / name, seed=3, steps=3) / "build.json").read_text())
        for name in ("a", "b")
    ]
    # Thread counts may differ between the builds, so allow float-order noise.
    first, second = ([loss for _, loss in log["loss_curve"]] + [log["final_loss"]] for log in logs)
    assert first == pytest.approx(second, abs=1e-3)


@pytest.mark.slow
def test_reward_model_scores_padded_batch(built, tokenizer):
    model = AutoModelForSequenceClassification.from_pretrained(built, num_labels=1)
    batch = tokenizer(["A short one.", "A rather longer text, with more words."], padding=True, return_tensors="pt")
    with torch.no_grad():
        scores = model(**batch).logits
    assert scores.shape == (2, 1)


@pytest.mark.slow
def test_ensure_builds_once(builds):
    first = starter.ensure_starter()
    second = starter.ensure_starter()
    assert first == second == starter.starter_dir()
    assert len(builds) == 1


@pytest.mark.slow
def test_concurrent_ensure_builds_once(builds):
    paths = []
    threads = [threading.Thread(target=lambda: paths.append(starter.ensure_starter())) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(paths)) == 1 and len(paths) == 3
    assert len(builds) == 1


@pytest.mark.slow
def test_incomplete_folder_is_rebuilt(builds):
    partial = starter.starter_dir()
    partial.mkdir(parents=True)
    (partial / "config.json").write_text("{}")
    assert (starter.ensure_starter() / "build.json").is_file()
    assert len(builds) == 1


@pytest.mark.slow
def test_resolve_model_builds_starter(builds):
    path = starter.resolve_model("Starter")
    assert path == str(starter.starter_dir())
    assert (starter.starter_dir() / "model.safetensors").is_file()
