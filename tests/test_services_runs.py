"""rlhf.services.runs without Gradio or visitors: settings typed as the CLI types its flags, RunConfigs built
from plain values, the resolved plan, and the runs folder over a RunManager with a stand-in trainer."""

from __future__ import annotations

import sys

import pytest

from rlhf.errors import ConfigError
from rlhf.runs.manager import RunManager
from rlhf.services import runs


def test_settings_take_the_field_types_json_numbers_and_cli_text():
    assert runs.coerce("max_steps", 3.0) == 3 and isinstance(runs.coerce("max_steps", 3.0), int)
    assert runs.coerce("max_steps", "3") == 3  # the CLI's int
    assert runs.coerce("use_peft", "yes") is True and runs.coerce("bf16", "off") is False
    assert runs.coerce("learning_rate", "") is None  # optional: the task's default
    assert runs.coerce("extra", '{"top_k": 0}') == {"top_k": 0}  # the CLI's JSON object
    assert runs.coerce("lora_target_modules", "q_proj") == ["q_proj"]


@pytest.mark.parametrize("name, value", [("max_steps", 2.5), ("use_peft", "maybe"), ("extra", [1]),
                                         ("max_steps", None)])
def test_a_setting_of_the_wrong_type_names_the_setting(name, value):
    with pytest.raises(ConfigError, match=f"settings.{name}"):
        runs.coerce(name, value)


def test_a_run_config_is_built_from_plain_values_and_validated(tmp_path):
    config = runs.run_config("dpo", "starter", "sample", tmp_path, {"max_steps": 2.0, "loss_type": "ipo",
                                                                     "use_peft": "true"})

    assert (config.training.max_steps, config.training.loss_type, config.lora.use_peft) == (2, "ipo", True)
    assert config.output_dir == str(tmp_path) and config.data.dataset == "sample"


def test_settings_that_are_not_settings_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="settings.dataset: unknown or not settable"):
        runs.run_config("sft", "starter", "sample", tmp_path, {"dataset": "x"})


def test_reward_models_go_through_the_resolver_and_rl_needs_a_reward(tmp_path):
    config = runs.run_config("rl", "starter", "sample", tmp_path, {"reward_models": "mine"},
                             reward_model=lambda ref: f"/runs/{ref}")
    assert config.rl.reward_models == ["/runs/mine"]
    with pytest.raises(ConfigError, match="reward"):
        runs.run_config("rl", "starter", "sample", tmp_path, {})


def test_the_plan_resolves_the_trainer_arguments_once_per_config(tmp_path):
    plans = runs.Plans()
    config = runs.run_config("sft", "starter", "sample", tmp_path, {"max_steps": 2, "learning_rate": 0.01})

    plan = plans.resolve(config)

    assert plan["args"]["learning_rate"] == 0.01 and plan["args"]["max_steps"] == 2
    assert plans.resolve(config) is plan


def test_runs_are_submitted_listed_described_and_stopped(tmp_path):
    manager = RunManager(tmp_path / "runs", command=[sys.executable, "-c", "import time; time.sleep(20)"])
    service = runs.Runs(manager, manager.runs_dir)

    started = service.submit(runs.run_config("sft", "starter", "sample", manager.runs_dir, {"max_steps": 1}))

    assert started["status"] in ("queued", "starting", "running")
    assert [run["id"] for run in service.all()] == [started["run_id"]]
    assert service.folder(started["run_id"]) == manager.runs_dir / started["run_id"]
    assert service.folder("../x") is None and service.folder("nope") is None
    detail = service.detail(started["run_id"], 5)
    assert detail["run"]["id"] == started["run_id"] and detail["run"]["task"] == "sft"
    assert service.stop(started["run_id"])["status"] in ("stopping", "stopped")
    manager.wait(started["run_id"], timeout=30)


def test_the_log_tail_keeps_the_last_lines(tmp_path):
    (tmp_path / "log").write_text("a\nb\nc\n")

    assert runs.tail_lines(tmp_path / "log", 2) == ["b", "c"]
    assert runs.tail_lines(tmp_path / "missing", 2) == []
