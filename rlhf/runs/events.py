"""``events.jsonl``: one JSON object per line, appended by the training process, tailed by the UI and CLI.

Metric lines carry TRL's own names unchanged (``loss``, ``learning_rate``, ``rewards/margins``, …) plus ``step``,
``epoch`` and ``time``; status lines are ``{"status": …}``, a :class:`rlhf.runs.status.RunStatus` written as its
plain value. Each line is written with a single ``write`` on a file opened for appending, so concurrent readers
never see half a line as a finished one.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from rlhf.runs.status import RECORDED, TERMINAL, RunStatus

STATUSES = RECORDED  # the statuses a status line may hold (see rlhf.runs.status)
__all__ = ["STATUSES", "TERMINAL", "RunStatus", "append_event", "read_events", "last_status", "tail_events",
           "warn"]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    return value


def append_event(path: str | Path, event: dict[str, Any]) -> None:
    """Append one event as one line. Should the file end in a torn line (its writer killed mid-write, or a
    write cut short by a full disk), the event starts on a new line, so it is not glued to the fragment and
    skipped along with it. A short write is continued; OSError (ENOSPC) when nothing more can be written."""
    if os.environ.get("RANK", "0") not in ("", "0"):
        return  # a run of several processes: rank 0 alone writes its events (rlhf.runs.launch)
    event = {"time": round(time.time(), 3), **{k: _clean(v) for k, v in event.items()}}
    data = (json.dumps(event, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    fd = os.open(str(path), os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)  # read: the last byte
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def warn(path: str | Path, text: str) -> None:
    """A warning for the run log: a ``{"warning": …}`` event (the Train tab's log marks it ⚠) and a stdout line."""
    append_event(path, {"warning": text})
    print(f"warning: {text}", flush=True)


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
