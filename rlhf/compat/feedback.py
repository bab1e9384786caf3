"""Argilla 1.x's in-memory dataset schema: fields, questions, metadata properties, records and their checks.

The classes keep Argilla 1.x's names, arguments and defaults (``argilla.client.feedback.schemas``), so a script
that builds a ``FeedbackDataset`` in Python runs unchanged. Checks follow Argilla's: bad schemas and bad records
raise ``ValueError`` naming the field, question, property or value at fault (Argilla raised pydantic's
``ValidationError``, itself a ``ValueError``). :func:`hub_row` writes a record exactly as Argilla 1.x's
``format_as("datasets")`` and ``push_to_huggingface`` did (the layout ``rlhf/data/sample/records.jsonl`` holds),
except that a ranking is a list of ``{"value", "rank"}`` (Argilla's Arrow column read back as a dict of lists;
both are read).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

NAME = re.compile(r"^(?=.*[a-z0-9])[a-z0-9_-]+$")
STATUSES = ("submitted", "discarded", "draft")
SUGGESTION_TYPES = ("model", "human")


def _check_name(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise ValueError(f"{kind} name {name!r} is invalid: use lowercase letters, digits, '_' and '-' "
                         "(Argilla's rule).")
    return name


def _title(name: str, title: str | None) -> str:
    return title if title else name.capitalize()


def _options(kind: str, name: str, what: str, options: Any) -> list[str] | dict[str, str]:
    """Labels or ranking values: a list of unique strings, or a dict value → text; at least two."""
    keys = list(options) if isinstance(options, (list, tuple, dict)) else None
    if keys is None or len(keys) < 2 or len(set(keys)) != len(keys) or not all(isinstance(k, str) for k in keys):
        raise ValueError(f"{kind} '{name}': {what} must be at least two unique strings (or a dict of them), "
                         f"got {options!r}.")
    if isinstance(options, dict) and len(set(options.values())) != len(options):
        raise ValueError(f"{kind} '{name}': the texts of {what} must be unique, got {options!r}.")
    return dict(options) if isinstance(options, dict) else list(options)


# -- fields ----------------------------------------------------------------------------------------------------------

@dataclass
class TextField:
    """A text shown to annotators; ``required`` fields must be in every record."""

    name: str
    title: str | None = None
    required: bool = True
    use_markdown: bool = False
    type: str = field(default="text", init=False)

    def __post_init__(self) -> None:
        _check_name("TextField", self.name)
        self.title = _title(self.name, self.title)

    def to_config(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "required": self.required, "type": self.type,
                "use_markdown": self.use_markdown}


# -- questions -------------------------------------------------------------------------------------------------------

@dataclass
class _Question:
    name: str
    title: str | None = None
    description: str | None = None
    required: bool = True

    type = ""

    def __post_init__(self) -> None:
        _check_name(type(self).__name__, self.name)
        self.title = _title(self.name, self.title)

    def check(self, value: Any, where: str) -> Any:
        """The value as stored (a ranking as dicts), or a ValueError naming ``where``, the question and the value."""
        return value

    def hub_value(self, value: Any) -> Any:
        return value

    def response(self, value: Any) -> dict[str, "ValueSchema"]:
        """Argilla's ``question.response(value)``: ``{name: ValueSchema(value)}`` for a ResponseSchema's values."""
        return {self.name: ValueSchema(self.check(value, "response"))}

    def suggestion(self, value: Any, **kwargs: Any) -> "SuggestionSchema":
        return SuggestionSchema(question_name=self.name, value=self.check(value, "suggestion"), **kwargs)

    def to_config(self) -> dict[str, Any]:
        config = {"name": self.name, "title": self.title, "description": self.description,
                  "required": self.required, "type": self.type}
        config.update({f: getattr(self, f) for f in self.__dataclass_fields__ if f not in config})
        return config

    def _bad(self, where: str, value: Any, expected: str) -> ValueError:
        return ValueError(f"{where}: question '{self.name}' ({type(self).__name__}) expects {expected}, "
                          f"got {value!r}.")


@dataclass
class TextQuestion(_Question):
    use_markdown: bool = False

    type = "text"

    def check(self, value: Any, where: str) -> Any:
        if not isinstance(value, str):
            raise self._bad(where, value, "a string")
        return value


@dataclass
class RatingQuestion(_Question):
    values: list[int] = field(default_factory=list)

    type = "rating"

    def __post_init__(self) -> None:
        super().__post_init__()
        values = self.values
        if (not isinstance(values, (list, tuple)) or len(values) < 2 or len(set(values)) != len(values)
                or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 10 for v in values)):
            raise ValueError(f"RatingQuestion '{self.name}': values must be at least two unique integers from 0 "
                             f"to 10, got {values!r}.")
        self.values = list(values)

    def check(self, value: Any, where: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or value not in self.values:
            raise self._bad(where, value, f"one of its values {self.values}")
        return value


@dataclass
class _LabelQuestion(_Question):
    labels: list[str] | dict[str, str] = field(default_factory=list)
    visible_labels: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.labels = _options(type(self).__name__, self.name, "labels", self.labels)


@dataclass
class LabelQuestion(_LabelQuestion):
    type = "label_selection"

    def check(self, value: Any, where: str) -> Any:
        if not isinstance(value, str) or value not in self.labels:
            raise self._bad(where, value, f"one of its labels {list(self.labels)}")
        return value


@dataclass
class MultiLabelQuestion(_LabelQuestion):
    labels_order: str = "natural"

    type = "multi_label_selection"

    def check(self, value: Any, where: str) -> Any:
        if not isinstance(value, (list, tuple)) or not value or not all(
                isinstance(v, str) and v in self.labels for v in value):
            raise self._bad(where, value, f"a non-empty list of its labels {list(self.labels)}")
        return list(value)


@dataclass
class RankingValueSchema:
    """One ranked value of a RankingQuestion answer; ties share a rank."""

    value: str
    rank: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise ValueError(f"RankingValueSchema: value must be a string, got {self.value!r}.")
        if self.rank is not None and (isinstance(self.rank, bool) or not isinstance(self.rank, int)
                                      or self.rank < 1):
            raise ValueError(f"RankingValueSchema: rank must be an integer from 1, got {self.rank!r}.")

    def dict(self) -> dict[str, Any]:
        return {"value": self.value, "rank": self.rank}


@dataclass
class RankingQuestion(_Question):
    values: list[str] | dict[str, str] = field(default_factory=list)

    type = "ranking"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.values = _options("RankingQuestion", self.name, "values", self.values)

    def check(self, value: Any, where: str) -> Any:
        ranking = ranking_list(value)
        if not ranking or not all(isinstance(r, RankingValueSchema) and r.value in self.values for r in ranking):
            raise self._bad(where, value, f"a list of {{'value', 'rank'}} over its values {list(self.values)}")
        return ranking

    def hub_value(self, value: Any) -> Any:
        return [r.dict() for r in value]


@dataclass
class SpanQuestion(_Question):
    field: str = ""
    labels: list[str] | dict[str, str] = dataclasses.field(default_factory=list)
    allow_overlapping: bool = False
    visible_labels: int | None = None

    type = "span"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.field, str) or not self.field:
            raise ValueError(f"SpanQuestion '{self.name}': field must name the TextField the spans are in.")
        self.labels = _options("SpanQuestion", self.name, "labels", self.labels)

    def check(self, value: Any, where: str) -> Any:
        spans = [dict(s) if isinstance(s, dict) else getattr(s, "__dict__", s) for s in value or []]
        for span in spans:
            if not isinstance(span, dict) or span.get("label") not in self.labels or not all(
                    isinstance(span.get(k), int) for k in ("start", "end")):
                raise self._bad(where, value, f"a list of {{'start', 'end', 'label'}} with labels {list(self.labels)}")
        return spans


def ranking_list(value: Any) -> list[Any]:
    """A ranking answer as RankingValueSchema objects, from a list of them or of dicts, or Argilla's Arrow
    ``{"rank": [...], "value": [...]}``; anything else is returned for the caller's check to name."""
    if isinstance(value, dict) and set(value) >= {"value", "rank"} and isinstance(value["value"], list):
        value = [{"value": v, "rank": r} for v, r in zip(value["value"], value["rank"])]
    if not isinstance(value, (list, tuple)):
        return value
    out = []
    for item in value:
        if isinstance(item, dict) and set(item) <= {"value", "rank"}:
            item = RankingValueSchema(item.get("value"), item.get("rank"))
        out.append(item)
    return out


