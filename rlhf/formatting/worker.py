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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from rlhf.data.layouts import ARGILLA_V2, Layout, source_column, v2_to_v1
from rlhf.data.sources import Source
from rlhf.data.writers import open_writer
from rlhf.errors import ConfigError, DataError, FormattingError
from rlhf.formatting.plan import RowsChoice, choose_rows
from rlhf.formatting.user_code import UserCode, user_line
from rlhf.rows import RowContract, RowTypeError, describe_value

WRITE_BATCH = 1000
PROGRESS_EVERY_S = 0.5
DROPPED_NONE = "formatting function returned None"
DROPPED_EMPTY = "formatting function returned no rows"


class WallClockLimit(BaseException):
    """Raised by the timer; a BaseException so a user's ``except Exception`` cannot swallow it."""


class RecordFailure(Exception):
    """A failure while on one record: carries what the message needs."""

    def __init__(self, kind: str, index: int, record: dict, detail: str, line: str = ""):
        super().__init__(detail)
        self.kind, self.index, self.record, self.detail, self.line = kind, index, record, detail, line


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


def run(job: dict) -> dict:
    work = start(job)
    source, layout, rows, choice, code, per_record = (work.source, work.layout, work.rows, work.choice, work.code,
                                                       work.per_record)
    with_id = rows.with_id
    columns = list(rows.columns) if code else list(choice.plain_columns)
    out_columns = (["id"] if with_id else []) + columns
    progress = Progress(job.get("progress"))

    dropped: Counter[str] = Counter()
    buffer: list[tuple] = []
    index, record, count = -1, {}, 0
    try:
        with open_writer(Path(job["output"]["path"]), job["output"]["format"], out_columns) as writer:
            for index, record in enumerate(records(source, layout)):
                try:
                    produced, reason = per_record(record)
                except RowTypeError as error:
                    raise RecordFailure("type", index, record, str(error)) from None
                except (WallClockLimit, MemoryError, RecordFailure):
                    raise
                except (Exception, SystemExit, KeyboardInterrupt) as error:  # the user's code raised (or exited)
                    line = user_line(error.__traceback__, code.filename) if code else ""
                    raise RecordFailure("exception", index, record, f"{type(error).__name__}: {error}", line) \
                        from None
                if reason:
                    dropped[reason] += 1
                for values in produced:
                    buffer.append(((count,) + values) if with_id else values)
                    count += 1
                if len(buffer) >= WRITE_BATCH:
                    writer.write(buffer)
                    buffer = []
                    progress.update(index + 1, count)
            writer.write(buffer)
        signal.setitimer(signal.ITIMER_REAL, 0)
    except WallClockLimit as limit:
        line = user_line(limit.__traceback__, code.filename) if code else ""
        return _failure("timeout", index, record, f"the time limit of {job['timeout']:g} s was reached", line)
    except MemoryError as error:
        line = user_line(error.__traceback__, code.filename) if code else ""
        return _failure("memory", index, record, f"the memory limit of {job['memory_limit_mb']} MB was exceeded",
                        line)
    except RecordFailure as failure:
        return _failure(failure.kind, failure.index, failure.record, failure.detail, failure.line)
    progress.update(index + 1, count, force=True)
    return {"ok": True, "records": index + 1, "rows": count, "dropped": dict(dropped), "columns": out_columns,
            "layout": layout.describe(), "function": choice.label}


def _raise_limit(signum, frame):
    raise WallClockLimit()


def _failure(kind: str, index: int, record: dict, detail: str, line: str) -> dict:
    return {
        "ok": False,
        "kind": kind,
        "index": index,
        "external_id": record.get("external_id") if isinstance(record, dict) else None,
        "detail": detail,
        "line": line,
        "empty_questions": sorted(k for k, v in record.items() if v == []) if isinstance(record, dict) else [],
    }


def _out_of_memory(error: BaseException) -> bool:
    text = str(error).lower()
    return any(sign in text for sign in ("failed to map segment", "cannot allocate memory", "out of memory"))


def job_error(error: DataError | FormattingError | ConfigError) -> dict:
    """A failure of the whole job (unreadable data, a function that does not load, no way to make rows)."""
    kind = "data" if isinstance(error, DataError) else "config" if isinstance(error, ConfigError) else "code"
    return {"ok": False, "kind": kind, "detail": str(error)}


def write_result(job: dict, result: dict) -> None:
    """The last thing a sandboxed child does; written atomically, so the parent reads all of it or nothing."""
    tmp = job["result"] + ".tmp"
    Path(tmp).write_text(json.dumps(result, default=str))
    os.replace(tmp, job["result"])


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text())
    try:
        result = run(job)
    except (DataError, FormattingError, ConfigError) as error:
        result = job_error(error)
    except MemoryError:
        result = {"ok": False, "kind": "memory", "detail": f"the memory limit of {job['memory_limit_mb']} MB was "
                  "exceeded", "index": None}
    except WallClockLimit:
        result = {"ok": False, "kind": "timeout", "detail": f"the time limit of {job['timeout']:g} s was reached",
                  "index": None}
    except Exception as error:  # outside the user's code (their errors are caught per record): reading the data
        if _out_of_memory(error):  # e.g. a library loaded after the user's code took the memory
            result = {"ok": False, "kind": "memory", "detail": f"the memory limit of {job['memory_limit_mb']} MB "
                      "was exceeded", "index": None}
        else:
            result = {"ok": False, "kind": "data", "detail": f"reading the dataset failed: {type(error).__name__}: "
                                                             f"{str(error)[:300]}"}
    write_result(job, result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
