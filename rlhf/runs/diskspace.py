"""Recognising a full disk, so a run that fills it fails with that reason instead of a cryptic write error.

The libraries a trainer writes with report a full disk differently: Python as ``OSError(ENOSPC)``, safetensors as
its own error whose message ends in "No space left on device (os error 28)", and ``torch.save`` as a bare
``RuntimeError`` from its C++ writer ("unexpected pos … vs …", "file write failed") that carries no errno at all.
So an error counts as a full disk when it (or an exception it was raised from) has that errno or that message,
or, for a write error that says neither, when the disk the run writes to has next to no space left.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

LOW_SPACE_BYTES = 1 << 20  # below this the disk is full for any practical purpose: a checkpoint is megabytes
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
DISK_FULL_TEXTS = ("no space left on device", "disk quota exceeded", "os error 28")


def free_bytes(path: str | Path) -> int | None:
    """Bytes available to this user on the disk holding ``path`` (or its nearest existing parent); None if
    unknown."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def low_on_space(path: str | Path) -> bool:
    free = free_bytes(path)
    return free is not None and free < LOW_SPACE_BYTES


def is_disk_full(error: BaseException, path: str | Path) -> bool:
    """Whether ``error`` means that the disk holding ``path`` is full (see the module docstring)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "errno", None) in DISK_FULL_ERRNOS:
            return True
        if any(text in str(current).lower() for text in DISK_FULL_TEXTS):
            return True
        current = current.__cause__ or current.__context__
    return isinstance(error, (OSError, RuntimeError)) and low_on_space(path)
