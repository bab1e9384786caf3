"""Crash and restart: what a run survives, with the real trainer and the real app.

Each crash test trains tiny SFT runs of the starter model on the bundled sample and then checks, from the outside
(the app's API or the run manager's status), that the crash is reported for what it was, that nothing on disk is
corrupted, and that the work continues: re-attached, resumed from the last checkpoint, or started from the
queue. The remaining tests pin down the small resilience rules those rely on (torn event lines, half-written
checkpoints, a full disk), without training.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from app_helpers import TERMINAL, free_port, start_app, stop_app, stop_runs, wait_until_serving
from figures import report
from rlhf.runs.config import DataSettings, RunConfig
from rlhf.runs.events import append_event, read_events
from rlhf.runs.folder import RunFolder
from rlhf.runs.manager import CONFIG, RunManager
from training_helpers import FAST_SETTINGS, env_with_cache, events, run_processes, sft_config, statuses, wait_for

MiB = 1 << 20
AT_RISK = {"app kill -9 with a run training and one queued": 2, "trainer kill -9": 1,
           "disk full at a checkpoint": 1}  # each crash test → the runs it puts at risk
SURVIVED: list[str] = []


def survived(crash: str) -> None:
    """Record, for the end-of-suite figures, that a crash test passed: every run it put at risk finished."""
    SURVIVED.append(crash)
    report("crashes survived", f"{len(SURVIVED)} of {len(AT_RISK)} ({'; '.join(SURVIVED)})")
    report("runs completed after crashes", f"{sum(AT_RISK[c] for c in SURVIVED)} of {sum(AT_RISK.values())} "
                                           f"(training or queued when the crash hit; all finished)")


@pytest.fixture
def trainer_env(starter_cache, monkeypatch):
    """Runs submitted from this process train the session's starter, offline."""
    for name, value in env_with_cache(starter_cache).items():
        monkeypatch.setenv(name, value)


def end_every_run(runs: Path) -> None:
    """No run outlives a test: stop what is still going, wait for it, and kill what does not stop in time."""
    if not runs.is_dir():
        return
    stop_runs(runs)
    manager = RunManager(runs)
    for run in manager.list_runs():
        try:
            manager.wait(run["id"], timeout=30)
        except TimeoutError:
            for pid in run_processes(Path(run["run_dir"])).values():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def assert_nothing_corrupted(runs: Path) -> None:
    """Every run's config loads, every event line is JSON, and the queue file parses."""
    folders = [p for p in runs.iterdir() if (p / "config.yaml").is_file()]
    assert folders
    for folder in folders:
        RunConfig.load(folder / "config.yaml")
        for line in (folder / "events.jsonl").read_text().splitlines():
            json.loads(line)
    json.loads((runs / "queue.json").read_text())


def attempt_steps(run: Path) -> list[int]:
    """The steps trained by the run's latest attempt (after its last ``started``)."""
    history = events(run)
    last_start = max(i for i, e in enumerate(history) if e.get("status") == "started")
    return [e["step"] for e in history[last_start:] if "loss" in e]


def checkpoint_step(checkpoint: Path) -> int:
    return int(checkpoint.name.split("-")[1])


# -- the app is killed ----------------------------------------------------------------------------------------

