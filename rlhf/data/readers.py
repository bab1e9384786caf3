"""Stream record batches out of local files, with errors that name the file and line.

Each reader yields lists of plain dicts, ``batch_size`` at a time, so a large file is never held in memory
twice. ``read_columns`` only peeks at the start of a file (for layout detection and early errors).
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from pathlib import Path
from typing import Any, Callable, Iterator

from rlhf.errors import DataError, name_list

FORMATS = {".jsonl": "jsonl", ".json": "json", ".csv": "csv", ".parquet": "parquet", ".arrow": "arrow"}
BATCH_SIZE = 1000
MAX_LINE_BYTES = 64 << 20  # one JSON Lines record or CSV row; beyond this it is not a record but a broken file
MAX_JSON_BYTES = 512 << 20  # a .json document is parsed whole: past this, JSON Lines or Parquet stream instead
SNIFF_BYTES = 8192
TEXT_FORMATS = ("jsonl", "json", "csv")
CSV_DELIMITERS = (",", ";", "\t", "|")  # a comma unless the header has none and one of the others instead
Batch = list[dict[str, Any]]
# A \uD800-\uDFFF escape that is not part of a high+low pair: JSON lets it through, but it is not a character,
# and no text holding it can be written as UTF-8 (the rows, Arrow).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
                             r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataError(
            f"{path.name}: unknown file type '{path.suffix or '(none)'}'. Use .jsonl, .json, .csv or .parquet "
            "(or a folder of them)."
        )
    return fmt


def iter_batches(path: Path, fmt: str, batch_size: int = BATCH_SIZE) -> Iterator[Batch]:
    """Yield the file's records in order, a batch at a time."""
    if path.stat().st_size == 0:
        raise DataError(f"{path.name}: the file is empty.")
    if fmt in TEXT_FORMATS:
        _refuse_binary(path, fmt)
    reader = _READERS[fmt]
    yield from reader(path, batch_size)


def read_columns(path: Path, fmt: str) -> list[str]:
    """The column names, from the schema or the first records."""
    if fmt in ("parquet", "arrow"):
        return list(_arrow_schema(path, fmt).names)
    for batch in iter_batches(path, fmt, batch_size=50):
        columns: dict[str, None] = {}
        for record in batch:
            columns.update(dict.fromkeys(record))
        return list(columns)
    raise DataError(f"{path.name}: the file holds no records.")


def record_lines(path: Path, fmt: str) -> Iterator[int] | None:
    """The line each record starts on, in order, for files with lines (JSON Lines, CSV); None for the others. Read
    only when a message must say where a record is."""
    if fmt == "jsonl" or (fmt == "json" and _json_lines(path)):
        return (number for number, line in _utf8_lines(path) if line.strip())
    if fmt == "csv":
        return _csv_record_lines(path)
    return None


def _csv_record_lines(path: Path) -> Iterator[int]:
    lines = (line for _, line in _utf8_lines(path))
    header = next(lines, "")
    reader = csv.reader(itertools.chain([header], lines), delimiter=csv_delimiter(header))
    next(reader, None)
    start = reader.line_num + 1
    for row in reader:
        if row:
            yield start
        start = reader.line_num + 1


def _refuse_binary(path: Path, fmt: str) -> None:
    """Text formats hold no NUL bytes: a file that does is binary (compressed, an image, a sparse file), and
    saying so beats reading a gigabyte of it as one line."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(f"{path.name}: UTF-16 text; re-save the file as UTF-8.")
    offset = head.find(b"\x00")
    if offset >= 0:
        kind = "gzip-compressed" if head.startswith(b"\x1f\x8b") else "binary"
        raise DataError(f"{path.name}: {kind} data, not {fmt.upper()} text (a NUL byte at offset {offset}). "
                        f"Give the uncompressed .{fmt} file, or .parquet.")


def _lines(handle) -> Iterator[bytes]:
    """Lines of at most :data:`MAX_LINE_BYTES`, so one huge line cannot take all memory."""
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        if len(raw) > MAX_LINE_BYTES:
            raise _TooLong()
        yield raw


class _TooLong(Exception):
    pass


def _utf8_lines(path: Path) -> Iterator[tuple[int, str]]:
    number = 0
    try:
        with open(path, "rb") as handle:
            for number, raw in enumerate(_lines(handle), start=1):
                yield number, _decode(path, number, raw)
    except _TooLong:
        raise DataError(f"{path.name}, line {number + 1}: longer than {MAX_LINE_BYTES >> 20} MB without a line "
                        "break; this is not one record per line. Check the file's format.") from None


def _decode(path: Path, number: int, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as error:
        raise DataError(
            f"{path.name}, line {number}: not UTF-8 text (byte 0x{raw[error.start]:02x} at column "
            f"{error.start + 1}). Re-save the file as UTF-8."
        ) from None


def _parse(path: Path, text: str, number: int | None = None) -> Any:
    """json.loads with errors that name the file and line, including nesting too deep for the parser."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        line = number if number is not None else error.lineno
        raise DataError(f"{path.name}, line {line}: invalid JSON ({error.msg} at column {error.colno}).") \
            from None
    except RecursionError:
        where = f", line {number}" if number is not None else ""
        raise DataError(f"{path.name}{where}: JSON nested too deeply to read (more than ~1,000 levels of "
                        "arrays or objects).") from None


