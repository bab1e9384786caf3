"""A Ray run's folder in cluster storage, for a cluster that does not share the app's runs folder.

With ``RLHF_RAY_STORAGE`` set (a bucket URI such as ``s3://bucket/rlhf``, or a path that the cluster's nodes and the
app's machine both mount), a Ray run keeps its working copy in ``<storage>/<run id>/``: the app's watcher puts the
config and the events so far there, the workers train in a scratch folder on their node and copy their checkpoints,
events and results there, and the watcher copies the events into the run folder as they come and ``final/``,
``metrics.json`` and ``plan.json`` when the job ends. Checkpoints stay in storage; a resume reads the last one from
there. Every access goes through a pyarrow filesystem, so a local path and a bucket are the same code.

Whole files are written, never appended: each writer of ``events.jsonl`` (the driver before and after training,
rank 0 during it) first reads the stored one, so nothing is lost, and they never write at the same time.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from rlhf.errors import ConfigError

EVENTS = "events.jsonl"
CHECKPOINT_PREFIX = "checkpoint-"  # as the Trainer names them (rlhf.runs.folder globs the same)
# What the watcher brings into the run folder when the job ends (checkpoints stay in storage).
RESULTS = ("final", "metrics.json", "plan.json")
CREDENTIAL_KEYS = ("access_key", "secret_key", "session_token")  # pyarrow's S3 URI options that carry secrets


def storage_uri(value: str | None) -> str | None:
    """``RLHF_RAY_STORAGE`` as a pyarrow URI or absolute path; None when unset. A relative path means nothing on
    the cluster's nodes, so it is refused by name."""
    path, query = _split_query((value or "").strip())
    value = path + query
    if not value:
        return None
    if any(key in query.lower() for key in CREDENTIAL_KEYS):
        raise ConfigError("RLHF_RAY_STORAGE: put the store's credentials in the environment (AWS_ACCESS_KEY_ID, "
                          "AWS_SECRET_ACCESS_KEY, …), not in the URI: the URI is written to the run folder.")
    if "://" not in value and not value.startswith("/"):
        raise ConfigError(f"RLHF_RAY_STORAGE: '{value}' must be a bucket URI (s3://…, gs://…) or an absolute path "
                          f"that the cluster's nodes and this machine both mount.")
    return value


