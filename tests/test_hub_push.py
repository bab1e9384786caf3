"""Model cards and pushing runs to the Hub, offline: the real ``huggingface_hub`` client talks to a fake Hub.

The fake Hub (``PushHub`` in ``fake_hub.py``) is an ``http.server`` on 127.0.0.1 that answers exactly the calls huggingface_hub
2.4 makes for ``create_repo`` + ``upload_folder``:

- ``POST /api/repos/create``: records the payload (name, organization, visibility, type);
- ``POST /api/validate-yaml``: the README.md front-matter check ``upload_folder`` runs first;
- ``POST /api/models/{owner}/{name}/preupload/{rev}``: answers ``uploadMode: regular`` for every file, so the
  client sends contents inline (base64) in the commit instead of through the LFS/xet storage protocol;
- ``POST /api/models/{owner}/{name}/commit/{rev}``: the NDJSON commit; the files are decoded and kept.

``GET /api/agent-harnesses`` (huggingface_hub's own best-effort registry fetch, once a day per machine, sent
without a token) gets a 404 and is logged apart. Anything else is a 404 and stays in the request log, so an
unexpected call shows up in assertions. Every request keeps its Authorization header, so tests can see the token
go where it should (the header) and nowhere else.
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
import yaml

from rlhf.errors import ConfigError, HubUnreachableError, RlhfError
from rlhf.runs.config import DataSettings, LoraSettings, RunConfig, TrainingSettings
from rlhf.runs.events import append_event
from conftest import cli_env, run_cli
from fake_hub import PushHub

TOKEN = "hf_testsecret123"
DOLLY = "argilla/databricks-dolly-15k-curated-en"
LOSSES = [4.1, 3.7, 3.2, 2.9, 2.5, 2.4, 2.2]


# -- the fake Hub --------------------------------------------------------------------------------------------

@pytest.fixture
def hub(monkeypatch):
    """A running fake Hub; the test session's offline switch is lifted and HF_TOKEN is the test secret."""
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with PushHub() as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.endpoint)
        # The client's own side calls (read from its constants at import) must not reach the real Hub either.
        monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", fake.endpoint)
        yield fake


# -- tiny run folders ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    """A tiny GPT-2 (causal LM, reward model, a LoRA adapter on each) with a word-level tokenizer."""
    import torch
    from peft import LoraConfig, TaskType, get_peft_model
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2ForSequenceClassification, GPT2LMHeadModel, PreTrainedTokenizerFast

    root = tmp_path_factory.mktemp("tiny")
    words = Tokenizer(models.WordLevel(unk_token="<unk>"))
    words.pre_tokenizer = pre_tokenizers.Whitespace()
    words.train_from_iterator(["name a primary colour red is a primary colour of light banana"],
                              trainers.WordLevelTrainer(vocab_size=64, special_tokens=["<unk>", "<eos>"]))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=words, unk_token="<unk>", eos_token="<eos>",
                                        pad_token="<eos>")
    torch.manual_seed(0)
    config = GPT2Config(n_embd=16, n_layer=1, n_head=2, vocab_size=64, n_positions=128, pad_token_id=1)
    out = {}
    for name, model in (("causal", GPT2LMHeadModel(config)),
                        ("rm", GPT2ForSequenceClassification(GPT2Config(**config.to_dict(), num_labels=1)))):
        model.save_pretrained(root / name)
        tokenizer.save_pretrained(root / name)
        out[name] = root / name
    base = GPT2LMHeadModel.from_pretrained(out["causal"])  # name_or_path: the local folder, as a run's base
    adapter = get_peft_model(base, LoraConfig(r=2, lora_alpha=4, target_modules=["c_attn"],
                                              task_type=TaskType.CAUSAL_LM))
    adapter.save_pretrained(root / "adapter")
    tokenizer.save_pretrained(root / "adapter")
    out["adapter"] = root / "adapter"
    scorer = GPT2ForSequenceClassification.from_pretrained(out["rm"])
    rm_adapter = get_peft_model(scorer, LoraConfig(r=2, lora_alpha=4, target_modules=["c_attn"],
                                                   task_type=TaskType.SEQ_CLS))
    rm_adapter.save_pretrained(root / "rm_adapter")
    tokenizer.save_pretrained(root / "rm_adapter")
    out["rm_adapter"] = root / "rm_adapter"
    return out


