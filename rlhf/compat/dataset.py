"""``FeedbackDataset.from_huggingface(…)``: a dataset over rlhf's sources, with ``prepare_for_training``.

The sources are rlhf's own (a Hub id, a local ``.jsonl/.json/.csv/.parquet`` file or folder, or ``sample``), read
the way the rest of rlhf reads them: Argilla 2.x exports are seen in the 1.x record shape, so formatting
functions written for Argilla 1.x run unchanged. Records are read lazily, only when iterated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from rlhf.compat.arguments import CompatArgumentError, check_framework, reject_unknown
from rlhf.compat.tasks import TrainingTaskForPPO, check_task
from rlhf.errors import ConfigError

# Argilla calls the PPO prompt column ``query``; rlhf's prepared rows call it ``prompt``.
PPO_COLUMN = "query"


# -- records, as Argilla 1.x's FeedbackRecord shows them ------------------------------------------------------------

@dataclass
class ValueSchema:
    value: Any


@dataclass
class ResponseSchema:
    """One annotator's answers: ``values[question].value``."""

    user_id: Any = None
    values: dict[str, ValueSchema] = field(default_factory=dict)
    status: str | None = None


@dataclass
class SuggestionSchema:
    question_name: str
    value: Any
    type: str | None = None
    score: float | None = None
    agent: str | None = None


@dataclass
class FeedbackRecord:
    fields: dict[str, Any]
    responses: list[ResponseSchema] = field(default_factory=list)
    suggestions: list[SuggestionSchema] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None


def record_from_row(row: dict[str, Any], fields: list[str], questions: list[str]) -> FeedbackRecord:
    """An Argilla 1.x ``format_as("datasets")`` row → a record; responses are grouped per annotator."""
    by_user: dict[Any, ResponseSchema] = {}
    for question in questions:
        for position, answer in enumerate(row.get(question) or []):
            if not isinstance(answer, dict):
                continue
            user = answer.get("user_id", answer.get("user-id"))
            key = user if user is not None else ("#", position)
            response = by_user.setdefault(key, ResponseSchema(user_id=user, status=answer.get("status")))
            response.values[question] = ValueSchema(answer.get("value"))
    suggestions = []
    for question in questions:
        value = row.get(f"{question}-suggestion")
        if value is not None:
            meta = row.get(f"{question}-suggestion-metadata") or {}
            suggestions.append(SuggestionSchema(question, value, meta.get("type"), meta.get("score"),
                                                meta.get("agent")))
    metadata = row.get("metadata")
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            metadata = {"metadata": metadata}
    return FeedbackRecord(fields={name: row.get(name) for name in fields}, responses=list(by_user.values()),
                          suggestions=suggestions, metadata=metadata if isinstance(metadata, dict) else {},
                          external_id=row.get("external_id"))


# -- the dataset -----------------------------------------------------------------------------------------------------

