"""Layout detection: which kind of dataset a set of columns is, and Argilla 2.x rows in the 1.x record shape."""

from __future__ import annotations

import json

import pytest

from conftest import DOLLY_RECORDS, TWO_ANNOTATORS, read_rows, run_cli, write_jsonl, write_parquet
from rlhf.data.layouts import ARGILLA_V1, ARGILLA_V2, CUSTOM, detect_layout, plain_layout_for, v2_to_v1
from rlhf.data.sources import resolve_source
from rlhf.formatting.worker import records
from rlhf.tasks.registry import spec

QUESTIONS = ("new-instruction", "new-context", "new-response")


def v2_row(record_id: str, answers: list[tuple[str, str, str, str, str]], status: str = "completed") -> dict:
    """One row of argilla 2.8's ``dataset.records.to_datasets()`` for the dolly dataset (flattened)."""
    row = {
        "id": record_id,
        "status": status,
        "_server_id": f"00000000-0000-4000-8000-{record_id[-1]:0>12}",
        "original-instruction": "Give a synonym for quick.",
        "original-context": "",
        "original-response": "fast",
    }
    for position, question in enumerate(QUESTIONS, start=2):
        row[f"{question}.responses"] = [a[position] for a in answers]
        row[f"{question}.responses.users"] = [a[0] for a in answers]
        row[f"{question}.responses.status"] = [a[1] for a in answers]
        row[f"{question}.suggestion"] = row[f"original-{question[4:]}"]
        row[f"{question}.suggestion.score"] = 0.5
        row[f"{question}.suggestion.agent"] = "dolly"
    return row


TWO_ANSWERS = [
    ("user-a", "submitted", "Give one synonym for 'quick'.", "", "Fast."),
    ("user-b", "draft", "Give a synonym for the word quick.", "", "Rapid."),
]


# -- detection -----------------------------------------------------------------------------------------------

def test_argilla_v1_columns_are_detected_with_fields_and_questions():
    layout = detect_layout(DOLLY_RECORDS[0])

    assert layout.name == ARGILLA_V1
    assert layout.fields == ["original-instruction", "original-context", "original-response"]
    assert layout.questions == list(QUESTIONS)


def test_argilla_v2_columns_are_detected_with_fields_and_questions():
    layout = detect_layout(v2_row("rec-1", TWO_ANSWERS))

    assert layout.name == ARGILLA_V2
    assert layout.fields == ["original-instruction", "original-context", "original-response"]
    assert layout.questions == list(QUESTIONS)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["text"], "text"),
        (["prompt", "completion"], "prompt-completion"),
        (["chosen", "rejected"], "chosen-rejected"),
        (["prompt", "chosen", "rejected"], "prompt-chosen-rejected"),
        (["messages"], "messages"),
        (["prompt"], "prompt"),
        (["query"], "prompt"),
        (["query", "chosen", "rejected"], "prompt-chosen-rejected"),
        (["instruction", "output"], CUSTOM),
    ],
)
def test_plain_layouts_are_recognised_by_their_columns(columns, expected):
    assert detect_layout(columns + ["extra"]).name == expected


@pytest.mark.parametrize(
    ("task", "columns", "kept"),
    [
        ("sft", ["text"], ("text",)),
        ("sft", ["prompt", "completion"], ("prompt", "completion")),
        ("sft", ["messages"], ("messages",)),
        ("pretrain", ["text"], ("text",)),
        ("rm", ["chosen", "rejected"], ("chosen", "rejected")),
        ("rm", ["prompt", "chosen", "rejected"], ("prompt", "chosen", "rejected")),
        ("rl", ["query"], ("prompt",)),
        ("rl", ["prompt", "chosen", "rejected"], ("prompt",)),
        ("dpo", ["prompt", "chosen", "rejected"], ("prompt", "chosen", "rejected")),
    ],
)
def test_plain_layouts_need_no_formatting_function(task, columns, kept):
    assert plain_layout_for(spec(task).rows.plain_layouts, detect_layout(columns)) == kept


