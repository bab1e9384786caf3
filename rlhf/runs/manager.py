"""The run manager: submit, queue, start, stop, resume and watch training runs. The UI and the CLI call this.

Why it is built this way:

- Every run trains in its own process, started by a small detached *supervisor*
  (``python -m rlhf.runs.supervise RUN_DIR``, see :mod:`rlhf.runs.supervise`) in a new session, so killing the
  app (even with SIGKILL) never kills training, and the supervisor records a verdict when the trainer dies hard.
- All state lives on disk: the queue in ``runs_dir/queue.json`` (written atomically), each run's history in its
  ``events.jsonl``, the processes that run it in ``process.json``. Any number of managers (two app workers, the
  CLI, the supervisors themselves) may act at once: every queue mutation happens under one file lock
  (``runs_dir/.queue.lock``), and a restart loses nothing.
- Status is *derived*: the last status event plus liveness of the recorded processes (pid and start time, so a
  reused pid is not mistaken for ours). A run that says ``started`` but whose processes are gone was interrupted
  (machine restart, app and supervisor killed); that verdict is appended once so it is durable.

``queue.json`` holds ``{"max_concurrent": n, "queued": [{"id", "command"}, …], "active": [id, …]}``: the waiting
runs in order (each with the command it will be started with; None means the default) and the runs started and
not yet released by their supervisor.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

from rlhf.errors import ConfigError
from rlhf.runs import procinfo
from rlhf.runs.config import RunConfig
from rlhf.runs.events import append_event, last_status, tail_events
from rlhf.runs.folder import RunFolder
from rlhf.runs.status import ACTIVE, TERMINAL, RunStatus

CONFIG = "{config}"  # placeholder in a training command: the run's config.yaml
RUN_DIR = "{run_dir}"  # placeholder: the run folder

# The training command for runs submitted from this process, or None for :func:`default_command`. Tests and
# embedders set this (or pass ``command=`` to RunManager) to run a stand-in trainer.
TRAIN_COMMAND: list[str] | None = None

QUEUE_FILE = "queue.json"
LOCK_FILE = ".queue.lock"
LOCK_TIMEOUT_S = 60.0

_LOCKS: dict[str, Any] = {}
_CHILDREN: list[subprocess.Popen] = []  # supervisors started here, kept so they are reaped, never zombies


def default_command() -> list[str]:
    """``python -m rlhf train --config CONFIG``; with several processes (the run's ``num_processes``, or several
    GPUs) that command relaunches itself under ``accelerate launch`` (see :mod:`rlhf.runs.launch`)."""
    return [sys.executable, "-m", "rlhf", "train", "--config", CONFIG]


def expand_command(command: list[str], run: RunFolder) -> list[str]:
    """Fill the CONFIG / RUN_DIR placeholders of a command for one run."""
    return [arg.replace(CONFIG, str(run.config)).replace(RUN_DIR, str(run.path)) for arg in command]


def child_env(concurrent_runs: int = 1) -> dict[str, str]:
    """The environment for supervisors and trainers: rlhf importable wherever it was imported from, and
    unbuffered output so ``stdout.log`` is live. Runs that train side by side share the CPU cores: each gets its
    part as ``OMP_NUM_THREADS`` (unless the user set it), because trainers that each spin a thread per core are
    many times slower together than one after the other."""
    env = dict(os.environ)
    if concurrent_runs > 1 and "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // concurrent_runs))
    root = str(Path(__file__).resolve().parents[2])
    paths = env.get("PYTHONPATH", "").split(os.pathsep) if env.get("PYTHONPATH") else []
    if root not in paths:
        env["PYTHONPATH"] = os.pathsep.join([root, *paths])
    env["PYTHONUNBUFFERED"] = "1"
    return env


def read_json(path: Path) -> dict[str, Any]:
    """A small JSON file, or {} when it is absent or unreadable (every writer replaces files atomically)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write to a temporary file, fsync, then rename over: readers see the old file or the new, never half."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class RunManager:
    """Runs under ``runs_dir/<run_id>/``; see the module docstring for how state is kept.

    ``max_concurrent``: how many runs train at once. Given, it is stored in ``queue.json`` so supervisors that
    start the next run use it too; None uses the stored value (1 when none). ``command``: the training command
    for runs this manager submits or resumes (placeholders :data:`CONFIG`, :data:`RUN_DIR`); None uses
    :data:`TRAIN_COMMAND`, then :func:`default_command`.
    """

    def __init__(self, runs_dir: str | Path, max_concurrent: int | None = None,
                 command: list[str] | None = None) -> None:
        if max_concurrent is not None and max_concurrent < 1:
            raise ConfigError(f"max_concurrent: must be at least 1, got {max_concurrent}.")
        self.runs_dir = Path(runs_dir).expanduser().resolve()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self._max_concurrent = max_concurrent
        self.command = list(command) if command else None
        from filelock import FileLock

        # One lock object per path and process, so nested use in one thread re-enters instead of deadlocking.
        key = str(self.runs_dir / LOCK_FILE)
        self.lock = _LOCKS.setdefault(key, FileLock(key, timeout=LOCK_TIMEOUT_S))

    # -- public API ------------------------------------------------------------------------------------------

    def submit(self, config: RunConfig) -> str:
        """Create the run folder (``config.output_dir`` is set to it), save the config, queue the run and start
        it if a slot is free. Returns the run id at once; training happens in another process."""
        while True:
            run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{config.task}-{secrets.token_hex(2)}"
            run = RunFolder.of(self.runs_dir / run_id)
            config.output_dir = str(run.path)
            config.validate()
            try:
                run.path.mkdir()
                break
            except FileExistsError:  # same second, same random suffix: draw again
                continue
        config.save(run.config)
        append_event(run.events, {"status": RunStatus.QUEUED})
        with self.lock:
            state = self._read_queue()
            self._enqueue(state, run_id)
            self._write_queue(state)
        self.schedule()
        return run_id

    def schedule(self) -> list[str]:
        """Start the oldest queued runs while fewer than ``max_concurrent`` are active; returns the ids started.

        Called after every change (submit, stop, resume, a supervisor ending), and safe to call any time."""
        started = []
        with self.lock:
            state = self._read_queue()
            state["active"] = [run_id for run_id in state["active"] if self._is_active(run_id)]
            while state["queued"] and len(state["active"]) < self.max_concurrent(state):
                entry = state["queued"][0]
                run = RunFolder.of(self.runs_dir / entry["id"])
                if run.config.exists():
                    try:
                        self._launch(run, entry.get("command"))
                        state["active"].append(entry["id"])
                        started.append(entry["id"])
                    except OSError as error:
                        append_event(run.events, {"status": RunStatus.FAILED,
                                                  "error": f"cannot start the supervisor: {error}"})
                state["queued"].pop(0)
                self._write_queue(state)  # after process.json: unlocked readers never see a run in limbo
            self._write_queue(state)
        return started

    def status(self, run_id: str) -> dict[str, Any]:
        """What a run is doing now: status, step, latest metrics, trainer pid, started/ended times, error,
        last checkpoint, queue position, task and model.

        Statuses are :class:`rlhf.runs.status.RunStatus` values, returned as plain strings: those recorded, plus
        ``starting`` (taken off the queue, the trainer has not reported yet). A run recorded as running whose
        processes are all gone is reported ``interrupted``, and that is appended to its events once."""
        run = self._folder(run_id)
        info = self._derive(run, self._read_queue())
        if info["status"] == RunStatus.INTERRUPTED and info["_recorded"] != RunStatus.INTERRUPTED:
            with self.lock:  # look again under the lock: a supervisor may be writing its verdict right now
                info = self._derive(run, self._read_queue())
                if info["status"] == RunStatus.INTERRUPTED and info["_recorded"] != RunStatus.INTERRUPTED:
                    hint = f"; resume continues from {info['checkpoint']}" if info["checkpoint"] else ""
                    try:
                        append_event(run.events, {"status": RunStatus.INTERRUPTED, "error": "the training process is "
                                                  "gone without reporting a result (machine restart or crash?)"
                                                  + hint})
                    except OSError:  # a full disk: report it all the same (derived again next time), never fail
                        return _public(info)
                    info = self._derive(run, self._read_queue())
        return _public(info)

    def list_runs(self) -> list[dict[str, Any]]:
        """Every run, newest first, each as :meth:`status` describes it (queued ones with ``queue_position``).

        While runs wait it also calls :meth:`schedule`: should every supervisor have died (the trainer outliving
        it), the UI's polling is then enough to keep the queue moving."""
        if self._read_queue()["queued"]:
            self.schedule()
        ids = sorted((p.name for p in self.runs_dir.iterdir() if (p / "config.yaml").is_file()), reverse=True)
        runs = [self.status(run_id) for run_id in ids]
        return sorted(runs, key=lambda r: (r["id"][:15], r["created"] or 0), reverse=True)

    def stop(self, run_id: str) -> dict[str, Any]:
        """Stop a run without waiting. Queued: taken off the queue, ``stopped``. Running: ``stopping`` is
        appended and the trainer gets SIGTERM, on which it saves a checkpoint and exits; its supervisor records
        the outcome. Finished or already stopped: nothing to do. Returns the status after the request."""
        run = self._folder(run_id)
        with self.lock:  # the supervisor spawns the trainer under this lock: we see its pid, or it sees "stopping"
            state = self._read_queue()
            if any(entry["id"] == run_id for entry in state["queued"]):
                state["queued"] = [entry for entry in state["queued"] if entry["id"] != run_id]
                self._write_queue(state)
                append_event(run.events, {"status": RunStatus.STOPPED,
                                          "reason": "taken off the queue before it started"})
                return self.status(run_id)
            info = self._derive(run, state)
            if info["status"] in (RunStatus.STARTING, RunStatus.STARTED):
                append_event(run.events, {"status": RunStatus.STOPPING})
                # No trainer yet ("starting"): its supervisor checks for "stopping" before spawning one.
                for record in (read_json(run.process).get("trainer"), info["_hand_run"]):
                    if procinfo.is_alive(record):
                        _signal(record["pid"], signal.SIGTERM)
                        break
                else:  # a Ray run whose local watcher is gone: ask its workers directly
                    _cluster_stop(run)
        return self.status(run_id)

    def resume(self, run_id: str) -> str:
        """Queue a stopped, interrupted or failed run again, continuing from its last checkpoint in the same
        folder (``resume_from_checkpoint: true`` in its config; events continue in the same ``events.jsonl``)."""
        run = self._folder(run_id)
        with self.lock:
            info = self.status(run_id)
            if info["status"] in ACTIVE:
                raise ConfigError(f"run {run_id} is still {info['status']}; stop it before resuming.")
            if info["status"] == RunStatus.FINISHED:
                raise ConfigError(f"run {run_id} has finished; there is nothing to resume.")
            checkpoint = run.last_checkpoint() or _cluster_checkpoint(run)
            if checkpoint is None:
                raise ConfigError(f"run {run_id} has no checkpoint to resume from (one is saved every save_steps "
                                  f"steps and when a run is stopped); submit its config again to start over.")
            config = RunConfig.load(run.config)
            config.resume_from_checkpoint = True
            config.save(run.config)
            append_event(run.events, {"status": RunStatus.QUEUED, "resume_from": str(checkpoint)})
            state = self._read_queue()
            self._enqueue(state, run_id)
            self._write_queue(state)
        self.schedule()
        return run_id

    def wait(self, run_id: str, timeout: float | None = None, poll_s: float = 0.1) -> dict[str, Any]:
        """Block until the run reaches a terminal status and its supervisor is done (its slot is free), then
        return its status; TimeoutError after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            info = self.status(run_id)
            if info["status"] in TERMINAL and not self._is_active(run_id):
                return info
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} is still {info['status']} after {timeout} s.")
            time.sleep(poll_s)

    def tail(self, run_id: str, follow: bool = True, timeout_s: float | None = None) -> Iterator[dict[str, Any]]:
        """The run's events from the first; following, it ends at the terminal status of the current attempt
        (not at an earlier ``stopped`` of a run that was resumed since)."""
        run = self._folder(run_id)
        current = self.status(run_id)["status"]
        earlier = sum(1 for e in run.read_events() if e.get("status") in TERMINAL)
        if current in TERMINAL:
            earlier -= 1
        seen = 0

        def until(event: dict[str, Any]) -> bool:
            nonlocal seen
            if event.get("status") in TERMINAL:
                seen += 1
            return seen > earlier

        return tail_events(run.events, follow=follow, until=until, timeout_s=timeout_s)

    def recover(self) -> dict[str, list[str]]:
        """At app start: mark runs whose processes are gone ``interrupted``, put back on the queue runs that were
        queued but lost from it (a crash between creating the folder and queueing it), and start queued runs."""
        state = self._read_queue()
        interrupted, requeued = [], []
        for run_id in sorted(p.name for p in self.runs_dir.iterdir() if (p / "config.yaml").is_file()):
            info = self._derive(RunFolder.of(self.runs_dir / run_id), state)
            if info["status"] == RunStatus.INTERRUPTED and _cluster_fetch_ended(self._folder(run_id)):
                info = self._derive(self._folder(run_id), state)  # its Ray job ended meanwhile: its own verdict
            if info["status"] == RunStatus.INTERRUPTED and info["_recorded"] != RunStatus.INTERRUPTED:
                interrupted.append(run_id)
                self.status(run_id)  # appends the verdict, once
            elif info["status"] == RunStatus.QUEUED and info["queue_position"] is None:
                requeued.append(run_id)
        if requeued:
            with self.lock:
                state = self._read_queue()
                for run_id in sorted(requeued):
                    info = self._derive(self._folder(run_id), state)
                    if info["status"] == RunStatus.QUEUED and info["queue_position"] is None:
                        self._enqueue(state, run_id)
                self._write_queue(state)
        return {"interrupted": interrupted, "requeued": requeued, "reattached": self._reattach_cluster_runs(),
                "started": self.schedule()}

    def _reattach_cluster_runs(self) -> list[str]:
        """Runs whose Ray job trains on while their local processes are gone (the app's machine restarted): start
        a supervisor again, whose watcher finds the job recorded in the run folder and follows it."""
        reattached = []
        with self.lock:
            state = self._read_queue()
            for run_id in sorted(p.name for p in self.runs_dir.iterdir() if (p / "ray_job.json").is_file()):
                run = RunFolder.of(self.runs_dir / run_id)
                process = read_json(run.process)
                if self._derive(run, state)["status"] not in (RunStatus.STARTED, RunStatus.STOPPING) \
                        or self._is_active(run_id) or not _cluster_job_running(run):
                    continue
                self._launch(run, process.get("command") or self.command or TRAIN_COMMAND)
                state["active"] = [*state["active"], run_id]
                reattached.append(run_id)
            self._write_queue(state)
        return reattached

    def release(self, run_id: str) -> None:
        """The supervisor's last word: mark its attempt ended and free its slot, so :meth:`schedule` can fill it."""
        with self.lock:
            process_path = self.runs_dir / run_id / "process.json"
            process = read_json(process_path)
            process["ended"] = time.time()
            write_json(process_path, process)
            state = self._read_queue()
            state["active"] = [active for active in state["active"] if active != run_id]
            self._write_queue(state)

    def max_concurrent(self, state: dict[str, Any] | None = None) -> int:
        """This manager's limit if it was given one, else the one stored with the queue, else 1."""
        if self._max_concurrent is not None:
            return self._max_concurrent
        return int((state or self._read_queue()).get("max_concurrent") or 1)

    def queue(self) -> list[str]:
        """The ids of the queued runs, next first."""
        return [entry["id"] for entry in self._read_queue()["queued"]]

    # -- internals -------------------------------------------------------------------------------------------

    @property
    def queue_path(self) -> Path:
        return self.runs_dir / QUEUE_FILE

    def _folder(self, run_id: str) -> RunFolder:
        valid = run_id and "/" not in run_id and not run_id.startswith(".")
        if not valid or not (self.runs_dir / run_id / "config.yaml").is_file():
            raise ConfigError(f"no run '{run_id}' in {self.runs_dir}.")
        return RunFolder.of(self.runs_dir / run_id)

    def _read_queue(self) -> dict[str, Any]:
        state = read_json(self.queue_path)
        state.setdefault("queued", [])
        state.setdefault("active", [])
        return state

    def _write_queue(self, state: dict[str, Any]) -> None:
        if self._max_concurrent is not None:
            state["max_concurrent"] = self._max_concurrent
        write_json(self.queue_path, state)

    def _enqueue(self, state: dict[str, Any], run_id: str) -> None:
        if all(entry["id"] != run_id for entry in state["queued"]):
            state["queued"].append({"id": run_id, "command": self.command or TRAIN_COMMAND})

    def _is_active(self, run_id: str) -> bool:
        """Started and not yet released: its supervisor has not ended and it or the trainer still runs."""
        process = read_json(self.runs_dir / run_id / "process.json")
        if process.get("ended"):
            return False
        return procinfo.is_alive(process.get("supervisor")) or procinfo.is_alive(process.get("trainer"))

    def _launch(self, run: RunFolder, command: list[str] | None) -> None:
        """Spawn the run's supervisor, detached (own session, no stdin) so it outlives this process.

        ``process.json`` names the attempt (how many times the run was queued) so a reader can tell this launch
        from an earlier one of a resumed run."""
        attempt = sum(1 for e in run.read_events() if e.get("status") == RunStatus.QUEUED)
        process = {"attempt": attempt, "launched": time.time(), "command": command, "supervisor": None,
                   "trainer": None}
        write_json(run.process, process)
        argv = [sys.executable, "-m", "rlhf.runs.supervise", str(run.path)]
        if command:
            argv += ["--command-json", json.dumps(command)]
        with open(run.stdout, "ab") as log:
            child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=child_env(self.max_concurrent()), close_fds=True)
        _CHILDREN[:] = [c for c in _CHILDREN if c.poll() is None] + [child]
        process["supervisor"] = procinfo.identity(child.pid)
        write_json(run.process, process)

    def _derive(self, run: RunFolder, state: dict[str, Any]) -> dict[str, Any]:
        """The status of a run from its events, the queue and the liveness of its processes (no writes)."""
        events = run.read_events()
        last = last_status(events) or {}
        recorded = RunStatus.coerce(last.get("status", RunStatus.QUEUED))
        position = next((i + 1 for i, entry in enumerate(state["queued"]) if entry["id"] == run.id), None)
        process = read_json(run.process)
        started = next((e for e in reversed(events) if e.get("status") == RunStatus.STARTED), None)
        hand_run = _hand_run_trainer(started)
        alive = (not process.get("ended") and (procinfo.is_alive(process.get("supervisor"))
                                                or procinfo.is_alive(process.get("trainer")))) \
            or procinfo.is_alive(hand_run)
        if not alive and recorded in (RunStatus.STARTED, RunStatus.STOPPING):
            alive = _cluster_job_running(run)  # a Ray run trains on the cluster while its local watcher is gone
        status = recorded
        if recorded in (RunStatus.STARTED, RunStatus.STOPPING) and not alive:
            status = RunStatus.INTERRUPTED
        elif recorded == RunStatus.QUEUED and position is None:
            attempt = sum(1 for e in events if e.get("status") == RunStatus.QUEUED)
            if process.get("attempt") == attempt:  # taken off the queue and launched
                status = RunStatus.STARTING if alive else RunStatus.INTERRUPTED
        metrics: dict[str, Any] = {}
        for event in events:
            if "status" not in event:
                metrics.update({k: v for k, v in event.items() if k != "time"})
        config = _read_yaml(run.config)
        trainer = process.get("trainer") or {}
        return {
            "id": run.id, "run_dir": str(run.path), "task": config.get("task"), "model": config.get("model"),
            "status": status, "step": metrics.get("step"), "metrics": metrics,
            "pid": trainer.get("pid") or (started or {}).get("pid"),
            "created": events[0].get("time") if events else None,
            "started": (started or {}).get("time"),
            "ended": last.get("time") if status in TERMINAL and status == recorded else None,
            "error": last.get("error") if status == recorded else None,
            "checkpoint": str(run.last_checkpoint() or _cluster_checkpoint(run) or "") or None,
            "queue_position": position, "placement": _placement(started),
            "_recorded": recorded, "_hand_run": hand_run,
        }


