"""KTO and ORPO, the tasks added through the registry alone, learn the sample's preference on held-out records.

Each trains the starter on 80% of the sample's records with the app's defaults (only ``max_steps`` set, as a
user would) and is judged on the other 20%, which it never saw: for each held-out (prompt, chosen, rejected)
pair, the implicit reward ``log π(reply + EOS | prompt) − log π_starter(reply + EOS | prompt)`` (the sequence as
TRL's trainers score it) must rank the annotator's rewrite above the original response.
"""

from __future__ import annotations

import json

import pytest

from training_helpers import FAST, statuses, train

HELD_OUT = 80  # the sample's last records


@pytest.fixture(scope="module")
def record_split(tmp_path_factory):
    from rlhf.data.sources import resolve_source

    lines = resolve_source("sample").files[0][0].read_text(encoding="utf-8").splitlines()
    folder = tmp_path_factory.mktemp("preference-data")
    (folder / "train.jsonl").write_text("\n".join(lines[:-HELD_OUT]) + "\n", encoding="utf-8")
    (folder / "held_out.jsonl").write_text("\n".join(lines[-HELD_OUT:]) + "\n", encoding="utf-8")
    return folder


def _logprob(model, tokenizer, prompt: str, reply: str) -> float:
    import torch

    prompt_ids = tokenizer(prompt, return_tensors="pt").input_ids
    full_ids = tokenizer(prompt + reply + tokenizer.eos_token, return_tensors="pt").input_ids  # as TRL scores it
    with torch.no_grad():
        logprobs = torch.log_softmax(model(full_ids).logits[0, :-1].float(), dim=-1)
    start = prompt_ids.shape[1] - 1
    return float(logprobs[start:].gather(1, full_ids[0, 1:][start:, None]).sum())


def held_out_preference(run, held_out, cache, monkeypatch) -> tuple[float, float]:
    """(accuracy, mean margin) of the run's implicit reward over the starter on the held-out DPO pairs."""
    import rlhf
    from rlhf.inference.loading import load_for_generation

    monkeypatch.setenv("RLHF_CACHE_DIR", str(cache))
    pairs = rlhf.prepare(str(held_out), "dpo", train_size=1.0)
    tuned, base = load_for_generation(str(run)), load_for_generation("starter")
    margins = []
    for row in pairs:
        reward = {side: _logprob(tuned.model, tuned.tokenizer, row["prompt"], row[side])
                  - _logprob(base.model, base.tokenizer, row["prompt"], row[side]) for side in ("chosen", "rejected")}
        margins.append(reward["chosen"] - reward["rejected"])
    return sum(m > 0 for m in margins) / len(margins), sum(margins) / len(margins)


@pytest.mark.slow
@pytest.mark.training
@pytest.mark.parametrize("task", ["kto", "orpo"])
def test_preference_task_ranks_held_out_rewrites_above_originals(task, record_split, starter_cache, tmp_path,
                                                                  monkeypatch):
    run = tmp_path / task
    train(starter_cache, run, "--task", task, "--model", "starter", "--dataset", str(record_split / "train.jsonl"),
          "--train-size", "1.0", "--max-steps", "60", "--max-length", "256")
    assert statuses(run) == ["started", "finished"]
    plan = json.loads((run / "plan.json").read_text())
    assert plan["task"] == task and plan["trainer_config"]["learning_rate"] == plan["args"]["learning_rate"]

    accuracy, margin = held_out_preference(run, record_split / "held_out.jsonl", starter_cache, monkeypatch)
    assert accuracy >= 0.9 and margin > 0, (accuracy, margin)


def test_kto_rows_are_both_replies_of_each_pair_labelled(record_split):
    import rlhf

    rows = rlhf.prepare(str(record_split / "held_out.jsonl"), "kto", train_size=1.0)
    pairs = rlhf.prepare(str(record_split / "held_out.jsonl"), "dpo", train_size=1.0)
    assert rows.column_names == ["prompt", "completion", "label"]
    assert len(rows) == 2 * len(pairs)
    assert rows["label"][:2] == [True, False] and rows["completion"][:2] == [pairs[0]["chosen"], pairs[0]["rejected"]]


@pytest.mark.slow
@pytest.mark.training
def test_dpo_loss_type_reaches_the_trainer(starter_cache, tmp_path):
    run = tmp_path / "ipo"
    train(starter_cache, run, "--task", "dpo", "--loss-type", "ipo", "--model", "starter", "--dataset", "sample",
          "--max-steps", "2", *FAST)
    assert json.loads((run / "plan.json").read_text())["trainer_config"]["loss_type"] == ["ipo"]
