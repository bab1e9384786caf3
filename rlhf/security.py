"""Keep secrets in rlhf's own processes away from the user code they start.

User code (formatting and reward functions) runs in child processes with a scrubbed environment, but as the same
OS user; on Linux such a child could still read ``/proc/<our pid>/environ`` (where ``HF_TOKEN`` lives) or our
memory. Marking our processes non-dumpable makes those files owned by root, so a non-root child cannot read
them. (As root, nothing short of another user or a container keeps code out; the README says so.)
"""

from __future__ import annotations

import sys

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3


def _prctl():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl


def harden_process() -> bool:
    """Make this process non-dumpable; True when it took effect (Linux only, a no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return _prctl()(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def is_dumpable() -> bool:
    if not sys.platform.startswith("linux"):
        return True
    return bool(_prctl()(PR_GET_DUMPABLE, 0, 0, 0, 0))