# -- metadata properties ---------------------------------------------------------------------------------------------

@dataclass
class TermsMetadataProperty:
    name: str
    title: str | None = None
    visible_for_annotators: bool = True
    values: list[str] | None = None

    type = "terms"

    def __post_init__(self) -> None:
        _check_name("TermsMetadataProperty", self.name)
        self.title = _title(self.name, self.title)

    def check(self, value: Any, where: str) -> None:
        terms = value if isinstance(value, list) else [value]
        if not all(isinstance(t, str) for t in terms) or (self.values and any(t not in self.values for t in terms)):
            allowed = f"one of {self.values}" if self.values else "a string"
            raise ValueError(f"{where}: metadata '{self.name}' expects {allowed}, got {value!r}.")

    def to_config(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "visible_for_annotators": self.visible_for_annotators,
                "type": self.type, "values": self.values}


@dataclass
class _NumericMetadataProperty:
    name: str
    title: str | None = None
    visible_for_annotators: bool = True
    min: float | None = None
    max: float | None = None

    type = ""
    _python = (int, float)

    def __post_init__(self) -> None:
        _check_name(type(self).__name__, self.name)
        self.title = _title(self.name, self.title)
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"{type(self).__name__} '{self.name}': min ({self.min}) must be below max ({self.max}).")

    def check(self, value: Any, where: str) -> None:
        if isinstance(value, bool) or not isinstance(value, self._python) or \
                (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise ValueError(f"{where}: metadata '{self.name}' expects {self.type} from {self.min} to {self.max}, "
                             f"got {value!r}.")

    def to_config(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "visible_for_annotators": self.visible_for_annotators,
                "type": self.type, "min": self.min, "max": self.max}


@dataclass
class IntegerMetadataProperty(_NumericMetadataProperty):
    type = "integer"
    _python = (int,)


@dataclass
class FloatMetadataProperty(_NumericMetadataProperty):
    type = "float"
    _python = (int, float)


# -- records ---------------------------------------------------------------------------------------------------------

@dataclass
class ValueSchema:
    value: Any


@dataclass
class ResponseSchema:
    """One annotator's answers: ``values[question].value``; ``values`` may be given as ``{q: {"value": …}}``."""

    user_id: Any = None
    values: dict[str, ValueSchema] = field(default_factory=dict)
    status: str = "submitted"

    def __post_init__(self) -> None:
        status = getattr(self.status, "value", self.status)
        if status not in STATUSES:
            raise ValueError(f"ResponseSchema: status must be one of {', '.join(STATUSES)}, got {status!r}.")
        self.status = status
        if not isinstance(self.values, dict):
            raise ValueError(f"ResponseSchema: values must be a dict {{question: {{'value': …}}}}, "
                             f"got {type(self.values).__name__}.")
        self.values = {name: _value_schema(name, v) for name, v in self.values.items()}
        if self.user_id is not None:
            self.user_id = str(self.user_id)


def _value_schema(question: str, value: Any) -> ValueSchema:
    if isinstance(value, ValueSchema):
        return value
    if isinstance(value, dict) and set(value) == {"value"}:
        return ValueSchema(value["value"])
    raise ValueError(f"ResponseSchema: the answer to '{question}' must be {{'value': …}} or a ValueSchema, "
                     f"got {value!r}.")


@dataclass
class SuggestionSchema:
    question_name: str
    value: Any
    type: str | None = None
    score: float | None = None
    agent: str | None = None

    def __post_init__(self) -> None:
        if self.type is not None and self.type not in SUGGESTION_TYPES:
            raise ValueError(f"SuggestionSchema for '{self.question_name}': type must be 'model' or 'human', "
                             f"got {self.type!r}.")


def _coerce(cls: type, item: Any, what: str):
    if isinstance(item, cls):
        return item
    if isinstance(item, dict):
        try:
            return cls(**item)
        except TypeError as error:
            raise ValueError(f"FeedbackRecord: {what} {item!r} has an unknown key ({error}).") from None
    raise ValueError(f"FeedbackRecord: each of {what}s must be a dict or a {cls.__name__}, got {item!r}.")


@dataclass
class FeedbackRecord:
    """A record: ``fields`` (name → text), annotators' ``responses``, model ``suggestions``, ``metadata`` and an
    ``external_id``; responses and suggestions may be Argilla's dicts or schema objects."""

    fields: dict[str, Any]
    responses: list[ResponseSchema] = field(default_factory=list)
    suggestions: list[SuggestionSchema] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.fields, dict):
            raise ValueError(f"FeedbackRecord: fields must be a dict of field name → text, got {self.fields!r}.")
        self.responses = [_coerce(ResponseSchema, r, "response") for r in self.responses or []]
        if isinstance(self.suggestions, (dict, SuggestionSchema)):
            self.suggestions = [self.suggestions]
        self.suggestions = [_coerce(SuggestionSchema, s, "suggestion") for s in self.suggestions or []]
        self.metadata = dict(self.metadata or {})
        if self.external_id is not None:
            self.external_id = str(self.external_id)


