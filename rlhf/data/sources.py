"""Turn a dataset spec (Hub id, local file or folder, ``sample``) into local files to stream.

Hub datasets are downloaded by ``datasets`` in the parent process (which holds the token) and read from its
memory-mapped Arrow cache; the formatting worker only ever sees local files.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

from rlhf.data.layouts import Layout, detect_layout
from rlhf.data.readers import FORMATS, Batch, file_format, iter_batches, read_columns, record_lines
from rlhf.errors import DataError, HubUnreachableError

SAMPLE = "sample"
SAMPLE_FILE = Path(__file__).resolve().parent / "sample" / "records.jsonl"
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
HUB_PROBE_TIMEOUT_S = 3.0


@dataclass
class Source:
    """A dataset resolved to local files, in reading order."""

    spec: str
    kind: str  # "sample" | "file" | "hub"
    files: list[tuple[Path, str]] = field(default_factory=list)

    def columns(self) -> list[str]:
        path, fmt = self.files[0]
        return read_columns(path, fmt)

    def layout(self) -> Layout:
        return detect_layout(self.columns())

    def batches(self) -> Iterator[Batch]:
        for path, fmt in self.files:
            yield from iter_batches(path, fmt)

    def locate(self, index: int) -> str:
        """Where record ``index`` (0-based, in reading order) is, for messages: ``"line 6"`` (``"line 6 of
        part-2.jsonl"`` in a folder), or ``""`` in files without lines (Parquet, Arrow, a JSON array)."""
        seen = 0
        for path, fmt in self.files:
            lines = record_lines(path, fmt)
            if lines is None:
                count = sum(len(batch) for batch in iter_batches(path, fmt))
                if index < seen + count:
                    return ""
                seen += count
                continue
            for number in lines:
                if seen == index:
                    return f"line {number}" + (f" of {path.name}" if len(self.files) > 1 else "")
                seen += 1
        return ""

    def to_dict(self) -> dict:
        return {"spec": self.spec, "kind": self.kind, "files": [[str(p), f] for p, f in self.files]}

    @classmethod
    def from_dict(cls, data: dict) -> "Source":
        return cls(data["spec"], data["kind"], [(Path(p), f) for p, f in data["files"]])


def resolve_source(spec: str, split: str = "train", config: str | None = None, token: str | None = None) -> Source:
    """Find the files behind a dataset spec; a Hub id is downloaded (or found in the cache) first."""
    spec = str(spec).strip()
    if spec.lower() == SAMPLE:
        return Source(SAMPLE, "sample", [(SAMPLE_FILE, "jsonl")])
    path = Path(spec).expanduser().absolute()  # the worker runs in another directory
    if path.is_dir():
        return Source(spec, "file", _folder_files(path))
    if path.is_file():
        return Source(spec, "file", [(path, file_format(path))])
    if HUB_ID.match(spec) and not path.suffix.lower() in FORMATS:
        return load_hub_dataset(spec, split=split, config=config, token=token)
    raise DataError(
        f"Dataset '{spec}' not found: it is not a local file or folder, nor a Hub id like 'owner/name'. "
        "Use a .jsonl/.json/.csv/.parquet path, a folder of them, a Hub id, or 'sample'."
    )


def _folder_files(folder: Path) -> list[tuple[Path, str]]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS)
    if not files:
        raise DataError(f"{folder}: the folder holds no .jsonl, .json, .csv or .parquet files.")
    formats = {file_format(p) for p in files}
    if len(formats) > 1:
        raise DataError(f"{folder}: mixes file types ({', '.join(sorted(formats))}); keep one type per folder.")
    return [(p, file_format(p)) for p in files]


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_is_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hub_reachable(timeout: float = HUB_PROBE_TIMEOUT_S) -> bool:
    """A TCP connect to the Hub endpoint: seconds at most, where an HTTP client could wait minutes."""
    if hub_is_offline():
        return False
    url = urlparse(hub_endpoint())
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def unreachable_message(repo_id: str) -> str:
    reason = "HF_HUB_OFFLINE is set" if hub_is_offline() else f"{hub_endpoint()} cannot be reached from this machine"
    return (
        f"The Hugging Face Hub is unreachable ({reason}), so the dataset '{repo_id}' cannot be downloaded and is "
        "not in the local cache. On a machine with network, save it to a file, e.g. "
        f"`datasets.load_dataset('{repo_id}', split='train').to_json('data.jsonl')`, then pass "
        "--dataset data.jsonl (or upload it in the app); or try the bundled set with --dataset sample."
    )


def load_hub_dataset(repo_id: str, split: str = "train", config: str | None = None,
                     token: str | None = None) -> Source:
    """Download (or reuse from the cache) a Hub dataset with ``datasets`` and point at its Arrow files."""
    import datasets

    online = hub_reachable()
    try:
        if online:
            dataset = datasets.load_dataset(repo_id, config, split=split, token=token)
        else:
            dataset = _load_from_cache(repo_id, config, split)
    except HubUnreachableError:
        raise
    except ValueError as error:
        if "split" in str(error).lower():
            raise DataError(f"Dataset '{repo_id}' has no split '{split}' ({error}).") from None
        raise DataError(f"Dataset '{repo_id}' could not be loaded: {error}") from None
    except Exception as error:  # datasets raises many types: not found, gated, auth, connection
        raise DataError(f"Dataset '{repo_id}' could not be loaded from the Hub: {type(error).__name__}: "
                        f"{_redact(str(error), token)}") from None
    files = [(Path(f["filename"]), "arrow") for f in dataset.cache_files]
    if not files:  # an in-memory dataset: write it once so the worker can stream it
        cache = Path(datasets.config.HF_DATASETS_CACHE) / "rlhf-inmemory" / f"{dataset._fingerprint}.arrow"
        cache.parent.mkdir(parents=True, exist_ok=True)
        if not cache.exists():
            _write_arrow_stream(dataset.data.table, cache)
        files = [(cache, "arrow")]
    return Source(repo_id, "hub", files)


def _load_from_cache(repo_id: str, config: str | None, split: str):
    """With no network, ``datasets`` can still serve a dataset downloaded earlier."""
    import datasets

    previous = datasets.config.HF_HUB_OFFLINE
    datasets.config.HF_HUB_OFFLINE = True
    try:
        return datasets.load_dataset(repo_id, config, split=split)
    except Exception:
        raise HubUnreachableError(unreachable_message(repo_id)) from None
    finally:
        datasets.config.HF_HUB_OFFLINE = previous


def _write_arrow_stream(table, path: Path) -> None:
    import pyarrow as pa

    tmp = path.with_suffix(".tmp")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(tmp, path)


def _redact(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text