@pytest.mark.training
def test_the_app_killed_while_a_run_trains_and_another_waits_loses_neither(starter_cache, tmp_path):
    from gradio_client import Client

    runs, log = tmp_path / "runs", tmp_path / "app.log"
    port = free_port()
    app = start_app(port, runs, starter_cache, log)
    restarted = None
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/", app, log, timeout=60)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        first = client.predict("sft", "starter", "sample", "", {"max_steps": 3, **FAST_SETTINGS},
                               api_name="/start_run")
        second = client.predict("sft", "starter", "sample", "", {"max_steps": 3, **FAST_SETTINGS},
                                api_name="/start_run")
        assert first["ok"] and second["ok"], (first, second)
        assert second["status"] == "queued"
        wait_for(lambda: (client.predict(first["run_id"], api_name="/run_status")["run"]["step"] or 0) >= 1,
                 what="the first run's first step")

        os.killpg(app.pid, signal.SIGKILL)  # the app and everything in its process group, with no warning
        app.wait()
        killed_at = time.time()
        # Nobody is left to schedule but the first run's supervisor: it starts the queued run when its run ends.
        wait_for(lambda: run_processes(runs / second["run_id"]).get("supervisor"), timeout=120,
                 what="the queued run started by the first run's supervisor")
        assert statuses(runs / first["run_id"]) == ["queued", "started", "finished"]
        assert events(runs / first["run_id"])[-1]["time"] > killed_at  # it was still training when the app died

        port = free_port()
        restarted = start_app(port, runs, starter_cache, tmp_path / "restarted.log")
        wait_until_serving(f"http://127.0.0.1:{port}/", restarted, tmp_path / "restarted.log", timeout=60)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        seen = []  # (status, step) of the run that was training across the restart, as the new app reports it
        while not seen or seen[-1][0] not in TERMINAL:
            run = client.predict(second["run_id"], api_name="/run_status")["run"]
            seen.append((run["status"], run["step"] or 0))
            assert len(seen) < 600, seen
            time.sleep(0.25)

        assert seen[0][0] in ("starting", "started", "finished"), seen  # re-attached, not taken for dead
        assert seen[-1] == ("finished", 3), seen
        steps = [step for _, step in seen]
        assert steps == sorted(steps)  # its progress kept advancing under the new app
        assert statuses(runs / second["run_id"]) == ["queued", "started", "finished"]
        assert client.predict(first["run_id"], api_name="/run_status")["run"]["status"] == "finished"
        assert_nothing_corrupted(runs)
        assert json.loads((runs / "queue.json").read_text())["queued"] == []
        health = client.predict(api_name="/health")
        assert health["ok"] and health["status"] == "serving"
        assert health["runs"] == {"finished": 2}
        survived("app kill -9 with a run training and one queued")
    finally:
        for proc in (app, restarted):
            if proc is not None:
                stop_app(proc)
        end_every_run(runs)


# -- the trainer is killed ------------------------------------------------------------------------------------

@pytest.mark.training
def test_a_trainer_killed_by_sigkill_is_failed_naming_the_signal_and_resumes_from_its_checkpoint(
        trainer_env, tmp_path):
    manager = RunManager(tmp_path / "runs")
    run_id = manager.submit(sft_config(max_steps=4, save_steps=2))
    folder = RunFolder.of(manager.runs_dir / run_id)
    try:
        wait_for(lambda: folder.last_checkpoint() is not None, what="a first checkpoint")
        processes = run_processes(folder.path)
        os.kill(processes["trainer"], signal.SIGKILL)  # the OOM killer's way: no chance to say anything

        failed = manager.wait(run_id, timeout=60)

        assert failed["status"] == "failed"
        assert failed["error"].startswith("training process killed by SIGKILL"), failed["error"]
        checkpoint = folder.last_checkpoint()  # a checkpoint being saved at the kill is not taken for one
        assert failed["error"].endswith(f"resume continues from {checkpoint.name}")
        verdict = [e for e in events(folder.path) if "status" in e][-1]
        assert (verdict["signal"], verdict["exit_code"]) == ("SIGKILL", -9)  # the supervisor's, which lives on
        manager.resume(run_id)
        finished = manager.wait(run_id, timeout=120)
        assert finished["status"] == "finished" and finished["step"] == 4
        assert attempt_steps(folder.path) == list(range(checkpoint_step(checkpoint) + 1, 5))
        assert_nothing_corrupted(manager.runs_dir)
        survived("trainer kill -9")
    finally:
        end_every_run(manager.runs_dir)


# -- the disk fills up ----------------------------------------------------------------------------------------

