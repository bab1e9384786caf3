"""A model's lineage decides whose defaults a run gets: the starter's for the starter and every run trained from
it, TRL's for any other model. Run folders here hold only what lineage reads (``config.yaml``, ``plan.json``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlhf.runs.config import DataSettings, RLSettings, RunConfig, TrainingSettings
from rlhf.runs.lineage import derives_from_starter, lineage, root
from rlhf.tasks.plan import CPU, Defaults, resolve
from rlhf.tasks.registry import spec


def run_folder(path: Path, model: str, task: str = "sft", model_path: str | None = None) -> Path:
    """A finished run's record of what it was trained from."""
    RunConfig(task=task, model=model, output_dir=str(path)).save(path / "config.yaml")
    if model_path is not None:
        (path / "plan.json").write_text(json.dumps({"model": model, "model_path": model_path}))
    return path


def plan_for(task: str, model: str, algorithm: str = "ppo", **training):
    config = RunConfig(task=task, model=model, output_dir="runs/new", data=DataSettings(dataset="sample"),
                       training=TrainingSettings(max_steps=5, **training),
                       rl=RLSettings(algorithm=algorithm, reward_models=["rm"]))
    return resolve(config, hardware=CPU, model_path=model, max_length_limit=256)


@pytest.fixture
def tiny_gpt2(tmp_path) -> Path:
    """A real model folder with no run behind it, as a downloaded Hub model is."""
    from transformers import GPT2Config, GPT2LMHeadModel

    folder = tmp_path / "tiny-gpt2"
    GPT2LMHeadModel(GPT2Config(n_embd=8, n_layer=1, n_head=2, vocab_size=32, n_positions=32)).save_pretrained(folder)
    return folder


def test_lineage_follows_run_folders_back_to_the_starter(tmp_path):
    sft = run_folder(tmp_path / "sft", "starter")
    dpo = run_folder(tmp_path / "dpo", str(sft / "final"), task="dpo")

    assert lineage(str(dpo)) == [str(dpo), str(sft / "final"), "starter"]
    assert root(str(dpo / "checkpoint-10")) == "starter"
    assert derives_from_starter(str(dpo)) and not derives_from_starter("gpt2")


def test_a_run_moved_from_its_working_folder_is_followed_through_the_folder_its_plan_read(tmp_path):
    sft = run_folder(tmp_path / "sft", "starter")
    dpo = run_folder(tmp_path / "dpo", "runs/sft", task="dpo", model_path=str(sft / "final"))

    assert lineage(str(dpo))[-1] == "starter"


def test_the_starters_built_folder_counts_as_the_starter(tmp_path):
    built = tmp_path / "starter-0123abcd"
    built.mkdir()
    (built / "build.json").write_text("{}")

    assert derives_from_starter(str(built)) and not derives_from_starter(str(tmp_path))


def test_unreadable_records_and_loops_end_the_chain(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.yaml").write_text(": not yaml [")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    run_folder(a, str(b)), run_folder(b, str(a))

    assert lineage(str(broken)) == [str(broken)]
    assert len(lineage(str(a))) <= 3 and not derives_from_starter(str(a))


@pytest.mark.parametrize("task, algorithm", [("dpo", ""), ("rl", "ppo"), ("rl", "grpo"), ("rm", "")])
def test_a_run_trained_from_the_starter_gets_the_starters_defaults(tmp_path, task, algorithm):
    sft = run_folder(tmp_path / "sft", "starter")

    plan = plan_for(task, str(sft), algorithm or "ppo")

    assert plan.defaults_for is Defaults.STARTER and plan.to_dict()["defaults_for"] == "starter"
    assert plan.args["learning_rate"] == (plan.trainer.starter_learning_rate or spec(task).starter_learning_rate)
    assert plan.args["learning_rate"] >= 1e-4  # TRL's are 1e-6 to 1.41e-5
    if task == "rl":
        assert plan.args.get("max_new_tokens", plan.args.get("max_completion_length")) == 32


def test_a_model_without_runs_behind_it_gets_trls_defaults(tiny_gpt2):
    dpo = plan_for("dpo", str(tiny_gpt2))
    ppo = plan_for("rl", str(tiny_gpt2), "ppo")

    assert dpo.defaults_for is Defaults.MODEL and dpo.to_dict()["defaults_for"] == "model"
    assert dpo.args["learning_rate"] == spec("dpo").trainer(dpo.config).default_learning_rate
    assert ppo.args["learning_rate"] == 1.41e-5 and ppo.args["max_new_tokens"] == 256


def test_a_set_learning_rate_wins_over_either_default(tmp_path):
    sft = run_folder(tmp_path / "sft", "starter")

    assert plan_for("dpo", str(sft), learning_rate=0.02).args["learning_rate"] == 0.02


@pytest.mark.parametrize("algorithm", ["grpo", "rloo"])
def test_grpo_and_rloo_from_the_starter_take_eight_prompts_a_step_at_a_constant_rate(tmp_path, algorithm):
    """20 steps' reward curve must show learning, not which prompts were drawn: 8 prompts × 2 completions a step,
    a constant learning rate, and RLOO's advantages scaled like GRPO's (no KL in the reward)."""
    sft = run_folder(tmp_path / "sft", "starter")

    args = plan_for("rl", str(sft), algorithm).args

    assert (args["num_generations"], args["per_device_train_batch_size"]) == (2, 16)
    assert args["lr_scheduler_type"] == "constant"
    if algorithm == "rloo":
        assert (args["beta"], args["normalize_advantages"]) == (0.0, True)


def test_a_set_beta_and_schedule_win_over_the_starters_rl_defaults(tmp_path):
    sft = run_folder(tmp_path / "sft", "starter")

    args = plan_for("rl", str(sft), "rloo", beta=0.05, lr_scheduler_type="cosine").args

    assert (args["beta"], args["lr_scheduler_type"]) == (0.05, "cosine")


def test_grpo_from_a_real_model_keeps_trls_shape(tiny_gpt2):
    args = plan_for("rl", str(tiny_gpt2), "grpo").args

    assert (args["num_generations"], args["lr_scheduler_type"]) == (4, "linear") and "normalize_advantages" not in args


def test_a_reward_model_from_the_starter_trains_at_a_constant_rate_with_centred_scores():
    args = plan_for("rm", "starter").args

    assert (args["lr_scheduler_type"], args["center_rewards_coefficient"]) == ("constant", 0.03)


def test_a_set_schedule_wins_over_the_starters_reward_model_defaults():
    args = plan_for("rm", "starter", lr_scheduler_type="cosine").args

    assert (args["lr_scheduler_type"], args["center_rewards_coefficient"]) == ("cosine", 0.03)


def test_a_reward_model_from_a_real_model_keeps_trls_defaults(tiny_gpt2):
    args = plan_for("rm", str(tiny_gpt2)).args

    assert (args["lr_scheduler_type"], args.get("center_rewards_coefficient")) == ("linear", None)
