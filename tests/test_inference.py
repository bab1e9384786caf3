"""Using finished models: loading runs (full and LoRA), streamed generation, and the ``generate``/``score`` verbs.

Models are a tiny GPT-2 (32-wide, one layer) with a BPE tokenizer trained in the fixture, so nothing depends on
the starter build or the network; real run folders come from ``python -m rlhf train`` on it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import assert_clean_failure, cli_env, error_line, run_cli, write_jsonl

pytestmark = pytest.mark.training  # the models fixture trains two SFT runs with `rlhf train`

CHAT_TEMPLATE = ("{% for m in messages %}### {{ m['role'] }}: {{ m['content'] }}\n\n{% endfor %}"
                 "{% if add_generation_prompt %}### assistant:{% endif %}")
TEXTS = [f"### Instruction: Name animal number {i}.\n\n### Response: The cat sat on mat {i}." for i in range(16)]


def build_tiny_lm(folder: Path, classifier: bool = False) -> Path:
    """A 1-layer GPT-2 and its byte-level BPE tokenizer (with a chat template), saved for ``from_pretrained``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2ForSequenceClassification, GPT2LMHeadModel, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(TEXTS * 4, trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>", bos_token="<|endoftext|>",
                                        pad_token="<|endoftext|>", model_max_length=256)
    tokenizer.chat_template = CHAT_TEMPLATE
    eos = tokenizer.eos_token_id
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=256, n_embd=32, n_layer=1, n_head=2,
                        bos_token_id=eos, eos_token_id=eos, pad_token_id=eos, num_labels=1)
    torch.manual_seed(0)
    model = (GPT2ForSequenceClassification if classifier else GPT2LMHeadModel)(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def train_run(model: Path, out: Path, data: Path, *extra: str) -> subprocess.Popen:
    """``python -m rlhf train`` for two steps of SFT, started in the background; rlhf's cache beside the run."""
    return subprocess.Popen(
        [sys.executable, "-m", "rlhf", "train", "--task", "sft", "--model", str(model), "--dataset", str(data),
         "--output-dir", str(out), "--max-steps", "2", "--train-size", "1.0", "--save-steps", "1000", *extra],
        env=cli_env(RLHF_CACHE_DIR=str(out) + "-cache"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict[str, Path]:
    """A tiny LM, a tiny reward model, and two finished SFT runs on the LM (full and LoRA), trained in parallel."""
    root = tmp_path_factory.mktemp("inference")
    lm = build_tiny_lm(root / "lm")
    data = write_jsonl(root / "texts.jsonl", [{"text": t} for t in TEXTS])
    runs = {"full": root / "run-full", "lora": root / "run-lora"}
    jobs = [train_run(lm, runs["full"], data), train_run(lm, runs["lora"], data, "--use-peft")]
    for job in jobs:
        output, _ = job.communicate(timeout=600)
        assert job.returncode == 0, output
    return {"lm": lm, "rm": build_tiny_lm(root / "rm", classifier=True), **runs}


@pytest.fixture(autouse=True)
def fresh_cache():
    from rlhf.inference.loading import clear_cache

    clear_cache()
    yield
    clear_cache()


PROMPT = "### Instruction: Name animal number 3.\n\n### Response:"


# -- generation ------------------------------------------------------------------------------------------------

def test_stream_grows_and_ends_like_generate(models):
    from rlhf.inference.generation import generate, stream_generate

    steps = list(stream_generate(models["full"], PROMPT, max_new_tokens=24, seed=7))
    assert len(steps) > 1
    for shorter, longer in zip(steps, steps[1:]):
        assert longer.startswith(shorter) and len(longer) > len(shorter)
    assert steps[-1] == generate(models["full"], PROMPT, max_new_tokens=24, seed=7)


def test_greedy_ignores_the_seed(models):
    from rlhf.inference.generation import generate

    first = generate(models["lm"], PROMPT, max_new_tokens=8, temperature=0, seed=1)
    assert first == generate(models["lm"], PROMPT, max_new_tokens=8, do_sample=False, seed=2)


def test_closing_the_stream_stops_generation(models):
    from rlhf.inference.generation import stream_generate

    stream = stream_generate(models["lm"], PROMPT, max_new_tokens=200, temperature=1.0, seed=0)
    first = next(stream)
    stream.close()  # joins the generation thread: it must notice the cancellation and end
    assert first


def test_messages_use_the_chat_template(models):
    from rlhf.inference.generation import encode_prompt
    from rlhf.inference.loading import load_for_generation

    tokenizer = load_for_generation(models["lm"]).tokenizer
    messages = [{"role": "user", "content": "Name a cat."}]
    ids = encode_prompt(tokenizer, messages, "cpu")["input_ids"][0].tolist()
    assert tokenizer.decode(ids) == "### user: Name a cat.\n\n### assistant:"
    plain = encode_prompt(tokenizer, "Name a cat.", "cpu")["input_ids"][0].tolist()
    assert tokenizer.decode(plain) == "Name a cat."


def test_run_folder_and_final_load_once(models):
    from rlhf.inference.loading import cached_paths, load_for_generation

    run = load_for_generation(models["full"])
    assert load_for_generation(models["full"] / "final") is run  # the same resolved folder: cached
    assert not run.from_adapter and not run.model.training
    assert cached_paths() == [str((models["full"] / "final").resolve())]


def test_lora_run_loads_merged(models):
    from rlhf.inference.generation import generate
    from rlhf.inference.loading import load_for_generation

    assert (models["lora"] / "final" / "adapter_config.json").exists()
    loaded = load_for_generation(models["lora"])
    assert loaded.from_adapter
    assert not any("lora" in name for name, _ in loaded.model.named_parameters())
    assert isinstance(generate(models["lora"], PROMPT, max_new_tokens=4, seed=0), str)


def test_cache_keeps_two_and_reloads_changed_files(models):
    from rlhf.inference.loading import cached_paths, load_for_generation

    first = load_for_generation(models["lm"])
    load_for_generation(models["full"])
    load_for_generation(models["lora"])
    assert len(cached_paths()) == 2 and str(models["lm"].resolve()) not in cached_paths()
    os.utime(models["lm"] / "config.json", ns=(1, 10**19))  # a re-trained model: newer files
    assert load_for_generation(models["lm"]) is not first


def test_reward_model_is_refused_for_generation(models):
    from rlhf.errors import ConfigError
    from rlhf.inference.loading import load_for_generation

    with pytest.raises(ConfigError, match="reward model"):
        load_for_generation(models["rm"])


# -- the verbs ------------------------------------------------------------------------------------------------

def test_generate_cli_prints_the_completion(models):
    from rlhf.inference.generation import generate

    expected = generate(models["full"], PROMPT, max_new_tokens=12, seed=3)
    for stream in ([], ["--stream"]):
        result = run_cli("generate", "--model", models["full"], "--prompt", PROMPT, "--max-new-tokens", 12,
                         "--seed", 3, *stream)
        assert result.returncode == 0, result.stderr
        assert result.stdout == expected + "\n"


def test_generate_cli_chat_uses_the_template(models):
    from rlhf.inference.generation import reply

    expected = reply(models["lm"], [{"role": "user", "content": "Hi"}], "chat", max_new_tokens=6, seed=5)
    result = run_cli("generate", "--model", models["lm"], "--prompt", "Hi", "--chat", "--max-new-tokens", 6,
                     "--seed", 5)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected + "\n"


def test_generate_cli_template_prints_what_the_chat_shows(models):
    from rlhf.services.inference import Inference, prompt_for

    *_, shown = Inference().generate(str(models["full"]), prompt_for("Name animal number 3."), "template",
                                     max_new_tokens=12, seed=3)
    for stream in ([], ["--stream"]):
        result = run_cli("generate", "--model", models["full"], "--prompt", "Name animal number 3.", "--template",
                         "--max-new-tokens", 12, "--seed", 3, *stream)
        assert result.returncode == 0, result.stderr
        assert result.stdout == shown + "\n"


def test_template_generation_stops_at_the_header_after_the_answer(models):
    from rlhf.inference.generation import _AnswerEnded
    from rlhf.inference.loading import load_for_generation

    tokenizer = load_for_generation(models["lm"]).tokenizer
    start = len(tokenizer(PROMPT)["input_ids"])
    ids = tokenizer(PROMPT + " The cat.\n\n### Instruction:", return_tensors="pt")["input_ids"]
    stop = _AnswerEnded(tokenizer, start)
    assert stop(ids, None).tolist() == [True]
    assert stop(ids[:, :start + 2], None).tolist() == [False]


def test_generate_cli_missing_model_is_a_clean_error(tmp_path):
    result = run_cli("generate", "--model", tmp_path, "--prompt", "hi")
    assert_clean_failure(result, 2)
    assert "no config.json" in error_line(result)


def test_score_cli_pairs(models, tmp_path):
    rows = [{"prompt": "Q: ", "chosen": "a good answer", "rejected": "bad", "id": 1},
            {"chosen": "another", "rejected": "worse"}]
    source = write_jsonl(tmp_path / "pairs.jsonl", rows)
    out = tmp_path / "scored.jsonl"
    result = run_cli("score", "--model", models["rm"], "--input", source, "--output", out)
    assert result.returncode == 0, result.stderr
    scored = [json.loads(line) for line in out.read_text().splitlines()]
    assert [{k: v for k, v in r.items() if not k.endswith("_score")} for r in scored] == rows
    assert all(isinstance(r["chosen_score"], float) and isinstance(r["rejected_score"], float) for r in scored)
    wins = sum(r["chosen_score"] > r["rejected_score"] for r in scored)
    assert f"scored 2 pairs: chosen > rejected in {wins}/2 ({wins / 2:.3f})" in result.stderr

    from rlhf.inference.scoring import RewardScorer

    assert scored[0]["chosen_score"] == pytest.approx(RewardScorer(str(models["rm"])).score(["Q: a good answer"])[0],
                                                      abs=1e-5)


def test_score_cli_texts(models, tmp_path):
    source = write_jsonl(tmp_path / "texts.jsonl", [{"text": "one"}, {"text": "two"}])
    out = tmp_path / "scored.jsonl"
    result = run_cli("score", "--model", models["rm"], "--input", source, "--output", out)
    assert result.returncode == 0, result.stderr
    assert [set(json.loads(line)) for line in out.read_text().splitlines()] == [{"text", "score"}] * 2
    assert "scored 2 rows" in result.stderr


def test_score_cli_missing_column_names_the_line(models, tmp_path):
    source = write_jsonl(tmp_path / "pairs.jsonl", [{"chosen": "a", "rejected": "b"}, {"chosen": "c"}])
    result = run_cli("score", "--model", models["rm"], "--input", source, "--output", tmp_path / "o.jsonl")
    assert_clean_failure(result, 2)
    assert "line 2: missing column 'rejected'" in error_line(result)
    assert not (tmp_path / "o.jsonl").exists()


def test_score_cli_refuses_a_language_model(models, tmp_path):
    source = write_jsonl(tmp_path / "t.jsonl", [{"text": "a"}])
    result = run_cli("score", "--model", models["lm"], "--input", source, "--output", tmp_path / "o.jsonl")
    assert_clean_failure(result, 2)
    assert "not a reward model" in error_line(result)
