"""Runs as processes, with the real trainer: stop and resume, crashes, the queue, and configs that fail early.

The run manager's own behaviours are specified against a fake trainer in test_runs_manager.py; here the same
contract is checked end to end with ``python -m rlhf train`` under the manager.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from rlhf.runs.folder import RunFolder
from rlhf.runs.manager import RunManager
from training_helpers import REPO_ROOT, env_with_cache, events, run_processes, sft_config, statuses, train, wait_for

pytestmark = pytest.mark.training  # real training runs, stopped, killed and resumed


@pytest.fixture
def manager(starter_cache, tmp_path, monkeypatch):
    for name, value in env_with_cache(starter_cache).items():
        monkeypatch.setenv(name, value)
    return RunManager(tmp_path / "runs")


def step_reached(manager: RunManager, run_id: str, step: int):
    return lambda: (manager.status(run_id).get("step") or 0) >= step


def test_stop_saves_a_checkpoint_and_resume_reaches_the_same_final_step(manager):
    run_id = manager.submit(sft_config(max_steps=20))
    wait_for(step_reached(manager, run_id, 3))
    manager.stop(run_id)
    stopped = manager.wait(run_id, timeout=60)
    assert stopped["status"] == "stopped"
    folder = RunFolder.of(manager.runs_dir / run_id)
    checkpoint = folder.last_checkpoint()
    assert checkpoint is not None and 3 <= int(checkpoint.name.split("-")[1]) < 20
    assert not folder.final.exists()

    manager.resume(run_id)
    finished = manager.wait(run_id, timeout=180)
    assert finished["status"] == "finished" and finished["step"] == 20
    assert statuses(folder.path) == ["queued", "started", "stopping", "stopped", "queued", "started", "finished"]
    resumed_from = int(checkpoint.name.split("-")[1])
    second_attempt = events(folder.path)[[i for i, e in enumerate(events(folder.path))
                                          if e.get("status") == "started"][-1]:]
    steps = [e["step"] for e in second_attempt if "loss" in e]
    assert steps == list(range(resumed_from + 1, 21))  # continues after the checkpoint, no step trained twice


def test_a_killed_run_is_reported_interrupted_and_resumes(manager):
    run_id = manager.submit(sft_config(max_steps=12, save_steps=2))
    folder = RunFolder.of(manager.runs_dir / run_id)
    wait_for(lambda: folder.last_checkpoint() is not None)
    info = wait_for(lambda: run_processes(folder.path))
    for pid in info.values():  # the machine (or the app with its supervisor) dies: nobody records anything
        os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: manager.status(run_id)["status"] == "interrupted", timeout=30)
    manager.resume(run_id)
    assert manager.wait(run_id, timeout=180)["status"] == "finished"
    assert manager.status(run_id)["step"] == 12


def test_out_of_memory_fails_with_the_reason_and_the_next_queued_run_starts(starter_cache, tmp_path, monkeypatch):
    for name, value in env_with_cache(starter_cache).items():
        monkeypatch.setenv(name, value)
    # A 4 GB address-space limit: a normal tiny run fits, a batch of 256 packed 512-token rows does not.
    limited = ["prlimit", "--as=4000000000", "--", sys.executable, "-m", "rlhf", "train", "--config", "{config}"]
    manager = RunManager(tmp_path / "runs", command=limited)
    too_big = manager.submit(sft_config(max_steps=2, per_device_train_batch_size=256, max_length=512, packing=True))
    small = manager.submit(sft_config(max_steps=2))
    failed = manager.wait(too_big, timeout=180)
    assert failed["status"] == "failed"
    assert "out of memory at step 0" in failed["error"]
    assert manager.wait(small, timeout=180)["status"] == "finished"
    first_end = max(e["time"] for e in events(manager.runs_dir / too_big))
    second_start = next(e["time"] for e in events(manager.runs_dir / small) if e.get("status") == "started")
    assert second_start >= first_end  # one run at a time, in queue order


def test_a_crash_inside_training_ends_failed_with_the_reason(starter_cache, tmp_path):
    reward = tmp_path / "reward.py"
    reward.write_text("def reward_func(completions, **kwargs):\n    return [1 / 0 for _ in completions]\n")
    run = tmp_path / "run"
    done = train(starter_cache, run, "--task", "rl", "--algorithm", "grpo", "--model", "starter", "--dataset",
                 "sample", "--reward-func", str(reward), "--max-steps", "3", "--max-completion-length", "8",
                 check=False)
    assert done.returncode != 0
    failure = events(run)[-1]
    assert failure["status"] == "failed"
    assert "ZeroDivisionError" in failure["error"] and "reward.py, line 2" in failure["error"]


# -- configs that fail before any training starts, naming the field ----------------------------------------

def _fails_early(starter_cache, tmp_path, *flags: str) -> str:
    run = tmp_path / "run"
    done = train(starter_cache, run, "--output-dir", str(run), *flags, check=False)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    if (run / "events.jsonl").exists():
        assert not any("loss" in e for e in events(run))
    return done.stderr


def test_unknown_task_is_refused(starter_cache, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("task: translate\nmodel: starter\n")
    stderr = _fails_early(starter_cache, tmp_path, "--config", str(config))
    assert "task: unknown task 'translate'" in stderr


def test_missing_model_path_is_named(starter_cache, tmp_path):
    stderr = _fails_early(starter_cache, tmp_path, "--task", "sft", "--model", str(tmp_path / "nowhere"),
                          "--dataset", "sample")
    assert "model:" in stderr and "nowhere" in stderr


def test_an_empty_dataset_after_formatting_is_named(starter_cache, tmp_path):
    code = tmp_path / "none.py"
    code.write_text("def formatting_func(sample):\n    return None\n")
    stderr = _fails_early(starter_cache, tmp_path, "--task", "sft", "--model", "starter", "--dataset", "sample",
                          "--formatting-func", str(code))
    assert "data.formatting_func:" in stderr and "No rows" in stderr


def test_a_reward_model_that_is_not_a_classifier_is_named(starter_cache, tmp_path):
    stderr = _fails_early(starter_cache, tmp_path, "--task", "rl", "--model", "starter", "--dataset", "sample",
                          "--reward-model", "starter")
    assert "reward_models:" in stderr and "not a reward model" in stderr


@pytest.mark.parametrize("flags, field", [
    (["--learning-rate", "-1"], "learning_rate"),
    (["--max-steps", "0"], "max_steps"),
    (["--lora-target-modules", "no_such_layer", "--use-peft"], "lora_target_modules"),
])
def test_bad_training_settings_are_named(flags, field, starter_cache, tmp_path):
    stderr = _fails_early(starter_cache, tmp_path, "--task", "sft", "--model", "starter", "--dataset", "sample",
                          *flags)
    assert field in stderr


def test_rl_without_a_reward_is_refused(starter_cache, tmp_path):
    stderr = _fails_early(starter_cache, tmp_path, "--task", "rl", "--model", "starter", "--dataset", "sample")
    assert "reward_model" in stderr


def test_the_cli_submits_to_the_queue_and_lists_the_run(starter_cache, tmp_path):
    env = env_with_cache(starter_cache)
    runs = str(tmp_path / "runs")
    submitted = subprocess.run([sys.executable, "-m", "rlhf", "runs", "--runs-dir", runs, "submit", "--task", "sft",
                                "--model", "starter", "--dataset", "sample", "--max-steps", "2"],
                               cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True)
    run_id = submitted.stdout.strip()
    assert RunManager(runs).wait(run_id, timeout=180)["status"] == "finished"
    listed = subprocess.run([sys.executable, "-m", "rlhf", "runs", "--runs-dir", runs, "list"], cwd=REPO_ROOT,
                            env=env, capture_output=True, text=True, check=True).stdout
    assert run_id in listed and "finished" in listed