def make_run(root: Path, name: str, task: str, final: Path | None, model: str = "gpt2",
             use_peft: bool = False) -> Path:
    """A run folder as ``rlhf train`` leaves it: config.yaml, events.jsonl, metrics.json and (if given) final/."""
    run = root / name
    config = RunConfig(
        task=task, model=model, output_dir=str(run),
        data=DataSettings(dataset=DOLLY, formatting_func="/home/alice/funcs/my_func.py", function="formatting_func"),
        training=TrainingSettings(learning_rate=1e-3, per_device_train_batch_size=4, max_steps=7, max_length=128,
                                  extra={"hub_token": TOKEN, "optim": "adamw_torch"}),
        lora=LoraSettings(use_peft=use_peft, lora_r=2, lora_alpha=4, lora_target_modules=["c_attn"]),
    )
    config.save(run / "config.yaml")
    append_event(run / "events.jsonl", {"status": "started", "task": task, "model": model})
    append_event(run / "events.jsonl", {"prepared": {"records": 6, "rows": 5, "dropped": {}, "splits": {}}})
    for step, loss in enumerate(LOSSES, start=1):
        append_event(run / "events.jsonl", {"step": step, "epoch": step / 7, "loss": loss, "learning_rate": 1e-3})
    if final is None:
        return run
    shutil.copytree(final, run / "final")
    (run / "final" / "training_args.bin").write_bytes(b"pickled TrainingArguments")  # must not be uploaded
    (run / "metrics.json").write_text(json.dumps({"task": task, "model": model, "global_step": 7,
                                                  "first_loss": LOSSES[0], "last_loss": LOSSES[-1]}))
    append_event(run / "events.jsonl", {"status": "finished", "step": 7})
    return run


def run_snippets(card: str, where: Path) -> str:
    """Execute the card's Python blocks from ``where`` (they load ``RUN/final``): the snippets must really work."""
    import contextlib
    import io
    import os
    import re

    printed = io.StringIO()
    previous = os.getcwd()
    os.chdir(where)
    try:
        for block in re.findall(r"```python\n(.*?)```", card, re.S):
            with contextlib.redirect_stdout(printed):
                exec(compile(block, "card", "exec"), {"__name__": "card"})
    finally:
        os.chdir(previous)
    return printed.getvalue()