def _read_jsonl(path: Path, batch_size: int) -> Iterator[Batch]:
    batch: Batch = []
    for number, line in _utf8_lines(path):
        if not line.strip():
            continue
        record = _parse(path, line, number)
        _refuse_lone_surrogates(path, line, record, number)
        if not isinstance(record, dict):
            raise DataError(f"{path.name}, line {number}: expected a JSON object per line, got "
                            f"{type(record).__name__}.")
        batch.append(record)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _read_json(path: Path, batch_size: int) -> Iterator[Batch]:
    """A JSON array of records, ``{"data": [...]}``-style objects, or JSON Lines saved as ``.json``."""
    if _json_lines(path):
        yield from _read_jsonl(path, batch_size)
        return
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise DataError(f"{path.name}: {size / (1 << 20):,.0f} MB is too large to parse as one JSON document "
                        f"(limit {MAX_JSON_BYTES >> 20} MB); save it as JSON Lines (.jsonl) or Parquet, which "
                        "are read a batch at a time.")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(f"{path.name}: not UTF-8 text (at byte {error.start}). Re-save the file as UTF-8.") from None
    data = _parse(path, text)
    _refuse_lone_surrogates(path, text, data)
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise DataError(f"{path.name}: expected a list of records (or an object holding one list of records).")
        data = lists[0]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise DataError(f"{path.name}: expected a list of JSON objects, one per record.")
    for start in range(0, len(data), batch_size):
        yield data[start : start + batch_size]


def _refuse_lone_surrogates(path: Path, text: str, data: Any, number: int | None = None) -> None:
    """A lone surrogate escape (``\\ud800``) parses, but fails much later, where the rows are written; name its
    line here. The pattern finds candidates cheaply; encoding the parsed value confirms (``\\\\ud800`` is text)."""
    if _SURROGATE_ESCAPE.search(text) is None:  # the common case: one quick scan (faster than `in` twice)
        return
    found = _LONE_SURROGATE.search(text)
    if found is None:
        return
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        line = number if number is not None else text.count("\n", 0, found.start()) + 1
        column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
        raise DataError(f"{path.name}, line {line}: the escape {found.group()} (column {column}) is half of a "
                        "UTF-16 surrogate pair, not a character, so the text cannot be stored as UTF-8. Remove it, "
                        "or give the whole pair (e.g. \\ud83d\\ude00).") from None


def _json_lines(path: Path) -> bool:
    """A ``.json`` file that is JSON Lines: its first line is a whole JSON object."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    try:
        text_head = head.decode("utf-8-sig", errors="strict")
    except UnicodeDecodeError:
        text_head = ""
    first_line = text_head.lstrip().split("\n", 1)[0]
    return first_line.startswith("{") and _parses(first_line)


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return False
    return True


def _read_csv(path: Path, batch_size: int) -> Iterator[Batch]:
    lines = (line for _, line in _utf8_lines(path))
    header = next(lines, "")
    reader = csv.reader(itertools.chain([header], lines), delimiter=csv_delimiter(header))
    try:
        yield from _csv_batches(path, reader, batch_size)
    except csv.Error as error:
        raise DataError(f"{path.name}, line {reader.line_num}: not valid CSV ({error}).") from None


def csv_delimiter(header: str) -> str:
    """The separator a CSV file's header line uses: a comma, unless the header has none and a ``;`` (spreadsheets
    in locales that write decimal commas), a tab or a ``|`` instead; the most frequent of those wins."""
    counts = {d: header.count(d) for d in CSV_DELIMITERS}
    if counts[","]:
        return ","
    best = max(CSV_DELIMITERS[1:], key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_batches(path: Path, reader, batch_size: int) -> Iterator[Batch]:
    header = next(reader, None)
    if not header:
        raise DataError(f"{path.name}: the CSV file has no header row.")
    batch: Batch = []
    for row in reader:
        if not row:
            continue
        if len(row) != len(header):
            missing = header[len(row):] if len(row) < len(header) else []
            detail = f"missing column(s) {name_list([repr(m) for m in missing])}" if missing else "more values than columns"
            raise DataError(f"{path.name}, line {reader.line_num}: {len(row)} values for {len(header)} header "
                            f"columns ({detail}).")
        batch.append(dict(zip(header, row)))
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _arrow_schema(path: Path, fmt: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if fmt == "parquet":
            return pq.read_schema(path)
        with pa.memory_map(str(path)) as source:
            return pa.ipc.open_stream(source).schema
    except (pa.ArrowInvalid, OSError) as error:
        raise DataError(f"{path.name}: not a valid {fmt} file, it may be truncated or corrupt ({error}).") from None


def _read_parquet(path: Path, batch_size: int) -> Iterator[Batch]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=batch_size):
            yield batch.to_pylist()
    except (pa.ArrowInvalid, OSError) as error:
        raise DataError(f"{path.name}: not a valid parquet file, it may be truncated or corrupt ({error}).") \
            from None


def _read_arrow(path: Path, batch_size: int) -> Iterator[Batch]:
    import pyarrow as pa

    try:
        with pa.memory_map(str(path)) as source:
            for batch in pa.ipc.open_stream(source):
                for start in range(0, batch.num_rows, batch_size):
                    yield batch.slice(start, batch_size).to_pylist()
    except (pa.ArrowInvalid, OSError) as error:
        raise DataError(f"{path.name}: not a valid arrow file ({error}).") from None


_READERS: dict[str, Callable[[Path, int], Iterator[Batch]]] = {
    "jsonl": _read_jsonl,
    "json": _read_json,
    "csv": _read_csv,
    "parquet": _read_parquet,
    "arrow": _read_arrow,
}

__all__ = ["BATCH_SIZE", "FORMATS", "csv_delimiter", "file_format", "iter_batches", "read_columns", "record_lines"]
