"""Recognise what kind of dataset a set of columns is, and give formatting functions Argilla 1.x records.

Argilla 1.x (``FeedbackDataset.format_as("datasets")``): each field is a column of values; each question ``q`` is
a column of ``[{"user_id", "value", "status"}, …]`` with ``q-suggestion`` and ``q-suggestion-metadata`` beside
it; plus ``external_id`` and ``metadata`` (a JSON string).

Argilla 2.x (``Dataset.records.to_datasets()``, i.e. ``GenericIO._record_to_dict(flatten=True)`` in argilla
2.8): ``id``, ``status``, ``_server_id``, fields and metadata properties as top-level columns, and per question
``q.responses`` (values), ``q.responses.users`` (user ids), ``q.responses.status`` and ``q.suggestion``,
``q.suggestion.score``, ``q.suggestion.agent``. We convert those rows to the 1.x shape so one formatting function
serves both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from rlhf.errors import name_list

ARGILLA_V1 = "argilla-v1"
ARGILLA_V2 = "argilla-v2"
CUSTOM = "custom"

# Plain layouts, most specific first: (name, required columns).
PLAIN_LAYOUTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("prompt-chosen-rejected", ("prompt", "chosen", "rejected")),
    ("prompt-completion-label", ("prompt", "completion", "label")),
    ("chosen-rejected", ("chosen", "rejected")),
    ("prompt-completion", ("prompt", "completion")),
    ("messages", ("messages",)),
    ("text", ("text",)),
    ("prompt", ("prompt",)),
)
# Argilla's PPO output calls the prompt column ``query``; we accept it as ``prompt``.
COLUMN_ALIASES = {"query": "prompt"}

_V1_META = ("external_id", "metadata")
_V2_RECORD_COLUMNS = ("id", "status", "_server_id")
_V2_SUFFIXES = (".responses.users", ".responses.status", ".responses", ".suggestion.score", ".suggestion.agent",
                ".suggestion")


@dataclass
class Layout:
    """What the columns of a dataset mean."""

    name: str
    columns: list[str]
    fields: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)

    @property
    def is_argilla(self) -> bool:
        return self.name in (ARGILLA_V1, ARGILLA_V2)

    def describe(self) -> str:
        if self.is_argilla:
            return (f"{self.name} (fields: {name_list(self.fields)}; "
                    f"questions: {name_list(self.questions)})")
        return f"{self.name} (columns: {name_list(self.columns)})"


def detect_layout(columns: Iterable[str]) -> Layout:
    cols = list(columns)
    colset = set(cols)
    v1_questions = [c[: -len("-suggestion")] for c in cols
                    if c.endswith("-suggestion") and f"{c}-metadata" in colset]
    if v1_questions:
        hidden = set(_V1_META) | {f"{q}-suggestion" for q in v1_questions} | {
            f"{q}-suggestion-metadata" for q in v1_questions}
        fields = [c for c in cols if c not in hidden and c not in v1_questions]
        return Layout(ARGILLA_V1, cols, fields, v1_questions)

    v2_questions = _v2_questions(cols)
    if v2_questions:
        fields = [c for c in cols if c not in _V2_RECORD_COLUMNS and not c.endswith(_V2_SUFFIXES)]
        return Layout(ARGILLA_V2, cols, fields, v2_questions)

    aliased = {COLUMN_ALIASES.get(c, c) for c in cols}
    for name, required in PLAIN_LAYOUTS:
        if set(required) <= aliased:
            return Layout(name, cols)
    return Layout(CUSTOM, cols)


def _v2_questions(cols: list[str]) -> list[str]:
    questions: list[str] = []
    for c in cols:
        for suffix in (".responses", ".suggestion"):
            if c.endswith(suffix):
                q = c[: -len(suffix)]
                if q not in questions:
                    questions.append(q)
    return questions


def v2_to_v1(row: dict[str, Any], layout: Layout) -> dict[str, Any]:
    """One Argilla 2.x flattened row → the Argilla 1.x record dict a formatting function expects."""
    record: dict[str, Any] = {f: row.get(f) for f in layout.fields}
    for q in layout.questions:
        values = row.get(f"{q}.responses") or []
        users = row.get(f"{q}.responses.users") or []
        statuses = row.get(f"{q}.responses.status") or []
        record[q] = [
            {"user_id": users[i] if i < len(users) else None,
             "value": value,
             "status": statuses[i] if i < len(statuses) else None}
            for i, value in enumerate(values) if value is not None
        ]
        record[f"{q}-suggestion"] = row.get(f"{q}.suggestion")
        record[f"{q}-suggestion-metadata"] = {
            "type": None, "score": row.get(f"{q}.suggestion.score"), "agent": row.get(f"{q}.suggestion.agent")}
    record["external_id"] = row.get("id")
    record["metadata"] = json.dumps({})
    return record


def plain_layout_for(task_plain_layouts: dict[str, tuple[str, ...]], layout: Layout) -> tuple[str, ...] | None:
    """The columns a task keeps from a plain layout, or None when the layout needs a formatting function.

    A dataset may match a task through a less specific layout than the one detected (``prompt``/``chosen``/
    ``rejected`` rows also serve RL as prompts), so every plain layout the columns satisfy is tried.
    """
    aliased = {COLUMN_ALIASES.get(c, c) for c in layout.columns}
    for name, required in PLAIN_LAYOUTS:
        if name in task_plain_layouts and set(required) <= aliased:
            return task_plain_layouts[name]
    return None


def source_column(layout: Layout, column: str) -> str:
    """The dataset's own name for an output column (``prompt`` may be stored as ``query``)."""
    if column in layout.columns:
        return column
    for original, alias in COLUMN_ALIASES.items():
        if alias == column and original in layout.columns:
            return original
    return column
