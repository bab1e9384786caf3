"""Write prepared rows as JSON Lines, Parquet or an Arrow stream, a batch at a time.

Writers write to the path they are given; callers write into a temporary folder and rename on success, so a
failed preparation never leaves a partial output behind.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Sequence

OUTPUT_FORMATS = {".jsonl": "jsonl", ".parquet": "parquet", ".arrow": "arrow"}


def output_format(path: Path) -> str:
    from rlhf.errors import ConfigError

    fmt = OUTPUT_FORMATS.get(Path(path).suffix.lower())
    if fmt is None or fmt == "arrow":
        raise ConfigError(f"--output {path}: write a .jsonl or .parquet file.")
    return fmt


class RowWriter(ABC):
    """Rows are tuples in ``columns`` order."""

    def __init__(self, path: Path, columns: Sequence[str]):
        self.path = Path(path)
        self.columns = tuple(columns)
        self.rows_written = 0

    @abstractmethod
    def write(self, rows: list[tuple]) -> None:
        """Append rows to the file."""

    def close(self) -> None:
        """Finish the file (a writer with no rows still writes a valid, empty file)."""

    def __enter__(self) -> "RowWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class JsonlWriter(RowWriter):
    def __init__(self, path: Path, columns: Sequence[str]):
        super().__init__(path, columns)
        self._handle = open(self.path, "w", encoding="utf-8")

    def write(self, rows: list[tuple]) -> None:
        dumps, columns = json.dumps, self.columns
        self._handle.write("".join(dumps(dict(zip(columns, row)), ensure_ascii=False) + "\n" for row in rows))
        self.rows_written += len(rows)

    def close(self) -> None:
        self._handle.close()


class _ArrowWriter(RowWriter):
    """Shared by Parquet and Arrow-stream output: the schema comes from the first batch (or all-strings)."""

    def __init__(self, path: Path, columns: Sequence[str]):
        super().__init__(path, columns)
        self._writer = None
        self._schema = None

    def _table(self, rows: list[tuple]):
        import pyarrow as pa

        data = {c: [row[i] for row in rows] for i, c in enumerate(self.columns)}
        if self._schema is None:
            self._schema = pa.Table.from_pydict(data).schema
        return pa.Table.from_pydict(data, schema=self._schema)

    def write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        table = self._table(rows)
        if self._writer is None:
            self._writer = self._open(table.schema)
        self._writer.write_table(table)
        self.rows_written += len(rows)

    def close(self) -> None:
        import pyarrow as pa

        if self._writer is None:
            self._writer = self._open(pa.schema([(c, pa.int64() if c == "id" else pa.string())
                                                 for c in self.columns]))
        self._writer.close()

    @abstractmethod
    def _open(self, schema):
        """Open the format's own writer for ``schema``."""


class ParquetWriter(_ArrowWriter):
    def _open(self, schema):
        import pyarrow.parquet as pq

        return pq.ParquetWriter(str(self.path), schema)


class ArrowStreamWriter(_ArrowWriter):
    """The format ``datasets.Dataset.from_file`` memory-maps."""

    def _open(self, schema):
        import pyarrow as pa

        return pa.ipc.new_stream(str(self.path), schema)


WRITERS = {"jsonl": JsonlWriter, "parquet": ParquetWriter, "arrow": ArrowStreamWriter}


def open_writer(path: Path, fmt: str, columns: Sequence[str]) -> RowWriter:
    return WRITERS[fmt](path, columns)


def read_arrow_table(path: Path):
    """Memory-map an Arrow stream written above (no copy of the rows in memory)."""
    import pyarrow as pa

    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_stream(source).read_all()


def write_table(table, path: Path, fmt: str, batch_rows: int = 1000) -> None:
    """Write (a slice of) an Arrow table in another format, batch by batch."""
    with open_writer(path, fmt, table.column_names) as writer:
        for batch in table.to_batches(max_chunksize=batch_rows):
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            writer.write(list(zip(*columns)))