class SmallDisk:
    """A tmpfs of a given size mounted on a folder (needs root or CAP_SYS_ADMIN: skips the test otherwise)."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        path.mkdir(parents=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a {size // MiB} MiB tmpfs to fill up (needs root or CAP_SYS_ADMIN): "
                        f"{done.stderr.strip()}")

    def resize(self, size: int) -> None:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(self.path)], check=True, capture_output=True)

    def fill(self) -> None:
        """Take every free byte, as another program filling the disk would."""
        fd = os.open(self.path / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * MiB)
        except OSError:
            pass
        finally:
            os.close(fd)

    def unmount(self) -> None:
        if subprocess.run(["umount", str(self.path)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    disks: list[SmallDisk] = []

    def mount(size: int) -> SmallDisk:
        disks.append(SmallDisk(tmp_path / f"disk{len(disks)}", size))
        return disks[-1]

    yield mount
    for disk in disks:
        try:
            end_every_run(disk.path / "runs")
        finally:
            disk.unmount()


def starter_checkpoint_bytes(cache: Path) -> int:
    """What one checkpoint of the starter takes: the weights, Adam's two moments (twice the weights), the
    tokenizer and config files, and small states (RNG, scheduler, trainer state, arguments)."""
    model = next(cache.glob("starter-*/model.safetensors"))
    others = sum(p.stat().st_size for p in model.parent.iterdir() if p.is_file() and p != model)
    return 3 * model.stat().st_size + others + 64 * 1024


@pytest.mark.training
def test_a_full_disk_at_a_checkpoint_fails_clearly_keeps_the_previous_one_and_resumes(
        trainer_env, starter_cache, small_disk):
    checkpoint = starter_checkpoint_bytes(starter_cache)
    disk = small_disk(MiB + checkpoint * 3 // 2)  # the first checkpoint fits, the second does not
    manager = RunManager(disk.path / "runs")  # the whole runs folder, queue included, is on the small disk
    # Keeping a single checkpoint is safe: transformers deletes old ones only after trainer_state.json, the last
    # file of the new one, is written.
    run_id = manager.submit(sft_config(max_steps=4, save_steps=2, save_total_limit=1))
    folder = RunFolder.of(manager.runs_dir / run_id)

    failed = manager.wait(run_id, timeout=120)

    assert failed["status"] == "failed"
    assert failed["error"].startswith(
        "disk full (No space left on device) at step 4 while saving checkpoint-4; the incomplete checkpoint-4 "
        "was removed to free space; the previous checkpoint checkpoint-2 is intact"), failed["error"]
    assert [p.name for p in folder.checkpoints()] == ["checkpoint-2"]  # the partial one is gone, not resumable
    assert folder.last_checkpoint() == folder.path / "checkpoint-2"
    assert failed["checkpoint"] == str(folder.path / "checkpoint-2")
    assert json.loads((folder.path / "checkpoint-2" / "trainer_state.json").read_text())["global_step"] == 2
    verdict = [e for e in events(folder.path) if "status" in e][-1]
    assert verdict["step"] == 4 and "exit_code" not in verdict  # the trainer's own, written after freeing space
    assert_nothing_corrupted(manager.runs_dir)

    disk.resize(64 * MiB)  # space is freed
    manager.resume(run_id)
    finished = manager.wait(run_id, timeout=120)
    assert finished["status"] == "finished" and finished["step"] == 4
    assert attempt_steps(folder.path) == [3, 4]
    survived("disk full at a checkpoint")


# -- the rules the crash tests rely on, without training ------------------------------------------------------

def dead_run(path: Path) -> RunFolder:
    """A run folder as a machine crash leaves it: ``started`` by a trainer that is gone, nothing after."""
    folder = RunFolder.of(path)
    folder.path.mkdir(parents=True)
    RunConfig(task="sft", model="starter", data=DataSettings(dataset="sample"),
              output_dir=str(folder.path)).save(folder.config)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    append_event(folder.events, {"status": "queued"})
    append_event(folder.events, {"status": "started", "pid": gone.pid})
    return folder


def test_an_event_line_torn_by_a_crash_does_not_swallow_the_next_event(tmp_path):
    manager = RunManager(tmp_path / "runs")
    folder = dead_run(manager.runs_dir / "20250101-000000-sft-torn")
    with open(folder.events, "a") as handle:  # killed in the middle of writing a metric line
        handle.write('{"time": 1, "step": 3, "lo')

    assert manager.status(folder.id)["status"] == "interrupted"

    assert read_events(folder.events)[-1]["status"] == "interrupted"  # recorded on a line of its own
    manager.list_runs()
    assert [e["status"] for e in read_events(folder.events) if "status" in e] == \
        ["queued", "started", "interrupted"]  # and once


def test_a_checkpoint_cut_short_is_not_taken_for_a_complete_one(tmp_path):
    folder = RunFolder.of(tmp_path / "run")
    for step, state in ((2, '{"global_step": 2}\n'), (4, '{"global_step": 4, "log_hist')):
        (folder.path / f"checkpoint-{step}").mkdir(parents=True)
        (folder.path / f"checkpoint-{step}" / "model.safetensors").write_bytes(b"\0" * 64)
        (folder.path / f"checkpoint-{step}" / "trainer_state.json").write_text(state)
    (folder.path / "checkpoint-6").mkdir()  # its trainer state never written

    assert folder.last_checkpoint() == folder.path / "checkpoint-2"
    assert folder.incomplete_checkpoints() == [folder.path / "checkpoint-4", folder.path / "checkpoint-6"]


def test_listing_runs_works_on_a_full_disk(small_disk):
    """The verdict for a run whose processes are gone cannot be written to a full disk: it is reported all the
    same (and recorded once there is space), and the listing never fails."""
    disk = small_disk(2 * MiB)
    manager = RunManager(disk.path / "runs")
    folder = dead_run(manager.runs_dir / "20250101-000000-sft-dead")
    size = folder.events.stat().st_size  # the events end at a block boundary: the next line needs a new block
    with open(folder.events, "a") as handle:
        handle.write(json.dumps({"step": 0, "pad": "x" * (4096 - size - len('{"step": 0, "pad": ""}\n'))}) + "\n")
    assert folder.events.stat().st_size == 4096
    disk.fill()

    assert [(run["id"], run["status"]) for run in manager.list_runs()] == [(folder.id, "interrupted")]
    assert statuses(folder.path) == ["queued", "started"]  # nothing could be recorded yet

    (disk.path / "filler").unlink()
    manager.list_runs()
    assert statuses(folder.path) == ["queued", "started", "interrupted"]


# A trainer that starts a checkpoint, fills the disk with it and dies without recording anything.
SILENT_ON_FULL_DISK = textwrap.dedent('''
    import os, sys
    import yaml
    from rlhf.runs.events import append_event
    from rlhf.runs.folder import RunFolder

    run = RunFolder.of(yaml.safe_load(open(sys.argv[-1]))["output_dir"])
    append_event(run.events, {"status": "started", "pid": os.getpid()})
    (run.path / "checkpoint-2").mkdir()
    fd = os.open(run.path / "checkpoint-2" / "optimizer.pt", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\\0" * 65536)
    except OSError:
        os._exit(1)
''')


def test_a_trainer_dead_on_a_full_disk_without_a_verdict_is_failed_as_disk_full_by_its_supervisor(
        small_disk, tmp_path):
    trainer = tmp_path / "silent_trainer.py"
    trainer.write_text(SILENT_ON_FULL_DISK)
    disk = small_disk(4 * MiB)
    manager = RunManager(disk.path / "runs", command=[sys.executable, str(trainer), "--config", CONFIG])
    run_id = manager.submit(RunConfig(task="sft", model="starter", data=DataSettings(dataset="sample")))

    failed = manager.wait(run_id, timeout=30)

    assert failed["status"] == "failed"
    assert failed["error"].startswith("disk full (No space left on device), removed the incomplete checkpoint-2: "
                                      "training process exited with code 1"), failed["error"]
    assert not (manager.runs_dir / run_id / "checkpoint-2").exists()
