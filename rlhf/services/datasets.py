"""Datasets for the app: resolving a dataset reference, storing uploads, counting records and describing a
dataset (layout, fields, the first records as a formatting function receives them, which tasks need no function).
No Gradio, no visitors: whether local paths may be read is the caller's decision (see :class:`rlhf.ui.api.Api`).

References: ``sample``; a Hub id (``owner/name``); ``upload:<sha>/<name>`` for a file stored by
:meth:`Datasets.store_upload`; where local paths are allowed, a local file or folder.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import Any

from rlhf.errors import DataError

UPLOADS = ".uploads"
UPLOAD_PREFIX = "upload:"
DATA_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet")
MAX_EXAMPLES = 20


class Datasets:
    """Dataset references over one uploads folder (``<runs>/.uploads``)."""

    def __init__(self, uploads_dir: str | Path) -> None:
        self.uploads_dir = Path(uploads_dir)

    def store_upload(self, path: str | Path) -> str:
        """Keep an uploaded file where runs can read it later, named by its content: ``upload:<sha>/<name>``."""
        path = Path(path)
        if not path.is_file():
            raise DataError(f"The uploaded file {path.name} is missing; upload it again.")
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        name = re.sub(r"[^\w.-]", "_", path.name) or "upload.jsonl"
        sha = digest.hexdigest()[:16]
        target = self.uploads_dir / sha / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{name}.tmp")
            shutil.copyfile(path, tmp)
            tmp.replace(target)
        return f"{UPLOAD_PREFIX}{sha}/{name}"

    def resolve(self, spec: str, local_paths: bool = True) -> str:
        """A dataset reference → what :func:`rlhf.data.sources.resolve_source` takes. With ``local_paths``
        False (a public deployment), files on this machine other than uploads are refused."""
        from rlhf.data.sources import HUB_ID, SAMPLE

        spec = (spec or "").strip()
        if not spec or spec.lower() == SAMPLE:
            return SAMPLE
        if spec.startswith(UPLOAD_PREFIX):
            relative = spec[len(UPLOAD_PREFIX):]
            parts = relative.split("/")
            path = self.uploads_dir.joinpath(*parts)
            if len(parts) != 2 or ".." in parts or not path.is_file():
                raise DataError(f"Dataset '{spec}': no such upload here; upload the file again.")
            return str(path)
        if local_paths and Path(spec).expanduser().exists():
            return str(Path(spec).expanduser().resolve())
        if HUB_ID.match(spec) and Path(spec).suffix.lower() not in DATA_SUFFIXES:
            return spec
        if not local_paths:
            raise DataError(f"Dataset '{spec}': give 'sample', a Hub id like owner/name, or upload a file "
                            "(local paths on the server are not readable from a public deployment).")
        raise DataError(f"Dataset '{spec}' not found: it is not a local file or folder, nor a Hub id like "
                        "'owner/name'. Use a .jsonl/.json/.csv/.parquet path, a Hub id, an upload, or 'sample'.")

    def source(self, spec: str, config: str = "", split: str = "train", local_paths: bool = True):
        """The resolved reference opened as a :class:`rlhf.data.sources.Source` (model libraries imported first
        where ``datasets`` reads it: a Hub id)."""
        from rlhf.data.sources import HUB_ID, resolve_source
        from rlhf.services.inference import model_libraries

        path = self.resolve(spec, local_paths)
        if HUB_ID.match(path):
            model_libraries()
        return resolve_source(path, split=split or "train", config=config or None)

    def describe(self, spec: str = "sample", config: str = "", split: str = "train", examples: int = 3,
                 local_paths: bool = True) -> dict[str, Any]:
        """Resolve a dataset and describe it: layout, record count, fields and questions, the first records as
        a formatting function receives them, and which tasks need no function."""
        spec = (spec or "sample").strip()
        source = self.source(spec, config, split, local_paths)
        return describe_source(source, spec, examples)


def describe_source(source, spec: str, examples: int = 3) -> dict[str, Any]:
    """See :meth:`Datasets.describe`; ``spec`` is the reference as the visitor gave it (for its name)."""
    from rlhf.formatting.plan import default_rows
    from rlhf.formatting.templates import DOLLY, FAMILIES
    from rlhf.tasks.registry import specs

    layout = source.layout()
    defaults = {s.name: default_rows(layout, s.rows) for s in specs()}
    plain = [name for name, d in defaults.items() if d.plain_columns is not None]
    templates = any(f.name == DOLLY and f.fits(layout) for f in FAMILIES)
    return {
        "dataset": spec if source.kind != "sample" else "sample",
        "kind": source.kind,
        "name": Path(spec).name if source.kind == "file" else spec,
        "layout": layout.name,
        "description": layout.describe(),
        "records": count_records(source),
        "columns": layout.columns,
        "fields": layout.fields,
        "questions": layout.questions,
        "examples": first_records(source, layout, max(0, min(int(examples), MAX_EXAMPLES))),
        "plain_tasks": plain,
        "templates_fit": templates,  # the dolly-style templates: every task has one
        "template_tasks": [name for name, d in defaults.items() if d.template is not None],
        "needs_function": [name for name, d in defaults.items() if d.needs_function],
        "defaults": {name: d.to_dict() for name, d in defaults.items()},  # what an empty editor uses, per task
    }


def count_records(source) -> int:
    """Records in a source without converting them: Arrow/Parquet metadata, else one pass over the rows."""
    total = 0
    for path, fmt in source.files:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            try:
                total += pq.ParquetFile(path).metadata.num_rows
                continue
            except Exception:
                pass
        elif fmt == "arrow":
            import pyarrow as pa

            try:
                with pa.memory_map(str(path)) as handle:
                    total += sum(batch.num_rows for batch in pa.ipc.open_stream(handle))
                continue
            except Exception:
                pass
        from rlhf.data.readers import iter_batches

        total += sum(len(batch) for batch in iter_batches(path, fmt))
    return total


def first_records(source, layout, count: int) -> list[dict[str, Any]]:
    """The first records exactly as a formatting function receives them (Argilla 2.x converted to 1.x)."""
    from rlhf.formatting.worker import records

    out: list[dict[str, Any]] = []
    if count <= 0:
        return out
    for record in records(source, layout):
        out.append(jsonable(record))
        if len(out) >= count:
            break
    return out


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