@pytest.mark.parametrize(("task", "columns"), [("rm", ["text"]), ("dpo", ["chosen", "rejected"]),
                                               ("sft", ["chosen", "rejected"])])
def test_a_plain_layout_that_does_not_fit_the_task_needs_a_function(task, columns):
    assert plain_layout_for(spec(task).rows.plain_layouts, detect_layout(columns)) is None


def test_argilla_layouts_need_a_formatting_function():
    assert plain_layout_for(spec("sft").rows.plain_layouts, detect_layout(DOLLY_RECORDS[0])) is None


# -- Argilla 2.x → 1.x ---------------------------------------------------------------------------------------

def test_an_argilla_v2_row_becomes_the_v1_record_a_formatting_function_expects():
    row = v2_row("rec-4", TWO_ANSWERS)

    record = v2_to_v1(row, detect_layout(row))

    assert record == {
        "original-instruction": "Give a synonym for quick.",
        "original-context": "",
        "original-response": "fast",
        "new-instruction": [
            {"user_id": "user-a", "value": "Give one synonym for 'quick'.", "status": "submitted"},
            {"user_id": "user-b", "value": "Give a synonym for the word quick.", "status": "draft"},
        ],
        "new-instruction-suggestion": "Give a synonym for quick.",
        "new-instruction-suggestion-metadata": {"type": None, "score": 0.5, "agent": "dolly"},
        "new-context": [
            {"user_id": "user-a", "value": "", "status": "submitted"},
            {"user_id": "user-b", "value": "", "status": "draft"},
        ],
        "new-context-suggestion": "",
        "new-context-suggestion-metadata": {"type": None, "score": 0.5, "agent": "dolly"},
        "new-response": [
            {"user_id": "user-a", "value": "Fast.", "status": "submitted"},
            {"user_id": "user-b", "value": "Rapid.", "status": "draft"},
        ],
        "new-response-suggestion": "fast",
        "new-response-suggestion-metadata": {"type": None, "score": 0.5, "agent": "dolly"},
        "external_id": "rec-4",
        "metadata": "{}",
    }


def test_an_argilla_v2_row_without_responses_has_empty_question_lists():
    row = v2_row("rec-2", [], status="pending")

    record = v2_to_v1(row, detect_layout(row))

    assert [record[q] for q in QUESTIONS] == [[], [], []]
    assert json.loads(record["metadata"]) == {}


def test_an_argilla_v2_response_without_a_value_for_a_question_is_left_out():
    row = v2_row("rec-3", TWO_ANSWERS)
    row["new-context.responses"] = [None, "Some context."]

    record = v2_to_v1(row, detect_layout(row))

    assert record["new-context"] == [{"user_id": "user-b", "value": "Some context.", "status": "draft"}]


def test_argilla_v1_and_v2_files_give_a_formatting_function_the_same_record(tmp_path):
    v1 = TWO_ANNOTATORS
    answers = [(r["user_id"], r["status"], i["value"], c["value"], r["value"])
               for i, c, r in zip(v1["new-instruction"], v1["new-context"], v1["new-response"])]
    v2_path = write_parquet(tmp_path / "v2.parquet", [v2_row(v1["external_id"], answers)])
    source = resolve_source(str(v2_path))

    [record] = list(records(source, source.layout()))

    for key in ("original-instruction", "original-context", "original-response", *QUESTIONS, "external_id"):
        assert record[key] == v1[key], key


def test_an_argilla_v2_export_prepares_with_the_built_in_template(tmp_path):
    v2_path = write_jsonl(tmp_path / "v2.jsonl", [v2_row("rec-4", TWO_ANSWERS)])
    out = tmp_path / "rm.jsonl"

    result = run_cli("prepare", "--dataset", v2_path, "--task", "rm", "--output", out)

    assert result.returncode == 0, result.stderr
    assert "argilla-v2" in result.stderr
    # Only user-a's response is submitted; user-b's draft is skipped by the template's status check.
    assert [row["chosen"].rsplit(" ", 1)[-1] for row in read_rows(out)] == ["Fast."]
