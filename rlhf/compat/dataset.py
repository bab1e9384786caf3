"""``FeedbackDataset.from_huggingface(…)``: a dataset over rlhf's sources, with ``prepare_for_training``.

The sources are rlhf's own (a Hub id, a local ``.jsonl/.json/.csv/.parquet`` file or folder, or ``sample``), read
the way the rest of rlhf reads them: Argilla 2.x exports are seen in the 1.x record shape, so formatting
functions written for Argilla 1.x run unchanged. Records are read lazily, only when iterated.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Iterator

from rlhf.compat.arguments import CompatArgumentError, check_framework, reject_unknown
from rlhf.compat.feedback import FeedbackRecord, Schema, TextField, record_from_hub_row
from rlhf.compat.tasks import TrainingTaskForPPO, check_task
from rlhf.errors import ConfigError

# Argilla calls the PPO prompt column ``query``; rlhf's prepared rows call it ``prompt``.
PPO_COLUMN = "query"


# -- the dataset -----------------------------------------------------------------------------------------------------

class FeedbackDataset:
    """Argilla 1.x's ``FeedbackDataset``: built in memory (``FeedbackDataset(fields=…, questions=…)`` and
    ``add_records``), or over data that exists (:meth:`from_huggingface`: a Hub id, a file or folder, ``sample``).

    Runs read files, so an in-memory dataset is written once, as ``format_as("datasets")`` rows, to a JSON Lines
    file named by its content in rlhf's cache (:attr:`spec`); a run's ``config.yaml`` names that file.
    """

    def __init__(self, *, fields: list[Any], questions: list[Any], guidelines: str | None = None,
                 metadata_properties: list[Any] | None = None, allow_extra_metadata: bool = True,
                 vectors_settings: list[Any] | None = None) -> None:
        if vectors_settings:
            raise CompatArgumentError("FeedbackDataset: vectors_settings are for Argilla's similarity search, "
                                      "which needs an Argilla server; rlhf.compat takes none.")
        if guidelines is not None and (not isinstance(guidelines, str) or not guidelines.strip()):
            raise ValueError(f"FeedbackDataset: guidelines must be a non-empty string, got {guidelines!r}.")
        self._schema = Schema(list(fields or []), list(questions or []), list(metadata_properties or []),
                              bool(allow_extra_metadata))
        self.guidelines = guidelines
        self._memory: list[FeedbackRecord] | None = []
        self._spec: str | None = None
        self.split, self.dataset_config, self._token = "train", None, None
        self._records: list[FeedbackRecord] | None = None
        self._rows: list[dict[str, Any]] | None = None

    @classmethod
    def _of(cls, spec: str, split: str, dataset_config: str | None, token: str | None) -> "FeedbackDataset":
        self = object.__new__(cls)
        self._spec, self.split, self.dataset_config, self._token = spec, split, dataset_config, token
        self._schema, self.guidelines, self._memory = None, None, None
        self._records: list[FeedbackRecord] | None = None
        self._rows: list[dict[str, Any]] | None = None
        return self

    # -- Argilla's schema ------------------------------------------------------------------------------------

    @property
    def fields(self) -> list[Any]:
        return list(self._schema.fields) if self._schema else [column_field(n) for n in self._layout_fields()]

    @property
    def questions(self) -> list[Any]:
        return list(self._schema.questions) if self._schema else []

    @property
    def metadata_properties(self) -> list[Any]:
        return list(self._schema.metadata_properties) if self._schema else []

    @property
    def allow_extra_metadata(self) -> bool:
        return self._schema.allow_extra_metadata if self._schema else True

    def field_by_name(self, name: str):
        return next((f for f in self.fields if f.name == name), None)

    def question_by_name(self, name: str):
        return next((q for q in self.questions if q.name == name), None)

    def _layout_fields(self) -> list[str]:
        layout = self._source().layout()
        return layout.fields if layout.is_argilla else layout.columns

    # -- records in memory -----------------------------------------------------------------------------------

    def add_records(self, records: Any, show_progress: bool = True) -> None:
        """Check each record against the fields, questions and metadata properties (Argilla's checks; a
        ValueError names the record and what is wrong), then keep them all, or none when one is wrong."""
        if self._memory is None:
            raise CompatArgumentError(f"add_records: {self!r} reads its records from {self._spec}; build a "
                                      "FeedbackDataset(fields=…, questions=…) to add records in Python.")
        if isinstance(records, (dict, FeedbackRecord)):
            records = [records]
        records = list(records or [])
        if not records:
            raise ValueError("Expected `records` to be a non-empty list of `dict` or `FeedbackRecord`.")
        checked = []
        for offset, record in enumerate(records):
            where = f"record {len(self._memory) + offset}"
            if isinstance(record, dict):
                record = FeedbackRecord(**record)
            elif not isinstance(record, FeedbackRecord):
                raise ValueError(f"{where}: expected a dict or a FeedbackRecord, got {type(record).__name__}.")
            else:
                record = copy.deepcopy(record)  # Argilla's records were validated copies too
            if record.external_id is not None:
                where += f" (external_id {record.external_id!r})"
            self._schema.check(record, where)
            checked.append(record)
        self._memory.extend(checked)
        self._spec = self._rows = None

    def delete_records(self, records: Any) -> None:
        if self._memory is None:
            raise CompatArgumentError("delete_records: this dataset reads its records from a file or the Hub.")
        doomed = {id(r) for r in (records if isinstance(records, list) else [records])}
        self._memory = [r for r in self._memory if id(r) not in doomed]
        self._spec = self._rows = None

    def push_to_argilla(self, *args: Any, **kwargs: Any) -> None:
        raise ConfigError(
            "FeedbackDataset.push_to_argilla needs an Argilla server, which rlhf does not use: train from the "
            "dataset as it is (ArgillaTrainer(dataset=…)), or export it with dataset.push_to_huggingface('owner/"
            "name') or dataset.format_as('datasets').to_json('data.jsonl') and load it in the app.")

    # -- Hugging Face ----------------------------------------------------------------------------------------

    def push_to_huggingface(self, repo_id: str, generate_card: bool = True, private: bool = False,
                            token: str | None = None, commit_message: str | None = None,
                            **unknown: Any) -> str:
        """Upload the records as Argilla 1.x did: ``data/train-00000-of-00001.parquet`` in the
        ``format_as("datasets")`` layout, ``argilla.yaml`` (fields, questions, guidelines: what
        :meth:`from_huggingface` rebuilds the dataset from) and, with ``generate_card``, a README card.
        Returns the repo URL. The token: ``token``, else ``HF_TOKEN``, else the stored login."""
        from rlhf.compat.hub_dataset import push_dataset

        reject_unknown("FeedbackDataset.push_to_huggingface", unknown,
                       ["repo_id", "generate_card", "private", "token", "commit_message"])
        if len(self) < 1:
            raise ValueError("Cannot push an empty `rg.FeedbackDataset` to the Hugging Face Hub, please make sure "
                             "to add at least one record, via the method `add_records`.")
        return push_dataset(self, repo_id, generate_card=generate_card, private=private, token=token,
                            commit_message=commit_message)

    @classmethod
    def from_huggingface(cls, repo_id: str, split: str | None = None, name: str | None = None,
                         token: str | None = None, show_progress: bool = True, **unknown: Any) -> "FeedbackDataset":
        """A Hub dataset id, a local file or folder, or ``"sample"`` (rlhf's bundled feedback records).

        ``split`` defaults to ``train``; ``name`` is the Hub dataset's configuration (subset); ``token`` is used
        to download and never stored (a run reads the dataset from the local cache, or with the ``HF_TOKEN`` of its
        environment). The source is resolved now, so a wrong id or path fails here, as in Argilla. Where the
        dataset has Argilla's ``argilla.yaml`` beside it (what ``push_to_huggingface`` uploads), the fields,
        questions and guidelines are rebuilt from it and the records checked against them, as in Argilla.
        """
        reject_unknown("FeedbackDataset.from_huggingface", unknown,
                       ["repo_id", "split", "name", "token", "show_progress"])
        spec = str(repo_id).strip()
        local = Path(spec).expanduser()
        if spec.lower() != "sample" and local.exists():
            spec = str(local.resolve())  # runs start in other folders
        dataset = cls._of(spec, split or "train", name, token)
        source = dataset._source()
        config = argilla_config(source, spec, token)
        if config is None:
            return dataset
        schema, guidelines = Schema.from_config(config)
        loaded = cls(fields=schema.fields, questions=schema.questions, guidelines=guidelines,
                     metadata_properties=schema.metadata_properties,
                     allow_extra_metadata=schema.allow_extra_metadata)
        names = [f.name for f in schema.fields]
        questions = [q.name for q in schema.questions]
        loaded.add_records([record_from_hub_row(row, names, questions) for row in dataset._format_rows()])
        return loaded

    @classmethod
    def from_argilla(cls, *args: Any, **kwargs: Any) -> "FeedbackDataset":
        raise ConfigError(
            "FeedbackDataset.from_argilla needs an Argilla server. Export the dataset first (Argilla 1.x: "
            "dataset.push_to_huggingface('owner/name') or dataset.format_as('datasets').to_json('data.jsonl'); "
            "Argilla 2.x: dataset.records.to_datasets()), then load it with FeedbackDataset.from_huggingface.")

    @property
    def spec(self) -> str:
        """The dataset as rlhf's sources name it; an in-memory dataset is first written to a file (see the class)."""
        if self._spec is None:
            self._spec = str(write_rows_file(self._format_rows()))
        return self._spec

    def _source(self):
        from rlhf.data.sources import resolve_source

        return resolve_source(self.spec, split=self.split, config=self.dataset_config, token=self._token)

    # -- records -------------------------------------------------------------------------------------------------

    def format_as(self, format: str) -> Any:
        """``"datasets"``: the records in Argilla 1.x's Hub layout (the rows formatting functions receive)."""
        if format != "datasets":
            raise CompatArgumentError(f"format_as: unknown format {format!r}; accepted: 'datasets'.")
        import datasets

        if self._memory is not None:
            return datasets.Dataset.from_list(self._format_rows(), features=self._schema.hub_features())
        return datasets.Dataset.from_list(self._format_rows())

    def _format_rows(self) -> list[dict[str, Any]]:
        if self._rows is None:
            if self._memory is not None:
                self._rows = hub_rows(self._schema, self._memory)
            else:
                from rlhf.data.layouts import ARGILLA_V2, v2_to_v1

                source = self._source()
                layout = source.layout()
                convert = (lambda r: v2_to_v1(r, layout)) if layout.name == ARGILLA_V2 else (lambda r: r)
                self._rows = [convert(row) for batch in source.batches() for row in batch]
        return self._rows

    @property
    def records(self) -> list[FeedbackRecord]:
        if self._memory is not None:
            return self._memory
        if self._records is None:
            from rlhf.data.layouts import ARGILLA_V1, ARGILLA_V2

            layout = self._source().layout()
            argilla = layout.name in (ARGILLA_V1, ARGILLA_V2)
            fields = layout.fields if argilla else layout.columns
            questions = layout.questions if argilla else []
            self._records = [record_from_hub_row(row, fields, questions) for row in self._format_rows()]
        return self._records

    def __iter__(self) -> Iterator[FeedbackRecord]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self._memory) if self._memory is not None else len(self._format_rows())

    def __getitem__(self, index):
        return self.records[index]

    def __repr__(self) -> str:
        if self._memory is not None:
            return (f"FeedbackDataset(fields={[f.name for f in self.fields]}, "
                    f"questions={[q.name for q in self.questions]}, records={len(self._memory)})")
        return f"FeedbackDataset(source={self._spec!r}, split={self.split!r})"

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