def front_matter(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


# -- model cards ---------------------------------------------------------------------------------------------

def test_sft_card_has_hub_metadata_settings_metrics_and_a_causal_load_snippet(tmp_path, tiny):
    from rlhf.hub import model_card

    run = make_run(tmp_path, "sft-1", "sft", tiny["causal"])
    card = model_card(run, repo_id="alice/tiny-sft")

    meta = front_matter(card)
    assert meta["library_name"] == "transformers"
    assert meta["base_model"] == "gpt2"
    assert meta["tags"] == ["rlhf", "trl", "sft"]
    assert meta["datasets"] == [DOLLY]
    assert meta["pipeline_tag"] == "text-generation"
    assert "license" not in meta
    assert 'AutoModelForCausalLM.from_pretrained("alice/tiny-sft")' in card
    assert "peft" not in card and "SequenceClassification" not in card
    assert "`formatting_func` from `my_func.py`" in card and "/home/alice" not in card
    assert "| `learning_rate` | 0.001 |" in card and "| `max_steps` | 7 |" in card
    assert "| `last_loss` | 2.2 |" in card
    assert "loss.png" in card or "▁" in card  # the curve: a picture with matplotlib, else a sparkline
    assert TOKEN not in card and "hub_token" not in card  # a secret-looking `extra` setting stays out
    assert (run / "card.md").read_text(encoding="utf-8") == card
    assert 'AutoModelForCausalLM.from_pretrained("sft-1/final")' in model_card(run)  # before a push: local
    run_snippets(model_card(run), tmp_path)  # generates with the tiny model


def test_reward_model_card_shows_the_sequence_classification_snippet(tmp_path, tiny):
    from rlhf.hub import model_card

    run = make_run(tmp_path, "rm-1", "rm", tiny["rm"])
    card = model_card(run, repo_id="alice/tiny-rm")
    meta = front_matter(card)
    assert meta["tags"] == ["rlhf", "trl", "reward-model"] and meta["pipeline_tag"] == "text-classification"
    assert 'AutoModelForSequenceClassification.from_pretrained("alice/tiny-rm")' in card
    assert "def score(text: str) -> float:" in card and "logits[0, 0]" in card
    assert "AutoModelForCausalLM" not in card
    assert run_snippets(model_card(run), tmp_path).strip() in ("True", "False")  # scores two texts

    lora = make_run(tmp_path, "rm-lora", "rm", tiny["rm_adapter"], use_peft=True)
    card = model_card(lora)
    assert front_matter(card)["library_name"] == "peft"
    assert 'AutoPeftModelForSequenceClassification.from_pretrained("rm-lora/final", num_labels=1)' in card
    assert run_snippets(card, tmp_path).strip() in ("True", "False")


def test_adapter_card_loads_with_peft_and_the_starter_is_no_base_model(tmp_path, tiny):
    from rlhf.hub import model_card

    run = make_run(tmp_path, "sft-lora", "sft", tiny["adapter"], model="starter", use_peft=True)
    card = model_card(run)
    meta = front_matter(card)
    assert meta["library_name"] == "peft"
    assert "lora" in meta["tags"] and "base_model" not in meta
    assert 'AutoPeftModelForCausalLM.from_pretrained("sft-lora/final")' in card
    assert "rlhf starter model" in card and "--merge-adapter" in card
    assert "| `lora_r` | 2 |" in card and "| `lora_target_modules` | c_attn |" in card
    run_snippets(card, tmp_path)  # peft finds the base where the adapter was trained


@pytest.mark.parametrize("algorithm", ["grpo", "ppo"])
def test_rl_card_names_the_algorithm_and_the_rewards(tmp_path, tiny, algorithm):
    from rlhf.hub import model_card
    from rlhf.runs.config import RLSettings

    reward_run = make_run(tmp_path, "rm-1", "rm", tiny["rm"])
    run = make_run(tmp_path, "rl-1", "rl", tiny["causal"])
    config = RunConfig.load(run / "config.yaml")
    config.rl = RLSettings(algorithm=algorithm, reward_models=[str(reward_run)], reward_func="/home/alice/r.py")
    config.save(run / "config.yaml")
    for step, reward in enumerate([0.1, 0.4, 0.9], start=1):
        append_event(run / "events.jsonl", {"step": step, "reward": reward})

    card = model_card(run, repo_id="alice/tiny-rl")
    assert front_matter(card)["tags"] == ["rlhf", "trl", algorithm]
    assert "reward model the rlhf run `rm-1`, itself trained from [gpt2]" in card
    assert "reward function `reward_func` from `r.py`" in card and "/home/alice" not in card
    assert "`reward` during training (3 logged steps" in card or "](loss.png)" in card
    assert ("| `kl_coef` |" in card) == (algorithm == "ppo")


def test_curve_is_a_png_with_matplotlib(tmp_path, tiny):
    pytest.importorskip("matplotlib")
    from rlhf.hub import model_card

    run = make_run(tmp_path, "sft-1", "sft", tiny["causal"])
    assert "](loss.png)" in model_card(run)
    assert (run / "loss.png").read_bytes()[:4] == b"\x89PNG"


# -- pushing -------------------------------------------------------------------------------------------------

def test_push_creates_a_private_repo_then_uploads_final_and_the_card(tmp_path, tiny, hub, capsys):
    from rlhf.hub import push_run

    run = make_run(tmp_path, "sft-1", "sft", tiny["causal"])
    messages: list[str] = []
    url = push_run(run, "alice/tiny-sft", progress=messages.append)

    assert url == f"{hub.endpoint}/alice/tiny-sft"
    assert hub.routes() == ["POST /api/repos/create", "POST /api/validate-yaml",
                            "POST /api/models/alice/tiny-sft/preupload/main",
                            "POST /api/models/alice/tiny-sft/commit/main"]
    assert hub.requests[0]["json"] == {"name": "tiny-sft", "organization": "alice", "visibility": "private",
                                       "type": "model"}
    files = hub.files("alice/tiny-sft")
    expected = {p.name for p in (run / "final").iterdir()} - {"training_args.bin"} | {"README.md"}
    assert set(files) - {"loss.png"} == expected
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(files)
    assert files["README.md"].decode() == (run / "card.md").read_text(encoding="utf-8")
    assert front_matter(files["README.md"].decode())["library_name"] == "transformers"
    assert files["model.safetensors"] == (run / "final" / "model.safetensors").read_bytes()

    # The token goes in the Authorization header of every call, and nowhere else.
    assert all(r["auth"] == f"Bearer {TOKEN}" for r in hub.requests)
    assert not any(TOKEN.encode() in content for content in files.values())
    assert not any(TOKEN.encode() in r["raw"] for r in hub.requests)
    printed = capsys.readouterr()
    assert TOKEN not in printed.out + printed.err + "\n".join(messages)
    assert not any(TOKEN.encode() in p.read_bytes() for p in run.rglob("*") if p.is_file()
                   and p.name != "config.yaml")  # config.yaml: the test wrote the secret into `extra` itself


@pytest.mark.parametrize("task, adapter, loader, architecture", [
    ("sft", "adapter", "AutoModelForCausalLM", "GPT2LMHeadModel"),
    ("rm", "rm_adapter", "AutoModelForSequenceClassification", "GPT2ForSequenceClassification"),
])
def test_push_merges_an_adapter_into_full_weights(tmp_path, tiny, hub, task, adapter, loader, architecture):
    from rlhf.hub import push_run

    run = make_run(tmp_path, f"{task}-lora", task, tiny[adapter], model="gpt2", use_peft=True)
    push_run(run, "alice/tiny-merged", merge_adapter=True)
    files = hub.files("alice/tiny-merged")
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md"} <= set(files)
    assert "adapter_config.json" not in files
    assert json.loads(files["config.json"])["architectures"] == [architecture]
    card = files["README.md"].decode()
    assert front_matter(card)["library_name"] == "transformers" and "lora" in front_matter(card)["tags"]
    assert f'{loader}.from_pretrained("alice/tiny-merged")' in card and "AutoPeft" not in card


def test_cli_push_public_prints_only_the_url(tmp_path, tiny, hub):
    run = make_run(tmp_path, "rm-1", "rm", tiny["rm"])
    env = cli_env(HF_HUB_OFFLINE=None, HF_TOKEN=None, HF_ENDPOINT=hub.endpoint, MY_HUB_TOKEN=TOKEN)
    result = run_cli("push", "--run", run, "--repo-id", "alice/tiny-rm", "--public", "--token-env", "MY_HUB_TOKEN",
                     env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{hub.endpoint}/alice/tiny-rm"
    assert TOKEN not in result.stdout + result.stderr
    assert hub.routes()[0] == "POST /api/repos/create", hub.routes()
    assert hub.requests[0]["json"]["visibility"] == "public"
    assert all(r["auth"] == f"Bearer {TOKEN}" for r in hub.requests)
    assert all(r["auth"] is None for r in hub.client_fetches)
    usage = run_cli("push", "--help").stdout
    assert "shell history" in usage and "--token-env" in usage
    options = [o for a in _push_parser()._actions for o in a.option_strings]
    assert "--token" not in options and "--hf-token" not in options  # no token on a command line


def _push_parser():
    import argparse

    from rlhf.cli import build_parser

    verbs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return verbs.choices["push"]


def test_hub_errors_name_the_status_and_never_echo_the_token(tmp_path, tiny, hub):
    from rlhf.hub import push_run

    run = make_run(tmp_path, "sft-1", "sft", tiny["causal"])
    with pytest.raises(RlhfError) as caught:
        push_run(run, "forbidden/tiny")
    message = str(caught.value)
    assert "403" in message and "write access" in message
    assert TOKEN not in message and "***" in message  # the server echoed it; the message is redacted
    assert hub.files("forbidden/tiny") == {}


def test_no_token_is_a_config_error_before_any_request(tmp_path, tiny, hub, monkeypatch):
    import huggingface_hub.constants

    from rlhf.hub import push_run

    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(tmp_path / "no-stored-login"))
    run = make_run(tmp_path, "sft-1", "sft", tiny["causal"])
    with pytest.raises(ConfigError, match="No Hugging Face token.*HF_TOKEN.*hf auth login"):
        push_run(run, "alice/tiny-sft")
    assert hub.requests == []


def test_offline_or_unreachable_hub_is_hub_unreachable(tmp_path, tiny, monkeypatch):
    from rlhf.hub import push_run

    monkeypatch.setenv("HF_TOKEN", TOKEN)
    run = make_run(tmp_path, "sft-1", "sft", tiny["causal"])
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubUnreachableError, match="HF_HUB_OFFLINE"):
        push_run(run, "alice/tiny-sft")

    monkeypatch.delenv("HF_HUB_OFFLINE")
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(HubUnreachableError, match="cannot be reached") as caught:
        push_run(run, "alice/tiny-sft", endpoint=f"http://127.0.0.1:{port}")
    assert TOKEN not in str(caught.value)


def test_unfinished_run_and_bad_repo_id_are_config_errors(tmp_path, tiny, hub):
    from rlhf.hub import push_run

    unfinished = make_run(tmp_path, "sft-running", "sft", None)
    with pytest.raises(ConfigError, match="'sft-running' has no final/ model.*status: started"):
        push_run(unfinished, "alice/tiny-sft")
    with pytest.raises(ConfigError, match="owner/name"):
        push_run(make_run(tmp_path, "sft-1", "sft", tiny["causal"]), "not a repo id")
    assert hub.requests == []
