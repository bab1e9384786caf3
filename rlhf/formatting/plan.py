"""Decide how a dataset becomes rows for a task: the user's function, plain columns, or a template.

Decided in the worker, next to the data it needs to look at, so the parent process never has to read the
dataset (or import pyarrow) before user code starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from rlhf.data.layouts import Layout, plain_layout_for
from rlhf.errors import ConfigError
from rlhf.formatting.templates import fits_templates, template_code
from rlhf.formatting.user_code import UserCode
from rlhf.rows import RowContract


@dataclass
class RowsChoice:
    code: UserCode | None
    plain_columns: list[str] | None
    label: str


def choose_rows(layout: Layout, rows: RowContract, code: UserCode | None) -> RowsChoice:
    task = rows.task
    if code is not None:
        return RowsChoice(code, None, f"{code.filename}:{code.function}")
    plain = plain_layout_for(rows.plain_layouts, layout)
    if plain is not None:
        return RowsChoice(None, list(plain), f"none (plain columns: {', '.join(plain)})")
    if layout.is_argilla and fits_templates(layout.fields + layout.questions):  # v2 columns are q.responses…
        return RowsChoice(template_code(rows.template), None, f"the '{rows.template}' template")
    wanted = " or ".join("/".join(cols) for cols in rows.plain_layouts.values())
    raise ConfigError(
        f"Task '{task}' needs a formatting function for this dataset (layout {layout.describe()}): pass "
        f"--formatting-func FILE.py returning {rows.expected}, or provide plain columns {wanted}."
    )
