"""``python -m rlhf prepare``: the CLI contract, bad inputs, and the train/test split."""

from __future__ import annotations

import json

import pytest

from conftest import (DOLLY_RECORDS, assert_clean_failure, error_line, read_rows, run_cli, write_jsonl,
                      write_parquet, write_records)
from rlhf.prepare_rows import split_indices
from rlhf.tasks.registry import task_names

# -- help ------------------------------------------------------------------------------------------------------


def test_top_level_help_documents_the_prepare_verb():
    result = run_cli("--help")

    assert result.returncode == 0
    assert "prepare" in result.stdout
    assert "run a formatting function over a dataset" in result.stdout


def test_prepare_help_documents_every_flag():
    result = run_cli("prepare", "--help")

    assert result.returncode == 0
    for flag in ("--dataset", "--task", "--formatting-func", "--function", "--split", "--train-size", "--seed",
                 "--output", "--timeout", "--memory-limit-mb", "--dataset-config"):
        assert flag in result.stdout, flag
    assert "{" + ",".join(task_names()) + "}" in result.stdout  # pretrain,sft,rm,rl,dpo and the newer ones
    assert "sample" in result.stdout


def test_a_verb_is_required():
    result = run_cli()

    assert result.returncode == 2
    assert "VERB" in result.stderr


# -- malformed inputs: exit 2, one line naming the file ----------------------------------------------------------

def _truncated_parquet(tmp_path):
    path = write_parquet(tmp_path / "cut.parquet", DOLLY_RECORDS)
    path.write_bytes(path.read_bytes()[:200])
    return path


def _invalid_json_line(tmp_path):
    path = write_jsonl(tmp_path / "broken.jsonl", [{"text": "fine"}] * 2)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"text": "unterminated\n')
    return path


def _csv_missing_columns(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("prompt,chosen,rejected\np,good,bad\nq,good\n", encoding="utf-8")
    return path


def _empty_file(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.touch()
    return path


def _parquet_without_rows(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "no_rows.parquet"
    pq.write_table(pa.table({"chosen": pa.array([], pa.string()), "rejected": pa.array([], pa.string())}), path)
    return path


def _non_utf8(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"text": "naïve"}\n'.encode("latin-1"))
    return path


def _unknown_extension(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("text\nhello\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("make", "name", "says"), [
    (_truncated_parquet, "cut.parquet", "truncated or corrupt"),
    (_invalid_json_line, "broken.jsonl", "line 3: invalid JSON"),
    (_csv_missing_columns, "short.csv", "line 3: 2 values for 3 header columns (missing column(s) 'rejected')"),
    (_empty_file, "empty.jsonl", "the file is empty"),
    (_parquet_without_rows, "no_rows.parquet", "the dataset holds no records"),
    (_non_utf8, "latin1.jsonl", "line 1: not UTF-8 text"),
    (_unknown_extension, "notes.txt", "unknown file type '.txt'"),
])
def test_a_malformed_input_exits_2_with_one_line_naming_the_file(tmp_path, make, name, says):
    dataset = make(tmp_path)

    result = run_cli("prepare", "--dataset", dataset, "--task", "rm", "--output", tmp_path / "rows.jsonl")

    assert_clean_failure(result, 2)
    message = error_line(result)
    assert name in message and says in message
    assert not (tmp_path / "rows.jsonl").exists()


def test_an_invalid_json_line_deep_in_the_file_is_reported_from_the_worker(tmp_path):
    """The parent only peeks at the first records; a later bad line is found while formatting."""
    path = write_jsonl(tmp_path / "late.jsonl", [{"chosen": f"good {i}", "rejected": "bad"} for i in range(120)])
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("{oops}\n")

    result = run_cli("prepare", "--dataset", path, "--task", "rm", "--output", tmp_path / "out" / "rows.jsonl")

    assert_clean_failure(result, 2)
    assert "late.jsonl, line 121: invalid JSON" in error_line(result)
    assert not (tmp_path / "out" / "rows.jsonl").exists()
    assert not list((tmp_path / "out").glob(".rlhf-prepare-*"))


def test_a_missing_dataset_exits_2(tmp_path):
    result = run_cli("prepare", "--dataset", tmp_path / "nope.jsonl", "--task", "sft", "--output",
                     tmp_path / "rows.jsonl")

    assert_clean_failure(result, 2)
    assert "nope.jsonl" in error_line(result)


@pytest.mark.parametrize("output", ["rows.csv", "rows.arrow", "rows"])
def test_an_unsupported_output_type_exits_2(tmp_path, output):
    dataset = write_jsonl(tmp_path / "d.jsonl", [{"text": "a"}])

    result = run_cli("prepare", "--dataset", dataset, "--task", "sft", "--output", tmp_path / output)

    assert_clean_failure(result, 2)
    assert "write a .jsonl or .parquet file" in error_line(result)


def test_an_unknown_task_is_refused_by_the_parser(tmp_path):
    result = run_cli("prepare", "--dataset", "sample", "--task", "ppo", "--output", tmp_path / "rows.jsonl")

    assert result.returncode == 2
    assert "invalid choice: 'ppo'" in result.stderr


def test_relative_dataset_and_output_paths_are_taken_from_the_current_directory(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"text": "a"}, {"text": "b"}])

    result = run_cli("prepare", "--dataset", "d.jsonl", "--task", "sft", "--output", "out/rows.jsonl", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert read_rows(tmp_path / "out" / "rows.jsonl") == [{"id": 0, "text": "a"}, {"id": 1, "text": "b"}]


# -- the train/test split --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "train_size", "seed"), [
    (10, 0.8, 42), (7, 0.5, 0), (3, 0.34, 7), (25, 0.7, 42), (101, 0.9, 1234), (1000, 0.8, 2**31),
])
def test_split_indices_match_datasets_train_test_split(n, train_size, seed):
    import datasets

    expected = datasets.Dataset.from_dict({"i": list(range(n))}).train_test_split(train_size=train_size, seed=seed)

    train, test = split_indices(n, train_size, seed)

    assert train == expected["train"]["i"]
    assert test == expected["test"]["i"]


