"""Where the starter lives on disk, and building it once even when many processes ask at the same time."""

from __future__ import annotations

import functools
import os
import pathlib
import shutil
import tempfile
from typing import Callable, Optional

from rlhf.paths import cache_dir
from rlhf.starter import corpus
from rlhf.starter.recipe import RECIPE, version

MARKER = "build.json"  # written last by the build, so its presence means the folder is complete


def cache_root() -> pathlib.Path:
    return cache_dir()


@functools.lru_cache(maxsize=4)
def _sample_version(path: str, mtime_ns: int, size: int) -> str:
    """Cached per file state: the hash re-reads the sample only when it changes."""
    texts = corpus.training_texts(corpus.read_records(path))
    return version(RECIPE, corpus.text_hash(texts))


def starter_version() -> str:
    stat = corpus.SAMPLE_FILE.stat()
    return _sample_version(str(corpus.SAMPLE_FILE), stat.st_mtime_ns, stat.st_size)


def starter_dir() -> pathlib.Path:
    return cache_root() / f"starter-{starter_version()}"


def is_complete(path: pathlib.Path) -> bool:
    return (path / MARKER).is_file()


def ensure_starter(
    progress: Optional[Callable[[float, str], None]] = None, *, rebuild: bool = False
) -> pathlib.Path:
    """Return the starter's folder, building it first if it is missing, incomplete or `rebuild` is set.

    A file lock serialises builders; the build goes to a temporary folder beside the
    target and is moved in with one `os.replace`, so readers never see half a model.
    """
    from filelock import FileLock, Timeout

    target = starter_dir()
    if is_complete(target) and not rebuild:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(target) + ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if progress is not None:
            progress(0.0, "waiting for another process that is building the starter model")
        lock.acquire()
    try:
        if is_complete(target) and not rebuild:  # another process built it while we waited
            return target
        _build_into(target, progress)
        return target
    finally:
        lock.release()


def _build_into(target: pathlib.Path, progress) -> None:
    """Build beside `target` and swap it in; called with the lock held."""
    from rlhf.starter import build  # looked up at call time so tests can substitute the builder

    prefix = f".{target.name}.tmp-"
    for stale in target.parent.glob(prefix + "*"):  # left by a killed build; we hold the lock
        shutil.rmtree(stale, ignore_errors=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    try:
        build.build_starter(tmp, seed=RECIPE.seed, progress=progress)
        if target.exists():  # incomplete, or being rebuilt: move aside, then swap in
            old = pathlib.Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
            os.replace(target, old / "old")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
