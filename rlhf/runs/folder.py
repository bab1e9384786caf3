"""The run folder contract: what a run writes where. Only paths and small readers here."""

from __future__ import annotations

import json
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
        complete = [p for p in self.checkpoints() if (p / "trainer_state.json").exists()]
        return complete[-1] if complete else None

    def read_events(self) -> list[dict[str, Any]]:
        return read_events(self.events)

    def recorded_status(self) -> dict[str, Any] | None:
        return last_status(self.read_events())

    def read_metrics(self) -> dict[str, Any]:
        try:
            return json.loads(self.metrics.read_text())
        except (OSError, ValueError):
            return {}
