"""Decide how a dataset becomes rows for a task: the user's function, plain columns, or a template.

Decided in the worker, next to the data it needs to look at, so the parent process never has to read the
dataset (or import pyarrow) before user code starts. :func:`default_rows` is the same choice without a function,
for what the app shows (the Data and Format tabs) before anything runs.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any

from rlhf.data.layouts import Layout, plain_layout_for
from rlhf.errors import ConfigError
from rlhf.formatting.templates import template_code, template_for, template_source
from rlhf.formatting.user_code import UserCode
from rlhf.rows import RowContract


@dataclass
class RowsChoice:
    code: UserCode | None
    plain_columns: list[str] | None
    label: str


class RowsSource(str, enum.Enum):
    """What makes a task's rows."""

    FUNCTION = "your function"
    TEMPLATE = "the template"
    PLAIN = "the plain columns"
    NOTHING = "nothing (a function is needed)"


@dataclass(frozen=True)
class DefaultRows:
    """What a task uses on a dataset when no function is given: the plain columns it keeps, else the template
    (a file in :mod:`rlhf.formatting.templates`) that reads this kind of dataset, else neither (a function is
    needed). Plain data (``to_dict``) for the app's dataset state."""

    plain_columns: tuple[str, ...] | None = None
    template: str | None = None

    @property
    def needs_function(self) -> bool:
        return self.plain_columns is None and self.template is None

    def describe(self) -> str:
        if self.plain_columns is not None:
            return f"the dataset's plain columns ({', '.join(self.plain_columns)})"
        if self.template is not None:
            return f"the '{self.template}' template"
        return "nothing: this dataset needs your function"

    def used_with(self, code: str | None) -> RowsSource:
        """Which makes the rows when the editor holds ``code``: the template (the editor holds it unchanged),
        your function, or, for an empty editor, the plain columns or the template (or nothing)."""
        text = (code or "").strip()
        if text:
            if self.template is not None and text == template_source(self.template).strip():
                return RowsSource.TEMPLATE
            return RowsSource.FUNCTION
        if self.plain_columns is not None:
            return RowsSource.PLAIN
        return RowsSource.TEMPLATE if self.template is not None else RowsSource.NOTHING

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["plain_columns"] = list(self.plain_columns) if self.plain_columns is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DefaultRows:
        data = data or {}
        plain = data.get("plain_columns")
        return cls(tuple(plain) if plain is not None else None, data.get("template"))


def default_rows(layout: Layout, rows: RowContract) -> DefaultRows:
    """Plain columns where the layout already has the task's columns, else the template written for this kind of
    dataset (dolly-style Argilla fields, preference pairs, …), else neither.

    A template for the dataset's own layout beats plain columns that fit only through a less specific one: SFT on
    KTO's ``prompt``/``completion``/``label`` rows must not imitate the undesirable completions."""
    plain = plain_layout_for(rows.plain_layouts, layout)
    template = template_for(layout, rows.template)
    if plain is not None and (template is None or layout.name in rows.plain_layouts):
        return DefaultRows(plain_columns=tuple(plain))
    return DefaultRows(template=template)


def choose_rows(layout: Layout, rows: RowContract, code: UserCode | None) -> RowsChoice:
    task = rows.task
    if code is not None:
        return RowsChoice(code, None, f"{code.filename}:{code.function}")
    default = default_rows(layout, rows)
    if default.plain_columns is not None:
        plain = list(default.plain_columns)
        return RowsChoice(None, plain, f"none (plain columns: {', '.join(plain)})")
    if default.template is not None:
        return RowsChoice(template_code(default.template), None, f"the '{default.template}' template")
    wanted = " or ".join("/".join(cols) for cols in rows.plain_layouts.values())
    raise ConfigError(
        f"Task '{task}' needs a formatting function for this dataset (layout {layout.describe()}): pass "
        f"--formatting-func FILE.py returning {rows.expected}, or provide plain columns {wanted}."
    )
