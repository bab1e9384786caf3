"""The isolated side of formatting: runs in its own process, started by :mod:`rlhf.formatting.sandbox`.

It reads the dataset files itself, calls the user's function on each record in order, applies Argilla's
return-value rules and writes the rows. Whatever happens, it ends by writing one JSON result; the parent turns a
failure into a readable message. The wall-clock limit is an interval timer that raises inside the user's code,
so a timeout still names the record and line it was on.

Usage: ``python -m rlhf.formatting.worker JOB.json``
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import types
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from rlhf.data.layouts import ARGILLA_V2, Layout, source_column, v2_to_v1
from rlhf.data.sources import Source
from rlhf.data.writers import open_writer
from rlhf.errors import ConfigError, DataError, FormattingError
from rlhf.formatting.failures import FailureKind
from rlhf.formatting.plan import RowsChoice, choose_rows
from rlhf.formatting.user_code import UserCode, user_line
from rlhf.rows import RowContract, RowTypeError, describe_value

WRITE_BATCH = 1000
PROGRESS_EVERY_S = 0.5
DROPPED_NONE = "formatting function returned None"
DROPPED_EMPTY = "formatting function returned no rows"


class WallClockLimit(BaseException):
    """Raised by the timer; a BaseException so a user's ``except Exception`` cannot swallow it."""


def records(source: Source, layout: Layout) -> Iterator[dict[str, Any]]:
    convert = (lambda r: v2_to_v1(r, layout)) if layout.name == ARGILLA_V2 else None
    for batch in source.batches():
        if convert is None:
            yield from batch
        else:
            yield from map(convert, batch)


def function_rows(func: Callable, rows: RowContract, record: dict) -> tuple[list[tuple], str | None]:
    """Argilla's rules: None drops, a list or generator flattens one level (dropping None), else one row."""
    result = func(record)
    if result is None:
        return [], DROPPED_NONE
    if isinstance(result, (list, types.GeneratorType, map, filter)):
        values = [rows.to_values(item) for item in result if item is not None]
        return values, (None if values else DROPPED_EMPTY)
    return [rows.to_values(result)], None


def plain_rows(columns: list[str], layout: Layout, rows: RowContract) -> Callable[[dict], tuple[list[tuple], str | None]]:
    """Rows of a plain dataset need no function: keep the task's columns, drop records with an empty one."""
    sources = [source_column(layout, c) for c in columns]

    def take(record: dict) -> tuple[list[tuple], str | None]:
        values = tuple(record.get(s) for s in sources)
        for column, source, value in zip(columns, sources, values):
            if value is None or value == "" or value == []:
                return [], f"empty '{column}'"
            if not _plain_value_fits(column, value, rows):
                raise RowTypeError(f"has {describe_value(value)} in column '{source}', which must hold "
                                   + ("a list of {'role', 'content'} messages" if column == "messages" else
                                      "text (a string)" if rows.column_type(column) is str else
                                      f"a {rows.column_type(column).__name__}"))
        return [values], None

    return take


def _plain_value_fits(column: str, value: Any, rows: RowContract) -> bool:
    """A mixed-type column (a number or a list among the texts) is caught here, naming the record, not deep
    inside Arrow or the trainer."""
    if column == "messages":
        return isinstance(value, list) and all(isinstance(m, dict) and isinstance(m.get("content"), str)
                                               for m in value)
    return isinstance(value, rows.column_type(column))


class Progress:
    def __init__(self, path: str | None):
        self.path, self.last = path, 0.0

    def update(self, records: int, rows: int, force: bool = False) -> None:
        now = time.monotonic()
        if self.path and (force or now - self.last >= PROGRESS_EVERY_S):
            self.last = now
            Path(self.path).write_text(json.dumps({"records": records, "rows": rows}))


@dataclass
class RecordRows:
    """How this job turns each record into rows: the dataset, its layout and the per-record step."""

    source: Source
    layout: Layout
    rows: RowContract
    choice: RowsChoice
    per_record: Callable[[dict], tuple[list[tuple], str | None]]

    @property
    def code(self) -> UserCode | None:
        return self.choice.code

    def records(self) -> Iterator[dict[str, Any]]:
        return records(self.source, self.layout)


def start(job: dict) -> RecordRows:
    """Read the layout, choose function/plain columns/template, start the wall clock, load the user's code.

    The clock starts before the code is loaded, so a module that loops at import time is stopped too.
    """
    source = Source.from_dict(job["source"])
    layout = source.layout()
    rows = RowContract.from_dict(job["rows"])
    choice = choose_rows(layout, rows, UserCode(**job["code"]) if job.get("code") else None)
    signal.signal(signal.SIGALRM, _raise_limit)
    signal.setitimer(signal.ITIMER_REAL, float(job["timeout"]))
    if choice.code:
        func = choice.code.load()
        per_record = lambda record: function_rows(func, rows, record)  # noqa: E731
    else:
        per_record = plain_rows(list(choice.plain_columns), layout, rows)
    return RecordRows(source, layout, rows, choice, per_record)


