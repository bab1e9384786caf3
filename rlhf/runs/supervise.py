"""``python -m rlhf.runs.supervise RUN_DIR``: the small process that watches one training run.

Why a separate process: the trainer may die in ways that leave it no chance to write its own verdict (SIGKILL
from the OOM killer, a segfault in a CUDA kernel), and the app that started it may be gone by then. The
supervisor is started detached by :class:`rlhf.runs.manager.RunManager`, so it outlives the app; it

1. records itself and the trainer (pids and start times) in ``process.json``,
2. runs the training command with stdout and stderr appended to ``stdout.log``,
3. forwards SIGTERM/SIGINT to the trainer (which then saves a checkpoint and exits cleanly),
4. when the trainer ends without a terminal status, appends one that names the signal or exit code,
5. releases its queue slot and starts the next queued run, whether or not the app still runs.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from rlhf.runs import procinfo
from rlhf.runs.diskspace import low_on_space
from rlhf.runs.events import append_event
from rlhf.runs.folder import RunFolder
from rlhf.runs.manager import RunManager, child_env, default_command, expand_command, read_json, write_json
from rlhf.runs.status import TERMINAL, RunStatus


class Supervisor:
    def __init__(self, run: RunFolder, command: list[str]) -> None:
        self.run = run
        self.command = command
        self.manager = RunManager(run.path.parent)  # no limit given: the one stored with the queue
        self.trainer: subprocess.Popen | None = None
        self.stop_requested = False

    def main(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._forward)
        try:
            if self._start():
                self._verdict(self.trainer.wait())
        except Exception as error:  # never leave a run "started" forever because the supervisor itself broke
            if not self._terminal():
                append_event(self.run.events, {"status": RunStatus.FAILED, "error": f"supervisor error: {error!r}"})
            raise
        finally:
            # Free the slot and start the next run. On a full disk these writes can fail: the slot then frees
            # itself when this process exits (slots are judged by liveness) and the app's next listing, which
            # schedules while runs wait, starts the queue; failing here would only hide the verdict above.
            for action in (lambda: self.manager.release(self.run.id), self.manager.schedule):
                try:
                    action()
                except OSError as error:
                    print(f"supervisor: {error}", file=sys.stderr)
        return 0

    def _start(self) -> bool:
        """Spawn the trainer under the queue lock, so a concurrent ``stop`` either sees the trainer's pid or we
        see its ``stopping`` first and do not start at all. Returns whether a trainer was started."""
        with self.manager.lock:
            process = read_json(self.run.process)
            process["supervisor"] = procinfo.identity(os.getpid())
            last = self.run.recorded_status() or {}
            if self.stop_requested or last.get("status") == RunStatus.STOPPING:
                write_json(self.run.process, process)
                append_event(self.run.events, {"status": RunStatus.STOPPED, "reason": "stopped before training began"})
                return False
            with open(self.run.stdout, "ab") as log:
                try:
                    self.trainer = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=log,
                                                    stderr=subprocess.STDOUT, env=child_env())
                except OSError as error:
                    write_json(self.run.process, process)
                    append_event(self.run.events, {"status": RunStatus.FAILED, "error": f"cannot start training "
                                                   f"({' '.join(self.command)}): {error}"})
                    return False
            process["trainer"] = procinfo.identity(self.trainer.pid)
            write_json(self.run.process, process)
        if self.stop_requested:  # a signal arrived while the trainer was being spawned
            self._forward(signal.SIGTERM, None)
        return True

    def _forward(self, signum: int, frame: object) -> None:
        """Pass a stop request on to the trainer; it checkpoints and exits, and we report what it reports."""
        self.stop_requested = True
        if self.trainer is not None and self.trainer.returncode is None:  # not reaped yet: the pid is still its own
            try:
                os.kill(self.trainer.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def _terminal(self) -> bool:
        return (self.run.recorded_status() or {}).get("status") in TERMINAL

    def _verdict(self, returncode: int) -> None:
        """The trainer has exited: if it did not say how it ended, say it for it."""
        last = self.run.recorded_status() or {}
        if last.get("status") in TERMINAL:
            return
        checkpoint = self.run.last_checkpoint()
        event: dict = {"exit_code": returncode}
        if returncode < 0:
            name = _signal_name(-returncode)
            event["signal"] = name
            if last.get("status") == RunStatus.STOPPING and -returncode in (signal.SIGTERM, signal.SIGINT):
                # asked to stop and killed by that very signal before it could save: stopped, maybe no checkpoint
                event.update(status=RunStatus.STOPPED, checkpoint=str(checkpoint) if checkpoint else None)
                append_event(self.run.events, event)
                return
            error = f"training process killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
        elif returncode == 0:
            error = "training process exited without reporting a result"
        else:
            error = f"training process exited with code {returncode}"
        output = _last_line(self.run.stdout)
        if output:
            error += f"; last output: {output}"
        if low_on_space(self.run.path):  # the trainer could not even write its verdict: make room for ours
            removed = self.run.remove_incomplete_checkpoints()
            error = "disk full (No space left on device)" + (f", removed the incomplete {' and '.join(removed)}"
                                                              if removed else "") + f": {error}"
        if checkpoint:
            error += f"; resume continues from {checkpoint.name}"
        append_event(self.run.events, {"status": RunStatus.FAILED, **event, "error": error})


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _last_line(path: Path, limit: int = 300) -> str:
    """The last non-empty line of the log (often the exception of a crash), shortened."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 8192))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    line = next((l.strip() for l in reversed(lines) if l.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def main(argv: list[str] | None = None) -> int:
    from rlhf.security import harden_process

    harden_process()  # holds the environment (HF_TOKEN) the trainer inherits
    parser = argparse.ArgumentParser(prog="python -m rlhf.runs.supervise", description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", help="the run folder (with config.yaml)")
    parser.add_argument("--command-json", default=None,
                        help="the training command as a JSON list, with {config} / {run_dir} placeholders "
                             "(default: python -m rlhf train --config {config})")
    args = parser.parse_args(argv)
    run = RunFolder.of(args.run_dir)
    command = json.loads(args.command_json) if args.command_json else default_command()
    return Supervisor(run, expand_command(command, run)).main()


if __name__ == "__main__":
    sys.exit(main())