def _public(info: dict[str, Any]) -> dict[str, Any]:
    """What callers get: no private keys, and the status as a plain ``str`` (equal to its RunStatus member), so
    it serializes anywhere a string does, also as a dict key (orjson, which Gradio uses, takes only ``str``)."""
    public = {k: v for k, v in info.items() if not k.startswith("_")}
    if isinstance(public["status"], RunStatus):
        public["status"] = public["status"].value
    return public


def _placement(started: dict[str, Any] | None) -> dict[str, Any] | None:
    """Where a run trains, from its latest ``started`` event: the backend, its workers and their nodes; None for
    one local process, the plain case nobody needs told."""
    if not started:
        return None
    backend, world = started.get("backend") or "local", int(started.get("world_size") or 1)
    if backend == "local" and world == 1:
        return None
    return {"backend": backend, "world_size": world, "nodes": len(set(started.get("nodes") or ())) or 1}


def _hand_run_trainer(started: dict[str, Any] | None) -> dict[str, Any] | None:
    """The trainer named by a ``started`` event (one run by hand, without a supervisor, has no process.json):
    alive only if that pid's process began before the event, i.e. it is not a later process reusing the pid."""
    if not started or not started.get("pid"):
        return None
    pid = int(started["pid"])
    began = procinfo.started_at(pid)
    if began is not None and began > float(started.get("time") or 0) + 2:
        return None
    return procinfo.identity(pid)