def time_limit_reached(job: dict) -> str:
    return f"the time limit of {job['timeout']:g} s was reached"


def memory_limit_exceeded(job: dict) -> str:
    return f"the memory limit of {job['memory_limit_mb']} MB was exceeded"


@dataclass
class RecordOutcome:
    """What became of one record: its rows (or why it was dropped), or how it failed.

    ``external_id`` is read before the user's function sees the record. ``line`` says where in the user's file
    the failure happened (:func:`rlhf.formatting.user_code.user_line`)."""

    index: int
    record: dict
    rows: list[tuple] = field(default_factory=list)
    dropped: str | None = None
    kind: FailureKind | None = None  # None: the record became rows (possibly none)
    error: BaseException | None = None
    line: str = ""
    external_id: Any = None

    @classmethod
    def failed(cls, index: int, record: dict, error: BaseException, code: UserCode | None,
               external_id: Any = None) -> RecordOutcome:
        """Classify a failure on a record: a row of the wrong type, the time or memory limit, or the user's
        code raising (or exiting)."""
        kind = (FailureKind.TYPE if isinstance(error, RowTypeError) else
                FailureKind.TIMEOUT if isinstance(error, WallClockLimit) else
                FailureKind.MEMORY if isinstance(error, MemoryError) else FailureKind.EXCEPTION)
        line = user_line(error.__traceback__, code.filename) if code and kind is not FailureKind.TYPE else ""
        return cls(index, record, kind=kind, error=error, line=line, external_id=external_id)

    @property
    def raised(self) -> str:
        return f"{type(self.error).__name__}: {self.error}"

    def detail(self, job: dict) -> str:
        """What went wrong, in the words the parent's message builds on."""
        if self.kind is FailureKind.TIMEOUT:
            return time_limit_reached(job)
        if self.kind is FailureKind.MEMORY:
            return memory_limit_exceeded(job)
        return str(self.error) if self.kind is FailureKind.TYPE else self.raised

    def failure(self, job: dict, work: RecordRows | None = None) -> dict:
        """The failed result of a preparation stopped on this record; the parent turns it into the message.

        With the job's ``work``: which function made the rows (a template has no name in the job), where the
        record is in the file when the data is at fault, and the column a KeyError names when the record lacks it.
        """
        record = self.record
        result = {
            "ok": False,
            "kind": self.kind,
            "index": self.index,
            "external_id": self.external_id,
            "detail": self.detail(job),
            "line": self.line,
            "empty_questions": sorted(k for k, v in record.items() if v == []) if isinstance(record, dict) else [],
        }
        if work is None:
            return result
        result["function"] = work.choice.label
        result["code_file"] = work.code.filename if work.code else ""
        missing = self.missing_column()
        if missing is not None:
            known = {*work.layout.columns, *work.layout.fields, *work.layout.questions}
            result.update(missing_column=missing, others_have_it=missing in known,
                          columns=[c for c in work.layout.columns if c not in ("external_id", "metadata")])
        if missing is not None or (self.kind is FailureKind.TYPE and work.code is None):
            result["location"] = _locate(work.source, self.index)
        return result

    def missing_column(self) -> str | None:
        """The column a ``KeyError`` from the user's code names, when this record has no such column."""
        error = self.error
        if (self.kind is FailureKind.EXCEPTION and isinstance(error, KeyError) and len(error.args) == 1
                and isinstance(error.args[0], str) and isinstance(self.record, dict)
                and error.args[0] not in self.record):
            return error.args[0]
        return None

    def message(self, job: dict, code: UserCode | None) -> str | None:
        """The probe's one-line error for this record, or None when it did not fail."""
        if self.kind is None:
            return None
        if self.kind is FailureKind.TYPE:
            return self.detail(job)
        if self.kind is FailureKind.TIMEOUT:
            return f"stopped: {self.detail(job)}{self.line}"
        missing = self.missing_column()
        return (f"raised {self.raised}" + (f" (at {code.filename}{self.line})" if self.line else "")
                + (f": this record has no column {missing!r}" if missing is not None else ""))


