"""Reading local files: records in order, a batch at a time, and errors that name the file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import DOLLY_RECORDS, write_jsonl, write_parquet
from rlhf.data.readers import file_format, iter_batches, read_columns
from rlhf.data.sources import Source, resolve_source
from rlhf.errors import DataError


def all_records(path: Path, batch_size: int = 1000) -> list[dict]:
    return [r for batch in iter_batches(path, file_format(path), batch_size) for r in batch]


# -- reading ----------------------------------------------------------------------------------------------------

def test_jsonl_records_come_back_in_order(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", DOLLY_RECORDS)

    assert all_records(path) == DOLLY_RECORDS


def test_parquet_records_come_back_as_the_same_dicts(tmp_path):
    path = write_parquet(tmp_path / "d.parquet", DOLLY_RECORDS)

    assert all_records(path) == DOLLY_RECORDS


def test_records_come_in_batches_of_the_requested_size(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": str(i)} for i in range(7)])

    sizes = [len(batch) for batch in iter_batches(path, "jsonl", batch_size=3)]

    assert sizes == [3, 3, 1]


def test_blank_lines_in_jsonl_are_skipped(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a"}\n\n   \n{"text": "b"}\n', encoding="utf-8")

    assert all_records(path) == [{"text": "a"}, {"text": "b"}]


def test_a_utf8_byte_order_mark_is_ignored(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes('\ufeff{"text": "é"}\n'.encode("utf-8"))

    assert all_records(path) == [{"text": "é"}]


def test_a_json_array_of_records_is_read(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps([{"text": "a"}, {"text": "b"}]), encoding="utf-8")

    assert all_records(path) == [{"text": "a"}, {"text": "b"}]


def test_a_pretty_printed_json_object_holding_one_list_of_records_is_read(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"version": 1, "data": [{"text": "a"}]}, indent=2), encoding="utf-8")

    assert all_records(path) == [{"text": "a"}]


def test_json_lines_saved_as_json_are_read(tmp_path):
    path = tmp_path / "d.json"
    path.write_text('{"text": "a"}\n{"text": "b"}\n', encoding="utf-8")

    assert all_records(path) == [{"text": "a"}, {"text": "b"}]


def test_csv_rows_become_dicts_keyed_by_the_header(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('prompt,completion\n"2+2=",4\n"a, b",c\n', encoding="utf-8")

    assert all_records(path) == [{"prompt": "2+2=", "completion": "4"}, {"prompt": "a, b", "completion": "c"}]


@pytest.mark.parametrize("separator", [";", "\t", "|"], ids=["semicolon", "tab", "bar"])
def test_a_csv_separated_by_something_else_than_commas_is_read_by_its_header(tmp_path, separator):
    path = tmp_path / "spreadsheet.csv"
    path.write_text(f"prompt{separator}completion\n2+2={separator}4, of course\n", encoding="utf-8")

    assert read_columns(path, "csv") == ["prompt", "completion"]
    assert all_records(path) == [{"prompt": "2+2=", "completion": "4, of course"}]


def test_a_comma_in_the_header_keeps_the_comma_as_separator(tmp_path):
    path = tmp_path / "commas.csv"
    path.write_text("text,note\na;b,c\n", encoding="utf-8")

    assert all_records(path) == [{"text": "a;b", "note": "c"}]


def test_a_source_says_on_which_line_a_record_is(tmp_path):
    jsonl = tmp_path / "gaps.jsonl"
    jsonl.write_text('{"text": "a"}\n\n{"text": "b"}\n', encoding="utf-8")
    csv_file = tmp_path / "quoted.csv"
    csv_file.write_text('text\n"two\nlines"\nnext\n', encoding="utf-8")

    assert resolve_source(str(jsonl)).locate(1) == "line 3"
    assert resolve_source(str(csv_file)).locate(1) == "line 4"
    assert resolve_source(str(write_parquet(tmp_path / "p.parquet", [{"text": "a"}]))).locate(0) == ""


def test_columns_are_read_from_the_first_records(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"a": 1}, {"a": 2, "b": 3}])

    assert read_columns(path, "jsonl") == ["a", "b"]


def test_parquet_columns_come_from_the_schema(tmp_path):
    path = write_parquet(tmp_path / "d.parquet", DOLLY_RECORDS)

    assert read_columns(path, "parquet") == list(DOLLY_RECORDS[0])


# -- malformed files --------------------------------------------------------------------------------------------

def test_an_invalid_json_line_is_reported_with_its_line_number(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"text": "a"}\n{"text": "b"}\n{"text": "c",\n', encoding="utf-8")

    with pytest.raises(DataError, match=r"broken\.jsonl, line 3: invalid JSON"):
        all_records(path)


def test_a_jsonl_line_that_is_not_an_object_is_reported(tmp_path):
    path = tmp_path / "list.jsonl"
    path.write_text('{"text": "a"}\n["b"]\n', encoding="utf-8")

    with pytest.raises(DataError, match=r"list\.jsonl, line 2: expected a JSON object per line, got list"):
        all_records(path)


def test_non_utf8_text_is_reported_with_its_line(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"text": "a"}\n{"text": "café"}\n'.encode("latin-1"))

    with pytest.raises(DataError, match=r"latin1\.jsonl, line 2: not UTF-8 text \(byte 0xe9"):
        all_records(path)


def test_a_lone_surrogate_escape_in_jsonl_is_reported_with_its_line(tmp_path):
    path = tmp_path / "surrogate.jsonl"
    path.write_text('{"text": "a"}\n{"text": "b \\ud800 c"}\n', encoding="utf-8")

    with pytest.raises(DataError, match=r"surrogate\.jsonl, line 2: the escape \\ud800 \(column 13\) is half of a "
                                        r"UTF-16 surrogate pair, not a character"):
        all_records(path)


def test_a_lone_surrogate_escape_in_a_json_array_is_reported_with_its_line(tmp_path):
    path = tmp_path / "surrogate.json"
    path.write_text('[{"text": "a"},\n {"text": "\\udc00"}]\n', encoding="utf-8")

    with pytest.raises(DataError, match=r"surrogate\.json, line 2: the escape \\udc00"):
        all_records(path)


def test_surrogate_pairs_and_escaped_backslashes_are_text(tmp_path):
    path = tmp_path / "fine.jsonl"
    path.write_text('{"text": "\\ud83d\\ude00 and \\\\ud800"}\n', encoding="utf-8")

    assert all_records(path) == [{"text": "\U0001F600 and \\ud800"}]


def test_a_csv_row_with_missing_columns_names_them(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("prompt,chosen,rejected\np,good,bad\nq,good\n", encoding="utf-8")

    with pytest.raises(DataError, match=r"short\.csv, line 3: 2 values for 3 header columns "
                                        r"\(missing column\(s\) 'rejected'\)"):
        all_records(path)


def test_an_empty_file_is_reported(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.touch()

    with pytest.raises(DataError, match=r"empty\.jsonl: the file is empty"):
        read_columns(path, "jsonl")


def test_a_truncated_parquet_file_is_reported(tmp_path):
    path = write_parquet(tmp_path / "cut.parquet", DOLLY_RECORDS)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    with pytest.raises(DataError, match=r"cut\.parquet: not a valid parquet file, it may be truncated"):
        read_columns(path, "parquet")
    with pytest.raises(DataError, match=r"cut\.parquet: not a valid parquet file"):
        all_records(path)


def test_an_unknown_extension_is_reported_with_the_supported_ones(tmp_path):
    with pytest.raises(DataError, match=r"notes\.txt: unknown file type '\.txt'.*\.jsonl, \.json, \.csv or \.parquet"):
        file_format(tmp_path / "notes.txt")


# -- sources ----------------------------------------------------------------------------------------------------

def test_a_local_file_resolves_to_an_absolute_path(tmp_path, monkeypatch):
    write_jsonl(tmp_path / "d.jsonl", DOLLY_RECORDS)
    monkeypatch.chdir(tmp_path)

    source = resolve_source("d.jsonl")

    assert source.kind == "file"
    assert source.files == [(tmp_path / "d.jsonl", "jsonl")]


def test_a_folder_is_read_file_by_file_in_name_order(tmp_path):
    write_jsonl(tmp_path / "data" / "b.jsonl", [{"text": "b"}])
    write_jsonl(tmp_path / "data" / "a.jsonl", [{"text": "a"}])
    (tmp_path / "data" / "README.md").write_text("not data")

    source = resolve_source(str(tmp_path / "data"))

    assert [p.name for p, _ in source.files] == ["a.jsonl", "b.jsonl"]
    assert [r for batch in source.batches() for r in batch] == [{"text": "a"}, {"text": "b"}]


def test_a_folder_mixing_file_types_is_refused(tmp_path):
    write_jsonl(tmp_path / "data" / "a.jsonl", [{"text": "a"}])
    write_parquet(tmp_path / "data" / "b.parquet", [{"text": "b"}])

    with pytest.raises(DataError, match="mixes file types"):
        resolve_source(str(tmp_path / "data"))


def test_a_folder_without_data_files_is_refused(tmp_path):
    (tmp_path / "data").mkdir()

    with pytest.raises(DataError, match="holds no .jsonl"):
        resolve_source(str(tmp_path / "data"))


def test_a_path_that_does_not_exist_and_is_no_hub_id_is_refused(tmp_path):
    with pytest.raises(DataError, match="not found"):
        resolve_source(str(tmp_path / "missing.jsonl"))


def test_a_source_survives_the_trip_to_the_worker(tmp_path):
    source = resolve_source(str(write_jsonl(tmp_path / "d.jsonl", DOLLY_RECORDS)))

    assert Source.from_dict(json.loads(json.dumps(source.to_dict()))) == source
