"""The row contract: what one prepared row of a task holds, and how a formatting function's return value becomes one.

This mirrors Argilla 1.x ``prepare_for_training(framework="trl")``: per task, the type a formatting function must
return for one row, and the output columns. It sits below both :mod:`rlhf.formatting` and :mod:`rlhf.tasks`: a
task declares its contract here, and the formatting worker receives it as plain data in its job (so the worker,
which runs user code in a bare interpreter, never imports a task module). Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The Python types a row column may hold, by the name used in job files.
COLUMN_TYPES: dict[str, type] = {"str": str, "bool": bool}


class RowTypeError(TypeError):
    """A formatting function returned something that is not a row for this task."""


def describe_value(value: Any) -> str:
    if isinstance(value, tuple):
        inner = ", ".join(type(v).__name__ for v in value)
        return f"a tuple of {len(value)} ({inner})"
    text = repr(value)
    return f"{type(value).__name__} {text[:60] + '…' if len(text) > 60 else text}"


@dataclass(frozen=True)
class RowContract:
    """The row contract of one task.

    ``columns`` are the output columns of a formatting function's rows and ``types`` their Python types (``str``
    unless said otherwise); ``with_id`` adds Argilla's ``id`` column (the row's position in the output).
    ``plain_layouts`` maps a plain dataset layout (:data:`rlhf.data.layouts.PLAIN_LAYOUTS`) to the columns kept
    when no formatting function is needed. ``template`` names the task's starting function in
    :mod:`rlhf.formatting.templates`.
    """

    task: str
    columns: tuple[str, ...]
    with_id: bool = False
    types: tuple[str, ...] = ()
    plain_layouts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    template: str = ""

    def __post_init__(self) -> None:
        if not self.types:
            object.__setattr__(self, "types", ("str",) * len(self.columns))
        if not self.template:
            object.__setattr__(self, "template", self.task)
        if len(self.types) != len(self.columns) or any(t not in COLUMN_TYPES for t in self.types):
            raise ValueError(f"row contract of '{self.task}': one known type per column, got {self.types}")

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (("id",) if self.with_id else ()) + self.columns

    @property
    def expected(self) -> str:
        """What a formatting function must return, for messages and the editor."""
        if len(self.columns) == 1:
            return f"a {self.types[0]} (the {self.columns[0]})"
        kinds = set(self.types)
        of = f"{len(self.columns)} {self.types[0]}" if len(kinds) == 1 else ", ".join(self.types)
        return f"a ({', '.join(self.columns)}) tuple of {of}"

    def column_type(self, column: str) -> type:
        """The Python type of a column (a plain dataset's columns outside the contract hold text)."""
        return COLUMN_TYPES[self.types[self.columns.index(column)]] if column in self.columns else str

    def fits(self, value: Any) -> bool:
        wanted = [COLUMN_TYPES[t] for t in self.types]
        if len(wanted) == 1:
            return isinstance(value, wanted[0])
        return isinstance(value, tuple) and len(value) == len(wanted) and all(
            isinstance(v, w) for v, w in zip(value, wanted))

    def to_values(self, value: Any) -> tuple:
        """One formatting-function return value → the row's values (without ``id``), or raise RowTypeError."""
        if not self.fits(value):
            raise RowTypeError(f"returned {describe_value(value)}; task '{self.task}' expects {self.expected}")
        return tuple(value) if isinstance(value, tuple) else (value,)

    # -- as plain data, for the formatting worker's job file ----------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "columns": list(self.columns), "with_id": self.with_id, "types": list(self.types),
                "plain_layouts": {k: list(v) for k, v in self.plain_layouts.items()}, "template": self.template}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RowContract":
        return cls(task=data["task"], columns=tuple(data["columns"]), with_id=bool(data["with_id"]),
                   types=tuple(data["types"]), template=data["template"],
                   plain_layouts={k: tuple(v) for k, v in data["plain_layouts"].items()})
