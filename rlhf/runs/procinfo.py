"""Is *our* process still alive? Pids plus their start times, so a reused pid is never mistaken for a run.

After a crash or a reboot the pid written in ``process.json`` may belong to some unrelated process started later.
Linux records each process's start time (clock ticks since boot, field 22 of ``/proc/<pid>/stat``); a pid
whose start time differs from the recorded one is someone else. Zombies (exited, not yet reaped by their
parent) count as dead: they hold a pid but run nothing. Where there is no ``/proc`` (macOS) only the pid is
checked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (which may itself hold spaces and parentheses)."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except (OSError, ValueError):
        return None
    return text[text.rfind(")") + 2:].split()


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot; None if it does not exist, is a zombie, or no /proc."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):  # fields[0] is the state; starttime is overall field 22
        return None
    return int(fields[19])


def started_at(pid: int) -> float | None:
    """The process's start time as a Unix time (second precision at best), or None."""
    ticks = start_ticks(pid)
    if ticks is None:
        return None
    try:
        line = next(l for l in (_PROC / "stat").read_text().splitlines() if l.startswith("btime "))
    except (OSError, StopIteration):
        return None
    return int(line.split()[1]) + ticks / os.sysconf("SC_CLK_TCK")


def identity(pid: int) -> dict[str, Any]:
    """What ``process.json`` records about a process: enough to recognise it later."""
    return {"pid": pid, "start": start_ticks(pid)}


def is_running(pid: int | None, start: int | None = None) -> bool:
    """True if ``pid`` runs and, when ``start`` is given, is the very process that had that start time."""
    if not pid or pid <= 0:
        return False
    if _PROC.joinpath("self").exists():
        ticks = start_ticks(pid)
        return ticks is not None and (start is None or ticks == start)
    try:  # no /proc: the pid alone, the best this platform offers without extra packages
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_alive(record: dict[str, Any] | None) -> bool:
    """``is_running`` for a record written by :func:`identity` (None or an empty record: not alive)."""
    return bool(record) and is_running(record.get("pid"), record.get("start"))
