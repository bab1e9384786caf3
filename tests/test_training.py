"""Learning is the test: each task trains the starter model on the bundled sample and provably learns.

Every run is a real ``python -m rlhf train`` process with real TRL trainers; the numbers asserted are the ones the
issue asks for, measured on the run's own ``events.jsonl``. The reward model's held-out accuracy is asserted on
the README's run in test_reward_scoring.py, PPO's rise in test_learning_from_sft.py.
"""

from __future__ import annotations

import json
import math

import pytest

from training_helpers import FAST, events, mean, series, statuses, train

pytestmark = pytest.mark.training  # real training processes on the starter model

REWARD_FUNC = '''
def reward_func(completions, prompts=None, **kwargs):
    """The share of words that are "the": easy to learn for a tiny model, and independent of length (PPO's
    length sampler draws a new length every step)."""
    return [c.lower().split().count("the") / max(1, len(c.split())) for c in completions]
'''


@pytest.fixture(scope="module")
def sft_run(starter_cache, tmp_path_factory):
    run = tmp_path_factory.mktemp("sft") / "run"
    train(starter_cache, run, "--task", "sft", "--model", "starter", "--dataset", "sample", "--max-steps", "60",
          *FAST)
    return run


def test_sft_loss_falls_by_at_least_a_fifth(sft_run):
    """The starter (build 7) pre-trains less on the sample's prose than before (loss 2.6, was 1.5), so what SFT
    can still take off in 60 steps is mostly the template: about a quarter of the loss (a third before)."""
    losses = series(sft_run, "loss")
    assert len(losses) == 60
    assert mean(losses[-5:]) <= 0.8 * mean(losses[:5]), losses


def test_sft_run_folder_is_complete(sft_run):
    assert statuses(sft_run) == ["started", "finished"]
    for name in ("config.yaml", "events.jsonl", "metrics.json", "final/config.json", "final/tokenizer.json"):
        assert (sft_run / name).exists(), name
    metrics = json.loads((sft_run / "metrics.json").read_text())
    assert metrics["global_step"] == 60 and metrics["last_loss"] < metrics["first_loss"]


def _continuation_logprob(model_ref: str, prefix: str, continuation: str) -> float:
    import torch

    from rlhf.inference.loading import load_for_generation

    loaded = load_for_generation(model_ref)
    tok, model = loaded.tokenizer, loaded.model
    prefix_ids = tok(prefix, return_tensors="pt").input_ids
    full_ids = tok(prefix + continuation, return_tensors="pt").input_ids
    with torch.no_grad():
        logprobs = torch.log_softmax(model(full_ids).logits[0, :-1].float(), dim=-1)
    targets = full_ids[0, 1:]
    start = prefix_ids.shape[1] - 1
    return float(logprobs[start:].gather(1, targets[start:, None]).sum())


def test_sft_model_expects_the_template_and_the_starter_does_not(sft_run, starter_cache, monkeypatch):
    monkeypatch.setenv("RLHF_CACHE_DIR", str(starter_cache))
    prefix = "### Instruction: Is a toad a frog?"
    continuation = "\n\n### Context: \n\n### Response:"
    tuned = _continuation_logprob(str(sft_run), prefix, continuation)
    base = _continuation_logprob("starter", prefix, continuation)
    assert tuned > base + 10, (tuned, base)  # e^10: the tuned model is far more sure of the template


def test_sft_generation_follows_the_template(sft_run, starter_cache, monkeypatch):
    from rlhf.inference.generation import generate

    monkeypatch.setenv("RLHF_CACHE_DIR", str(starter_cache))
    prompt = "### Instruction: Name three colours of the rainbow.\n\n"
    tuned = generate(str(sft_run), prompt, max_new_tokens=24, temperature=0)
    base = generate("starter", prompt, max_new_tokens=24, temperature=0)
    assert "### Response:" in tuned or "### Context:" in tuned, tuned
    assert "###" not in base, base


def test_dpo_margin_between_chosen_and_rejected_grows(starter_cache, tmp_path):
    run = tmp_path / "dpo"
    train(starter_cache, run, "--task", "dpo", "--model", "starter", "--dataset", "sample", "--max-steps", "20",
          *FAST)
    margins = series(run, "rewards/margins")
    assert len(margins) == 20
    assert mean(margins[-5:]) > mean(margins[:5]) + 0.5, margins


# With a reward function written by the user. PPO learns from the README's reward model with the app's defaults in
# test_learning_from_sft.py and test_readme_flow.py, and from the seed page's reward function in test_compat_trlx.py;
# its clipped updates need more rollouts than GRPO's and RLOO's group baselines to show the same rise here.
RL_SETTINGS = {"grpo": ("20", "1e-3", "8"), "rloo": ("20", "1e-3", "8")}


@pytest.mark.parametrize("algorithm", ["grpo", "rloo"])
def test_rl_raises_the_mean_reward(algorithm, starter_cache, tmp_path):
    reward = tmp_path / "reward.py"
    reward.write_text(REWARD_FUNC)
    run = tmp_path / algorithm
    steps, learning_rate, batch = RL_SETTINGS[algorithm]
    train(starter_cache, run, "--task", "rl", "--algorithm", algorithm, "--model", "starter", "--dataset", "sample",
          "--reward-func", str(reward), "--max-steps", steps, "--learning-rate", learning_rate,
          "--per-device-train-batch-size", batch, "--max-completion-length", "16")
    rewards = series(run, "reward")
    assert len(rewards) == int(steps)
    assert mean(rewards[-5:]) > 1.5 * mean(rewards[:5]), rewards
    assert statuses(run)[-1] == "finished"


def test_lora_sft_saves_an_adapter_that_learns(starter_cache, tmp_path):
    run = tmp_path / "lora"
    train(starter_cache, run, "--task", "sft", "--model", "starter", "--dataset", "sample", "--max-steps", "30",
          "--use-peft", "--lora-r", "8", "--learning-rate", "5e-3", *FAST)
    assert (run / "final" / "adapter_config.json").exists()
    assert not (run / "final" / "model.safetensors").exists()
    losses = series(run, "loss")
    assert mean(losses[-5:]) < mean(losses[:5]), losses


def test_pretraining_from_scratch_learns_the_text(starter_cache, tmp_path):
    run = tmp_path / "pretrain"
    train(starter_cache, run, "--task", "pretrain", "--model", "starter", "--from-scratch", "--dataset", "sample",
          "--max-steps", "30", "--learning-rate", "5e-3", *FAST)
    losses = series(run, "loss")
    assert losses[0] > math.log(1000)  # fresh weights: about uniform over a 4k vocabulary
    assert mean(losses[-5:]) < 0.8 * losses[0], losses


def test_a_stage_can_start_from_a_finished_run(sft_run, starter_cache, tmp_path):
    run = tmp_path / "dpo-on-sft"
    train(starter_cache, run, "--task", "dpo", "--model", str(sft_run), "--dataset", "sample", "--max-steps", "2",
          *FAST)
    assert events(run)[0]["model"] == str(sft_run)
    assert statuses(run)[-1] == "finished"
