"""RunManager and its supervisor, against a stand-in trainer that follows the training process's contract.

The fake trainer (written into each test's folder) appends ``started`` (with its pid), one metric event per
step and ``finished``; on SIGTERM it saves ``checkpoint-N/trainer_state.json`` and appends ``stopped``; with
``resume_from_checkpoint`` it continues from the last checkpoint. ``training.extra`` tunes it: ``step_s`` (seconds
per step) and ``crash_at`` (exit 3 at that step without a status, as a hard crash would).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rlhf.errors import ConfigError
from rlhf.runs import manager as manager_module
from rlhf.runs import procinfo
from rlhf.runs.config import RunConfig, TrainingSettings
from rlhf.runs.events import read_events
from rlhf.runs.manager import CONFIG, RunManager, read_json
from rlhf.runs.status import TERMINAL

from conftest import cli_env

FAKE_TRAINER = textwrap.dedent('''
    import json, os, signal, sys, time
    import yaml
    from rlhf.runs.events import append_event
    from rlhf.runs.folder import RunFolder

    config = yaml.safe_load(open(sys.argv[sys.argv.index("--config") + 1]))
    run = RunFolder.of(config["output_dir"])
    training = config["training"]
    step_s = training["extra"].get("step_s", 0.02)
    crash_at = training["extra"].get("crash_at")
    stop = False

    def on_term(signum, frame):
        global stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)

    def save(step):
        folder = run.path / f"checkpoint-{step}"
        folder.mkdir(exist_ok=True)
        (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
        return folder

    step = 0
    if config.get("resume_from_checkpoint"):
        step = json.loads((run.last_checkpoint() / "trainer_state.json").read_text())["global_step"]
    append_event(run.events, {"status": "started", "pid": os.getpid(), "resumed_from": step})
    print("fake trainer: training", flush=True)
    while step < training["max_steps"]:
        if stop:
            append_event(run.events, {"status": "stopped", "checkpoint": str(save(step))})
            sys.exit(0)
        time.sleep(step_s)
        step += 1
        if step == crash_at:
            print("RuntimeError: boom", flush=True)
            os._exit(3)
        append_event(run.events, {"step": step, "loss": 1.0 / step})
        if training.get("save_steps") and step % training["save_steps"] == 0:
            save(step)
    append_event(run.events, {"status": "finished"})
''')

TIMEOUT = 20  # seconds any single wait may take; runs here last well under a second or two


@pytest.fixture
def fake_command(tmp_path) -> list[str]:
    script = tmp_path / "fake_trainer.py"
    script.write_text(FAKE_TRAINER)
    return [sys.executable, str(script), "--config", CONFIG]


@pytest.fixture
def runs_dir(tmp_path):
    """The runs folder; afterwards every process a test left running is killed, so nothing outlives it."""
    folder = tmp_path / "runs"
    yield folder
    for process_file in folder.glob("*/process.json"):
        process = read_json(process_file)
        for role in ("supervisor", "trainer"):
            if procinfo.is_alive(process.get(role)):
                os.kill(process[role]["pid"], signal.SIGKILL)


@pytest.fixture
def manager(runs_dir, fake_command) -> RunManager:
    return RunManager(runs_dir, max_concurrent=1, command=fake_command)


def config(max_steps: int = 5, step_s: float = 0.02, save_steps: int | None = None, **extra) -> RunConfig:
    return RunConfig(task="sft", model="starter",
                     training=TrainingSettings(max_steps=max_steps, save_steps=save_steps,
                                               extra={"step_s": step_s, **extra}))


LONG = dict(max_steps=1000, step_s=0.02)  # runs until stopped or killed


def poll(predicate, timeout: float = TIMEOUT, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def events_of(manager: RunManager, run_id: str) -> list[dict]:
    return read_events(manager.runs_dir / run_id / "events.jsonl")


def status_time(manager: RunManager, run_id: str, status: str, last: bool = False) -> float:
    times = [e["time"] for e in events_of(manager, run_id) if e.get("status") == status]
    return times[-1] if last else times[0]


def wait_trainer(manager: RunManager, run_id: str, min_step: int = 1) -> dict:
    """process.json once the trainer runs and has logged ``min_step`` steps."""
    poll(lambda: (manager.status(run_id)["step"] or 0) >= min_step, what=f"{run_id} at step {min_step}")
    return read_json(manager.runs_dir / run_id / "process.json")


def kill_and_wait(*records: dict) -> None:
    for record in records:
        os.kill(record["pid"], signal.SIGKILL)
    poll(lambda: not any(procinfo.is_alive(r) for r in records), what="killed processes to be gone")


# -- submit and queue ----------------------------------------------------------------------------------------

def test_submit_returns_before_the_run_ends_and_the_run_finishes(manager):
    run_id = manager.submit(config(max_steps=5, step_s=0.3))  # 1.5 s of steps: the run cannot have ended yet
    assert manager.status(run_id)["status"] not in TERMINAL  # submit does not wait for the run
    run_dir = manager.runs_dir / run_id
    assert RunConfig.load(run_dir / "config.yaml").output_dir == str(run_dir)

    info = manager.wait(run_id, timeout=TIMEOUT)
    assert info["status"] == "finished" and info["step"] == 5
    assert info["metrics"]["loss"] == pytest.approx(0.2)
    assert info["task"] == "sft" and info["started"] and info["ended"] >= info["started"]
    assert "fake trainer: training" in (run_dir / "stdout.log").read_text()
    process = read_json(run_dir / "process.json")
    assert process["trainer"]["pid"] == info["pid"] and process["ended"]
    assert manager._read_queue()["active"] == []


def test_queued_runs_run_one_after_the_other(manager):
    first = manager.submit(config(max_steps=10))
    second = manager.submit(config(max_steps=3))
    assert manager.status(second)["status"] == "queued"
    assert manager.status(second)["queue_position"] == 1

    assert manager.wait(first, timeout=TIMEOUT)["status"] == "finished"
    assert manager.wait(second, timeout=TIMEOUT)["status"] == "finished"
    assert status_time(manager, second, "started") >= status_time(manager, first, "finished")


def test_stop_queued_run_takes_it_off_the_queue(manager):
    blocker = manager.submit(config(**LONG))
    queued = manager.submit(config())
    assert manager.stop(queued)["status"] == "stopped"
    assert manager.queue() == []
    manager.stop(blocker)
    assert manager.wait(blocker, timeout=TIMEOUT)["status"] == "stopped"
    assert not any(e.get("status") == "started" for e in events_of(manager, queued))


def test_queue_order_persists_across_manager_instances(manager, runs_dir):
    blocker = manager.submit(config(**LONG))
    second, third = manager.submit(config(max_steps=2)), manager.submit(config(max_steps=2))

    again = RunManager(runs_dir)  # as after an app restart: everything comes from disk
    assert again.queue() == [second, third]
    assert again.max_concurrent() == 1
    assert again.status(third)["queue_position"] == 2

    again.stop(blocker)
    assert again.wait(third, timeout=TIMEOUT)["status"] == "finished"
    assert status_time(again, third, "started") >= status_time(again, second, "finished")


def test_list_runs_newest_first_with_queue_positions(manager):
    running = manager.submit(config(**LONG))
    first, second = manager.submit(config()), manager.submit(config())
    runs = manager.list_runs()
    assert [r["id"] for r in runs] == [second, first, running]
    assert [r["queue_position"] for r in runs] == [2, 1, None]
    assert runs[2]["status"] in ("starting", "started")
    assert all(r["task"] == "sft" and r["model"] == "starter" for r in runs)
    for run_id in (second, first, running):
        manager.stop(run_id)


def test_concurrent_submitters_share_one_slot(runs_dir, fake_command):
    """Two processes (say the app and the CLI) submit at once: every run finishes, never two at a time."""
    script = textwrap.dedent(f'''
        from rlhf.runs.config import RunConfig, TrainingSettings
        from rlhf.runs.manager import RunManager
        manager = RunManager({str(runs_dir)!r}, max_concurrent=1, command={fake_command!r})
        for _ in range(3):
            training = TrainingSettings(max_steps=2, extra={{"step_s": 0.01}})
            print(manager.submit(RunConfig(task="sft", training=training)))
    ''')
    submitters = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=cli_env())
                  for _ in range(2)]
    run_ids = [line for p in submitters for line in p.communicate(timeout=TIMEOUT)[0].split()]
    assert len(run_ids) == 6

    manager = RunManager(runs_dir)
    for run_id in run_ids:
        assert manager.wait(run_id, timeout=TIMEOUT)["status"] == "finished"
    spans = sorted((status_time(manager, r, "started"), status_time(manager, r, "finished")) for r in run_ids)
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))


# -- stop and resume -----------------------------------------------------------------------------------------

def test_stop_leaves_a_checkpoint_and_resume_reaches_the_same_final_step(manager):
    run_id = manager.submit(config(max_steps=40, step_s=0.03))
    wait_trainer(manager, run_id, min_step=3)
    assert manager.stop(run_id)["status"] in ("stopping", "stopped")

    stopped = manager.wait(run_id, timeout=TIMEOUT)
    assert stopped["status"] == "stopped" and stopped["checkpoint"]
    stopped_at = stopped["step"]
    assert Path(stopped["checkpoint"]).name == f"checkpoint-{stopped_at}"
    assert stopped_at < 40

    manager.resume(run_id)
    assert RunConfig.load(manager.runs_dir / run_id / "config.yaml").resume_from_checkpoint is True
    finished = manager.wait(run_id, timeout=TIMEOUT)
    assert finished["status"] == "finished" and finished["step"] == 40
    events = events_of(manager, run_id)
    assert events[-1]["status"] == "finished"
    assert [e["resumed_from"] for e in events if e.get("status") == "started"] == [0, stopped_at]
    assert [e["step"] for e in events if "step" in e] == list(range(1, 41))  # one log line per step, no gap


def test_stop_right_after_submit_is_stopped(manager):
    """Whether the trainer has begun or not, an early stop ends as stopped, never failed or running on."""
    run_id = manager.submit(config(**LONG))
    manager.stop(run_id)
    assert manager.wait(run_id, timeout=TIMEOUT)["status"] == "stopped"


def test_resume_refuses_running_runs_and_runs_without_checkpoint(manager):
    run_id = manager.submit(config(**LONG))
    wait_trainer(manager, run_id)
    with pytest.raises(ConfigError, match="still started"):
        manager.resume(run_id)
    failed = manager.submit(config(max_steps=5, crash_at=2))
    manager.stop(run_id)
    assert manager.wait(failed, timeout=TIMEOUT)["status"] == "failed"
    with pytest.raises(ConfigError, match="no checkpoint"):
        manager.resume(failed)
    with pytest.raises(ConfigError, match="no run"):
        manager.resume("nope")


# -- hard deaths ---------------------------------------------------------------------------------------------

def test_sigkill_of_the_trainer_is_recorded_and_the_next_run_starts(manager):
    victim = manager.submit(config(**LONG))
    following = manager.submit(config(max_steps=3))
    process = wait_trainer(manager, victim)
    os.kill(process["trainer"]["pid"], signal.SIGKILL)

    failed = manager.wait(victim, timeout=TIMEOUT)
    assert failed["status"] == "failed"
    assert "SIGKILL" in failed["error"] and "out of memory" in failed["error"]
    assert events_of(manager, victim)[-1]["signal"] == "SIGKILL"
    assert manager.wait(following, timeout=TIMEOUT)["status"] == "finished"


def test_trainer_crash_reports_exit_code_and_last_output(manager):
    run_id = manager.submit(config(max_steps=5, crash_at=3))
    info = manager.wait(run_id, timeout=TIMEOUT)
    assert info["status"] == "failed"
    assert "exited with code 3" in info["error"] and "RuntimeError: boom" in info["error"]


def test_crash_of_supervisor_and_trainer_is_interrupted_then_resumable(manager):
    run_id = manager.submit(config(max_steps=30, step_s=0.03, save_steps=2))
    process = wait_trainer(manager, run_id, min_step=3)
    kill_and_wait(process["supervisor"], process["trainer"])

    info = manager.status(run_id)
    assert info["status"] == "interrupted" and info["checkpoint"]
    manager.status(run_id)
    assert [e["status"] for e in events_of(manager, run_id) if "status" in e].count("interrupted") == 1

    manager.resume(run_id)
    finished = manager.wait(run_id, timeout=TIMEOUT)
    assert finished["status"] == "finished" and finished["step"] == 30


def test_recover_marks_dead_runs_and_starts_the_queue(manager, runs_dir, fake_command):
    victim = manager.submit(config(**LONG))
    waiting = manager.submit(config(max_steps=3))
    kill_and_wait(*(lambda p: (p["supervisor"], p["trainer"]))(wait_trainer(manager, victim)))

    report = RunManager(runs_dir).recover()  # the app starting again
    assert report["interrupted"] == [victim] and report["started"] == [waiting]
    assert manager.wait(waiting, timeout=TIMEOUT)["status"] == "finished"
    assert manager.status(victim)["status"] == "interrupted"


def test_run_survives_the_death_of_the_process_that_submitted_it(runs_dir, fake_command):
    script = textwrap.dedent(f'''
        import os, signal
        from rlhf.runs.config import RunConfig, TrainingSettings
        from rlhf.runs.manager import RunManager
        config = RunConfig(task="sft", training=TrainingSettings(max_steps=8, extra={{"step_s": 0.05}}))
        print(RunManager({str(runs_dir)!r}, command={fake_command!r}).submit(config), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # the app dies hard right after submitting
    ''')
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=cli_env(),
                            timeout=TIMEOUT)
    assert result.returncode == -signal.SIGKILL, result.stderr
    run_id = result.stdout.strip()

    info = RunManager(runs_dir).wait(run_id, timeout=TIMEOUT)
    assert info["status"] == "finished" and info["step"] == 8


# -- watching ------------------------------------------------------------------------------------------------

def test_tail_follows_until_the_current_attempt_ends(manager):
    run_id = manager.submit(config(max_steps=4))
    events = list(manager.tail(run_id, timeout_s=TIMEOUT))
    assert events[-1]["status"] == "finished"
    assert [e["step"] for e in events if "step" in e] == [1, 2, 3, 4]
    assert list(manager.tail(run_id, follow=False)) == events


def test_default_command_is_rlhf_train_which_launches_several_processes_itself(monkeypatch):
    """The world size is a run setting: ``rlhf train`` relaunches under accelerate (tests/test_distributed.py)."""
    monkeypatch.setattr("rlhf.runs.launch.visible_gpus", lambda: 2)
    assert manager_module.default_command() == [sys.executable, "-m", "rlhf", "train", "--config", CONFIG]


def test_a_reused_pid_is_not_our_process():
    me = procinfo.identity(os.getpid())
    assert procinfo.is_alive(me)
    assert not procinfo.is_alive({**me, "start": me["start"] + 1})
    assert not procinfo.is_alive(None)


def test_runs_training_side_by_side_share_the_cpu_cores(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)

    assert manager_module.child_env(4)["OMP_NUM_THREADS"] == "2"
    assert manager_module.child_env(16)["OMP_NUM_THREADS"] == "1"
    assert "OMP_NUM_THREADS" not in manager_module.child_env(1)  # one run alone: torch's own default


def test_a_thread_count_the_user_set_is_kept(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")

    assert manager_module.child_env(4)["OMP_NUM_THREADS"] == "3"