# -- a dataset's schema: checks and Argilla's Hub layout ---------------------------------------------------------

QUESTION_TYPES = {cls.type: cls for cls in (TextQuestion, RatingQuestion, LabelQuestion, MultiLabelQuestion,
                                             RankingQuestion, SpanQuestion)}
METADATA_TYPES = {cls.type: cls for cls in (TermsMetadataProperty, IntegerMetadataProperty, FloatMetadataProperty)}


@dataclass
class Schema:
    """What a FeedbackDataset's records must hold: Argilla 1.x's ``fields``/``questions``/``metadata_properties``."""

    fields: list[TextField]
    questions: list[_Question]
    metadata_properties: list[Any] = field(default_factory=list)
    allow_extra_metadata: bool = True

    def __post_init__(self) -> None:
        self.fields = _unique("fields", self.fields, (TextField,))
        self.questions = _unique("questions", self.questions, tuple(QUESTION_TYPES.values()))
        self.metadata_properties = _unique("metadata_properties", self.metadata_properties or [],
                                           tuple(METADATA_TYPES.values()), optional=True)
        if not any(f.required for f in self.fields):
            raise ValueError("At least one field in `fields` must be required (`required=True`).")
        if not any(q.required for q in self.questions):
            raise ValueError("At least one question in `questions` must be required (`required=True`).")
        names = {f.name for f in self.fields}
        for question in self.questions:
            if isinstance(question, SpanQuestion) and question.field not in names:
                raise ValueError(f"SpanQuestion '{question.name}': field '{question.field}' is not one of the "
                                 f"dataset's fields ({', '.join(names)}).")

    def question(self, name: str, where: str) -> _Question:
        for question in self.questions:
            if question.name == name:
                return question
        raise ValueError(f"{where}: unknown question '{name}'; the dataset's questions: "
                         f"{', '.join(q.name for q in self.questions)}.")

    def check(self, record: FeedbackRecord, where: str) -> None:
        """Argilla's checks of a record added to a dataset, each naming the record and what is wrong."""
        known = {f.name: f for f in self.fields}
        for name, value in record.fields.items():
            if name not in known:
                raise ValueError(f"{where}: unknown field '{name}'; the dataset's fields: {', '.join(known)}.")
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{where}: field '{name}' must be a string, got {value!r}.")
        for f in self.fields:
            if f.required and record.fields.get(f.name) is None:
                raise ValueError(f"{where}: required field '{f.name}' is missing.")
        for response in record.responses:
            for name, answer in response.values.items():
                answer.value = self.question(name, f"{where}, response").check(answer.value,
                                                                                f"{where}, response")
        for suggestion in record.suggestions:
            question = self.question(suggestion.question_name, f"{where}, suggestion")
            suggestion.value = question.check(suggestion.value, f"{where}, suggestion")
        properties = {p.name: p for p in self.metadata_properties}
        for name, value in record.metadata.items():
            if name in properties:
                properties[name].check(value, where)
            elif not self.allow_extra_metadata:
                raise ValueError(f"{where}: metadata '{name}' is not one of the dataset's metadata properties "
                                 f"({', '.join(properties) or 'none'}) and allow_extra_metadata is False.")

    # -- Argilla's Hub layout ------------------------------------------------------------------------------------

    def hub_row(self, record: FeedbackRecord) -> dict[str, Any]:
        """One record as ``format_as("datasets")`` wrote it: fields; per question its responses, suggestion and
        suggestion metadata; ``external_id``; ``metadata`` as a JSON string."""
        row: dict[str, Any] = {f.name: record.fields.get(f.name) for f in self.fields}
        for question in self.questions:
            if isinstance(question, SpanQuestion):
                raise ValueError(f"format_as: question '{question.name}' is a SpanQuestion, which Argilla 1.x "
                                 "could not export to the datasets layout either; leave it out to export.")
            row[question.name] = [
                {"user_id": r.user_id, "value": question.hub_value(r.values[question.name].value),
                 "status": r.status}
                for r in record.responses if question.name in r.values]
            suggestion = next((s for s in record.suggestions if s.question_name == question.name), None)
            row[f"{question.name}-suggestion"] = None if suggestion is None else question.hub_value(suggestion.value)
            row[f"{question.name}-suggestion-metadata"] = {
                "type": getattr(suggestion, "type", None), "score": getattr(suggestion, "score", None),
                "agent": getattr(suggestion, "agent", None)}
        row["external_id"] = record.external_id
        row["metadata"] = json.dumps(record.metadata, ensure_ascii=False)
        return row

    def hub_features(self):
        """``datasets.Features`` of :meth:`hub_row` (Argilla's, a ranking as a list of structs)."""
        from datasets import Features, Value

        features: dict[str, Any] = {f.name: Value("string") for f in self.fields}
        for question in self.questions:
            if isinstance(question, SpanQuestion):
                raise ValueError(f"format_as: question '{question.name}' is a SpanQuestion, which Argilla 1.x "
                                 "could not export to the datasets layout either; leave it out to export.")
            value = {"text": Value("string"), "label_selection": Value("string"), "rating": Value("int32"),
                     "multi_label_selection": [Value("string")],
                     "ranking": [{"value": Value("string"), "rank": Value("uint8")}]}[question.type]
            features[question.name] = [{"user_id": Value("string"), "value": value, "status": Value("string")}]
            features[f"{question.name}-suggestion"] = value
            features[f"{question.name}-suggestion-metadata"] = {
                "type": Value("string"), "score": Value("float32"), "agent": Value("string")}
        features["external_id"] = Value("string")
        features["metadata"] = Value("string")
        return Features(features)

    def to_config(self, guidelines: str | None) -> dict[str, Any]:
        """What ``argilla.yaml`` holds beside the data on the Hub, so ``from_huggingface`` rebuilds the schema."""
        return {"guidelines": guidelines, "fields": [f.to_config() for f in self.fields],
                "questions": [q.to_config() for q in self.questions],
                "metadata_properties": [p.to_config() for p in self.metadata_properties] or None,
                "allow_extra_metadata": self.allow_extra_metadata}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> tuple["Schema", str | None]:
        def build(kinds: dict[str, type], item: dict[str, Any], what: str):
            item = dict(item)
            kind = item.pop("type", None)
            kind = getattr(kind, "value", kind)
            if kind not in kinds:
                raise ValueError(f"argilla.yaml: {what} '{item.get('name')}' has an unsupported type {kind!r}.")
            settings = item.pop("settings", None) or {}
            accepted = kinds[kind].__dataclass_fields__
            return kinds[kind](**{k: v for k, v in {**settings, **item}.items() if k in accepted})

        fields = [build({"text": TextField}, f, "field") for f in config.get("fields") or []]
        questions = [build(QUESTION_TYPES, q, "question") for q in config.get("questions") or []]
        properties = [build(METADATA_TYPES, p, "metadata property") for p in config.get("metadata_properties") or []]
        schema = cls(fields, questions, properties, bool(config.get("allow_extra_metadata", True)))
        return schema, config.get("guidelines")


