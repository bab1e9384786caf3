"""``events.jsonl``: one JSON object per line, appended by the training process, tailed by the UI and CLI.

Metric lines carry TRL's own names unchanged (``loss``, ``learning_rate``, ``rewards/margins``, …) plus ``step``,
``epoch`` and ``time``; status lines are ``{"status": …}``. Each line is written with a single ``write`` on a
file opened for appending, so concurrent readers never see half a line as a finished one.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator

STATUSES = ("queued", "started", "stopping", "stopped", "finished", "failed", "interrupted")
TERMINAL = ("stopped", "finished", "failed", "interrupted")


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    return value


def append_event(path: str | Path, event: dict[str, Any]) -> None:
    event = {"time": round(time.time(), 3), **{k: _clean(v) for k, v in event.items()}}
    line = json.dumps(event, ensure_ascii=False, default=str) + "\n"
    fd = os.open(str(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def read_events(path: str | Path) -> list[dict[str, Any]]:
    """Every complete line; a torn last line (a crash mid-write) is skipped, not an error."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    events = []
    for line in text.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def last_status(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    for event in reversed(events):
        if "status" in event:
            return event
    return None


def tail_events(path: str | Path, follow: bool = True, poll_s: float = 0.25,
                until: Callable[[dict[str, Any]], bool] | None = None,
                timeout_s: float | None = None) -> Iterator[dict[str, Any]]:
    """Yield events as they are appended; stop at a terminal status (or ``until``), or after ``timeout_s``."""
    until = until or (lambda e: e.get("status") in TERMINAL)
    position, pending = 0, b""
    started = time.monotonic()
    path = Path(path)
    while True:
        if path.exists():
            with open(path, "rb") as handle:
                handle.seek(position)
                chunk = handle.read()
                position += len(chunk)
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                yield event
                if follow and until(event):
                    return
        if not follow or (timeout_s is not None and time.monotonic() - started > timeout_s):
            return
        time.sleep(poll_s)
