"""rlhf.services.datasets without Gradio or visitors: references, uploads, record counts, descriptions."""

from __future__ import annotations

import pytest

from rlhf.errors import DataError
from rlhf.services.datasets import Datasets, count_records, jsonable

from conftest import dolly_record, write_jsonl


@pytest.fixture
def datasets(tmp_path):
    return Datasets(tmp_path / "uploads")


@pytest.fixture
def records_file(tmp_path):
    return write_jsonl(tmp_path / "mine.jsonl", [dolly_record(str(i), f"Q{i}?", None, f"A{i}.") for i in range(3)])


def test_an_upload_is_stored_by_content_and_resolves_to_its_copy(datasets, records_file):
    ref = datasets.store_upload(records_file)

    assert ref.startswith("upload:") and ref.endswith("/mine.jsonl")
    assert datasets.store_upload(records_file) == ref  # same content, same reference
    assert open(datasets.resolve(ref, local_paths=False), "rb").read() == records_file.read_bytes()


def test_a_missing_upload_is_a_data_error(datasets):
    with pytest.raises(DataError, match="upload the file again"):
        datasets.resolve("upload:0123/../x.jsonl")


def test_local_paths_are_read_only_where_allowed(datasets, records_file):
    assert datasets.resolve(str(records_file)) == str(records_file.resolve())
    with pytest.raises(DataError, match="not readable from a public deployment"):
        datasets.resolve(str(records_file), local_paths=False)
    assert datasets.resolve("owner/name", local_paths=False) == "owner/name"
    assert datasets.resolve("") == datasets.resolve("SAMPLE") == "sample"


def test_describing_a_file_counts_records_and_shows_the_first_ones(datasets, records_file):
    info = datasets.describe(str(records_file), examples=2)

    assert (info["kind"], info["name"], info["records"]) == ("file", "mine.jsonl", 3)
    assert len(info["examples"]) == 2 and isinstance(info["examples"][0], dict)
    assert set(info["plain_tasks"]).isdisjoint(info["needs_function"])


def test_records_are_counted_without_converting_them(datasets, records_file):
    assert count_records(datasets.source(str(records_file))) == 3


def test_examples_become_plain_json_values():
    assert jsonable({1: (b"x", None), "a": [1.5, True]}) == {"1": ["b'x'", None], "a": [1.5, True]}