def _pairs(n):
    return [{"prompt": f"p{i}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(n)]


@pytest.mark.parametrize("out_fmt", ["jsonl", "parquet"])
def test_train_size_below_one_writes_train_and_test_files(tmp_path, out_fmt):
    dataset = write_jsonl(tmp_path / "d.jsonl", _pairs(10))

    result = run_cli("prepare", "--dataset", dataset, "--task", "dpo", "--train-size", "0.75", "--seed", "3",
                     "--output", tmp_path / f"rows.{out_fmt}")

    assert result.returncode == 0, result.stderr
    assert not (tmp_path / f"rows.{out_fmt}").exists()
    train = read_rows(tmp_path / f"rows.train.{out_fmt}")
    test = read_rows(tmp_path / f"rows.test.{out_fmt}")
    assert (len(train), len(test)) == (7, 3)  # floor(0.75 * 10) for training, as datasets does
    assert sorted(r["prompt"] for r in train + test) == sorted(f"p{i}" for i in range(10))
    assert "rows written: 10 (train 7, test 3)" in result.stderr
    assert not list(tmp_path.glob(".rlhf-prepare-*"))


def test_the_cli_split_equals_the_python_api_split(tmp_path, rlhf_cache):
    import rlhf

    dataset = write_parquet(tmp_path / "d.parquet", _pairs(23))
    result = run_cli("prepare", "--dataset", dataset, "--task", "dpo", "--train-size", "0.8", "--seed", "11",
                     "--output", tmp_path / "rows.jsonl")
    assert result.returncode == 0, result.stderr

    expected = rlhf.prepare(str(dataset), task="dpo", train_size=0.8, seed=11)

    assert read_rows(tmp_path / "rows.train.jsonl") == expected["train"].to_list()
    assert read_rows(tmp_path / "rows.test.jsonl") == expected["test"].to_list()


def test_ids_are_positions_before_the_split(tmp_path):
    dataset = write_records(tmp_path, [{"text": f"t{i}"} for i in range(10)])

    result = run_cli("prepare", "--dataset", dataset, "--task", "sft", "--train-size", "0.6", "--seed", "1",
                     "--output", tmp_path / "rows.jsonl")

    assert result.returncode == 0, result.stderr
    train, test = split_indices(10, 0.6, 1)
    assert [r["id"] for r in read_rows(tmp_path / "rows.train.jsonl")] == train
    assert [r["id"] for r in read_rows(tmp_path / "rows.test.jsonl")] == test
    assert all(r["text"] == f"t{r['id']}" for r in read_rows(tmp_path / "rows.train.jsonl"))


def test_a_split_that_leaves_no_training_rows_exits_2(tmp_path):
    dataset = write_jsonl(tmp_path / "d.jsonl", [{"text": "a"}, {"text": "b"}])

    result = run_cli("prepare", "--dataset", dataset, "--task", "sft", "--train-size", "0.4",
                     "--output", tmp_path / "rows.jsonl")

    assert_clean_failure(result, 2)
    assert "train_size=0.4 on 2 rows leaves no training rows" in error_line(result)
    assert not list(tmp_path.glob("rows*"))


@pytest.mark.parametrize("train_size", ["0", "1.5", "-0.2"])
def test_a_train_size_outside_zero_to_one_exits_2(tmp_path, train_size):
    dataset = write_jsonl(tmp_path / "d.jsonl", [{"text": "a"}])

    result = run_cli("prepare", "--dataset", dataset, "--task", "sft", "--train-size", train_size,
                     "--output", tmp_path / "rows.jsonl")

    assert_clean_failure(result, 2)
    assert "train_size must be in (0, 1]" in error_line(result)


def test_a_failed_preparation_keeps_an_earlier_output(tmp_path):
    dataset = write_jsonl(tmp_path / "d.jsonl", [{"text": "a"}])
    out = tmp_path / "rows.jsonl"
    out.write_text(json.dumps({"id": 0, "text": "from before"}) + "\n")
    bad = tmp_path / "bad.py"
    bad.write_text("def formatting_func(sample):\n    raise ValueError('nope')\n")

    result = run_cli("prepare", "--dataset", dataset, "--task", "sft", "--formatting-func", bad, "--output", out)

    assert_clean_failure(result, 3)
    assert read_rows(out) == [{"id": 0, "text": "from before"}]
