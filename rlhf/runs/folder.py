"""The run folder contract: what a run writes where. Only paths and small readers here."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlhf.runs.events import last_status, read_events


@dataclass(frozen=True)
class RunFolder:
    path: Path

    @classmethod
    def of(cls, path: str | Path) -> "RunFolder":
        return cls(Path(path).expanduser().resolve())

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def config(self) -> Path:
        return self.path / "config.yaml"

    @property
    def events(self) -> Path:
        return self.path / "events.jsonl"

    @property
    def plan(self) -> Path:
        """What the run resolved to (:class:`rlhf.tasks.plan.TrainPlan`), the trainer's exact arguments."""
        return self.path / "plan.json"

    @property
    def stdout(self) -> Path:
        return self.path / "stdout.log"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.json"

    @property
    def final(self) -> Path:
        return self.path / "final"

    @property
    def process(self) -> Path:
        """Which processes run this run (pids and their start times), for liveness checks after a restart."""
        return self.path / "process.json"

    def checkpoints(self) -> list[Path]:
        found = [p for p in self.path.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()]
        return sorted(found, key=lambda p: int(p.name.split("-")[-1]))

    def last_checkpoint(self) -> Path | None:
        """The newest complete checkpoint (see :func:`checkpoint_complete`), the one a resume continues from."""
        return next((p for p in reversed(self.checkpoints()) if checkpoint_complete(p)), None)

    def incomplete_checkpoints(self) -> list[Path]:
        """Checkpoint folders a crash or a full disk left half written: never resumed from, only in the way."""
        return [p for p in self.checkpoints() if not checkpoint_complete(p)]

    def remove_incomplete_checkpoints(self) -> list[str]:
        """Delete the incomplete checkpoints and return their names. Only for a run whose trainer has stopped
        writing (the trainer itself after its failure, or its supervisor after it died): a checkpoint being
        saved right now looks incomplete too."""
        removed = []
        for path in self.incomplete_checkpoints():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        return removed

    def read_events(self) -> list[dict[str, Any]]:
        return read_events(self.events)

    def recorded_status(self) -> dict[str, Any] | None:
        return last_status(self.read_events())

    def read_plan(self) -> dict[str, Any]:
        """``plan.json`` as a dict; empty before the run has resolved its plan, or when it cannot be read."""
        try:
            data = json.loads(self.plan.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def read_metrics(self) -> dict[str, Any]:
        try:
            return json.loads(self.metrics.read_text())
        except (OSError, ValueError):
            return {}


def checkpoint_complete(path: Path) -> bool:
    """Whether a checkpoint folder was written to the end. The Trainer (like our PPO) writes ``trainer_state.json``
    last, after the weights, optimizer and RNG states, so it marks a complete checkpoint; but it must be whole:
    a full disk can leave it created and cut short, and resuming from that would fail. It is small (the log
    history), so it is simply parsed."""
    try:
        json.loads((path / "trainer_state.json").read_bytes())
    except (OSError, ValueError):
        return False
    return True
