"""``rlhf.prepare``: the Python API returns ``datasets`` objects and takes the function in any form."""

from __future__ import annotations

import datasets
import pytest

import rlhf
from conftest import ANSWERED_RECORDS, DOLLY_RECORDS, fill, write_function, write_records
from rlhf.errors import DataError, FormattingError
from seed_functions import SEED_RM, SEED_SFT

pytestmark = pytest.mark.usefixtures("rlhf_cache")

# A module-level global used by the functions below, like the seed page's `template`.
template = """\
### Instruction: {instruction}\n
### Context: {context}\n
### Response: {response}"""


def sft_first_response(sample):
    return template.format(
        instruction=sample["new-instruction"][0]["value"],
        context=sample["new-context"][0]["value"],
        response=sample["new-response"][0]["value"],
    )


def notebook_function(source: str, name: str = "formatting_func"):
    """A function as a notebook cell defines it: in ``__main__``, so it travels by value with its globals."""
    namespace = {"__name__": "__main__"}
    exec(compile(source, "<notebook cell>", "exec"), namespace)
    return namespace[name]


EXPECTED_FIRST_TEXT = fill("Name one primary colour of light.", "Red, green and blue are primary colours of light.",
                           "Red is a primary colour of light.")


def test_prepare_returns_a_dataset_with_the_task_columns(tmp_path):
    dataset = write_records(tmp_path, DOLLY_RECORDS, "jsonl")

    rows = rlhf.prepare(str(dataset), task="rm")

    assert isinstance(rows, datasets.Dataset)
    assert rows.column_names == ["chosen", "rejected"]
    assert len(rows) == 4  # the built-in RM template: one pair per submitted rewrite that differs


def test_prepare_with_train_size_returns_a_train_test_dataset_dict(tmp_path):
    dataset = write_records(tmp_path, [{"text": f"t{i}"} for i in range(10)], "parquet")

    rows = rlhf.prepare(str(dataset), task="sft", train_size=0.8, seed=5)

    assert isinstance(rows, datasets.DatasetDict)
    assert {name: len(part) for name, part in rows.items()} == {"train": 8, "test": 2}
    assert rows["train"].column_names == ["id", "text"]


def test_prepare_accepts_a_notebook_callable_that_uses_a_module_global(tmp_path):
    dataset = write_records(tmp_path, ANSWERED_RECORDS, "jsonl")
    func = notebook_function(SEED_SFT)

    rows = rlhf.prepare(str(dataset), task="sft", formatting_func=func)

    assert len(rows) == 5
    assert rows[0] == {"id": 0, "text": EXPECTED_FIRST_TEXT}


def test_prepare_accepts_a_function_from_an_importable_module(tmp_path):
    dataset = write_records(tmp_path, ANSWERED_RECORDS, "jsonl")

    rows = rlhf.prepare(str(dataset), task="sft", formatting_func=sft_first_response)

    assert rows["text"][0] == EXPECTED_FIRST_TEXT


def test_prepare_accepts_a_lambda(tmp_path):
    dataset = write_records(tmp_path, DOLLY_RECORDS, "jsonl")

    rows = rlhf.prepare(str(dataset), task="rl", formatting_func=lambda s: s["original-instruction"])

    assert rows["prompt"][:2] == ["Name a primary colour.", "What is two plus two?"]


def test_prepare_accepts_a_path_to_a_python_file(tmp_path):
    dataset = write_records(tmp_path, DOLLY_RECORDS, "parquet")
    path = write_function(tmp_path, SEED_RM.replace("def formatting_func", "def pairs"), "rm_func.py")

    rows = rlhf.prepare(str(dataset), task="rm", formatting_func=str(path), function="pairs")

    assert len(rows) == 4
    assert rows[1]["rejected"] == "### Instruction: What is two plus two?\n\n### Context: None\n\n### Response: 4"


def test_prepare_accepts_source_text(tmp_path):
    dataset = write_records(tmp_path, ANSWERED_RECORDS, "jsonl")

    rows = rlhf.prepare(str(dataset), task="sft", formatting_func=SEED_SFT)

    assert rows["text"][0] == EXPECTED_FIRST_TEXT


def test_errors_from_the_users_function_are_raised_as_formatting_errors(tmp_path):
    dataset = write_records(tmp_path, DOLLY_RECORDS, "jsonl")

    with pytest.raises(FormattingError, match=r"IndexError.*record 2 \(external_id 'dolly-2'\)"):
        rlhf.prepare(str(dataset), task="sft", formatting_func=notebook_function(SEED_SFT))


def test_errors_in_the_data_are_raised_as_data_errors(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text("{not json}\n", encoding="utf-8")

    with pytest.raises(DataError, match=r"broken\.jsonl, line 1"):
        rlhf.prepare(str(path), task="sft")


def test_prepared_rows_are_cached_in_the_rlhf_cache(tmp_path, rlhf_cache):
    dataset = write_records(tmp_path, DOLLY_RECORDS, "jsonl")

    first = rlhf.prepare(str(dataset), task="rm")
    second = rlhf.prepare(str(dataset), task="rm")

    assert first.to_list() == second.to_list()
    assert len(list((rlhf_cache / "prepared").glob("*.arrow"))) == 1
