"""The Train tab's words and numbers, without a browser: what the run table, the readable log, the progress line,
the defaults beside empty boxes and the plots say about a run, and what the services behind them answer."""

from __future__ import annotations

import sys

import pytest

from rlhf.runs.manager import RunManager
from rlhf.services import runs
from rlhf.ui.plots import drawable, lone_caption, metric_rows, not_recorded_caption, series_name
from rlhf.ui.tabs import train


def test_a_training_run_is_running_not_started():
    assert train.status_text({"status": "started"}) == "running"
    assert train.status_text({"status": "queued", "queue_position": 2}) == "queued (#2)"


def test_an_rl_run_names_its_algorithm_reward_sources_and_reward():
    run = {"task": "rl", "algorithm": "ppo", "reward_models": ["rm-1"], "reward_function": "reward_func",
           "metrics": {"reward": 0.4123}}

    assert train.task_text(run) == "rl · ppo · reward: rm-1 + reward_func()"
    assert train.loss_of(run) == "reward 0.4123"
    assert train.task_text({"task": "sft"}) == "sft"


def test_a_run_says_where_it_trains_when_that_is_not_one_local_process(tmp_path):
    from rlhf.runs.config import RunConfig
    from rlhf.runs.events import append_event

    manager = RunManager(tmp_path / "runs")
    placements = {}
    for name, started in {"local": {}, "processes": {"world_size": 2},
                          "ray": {"backend": "ray", "world_size": 2, "nodes": ["node-a", "node-b"]}}.items():
        folder = tmp_path / "runs" / f"20260101-00000{len(placements)}-sft-{name}"
        folder.mkdir(parents=True)
        RunConfig(task="sft").save(folder / "config.yaml")
        append_event(folder / "events.jsonl", {"status": "started", "pid": 0, **started})
        append_event(folder / "events.jsonl", {"status": "finished"})
        placements[name] = runs.summary(manager.status(folder.name))["placement"]

    assert placements["local"] is None
    assert train.placement_text(placements["processes"]) == " · 2 processes"
    assert train.placement_text(placements["ray"]) == " · on the Ray cluster: 2 workers on 2 nodes"
    run = {"id": "r", "task": "sft", "model": "starter", "status": "finished", "placement": placements["ray"]}
    assert "on `starter` · on the Ray cluster: 2 workers on 2 nodes · **finished**" in train.run_details({"run": run})


def test_a_logged_step_reads_as_one_line():
    event = {"step": 12, "loss": 1.8312, "learning_rate": 0.00041, "grad_norm": 3.2, "epoch": 0.4}

    assert train.step_line(event, 60) == "step 12/60  loss 1.83  lr 4.1e-4"


def test_an_rl_sample_shows_its_reward_completion_and_instruction():
    event = {"step": 5, "sample": {"prompt": "### Instruction: Is a toad a frog?\n\n### Context: \n\n### Response:",
                                   "completion": " Yes.", "reward": 1.5}}

    assert train.step_line(event, 8) == "step 5/8  sample, reward 1.5: “Yes.” ← Is a toad a frog?"


def test_the_readable_log_keeps_the_newest_lines_in_the_order_they_were_written():
    events = [{"time": 1.0, "status": "queued"}, {"time": 2.0, "status": "started"},
              {"time": 3.0, "prepared": {"rows": 10, "records": 12, "splits": {"train": 9, "test": 1}}},
              *[{"time": 3.0 + step, "step": step, "loss": 2.0} for step in range(1, 6)],
              {"time": 9.0, "step": 5, "eval_loss": 2.5}, {"time": 9.0, "status": "finished", "step": 5}]
    detail = {"events": events, "progress": {"total": 5}}  # the evaluation and the end within one millisecond

    lines = train.log_text(detail, count=4).splitlines()

    assert lines == ["step 4/5  loss 2", "step 5/5  loss 2", "step 5/5  eval_loss 2.5", "finished"]
    assert "prepared 10 rows from 12 records (train 9, test 1)" in train.log_text(detail, count=20)


def test_progress_counts_steps_and_extrapolates_the_pace():
    events = [{"time": 100.0, "step": 1}, {"time": 110.0, "step": 3}]

    progress = runs.progress({"args": {"max_steps": 10}}, events, {"step": 3})

    assert progress == {"step": 3, "total": 10, "eta_s": 35.0}
    text = train.progress_text(progress, "started")
    assert "<progress value='3' max='10'>" in text and "step 3/10" in text and "35 s left" in text