def each_record(work: RecordRows, limit: int | None = None) -> Iterator[RecordOutcome]:
    """Every record's outcome in order (the first ``limit`` records): the loop a preparation and the probe share.

    A failed record does not end the iteration (the preparation stops at it, the probe goes on), except the
    time limit: the clock has run out for every record after it."""
    for index, record in enumerate(work.records()):
        if limit is not None and index >= limit:
            return
        external_id = record.get("external_id") if isinstance(record, dict) else None
        try:
            produced, reason = work.per_record(record)
        except (Exception, SystemExit, KeyboardInterrupt, WallClockLimit) as error:  # raised, exited, or a limit
            outcome = RecordOutcome.failed(index, record, error, work.code, external_id)
        else:
            outcome = RecordOutcome(index, record, produced, reason, external_id=external_id)
        yield outcome
        if outcome.kind is FailureKind.TIMEOUT:
            return


def run(job: dict) -> dict:
    work = start(job)
    with_id = work.rows.with_id
    columns = list(work.rows.columns) if work.code else list(work.choice.plain_columns)
    out_columns = (["id"] if with_id else []) + columns
    progress = Progress(job.get("progress"))

    dropped: Counter[str] = Counter()
    buffer: list[tuple] = []
    at, count = RecordOutcome(-1, {}), 0  # the last record reached
    pair = [columns.index(c) for c in ("chosen", "rejected")] if {"chosen", "rejected"} <= set(columns) else None
    identical = 0  # pairs whose two sides are the same text: they teach nothing
    try:
        with open_writer(Path(job["output"]["path"]), job["output"]["format"], out_columns) as writer:
            for at in each_record(work):
                if at.kind:
                    return at.failure(job, work)
                if at.dropped:
                    dropped[at.dropped] += 1
                for values in at.rows:
                    buffer.append(((count,) + values) if with_id else values)
                    count += 1
                    if pair is not None and values[pair[0]] == values[pair[1]]:
                        identical += 1
                if len(buffer) >= WRITE_BATCH:
                    writer.write(buffer)
                    buffer = []
                    progress.update(at.index + 1, count)
            writer.write(buffer)
        signal.setitimer(signal.ITIMER_REAL, 0)
    except (WallClockLimit, MemoryError) as error:  # outside the user's function: reading records, writing rows
        return RecordOutcome.failed(at.index, at.record, error, work.code, at.external_id).failure(job)
    progress.update(at.index + 1, count, force=True)
    return {"ok": True, "records": at.index + 1, "rows": count, "dropped": dict(dropped), "columns": out_columns,
            "layout": work.layout.describe(), "function": work.choice.label, "identical_pairs": identical}


def _locate(source: Source, index: int) -> str:
    """Where the record is (``"line 6"``), or ``""``: the time limit may run out while the file is read again."""
    try:
        return source.locate(index)
    except (Exception, WallClockLimit):
        return ""


def _raise_limit(signum, frame):
    raise WallClockLimit()


def _out_of_memory(error: BaseException) -> bool:
    text = str(error).lower()
    return any(sign in text for sign in ("failed to map segment", "cannot allocate memory", "out of memory"))


def job_error(error: DataError | FormattingError | ConfigError) -> dict:
    """A failure of the whole job (unreadable data, a function that does not load, no way to make rows)."""
    return {"ok": False, "kind": FailureKind.of(error), "detail": str(error)}


def write_result(job: dict, result: dict) -> None:
    """The last thing a sandboxed child does; written atomically, so the parent reads all of it or nothing."""
    tmp = job["result"] + ".tmp"
    Path(tmp).write_text(json.dumps(result, default=str))
    os.replace(tmp, job["result"])


def serve(argv: list[str], run: Callable[[dict], dict], failed: Callable[[dict, BaseException], dict],
          catch: tuple[type[BaseException], ...] = (Exception, WallClockLimit)) -> int:
    """The whole of a sandboxed child (``python -m MODULE JOB.json``): read the job, run it and write one result,
    whatever happens. Our own errors become :func:`job_error`; anything else in ``catch``, ``failed(job, error)``."""
    job = json.loads(Path(argv[0]).read_text())
    try:
        result = run(job)
    except (DataError, FormattingError, ConfigError) as error:
        result = job_error(error)
    except catch as error:
        result = failed(job, error)
    write_result(job, result)
    return 0


def _job_failure(job: dict, error: BaseException) -> dict:
    """Outside the user's code (their errors are caught per record): the limits while loading, reading the data."""
    if isinstance(error, WallClockLimit):
        return {"ok": False, "kind": FailureKind.TIMEOUT, "detail": time_limit_reached(job), "index": None}
    if isinstance(error, MemoryError) or _out_of_memory(error):  # e.g. a library loaded after the user's code
        return {"ok": False, "kind": FailureKind.MEMORY, "detail": memory_limit_exceeded(job), "index": None}
    return {"ok": False, "kind": FailureKind.DATA, "detail": f"reading the dataset failed: {type(error).__name__}: "
                                                             f"{str(error)[:300]}"}


def main(argv: list[str]) -> int:
    return serve(argv, run, _job_failure)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