class ClusterStore:
    """One run's folder in cluster storage (a pyarrow filesystem)."""

    def __init__(self, uri: str) -> None:
        from pyarrow import fs

        self.uri = uri
        self.fs, self.root = fs.FileSystem.from_uri(_with_single_puts(uri))

    @classmethod
    def of_run(cls, storage: str, run_id: str) -> ClusterStore:
        return cls(join_uri(storage, run_id))

    def _path(self, name: str) -> str:
        return posixpath.join(self.root, name) if name else self.root

    def _info(self, name: str):
        return self.fs.get_file_info(self._path(name))

    def exists(self, name: str) -> bool:
        from pyarrow import fs

        return self._info(name).type != fs.FileType.NotFound

    def read_bytes(self, name: str) -> bytes | None:
        """The file's bytes, None when it is not there."""
        try:
            with self.fs.open_input_stream(self._path(name)) as stream:
                return stream.read()
        except (FileNotFoundError, OSError):
            return None

    def write_bytes(self, name: str, data: bytes) -> None:
        self.fs.create_dir(posixpath.dirname(self._path(name)), recursive=True)
        with self.fs.open_output_stream(self._path(name)) as stream:
            stream.write(data)

    def delete(self, name: str) -> None:
        try:
            self.fs.delete_file(self._path(name))
        except (FileNotFoundError, OSError):
            pass

    def delete_dir(self, name: str) -> None:
        try:
            self.fs.delete_dir(self._path(name))
        except (FileNotFoundError, OSError):
            pass

    def upload(self, local: Path, name: str, skip_same_size: bool = False) -> None:
        """Copy a local file or folder to ``name``; ``skip_same_size`` leaves files already stored whole (a
        checkpoint's files never change once written)."""
        local = Path(local)
        files = [local] if local.is_file() else sorted(p for p in local.rglob("*") if p.is_file())
        for path in files:
            target = name if path == local else posixpath.join(name, path.relative_to(local).as_posix())
            if skip_same_size:
                info = self._info(target)
                if info.size == path.stat().st_size:
                    continue
            self.write_bytes(target, path.read_bytes())

    def download(self, name: str, local: Path) -> bool:
        """Copy ``name`` (a file or a folder) to ``local``; False when it is not stored."""
        from pyarrow import fs

        info = self._info(name)
        if info.type == fs.FileType.NotFound:
            return False
        if info.type == fs.FileType.File:
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(self.read_bytes(name) or b"")
            return True
        for entry in self.fs.get_file_info(fs.FileSelector(self._path(name), recursive=True)):
            if entry.type == fs.FileType.File:
                target = local / posixpath.relpath(entry.path, self._path(name))
                target.parent.mkdir(parents=True, exist_ok=True)
                with self.fs.open_input_stream(entry.path) as stream:
                    target.write_bytes(stream.read())
        return True

    def last_checkpoint(self) -> str | None:
        """The newest stored checkpoint whose ``trainer_state.json`` is there (written last, uploaded last)."""
        from pyarrow import fs

        try:
            entries = self.fs.get_file_info(fs.FileSelector(self.root, recursive=False))
        except (FileNotFoundError, OSError):
            return None
        names = [posixpath.basename(e.path) for e in entries if e.type == fs.FileType.Directory]
        steps = sorted((int(n[len(CHECKPOINT_PREFIX):]), n) for n in names
                       if n.startswith(CHECKPOINT_PREFIX) and n[len(CHECKPOINT_PREFIX):].isdigit())
        return next((n for _, n in reversed(steps) if self.exists(f"{n}/trainer_state.json")), None)

    def location(self, name: str) -> str:
        return join_uri(self.uri, name)


def _with_single_puts(uri: str) -> str:
    """An S3 URI whose small files go up in one PUT (``allow_delayed_open``) rather than a three-request multipart
    upload: ``events.jsonl`` is written whole at every sync. (moto's S3 server also fails pyarrow's multipart
    completion, which is how this showed.)"""
    if not uri.startswith("s3://") or "allow_delayed_open" in uri:
        return uri
    return uri + ("&" if "?" in uri else "?") + "allow_delayed_open=true"


def join_uri(uri: str, name: str) -> str:
    """``name`` below ``uri``, ahead of its query: ``s3://b/rlhf?endpoint_override=minio:9000`` (a MinIO or other
    S3-compatible store, as pyarrow takes it) + ``run-1`` is ``s3://b/rlhf/run-1?endpoint_override=minio:9000``."""
    path, query = _split_query(uri)
    return f"{path}/{name}{query}"


def _split_query(uri: str) -> tuple[str, str]:
    """The URI's path without a trailing slash, and its query with the ``?`` ('' when it has none)."""
    path, mark, query = uri.partition("?")
    return path.rstrip("/"), mark + query


def upload_checkpoint(store: ClusterStore, checkpoint: Path) -> None:
    """A checkpoint's files, ``trainer_state.json`` last: in storage as on disk, it marks the checkpoint whole."""
    state = checkpoint / "trainer_state.json"
    for path in sorted(p for p in checkpoint.rglob("*") if p.is_file() and p != state):
        store.upload(path, f"{checkpoint.name}/{path.relative_to(checkpoint).as_posix()}", skip_same_size=True)
    if state.is_file():
        store.upload(state, f"{checkpoint.name}/trainer_state.json", skip_same_size=True)


def scratch_folder(run_id: str, rank: int | str) -> Path:
    """Where one worker (or the driver) of a run keeps its working copy on its node."""
    import tempfile

    return Path(os.environ.get("RLHF_RAY_SCRATCH") or tempfile.gettempdir()) / "rlhf-ray" / f"{run_id}-{rank}"
