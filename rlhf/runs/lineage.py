"""Where a model came from: a run folder's recorded model, followed back run by run to its root.

A run trained from a finished run records that run as its ``model`` (``config.yaml``, and ``plan.json``'s
``model_path``, the folder it really read). Following those links gives the chain the model card describes and
tells whether a model descends from the tiny starter, whose defaults (learning rate, lengths, batch) then apply
instead of TRL's, which suit billion-parameter models. Missing or unreadable files end the chain where they are;
a depth limit and a visited set end a chain that loops.
"""

from __future__ import annotations

from pathlib import Path

MAX_DEPTH = 8  # runs trained from runs trained from …: far more than any real pipeline has


def run_folder_of(ref: str) -> Path | None:
    """The run folder a model reference points into (the folder itself, its ``final/`` or a ``checkpoint-N``),
    or None when ``ref`` is not inside a run folder."""
    try:
        path = Path(ref).expanduser()
    except (TypeError, ValueError):
        return None
    candidates = [path]
    if path.name == "final" or path.name.startswith("checkpoint-"):
        candidates.append(path.parent)
    return next((c for c in candidates if (c / "config.yaml").is_file()), None)


def is_starter_ref(ref: str) -> bool:
    """The reserved name ``starter``, or a folder the starter was built into (any build version)."""
    from rlhf.starter import is_starter
    from rlhf.starter.cache import MARKER

    if is_starter(ref):
        return True
    try:
        path = Path(ref).expanduser()
        return path.name.startswith("starter-") and (path / MARKER).is_file()
    except (TypeError, ValueError, OSError):
        return False


def parent_of(run: Path) -> str | None:
    """The model a run was trained from, as it recorded it; where that reference no longer resolves from here
    (a relative path from another working folder), the folder its plan actually read, if that still exists."""
    from rlhf.errors import ConfigError
    from rlhf.runs.config import RunConfig
    from rlhf.runs.folder import RunFolder

    recorded = None
    try:
        recorded = RunConfig.load(run / "config.yaml").model
    except (ConfigError, OSError, ValueError):
        pass
    plan = RunFolder(run).read_plan()
    recorded = recorded or plan.get("model")
    read = plan.get("model_path")
    moved = isinstance(read, str) and not (recorded and (_exists(recorded) or is_starter_ref(recorded)))
    if moved and (_exists(read) or run_folder_of(read)):
        return read
    return recorded if isinstance(recorded, str) and recorded else None


def lineage(ref: str) -> list[str]:
    """``[ref, its parent, …, root]``: the root is ``starter``, a Hub id, a plain folder, or the last run whose
    origin could not be read."""
    chain = [ref]
    seen = set()
    while len(chain) <= MAX_DEPTH:
        run = run_folder_of(chain[-1])
        if run is None or run.resolve() in seen:
            break
        seen.add(run.resolve())
        parent = parent_of(run)
        if parent is None:
            break
        chain.append(parent)
    return chain


def root(ref: str) -> str:
    return lineage(ref)[-1]


def derives_from_starter(ref: str) -> bool:
    """Whether ``ref`` is the starter or was trained, through any number of runs, from it."""
    return any(is_starter_ref(r) for r in lineage(ref))


def _exists(ref: str) -> bool:
    try:
        return Path(ref).expanduser().exists()
    except (TypeError, ValueError, OSError):
        return False