class FeedbackDataset:
    """A dataset rlhf can read, in the shape Argilla 1.x scripts use. Build one with :meth:`from_huggingface`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ConfigError(
            "rlhf.compat builds a FeedbackDataset from data that already exists: "
            "FeedbackDataset.from_huggingface('owner/name' | 'file.jsonl' | 'sample'). Creating records in Python "
            "(fields, questions, add_records, push_to_argilla) needs an Argilla server; write them to a .jsonl "
            "file instead, one record per line.")

    @classmethod
    def _of(cls, spec: str, split: str, dataset_config: str | None, token: str | None) -> "FeedbackDataset":
        self = object.__new__(cls)
        self.spec, self.split, self.dataset_config, self._token = spec, split, dataset_config, token
        self._records: list[FeedbackRecord] | None = None
        self._rows: list[dict[str, Any]] | None = None
        return self

    @classmethod
    def from_huggingface(cls, repo_id: str, split: str | None = None, name: str | None = None,
                         token: str | None = None, show_progress: bool = True, **unknown: Any) -> "FeedbackDataset":
        """A Hub dataset id, a local file or folder, or ``"sample"`` (rlhf's bundled feedback records).

        ``split`` defaults to ``train``; ``name`` is the Hub dataset's configuration (subset); ``token`` is used
        to download and never stored (a run reads the dataset from the local cache, or with the ``HF_TOKEN`` of its
        environment). The source is resolved now, so a wrong id or path fails here, as in Argilla.
        """
        reject_unknown("FeedbackDataset.from_huggingface", unknown,
                       ["repo_id", "split", "name", "token", "show_progress"])
        spec = str(repo_id).strip()
        local = Path(spec).expanduser()
        if spec.lower() != "sample" and local.exists():
            spec = str(local.resolve())  # runs start in other folders
        dataset = cls._of(spec, split or "train", name, token)
        dataset._source()
        return dataset

    @classmethod
    def from_argilla(cls, *args: Any, **kwargs: Any) -> "FeedbackDataset":
        raise ConfigError(
            "FeedbackDataset.from_argilla needs an Argilla server. Export the dataset first (Argilla 1.x: "
            "dataset.push_to_huggingface('owner/name') or dataset.format_as('datasets').to_json('data.jsonl'); "
            "Argilla 2.x: dataset.records.to_datasets()), then load it with FeedbackDataset.from_huggingface.")

    def _source(self):
        from rlhf.data.sources import resolve_source

        return resolve_source(self.spec, split=self.split, config=self.dataset_config, token=self._token)

    # -- records -------------------------------------------------------------------------------------------------

    def format_as(self, format: str) -> Any:
        """``"datasets"``: the rows formatting functions receive, as a ``datasets.Dataset``."""
        if format != "datasets":
            raise CompatArgumentError(f"format_as: unknown format {format!r}; accepted: 'datasets'.")
        import datasets

        return datasets.Dataset.from_list(self._format_rows())

    def _format_rows(self) -> list[dict[str, Any]]:
        if self._rows is None:
            from rlhf.data.layouts import ARGILLA_V2, v2_to_v1

            source = self._source()
            layout = source.layout()
            convert = (lambda r: v2_to_v1(r, layout)) if layout.name == ARGILLA_V2 else (lambda r: r)
            self._rows = [convert(row) for batch in source.batches() for row in batch]
        return self._rows

    @property
    def records(self) -> list[FeedbackRecord]:
        if self._records is None:
            from rlhf.data.layouts import ARGILLA_V1, ARGILLA_V2

            layout = self._source().layout()
            argilla = layout.name in (ARGILLA_V1, ARGILLA_V2)
            fields = layout.fields if argilla else layout.columns
            questions = layout.questions if argilla else []
            self._records = [record_from_row(row, fields, questions) for row in self._format_rows()]
        return self._records

    def __iter__(self) -> Iterator[FeedbackRecord]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self._format_rows())

    def __getitem__(self, index):
        return self.records[index]

    def __repr__(self) -> str:
        return f"FeedbackDataset(source={self.spec!r}, split={self.split!r})"

    # -- training rows ---------------------------------------------------------------------------------------------

    def prepare_for_training(self, framework: Any, task: Any, train_size: float | None = None,
                             seed: int | None = None, lang: Any = None, fetch_records: Any = None,
                             **unknown: Any):
        """The rows Argilla's ``prepare_for_training(framework="trl", task=…)`` returned: a ``datasets.Dataset``,
        or a ``DatasetDict`` with ``train``/``test`` when ``train_size`` is below 1 (split with ``seed``).

        Columns: SFT ``id, text``; reward modelling ``chosen, rejected``; PPO ``id, query``; DPO
        ``prompt, chosen, rejected``. The same rows as ``python -m rlhf prepare``, whose PPO column is ``prompt``.
        """
        reject_unknown("prepare_for_training", unknown,
                       ["framework", "task", "train_size", "seed", "lang", "fetch_records"])
        check_framework(framework)
        task = check_task(task, "prepare_for_training")
        if lang is not None:
            raise CompatArgumentError("prepare_for_training: lang is for spaCy; the 'trl' framework takes none.")
        rows, _ = self._prepare(task, 1.0 if train_size is None else float(train_size), seed)
        return rows

    def _prepare(self, task, train_size: float, seed: int | None):
        from rlhf.prepare_rows import prepare_dataset

        rows, summary = prepare_dataset(self.spec, task.rlhf_task, formatting_func=task.user_code(),
                                        split=self.split, dataset_config=self.dataset_config,
                                        train_size=train_size, seed=seed, token=self._token)
        if isinstance(task, TrainingTaskForPPO):
            rows = rows.rename_column("prompt", PPO_COLUMN)
        return rows, summary
