"""Where rlhf keeps caches (starter model, prepared rows) and runs."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``RLHF_CACHE_DIR``, else ``RLHF_DATA_DIR/cache``, else ``$XDG_CACHE_HOME/rlhf`` or ``~/.cache/rlhf``."""
    if os.environ.get("RLHF_CACHE_DIR"):
        return Path(os.environ["RLHF_CACHE_DIR"]).expanduser()
    if os.environ.get("RLHF_DATA_DIR"):
        return Path(os.environ["RLHF_DATA_DIR"]).expanduser() / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rlhf"


def data_dir() -> Path:
    """Runs and caches in one place: ``RLHF_DATA_DIR``, else ``/data`` when it exists (a Space's persistent
    storage), else the current folder."""
    if os.environ.get("RLHF_DATA_DIR"):
        return Path(os.environ["RLHF_DATA_DIR"]).expanduser()
    if os.path.isdir("/data") and os.access("/data", os.W_OK):
        return Path("/data")
    return Path.cwd()


def runs_dir() -> Path:
    return data_dir() / "runs"
