"""Dataset → prepared training rows: the pipeline behind ``python -m rlhf prepare`` and ``rlhf.prepare()``.

source → layout → formatting function (isolated worker) or plain columns → rows → optional train/test split.
The split reproduces ``datasets.Dataset.train_test_split(train_size=…, seed=…)`` exactly, as Argilla's
``prepare_for_training`` used it, without importing ``datasets`` on the CLI path.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from rlhf.data.sources import Source, resolve_source
from rlhf.data.writers import output_format, read_arrow_table, write_table
from rlhf.errors import ConfigError, DataError, FormattingError
from rlhf.formatting.sandbox import Limits, WorkerResult, run_worker
from rlhf.formatting.user_code import UserCode
from rlhf.paths import cache_dir
from rlhf.rows import RowContract

Progress = Callable[[int, int], None]


@dataclass
class PrepareSummary:
    """What a preparation did, for the CLI's stderr, the Preview tab and run folders."""

    dataset: str
    task: str
    layout: str
    function: str
    records: int = 0
    rows: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    splits: dict[str, int] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)  # rows written that will not train as meant

    def lines(self) -> list[str]:
        lines = [f"layout: {self.layout}", f"function: {self.function}", f"records read: {self.records}",
                 f"rows written: {self.rows}" + (f" ({', '.join(f'{k} {v}' for k, v in self.splits.items())})"
                                                 if self.splits else "")]
        dropped = sum(self.dropped.values())
        lines.append(f"records dropped: {dropped}" + "".join(
            f"\n  {count:>6}  {reason}" for reason, count in sorted(self.dropped.items(), key=lambda kv: -kv[1])))
        lines += [f"warning: {warning}" for warning in self.warnings]
        lines += [f"wrote: {path}" for path in self.outputs]
        lines.append(f"took: {self.seconds:.2f} s")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Plan:
    """Everything decided before user code runs; the worker decides the rest after reading the layout."""

    source: Source
    rows: RowContract
    code: UserCode | None

    @property
    def task(self) -> str:
        return self.rows.task

    def job(self, out_path: Path, fmt: str) -> dict:
        return {"source": self.source.to_dict(), "rows": self.rows.to_dict(),
                "code": self.code.to_dict() if self.code else None,
                "output": {"path": str(out_path), "format": fmt}}

    def fingerprint(self) -> str:
        stats = [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p, _ in self.source.files]
        key = json.dumps([self.task, self.code.fingerprint() if self.code else None, stats])
        return hashlib.sha256(key.encode()).hexdigest()[:24]


def make_plan(dataset: str, task: str, formatting_func: Any = None, function: str | None = None,
              split: str = "train", dataset_config: str | None = None, token: str | None = None) -> Plan:
    from rlhf.tasks.registry import spec

    rows = spec(task).rows  # an unknown task fails here, before anything runs
    source = resolve_source(dataset, split=split, config=dataset_config, token=token)
    return Plan(source, rows, UserCode.coerce(formatting_func, function))


def row_warnings(rows: int, identical_pairs: int) -> list[str]:
    """What a person must know about rows that were written but will not train as meant."""
    if not identical_pairs:
        return []
    return [f"{identical_pairs:,} of {rows:,} rows have the same text as chosen and rejected; such a pair teaches "
            "nothing (no text can be preferred over itself). Check that the function returns two different texts, "
            "the preferred one first."]


def split_indices(n_rows: int, train_size: float, seed: int | None) -> tuple[list[int], list[int]]:
    """Exactly ``datasets.Dataset.train_test_split(train_size=train_size, seed=seed)``'s row choice."""
    import numpy as np

    n_train = math.floor(train_size * n_rows)
    n_test = n_rows - n_train
    if n_train == 0 or n_test == 0:
        raise ConfigError(
            f"train_size={train_size} on {n_rows} rows leaves {'no training' if n_train == 0 else 'no test'} rows; "
            "use more data or a train_size between them (1.0 keeps every row for training)."
        )
    permutation = np.random.default_rng(seed).permutation(n_rows)
    return permutation[n_test:].tolist(), permutation[:n_test].tolist()


def check_train_size(train_size: float) -> None:
    if not 0.0 < float(train_size) <= 1.0:
        raise ConfigError(f"train_size must be in (0, 1], got {train_size}.")


def split_paths(output: Path) -> dict[str, Path]:
    return {name: output.with_name(f"{output.stem}.{name}{output.suffix}") for name in ("train", "test")}


def _run(plan: Plan, out_path: Path, fmt: str, limits: Limits, progress: Progress | None) -> WorkerResult:
    result = run_worker(plan.job(out_path, fmt), limits, progress)
    if result.records == 0:  # the data is at fault, not the function: exit 2 like an empty file
        raise DataError(f"{plan.source.spec}: the dataset holds no records. Nothing was written.")
    if result.rows == 0:
        reasons = "; ".join(f"{v} × {k}" for k, v in result.dropped.items()) or "the dataset holds no records"
        raise FormattingError(f"No rows: all {result.records} records were dropped ({reasons}). Nothing was written.")
    return result