# -- files ---------------------------------------------------------------------------------------------------------

ARGILLA_CONFIG = "argilla.yaml"


def column_field(name: str) -> TextField:
    """A loaded dataset's column as a field, whatever its name (Argilla's naming rule is for new fields)."""
    try:
        return TextField(name)
    except ValueError:
        field = object.__new__(TextField)
        field.name, field.title, field.required, field.use_markdown, field.type = name, name, True, False, "text"
        return field


def hub_rows(schema: Schema, records: list[FeedbackRecord]) -> list[dict[str, Any]]:
    """The records as ``format_as("datasets")`` rows, read back through Arrow as Argilla's were (a rating an
    ``int32``, a suggestion's score a ``float32``), so a file of them and the in-memory dataset agree."""
    import datasets

    rows = [schema.hub_row(record) for record in records]
    return datasets.Dataset.from_list(rows, features=schema.hub_features()).to_list() if rows else []


def write_rows_file(rows: list[dict[str, Any]]) -> Path:
    """The rows as JSON Lines in rlhf's cache, named by their content: the same records give the same file."""
    from rlhf.paths import cache_dir

    if not rows:
        raise ConfigError("The FeedbackDataset has no records: add some with dataset.add_records([...]) first.")
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    path = cache_dir() / "compat-datasets" / f"{hashlib.sha256(text.encode('utf-8')).hexdigest()[:20]}.jsonl"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return path


def argilla_config(source, spec: str, token: str | None) -> dict[str, Any] | None:
    """Argilla's ``argilla.yaml`` beside the data: in a local folder, or in the Hub repo (None when absent or
    unreachable: the records are still read, by their layout)."""
    import yaml

    text = None
    if source.kind == "file" and Path(spec).is_dir() and (Path(spec) / ARGILLA_CONFIG).is_file():
        text = (Path(spec) / ARGILLA_CONFIG).read_text(encoding="utf-8")
    elif source.kind == "hub":
        from huggingface_hub import hf_hub_download

        from rlhf.data.sources import hub_reachable

        try:  # offline, the copy downloaded with the data (if any)
            path = hf_hub_download(repo_id=spec, filename=ARGILLA_CONFIG, repo_type="dataset", token=token,
                                   local_files_only=not hub_reachable())
            text = Path(path).read_text(encoding="utf-8")
        except Exception:  # not an Argilla export (no argilla.yaml): read as any dataset
            text = None
    if text is None:
        return None
    config = yaml.safe_load(text)
    return config if isinstance(config, dict) else None