def test_a_run_by_epochs_counts_its_steps_from_the_prepared_rows():
    events = [{"time": 1.0, "prepared": {"rows": 90, "splits": {"train": 81, "test": 9}}}]
    plan = {"args": {"max_steps": -1, "num_train_epochs": 2.0, "per_device_train_batch_size": 4,
                     "gradient_accumulation_steps": 2}}

    assert runs.progress(plan, events, {"step": None})["total"] == 22  # ceil(81 / 8) per epoch


def test_empty_boxes_show_the_resolved_default_and_whose_it_is():
    starter = {"ok": True, "plan": {"defaults_for": "starter",
                                    "args": {"learning_rate": 5e-4, "per_device_train_batch_size": 4}}}
    model = {"ok": True, "plan": {"defaults_for": "model", "args": {"learning_rate": 1e-6}}}

    hints = train.default_hints(starter, "sft")

    assert hints["learning_rate"] == "default: 5e-4, tuned for the starter"
    assert hints["per_device_train_batch_size"] == "default: 4"
    assert hints["beta"] == "not used by this run"
    assert train.default_hints(model, "sft")["learning_rate"] == "default: 1e-6 (TRL)"
    assert set(train.default_hints({"ok": False, "error": "x"}, "sft").values()) == {"default"}


def test_ppo_lengths_and_eval_steps_are_settings_of_the_tab():
    assert "eval_steps" in train.NUMBERS
    assert {"min_new_tokens", "max_new_tokens"} <= set(train.RL_NUMBERS)


def test_legend_names_are_short():
    assert series_name("eval_loss") == "eval loss"
    assert series_name("rewards/reward_func/mean") == "reward_func"
    assert len(series_name("rewards/a_very_long_reward_function_name_indeed/mean")) <= 22


def test_a_series_with_one_point_is_said_in_words_not_left_undrawn():
    rows = metric_rows([{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.5}, {"step": 2, "eval_loss": 1.7}],
                       lambda key: key in ("loss", "eval_loss"))

    curves, lone = drawable(rows)

    assert {row["series"] for row in curves} == {"train loss"} and len(lone) == 1
    assert lone_caption(lone).startswith("eval loss 1.7 at step 2")


def test_a_plot_kept_from_an_earlier_run_says_this_run_did_not_record_it():
    assert not_recorded_caption([]) is None
    assert not_recorded_caption(["quality"]) == "*Accuracy and margins*: not recorded by this run's task."


def test_a_double_click_on_start_is_one_run_but_an_api_caller_may_queue_a_run_twice(tmp_path):
    manager = RunManager(tmp_path / "runs", command=[sys.executable, "-c", "import time; time.sleep(20)"])
    service = runs.Runs(manager, manager.runs_dir)
    config = runs.run_config("sft", "starter", "sample", manager.runs_dir, {"max_steps": 1})

    first = service.submit(config, "browser-a", merge_repeat=True)
    again = service.submit(config, "browser-a", merge_repeat=True)
    other = service.submit(config, "browser-b", merge_repeat=True)
    queued_twice = service.submit(config, "browser-a")

    assert again["run_id"] == first["run_id"] and other["run_id"] != first["run_id"]
    assert queued_twice["run_id"] not in (first["run_id"], other["run_id"])
    for run_id in (first["run_id"], other["run_id"], queued_twice["run_id"]):
        service.stop(run_id)
        manager.wait(run_id, timeout=30)


@pytest.mark.slow  # resolves the plan for three hardware profiles (~9 s on 2 busy cores)
def test_the_exported_script_of_a_run_writes_to_a_new_folder(tmp_path):
    from rlhf.export_script import export_script_from_file

    run_dir = tmp_path / "runs" / "20260101-000000-sft-abcd"
    run_dir.mkdir(parents=True)
    runs.run_config("sft", "starter", "sample", run_dir, {"max_steps": 1}).save(run_dir / "config.yaml")

    script = export_script_from_file(run_dir / "config.yaml")

    assert "OUTPUT_DIR = '20260101-000000-sft-abcd-export'" in script
    assert "reproducing rlhf run '20260101-000000-sft-abcd'" in script


def test_the_card_says_a_reward_function_left_as_the_template_is_the_template():
    from types import SimpleNamespace

    from rlhf.formatting.templates import template_source
    from rlhf.hub.card import _describe_rewards

    template = SimpleNamespace(source=template_source("reward"), function="reward_func")
    config = runs.run_config("rl", "starter", "sample", "out", reward=template)
    assert "from rlhf's template `reward.py`, unchanged" in _describe_rewards(config)

    config.rl.reward_code = "def reward_func(completions, **kwargs):\n    return [1.0] * len(completions)\n"
    assert "written in the app's editor" in _describe_rewards(config)