def _cluster_job_running(run: RunFolder) -> bool:
    """Whether the run is a Ray run whose job still trains (only runs with ``ray_job.json`` ask the cluster)."""
    if not (run.path / "ray_job.json").is_file():
        return False
    from rlhf.runs import ray_backend

    return ray_backend.job_running(run)


def _cluster_fetch_ended(run: RunFolder) -> bool:
    """A Ray run kept in cluster storage whose job ended while the app was down: fetch its verdict and results."""
    if not (run.path / "ray_job.json").is_file():
        return False
    from rlhf.runs import ray_backend

    return ray_backend.fetch_ended_job(run)


def _cluster_checkpoint(run: RunFolder) -> str | None:
    """A Ray run's last checkpoint in its cluster storage (RLHF_RAY_STORAGE), where its resume reads it."""
    if not (run.path / "ray_job.json").is_file():
        return None
    from rlhf.runs import ray_backend

    return ray_backend.stored_checkpoint(run)


def _cluster_stop(run: RunFolder) -> None:
    if _cluster_job_running(run):
        from rlhf.runs import ray_backend

        ray_backend.request_stop(run)


def _read_yaml(path: Path) -> dict[str, Any]:
    """The raw config mapping, tolerant of settings this version does not know (listing must never fail)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:  # it ended meanwhile: its own status (or the supervisor's verdict) tells
        pass