def prepare_to_files(dataset: str, task: str, output: str | Path, formatting_func: Any = None,
                     function: str | None = None, split: str = "train", dataset_config: str | None = None,
                     train_size: float = 1.0, seed: int | None = 42, limits: Limits | None = None,
                     token: str | None = None, progress: Progress | None = None) -> PrepareSummary:
    """Write the rows to OUTPUT (or OUTPUT's ``.train``/``.test`` siblings); nothing is written on failure."""
    started = time.monotonic()
    output = Path(output).expanduser().absolute()  # the worker runs in another directory
    fmt = output_format(output)
    check_train_size(train_size)
    plan = make_plan(dataset, task, formatting_func, function, split, dataset_config, token)
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".rlhf-prepare-", dir=output.parent))
    try:
        if train_size >= 1.0:
            result = _run(plan, staging / output.name, fmt, limits or Limits(), progress)
            finals = {output: staging / output.name}
            splits: dict[str, int] = {}
        else:
            result = _run(plan, staging / "rows.arrow", "arrow", limits or Limits(), progress)
            table = read_arrow_table(staging / "rows.arrow")
            finals, splits = {}, {}
            for (name, target), indices in zip(split_paths(output).items(),
                                               split_indices(table.num_rows, train_size, seed)):
                write_table(table.take(indices), staging / target.name, fmt)
                finals[target], splits[name] = staging / target.name, len(indices)
        for target, staged in finals.items():
            os.replace(staged, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PrepareSummary(
        dataset=str(dataset), task=task, layout=result.layout, function=result.function,
        records=result.records, rows=result.rows, dropped=result.dropped, splits=splits,
        outputs=[str(p) for p in finals], seconds=time.monotonic() - started,
        warnings=row_warnings(result.rows, result.identical_pairs),
    )


def prepare_dataset(dataset: str, task: str, formatting_func: Any = None, function: str | None = None,
                    split: str = "train", dataset_config: str | None = None, train_size: float = 1.0,
                    seed: int | None = 42, limits: Limits | None = None, token: str | None = None,
                    progress: Progress | None = None):
    """Rows as a ``datasets.Dataset`` (or a train/test ``DatasetDict``) plus the summary.

    Prepared rows are cached under the rlhf cache, keyed by the task, the function and the source files, so
    previewing the same data twice does not rerun the user's code.
    """
    import datasets

    started = time.monotonic()
    check_train_size(train_size)
    plan = make_plan(dataset, task, formatting_func, function, split, dataset_config, token)
    folder = cache_dir() / "prepared"
    folder.mkdir(parents=True, exist_ok=True)
    rows_path, meta_path = folder / f"{plan.fingerprint()}.arrow", folder / f"{plan.fingerprint()}.json"
    if rows_path.exists() and meta_path.exists():
        counts = json.loads(meta_path.read_text())
    else:
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
        try:
            result = _run(plan, staging / "rows.arrow", "arrow", limits or Limits(), progress)
            os.replace(staging / "rows.arrow", rows_path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        counts = {"records": result.records, "rows": result.rows, "dropped": result.dropped,
                  "layout": result.layout, "function": result.function,
                  "warnings": row_warnings(result.rows, result.identical_pairs)}
        meta_path.write_text(json.dumps(counts))
    rows = datasets.Dataset.from_file(str(rows_path))
    splits: dict[str, int] = {}
    if train_size < 1.0:
        split_indices(len(rows), train_size, seed)  # same checks and message as the CLI
        rows = rows.train_test_split(train_size=train_size, seed=seed)
        splits = {name: len(part) for name, part in rows.items()}
    summary = PrepareSummary(
        dataset=str(dataset), task=task, layout=counts["layout"], function=counts["function"],
        records=counts["records"], rows=counts["rows"], dropped=counts["dropped"], splits=splits,
        seconds=time.monotonic() - started, warnings=counts.get("warnings", []),
    )
    return rows, summary


def prepare(dataset: str, task: str, formatting_func: Any = None, function: str | None = None,
            split: str = "train", dataset_config: str | None = None, train_size: float = 1.0,
            seed: int | None = 42, timeout: float = 60.0, memory_limit_mb: int = 4096,
            token: str | None = None):
    """Prepared rows for ``task`` as a ``datasets.Dataset``, or a ``DatasetDict`` with ``train``/``test``.

    ``formatting_func`` is a Python callable, a path to a ``.py`` file (with ``function`` naming the function,
    default ``formatting_func``), source text, or None for plain datasets and the built-in templates.
    """
    rows, _ = prepare_dataset(dataset, task, formatting_func, function, split, dataset_config, train_size, seed,
                              Limits(timeout, memory_limit_mb), token)
    return rows
