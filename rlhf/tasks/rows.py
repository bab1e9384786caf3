"""What each task's prepared rows look like, and how a formatting function's return value becomes a row.

This mirrors Argilla 1.x ``prepare_for_training(framework="trl")``: per task, the type a formatting function must
return for one row, and the output columns. Kept free of heavy imports: the formatting worker imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


class RowTypeError(TypeError):
    """A formatting function returned something that is not a row for this task."""


def _is_str_tuple(value: Any, size: int) -> bool:
    return isinstance(value, tuple) and len(value) == size and all(isinstance(v, str) for v in value)


def describe_value(value: Any) -> str:
    if isinstance(value, tuple):
        inner = ", ".join(type(v).__name__ for v in value)
        return f"a tuple of {len(value)} ({inner})"
    text = repr(value)
    return f"{type(value).__name__} {text[:60] + '…' if len(text) > 60 else text}"


@dataclass(frozen=True)
class TaskRows:
    """The row contract of one task.

    ``columns`` are the output columns of a formatting function's rows; ``with_id`` adds Argilla's ``id`` column
    (the row's position in the output). ``plain_layouts`` maps a plain dataset layout to the columns kept when
    no formatting function is needed.
    """

    task: str
    expected: str
    columns: tuple[str, ...]
    with_id: bool
    check: Callable[[Any], bool]
    plain_layouts: dict[str, tuple[str, ...]]

    @property
    def output_columns(self) -> tuple[str, ...]:
        return (("id",) if self.with_id else ()) + self.columns

    def to_values(self, value: Any) -> tuple:
        """One formatting-function return value → the row's values (without ``id``), or raise RowTypeError."""
        if not self.check(value):
            raise RowTypeError(f"returned {describe_value(value)}; task '{self.task}' expects {self.expected}")
        return (value,) if isinstance(value, str) else tuple(value)


_TEXT = "a str (the training text)"
TASK_ROWS: dict[str, TaskRows] = {
    "pretrain": TaskRows(
        "pretrain", _TEXT, ("text",), True, lambda v: isinstance(v, str), {"text": ("text",)}
    ),
    "sft": TaskRows(
        "sft",
        _TEXT,
        ("text",),
        True,
        lambda v: isinstance(v, str),
        {"text": ("text",), "prompt-completion": ("prompt", "completion"), "messages": ("messages",)},
    ),
    "rm": TaskRows(
        "rm",
        "a (chosen, rejected) tuple of two str",
        ("chosen", "rejected"),
        False,
        lambda v: _is_str_tuple(v, 2),
        {"chosen-rejected": ("chosen", "rejected"), "prompt-chosen-rejected": ("prompt", "chosen", "rejected")},
    ),
    "rl": TaskRows(
        "rl",
        "a str (the prompt)",
        ("prompt",),
        True,
        lambda v: isinstance(v, str),
        {"prompt": ("prompt",), "prompt-completion": ("prompt",), "prompt-chosen-rejected": ("prompt",)},
    ),
    "dpo": TaskRows(
        "dpo",
        "a (prompt, chosen, rejected) tuple of three str",
        ("prompt", "chosen", "rejected"),
        False,
        lambda v: _is_str_tuple(v, 3),
        {"prompt-chosen-rejected": ("prompt", "chosen", "rejected")},
    ),
}


def task_rows(task: str) -> TaskRows:
    try:
        return TASK_ROWS[task]
    except KeyError:
        from rlhf.errors import ConfigError

        raise ConfigError(f"Unknown task '{task}'. Choose one of: {', '.join(TASK_ROWS)}.") from None