def _unique(what: str, items: Any, kinds: tuple[type, ...], optional: bool = False) -> list[Any]:
    if not isinstance(items, (list, tuple)) or (not items and not optional):
        raise ValueError(f"Expected `{what}` to be a non-empty list, got {items!r}.")
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, kinds):
            raise ValueError(f"Expected `{what}` to hold {', '.join(k.__name__.lstrip('_') for k in kinds)}, "
                             f"got {type(item).__name__}.")
        if item.name in seen:
            raise ValueError(f"Expected `{what}` to have unique names, got '{item.name}' twice.")
        seen.add(item.name)
    return list(items)


def record_from_hub_row(row: dict[str, Any], fields: Iterable[str], questions: Iterable[str]) -> FeedbackRecord:
    """A ``format_as("datasets")`` row (a file, the Hub) → a record; responses are grouped per annotator."""
    questions = list(questions)
    by_user: dict[Any, ResponseSchema] = {}
    for question in questions:
        answers = row.get(question) or []
        if isinstance(answers, dict):  # Argilla's Arrow column read back as a dict of lists
            answers = [dict(zip(answers, values)) for values in zip(*answers.values())]
        for position, answer in enumerate(answers):
            if not isinstance(answer, dict):
                continue
            user = answer.get("user_id", answer.get("user-id"))
            key = user if user is not None else ("#", position)
            status = answer.get("status") if answer.get("status") in STATUSES else "submitted"
            response = by_user.setdefault(key, ResponseSchema(user_id=user, status=status))
            value = answer.get("value")
            if value is not None:  # as Argilla's from_huggingface: the annotator stays, the empty answer goes
                response.values[question] = ValueSchema(ranking_list(value) if _is_ranking(value) else value)
    suggestions = []
    for question in questions:
        value = row.get(f"{question}-suggestion")
        if value is not None:
            meta = row.get(f"{question}-suggestion-metadata") or {}
            kind = meta.get("type") if meta.get("type") in SUGGESTION_TYPES else None
            suggestions.append(SuggestionSchema(question, ranking_list(value) if _is_ranking(value) else value,
                                                kind, meta.get("score"), meta.get("agent")))
    metadata = row.get("metadata")
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            metadata = {"metadata": metadata}
    external_id = row.get("external_id")
    return FeedbackRecord(fields={name: row.get(name) for name in fields}, responses=list(by_user.values()),
                          suggestions=suggestions, metadata=metadata if isinstance(metadata, dict) else {},
                          external_id=None if external_id is None else str(external_id))


def _is_ranking(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) >= {"value", "rank"}
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, dict) and set(v) == {"value", "rank"} for v in value)
