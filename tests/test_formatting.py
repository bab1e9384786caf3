"""Formatting semantics: the seed page's functions give the rows Argilla's ``prepare_for_training`` gives.

Records are visited in order; ``None`` drops a record; a list or generator is flattened one level with its
``None`` entries dropped; ``id`` is the row's position in the output; each task has its own output columns.
"""

from __future__ import annotations

import pytest

from conftest import (ANSWERED, DOLLY_RECORDS, dolly_record, fill, read_rows, run_cli, write_function,
                      write_records)
from rlhf.errors import FormattingError
from rlhf.prepare_rows import prepare_to_files
from seed_functions import DPO, SEED_PPO, SEED_RM, SEED_SFT


def prepare_cli(tmp_path, dataset, task, source=None, output="rows.jsonl"):
    """Run ``python -m rlhf prepare`` and return (rows, completed process)."""
    args = ["prepare", "--dataset", dataset, "--task", task, "--output", tmp_path / output]
    if source is not None:
        args += ["--formatting-func", write_function(tmp_path, source, f"{task}_func.py")]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    return read_rows(tmp_path / output), result


def prepare_in_process(tmp_path, records, task, source, output="rows.jsonl"):
    """The CLI's pipeline without the extra interpreter: returns (rows, summary)."""
    dataset = write_records(tmp_path, records, "jsonl", name="in")
    summary = prepare_to_files(str(dataset), task, tmp_path / output, formatting_func=source)
    return read_rows(tmp_path / output), summary


# -- the seed page's functions, in jsonl and parquet ---------------------------------------------------------

def test_the_template_renders_the_seed_prompt_layout():
    assert fill("Say hi.", "", "Hi!") == "### Instruction: Say hi.\n\n### Context: \n\n### Response: Hi!"


def test_seed_sft_function_gives_one_text_per_record_from_the_first_response(tmp_path, answered_file):
    rows, _ = prepare_cli(tmp_path, answered_file, "sft", SEED_SFT)

    assert rows == [
        {"id": 0, "text": "### Instruction: Name one primary colour of light.\n\n"
                          "### Context: Red, green and blue are primary colours of light.\n\n"
                          "### Response: Red is a primary colour of light."},
        {"id": 1, "text": fill("What is two plus two?", "", "Two plus two is four.")},
        # `[0]` ignores the status: the discarded rewrite is used too, as on the seed page.
        {"id": 2, "text": fill("Translate 'chat' from French.", "French", "Cat.")},
        # Only the first of two annotators.
        {"id": 3, "text": fill("Give one synonym for 'quick'.", "", "Fast.")},
        {"id": 4, "text": fill("Name a planet.", "The Solar System has eight planets.", "Mars.")},
    ]


def test_seed_rm_function_pairs_each_submitted_rewrite_with_the_original(tmp_path, dolly_file):
    rows, _ = prepare_cli(tmp_path, dolly_file, "rm", SEED_RM)

    r4_original = fill("Give a synonym for quick.", "", "fast")
    assert rows == [
        {"chosen": fill("Name one primary colour of light.", "Red, green and blue are primary colours of light.",
                        "Red is a primary colour of light."),
         "rejected": fill("Name a primary colour.", "Red, green and blue are primary colours of light.", "Red.")},
        # The seed formats a missing original-context as "None"; we pass the record through unchanged.
        {"chosen": fill("What is two plus two?", "", "Two plus two is four."),
         "rejected": "### Instruction: What is two plus two?\n\n### Context: None\n\n### Response: 4"},
        {"chosen": fill("Give one synonym for 'quick'.", "", "Fast."), "rejected": r4_original},
        {"chosen": fill("Give a synonym for the word quick.", "", "Rapid."), "rejected": r4_original},
    ]


def test_seed_ppo_function_gives_one_prompt_per_submitted_instruction(tmp_path, dolly_file):
    rows, _ = prepare_cli(tmp_path, dolly_file, "rl", SEED_PPO)

    assert rows == [
        {"id": 0, "prompt": "### Instruction: Name one primary colour of light.\n\n"
                            "### Context: Red, green and blue are primary colours of light.\n\n### Response:"},
        {"id": 1, "prompt": fill("What is two plus two?", "", "").strip()},
        {"id": 2, "prompt": fill("Give one synonym for 'quick'.", "", "").strip()},
        {"id": 3, "prompt": fill("Give a synonym for the word quick.", "", "").strip()},
        {"id": 4, "prompt": fill("Name a planet.", "The Solar System has eight planets.", "").strip()},
    ]


def test_dpo_function_gives_prompt_chosen_rejected_triples(tmp_path, dolly_file):
    rows, _ = prepare_cli(tmp_path, dolly_file, "dpo", DPO)

    assert rows == [
        {"prompt": fill("Name one primary colour of light.", "Red, green and blue are primary colours of light.",
                        "").strip(),
         "chosen": "Red is a primary colour of light.", "rejected": "Red."},
        {"prompt": fill("What is two plus two?", "", "").strip(), "chosen": "Two plus two is four.", "rejected": "4"},
        {"prompt": fill("Give one synonym for 'quick'.", "", "").strip(), "chosen": "Fast.", "rejected": "fast"},
        {"prompt": fill("Give a synonym for the word quick.", "", "").strip(), "chosen": "Rapid.",
         "rejected": "fast"},
    ]


@pytest.mark.parametrize(("task", "source", "columns"), [
    ("sft", SEED_SFT, ["id", "text"]),
    ("rm", SEED_RM, ["chosen", "rejected"]),
    ("rl", SEED_PPO, ["id", "prompt"]),
    ("dpo", DPO, ["prompt", "chosen", "rejected"]),
], ids=["sft", "rm", "rl", "dpo"])
def test_each_task_writes_its_own_columns_in_parquet_too(tmp_path, answered_file, task, source, columns):
    import pyarrow.parquet as pq

    prepare_cli(tmp_path, answered_file, task, source, "rows.parquet")

    assert pq.read_schema(tmp_path / "rows.parquet").names == columns


def test_jsonl_and_parquet_inputs_give_the_same_rows(tmp_path):
    jsonl = write_records(tmp_path, DOLLY_RECORDS, "jsonl")
    parquet = write_records(tmp_path, DOLLY_RECORDS, "parquet")

    from_jsonl, _ = prepare_cli(tmp_path, jsonl, "rm", SEED_RM, "a.jsonl")
    from_parquet, _ = prepare_cli(tmp_path, parquet, "rm", SEED_RM, "b.jsonl")

    assert from_jsonl == from_parquet and len(from_jsonl) == 4


def test_the_summary_reports_layout_counts_and_drop_reasons(tmp_path, dolly_file):
    _, result = prepare_cli(tmp_path, dolly_file, "rm", SEED_RM)

    assert "layout: argilla-v1" in result.stderr
    assert "records read: 6" in result.stderr
    assert "rows written: 4" in result.stderr
    assert "records dropped: 3" in result.stderr
    assert "formatting function returned no rows" in result.stderr


# -- return values -------------------------------------------------------------------------------------------

def test_records_are_visited_in_dataset_order_and_ids_are_output_positions(tmp_path):
    records = [dolly_record(f"ext-{i}", f"q{i}", None, f"a{i}") for i in (3, 1, 2)]
    source = "def formatting_func(sample):\n    return sample['external_id']\n"

    rows, _ = prepare_in_process(tmp_path, records, "sft", source)

    assert rows == [{"id": 0, "text": "ext-3"}, {"id": 1, "text": "ext-1"}, {"id": 2, "text": "ext-2"}]


def test_none_drops_the_record_and_ids_stay_contiguous(tmp_path):
    source = ("def formatting_func(sample):\n"
              "    return None if sample['original-context'] is None else sample['external_id']\n")

    rows, summary = prepare_in_process(tmp_path, DOLLY_RECORDS, "sft", source)

    assert rows == [{"id": 0, "text": "dolly-0"}, {"id": 1, "text": "dolly-3"}, {"id": 2, "text": "dolly-4"},
                    {"id": 3, "text": "dolly-5"}]
    assert summary.dropped == {"formatting function returned None": 2}


def test_a_list_is_flattened_one_level_and_its_none_entries_dropped(tmp_path):
    source = "def formatting_func(sample):\n    e = sample['external_id']\n    return [e + '-a', None, e + '-b']\n"

    rows, summary = prepare_in_process(tmp_path, DOLLY_RECORDS[:2], "rl", source)

    assert rows == [{"id": 0, "prompt": "dolly-0-a"}, {"id": 1, "prompt": "dolly-0-b"},
                    {"id": 2, "prompt": "dolly-1-a"}, {"id": 3, "prompt": "dolly-1-b"}]
    assert summary.dropped == {}


def test_a_generator_is_flattened_like_a_list(tmp_path):
    source = ("def formatting_func(sample):\n"
              "    for r in sample['new-response']:\n"
              "        yield (r['value'], sample['original-response']) if r['status'] == 'submitted' else None\n")

    rows, _ = prepare_in_process(tmp_path, [DOLLY_RECORDS[3], DOLLY_RECORDS[4]], "rm", source)

    assert rows == [{"chosen": "Fast.", "rejected": "fast"}, {"chosen": "Rapid.", "rejected": "fast"}]


def test_an_empty_list_drops_the_record(tmp_path):
    source = "def formatting_func(sample):\n    return [] if sample['external_id'] == 'dolly-0' else 'kept'\n"

    rows, summary = prepare_in_process(tmp_path, DOLLY_RECORDS[:2], "sft", source)

    assert rows == [{"id": 0, "text": "kept"}]
    assert summary.dropped == {"formatting function returned no rows": 1}


def test_flattening_is_one_level_only(tmp_path):
    source = "def formatting_func(sample):\n    return ['a', ['b', 'c']]\n"

    with pytest.raises(FormattingError, match=r"returned list \['b', 'c'\].*record 0"):
        prepare_in_process(tmp_path, DOLLY_RECORDS[:1], "sft", source)


def test_a_tuple_is_one_row_for_pair_tasks(tmp_path):
    source = "def formatting_func(sample):\n    return ('good', 'bad')\n"

    rows, _ = prepare_in_process(tmp_path, DOLLY_RECORDS[:2], "rm", source)

    assert rows == [{"chosen": "good", "rejected": "bad"}] * 2


def test_a_list_of_tuples_gives_several_pairs(tmp_path):
    source = "def formatting_func(sample):\n    return [('good', 'bad'), None, ('better', 'worse')]\n"

    rows, _ = prepare_in_process(tmp_path, DOLLY_RECORDS[:1], "rm", source)

    assert rows == [{"chosen": "good", "rejected": "bad"}, {"chosen": "better", "rejected": "worse"}]


def test_ids_continue_across_write_batches(tmp_path):
    records = [{"text": f"t{i}"} for i in range(2500)]
    source = "def formatting_func(sample):\n    return [sample['text'], None]\n"

    rows, summary = prepare_in_process(tmp_path, records, "sft", source, "rows.parquet")

    assert [r["id"] for r in rows] == list(range(2500))
    assert rows[-1] == {"id": 2499, "text": "t2499"}
    assert (summary.records, summary.rows) == (2500, 2500)


def test_a_function_that_drops_every_record_is_an_error_and_writes_nothing(tmp_path):
    source = "def formatting_func(sample):\n    return None\n"

    with pytest.raises(FormattingError, match="all 6 records were dropped"):
        prepare_in_process(tmp_path, DOLLY_RECORDS, "sft", source)
    assert not (tmp_path / "rows.jsonl").exists()


def test_the_function_name_can_be_chosen(tmp_path):
    path = write_function(tmp_path, "def first(s):\n    return 'one'\n\ndef second(s):\n    return 'two'\n")
    dataset = write_records(tmp_path, DOLLY_RECORDS[:1])

    result = run_cli("prepare", "--dataset", dataset, "--task", "sft", "--formatting-func", path,
                     "--function", "second", "--output", tmp_path / "rows.jsonl")

    assert result.returncode == 0, result.stderr
    assert read_rows(tmp_path / "rows.jsonl") == [{"id": 0, "text": "two"}]


# -- datasets that need no function --------------------------------------------------------------------------

@pytest.mark.parametrize(("task", "records", "expected"), [
    ("sft", [{"text": "hello", "source": "x"}, {"text": "", "source": "y"}, {"text": "world", "source": "z"}],
     [{"id": 0, "text": "hello"}, {"id": 1, "text": "world"}]),
    ("sft", [{"prompt": "2+2=", "completion": "4"}], [{"id": 0, "prompt": "2+2=", "completion": "4"}]),
    ("sft", [{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}],
     [{"id": 0, "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}]),
    ("pretrain", [{"text": "plain prose"}], [{"id": 0, "text": "plain prose"}]),
    ("rm", [{"chosen": "good", "rejected": "bad"}], [{"chosen": "good", "rejected": "bad"}]),
    ("rm", [{"prompt": "p", "chosen": "good", "rejected": "bad"}],
     [{"prompt": "p", "chosen": "good", "rejected": "bad"}]),
    ("rl", [{"query": "Tell me a joke."}], [{"id": 0, "prompt": "Tell me a joke."}]),
    ("rl", [{"prompt": "p", "chosen": "good", "rejected": "bad"}], [{"id": 0, "prompt": "p"}]),
    ("dpo", [{"prompt": "p", "chosen": "good", "rejected": "bad"}],
     [{"prompt": "p", "chosen": "good", "rejected": "bad"}]),
], ids=["sft-text", "sft-prompt-completion", "sft-messages", "pretrain-text", "rm-chosen-rejected",
        "rm-prompt-chosen-rejected", "rl-query", "rl-prompt-chosen-rejected", "dpo-prompt-chosen-rejected"])
def test_plain_datasets_pass_through_without_a_function(tmp_path, fmt, task, records, expected):
    dataset = write_records(tmp_path, records, fmt)

    rows, result = prepare_cli(tmp_path, dataset, task)

    assert rows == expected
    assert "function: none (plain columns" in result.stderr


def test_a_dolly_style_dataset_without_a_function_uses_the_task_template(tmp_path, dolly_file):
    rows, result = prepare_cli(tmp_path, dolly_file, "sft")

    assert "function: the 'sft' template" in result.stderr
    # The template skips the unanswered and the discarded record, where the seed's `[0]` fails or takes it.
    assert [r["id"] for r in rows] == [0, 1, 2, 3]


def test_a_dataset_that_needs_a_function_says_so(tmp_path):
    dataset = write_records(tmp_path, [{"instruction": "i", "output": "o"}])

    result = run_cli("prepare", "--dataset", dataset, "--task", "sft", "--output", tmp_path / "rows.jsonl")

    assert result.returncode == 2
    assert "needs a formatting function" in result.stderr and "--formatting-func" in result.stderr


# -- a record without a column the function reads -------------------------------------------------------------

def without(record: dict, column: str) -> dict:
    return {k: v for k, v in record.items() if k != column}


def test_a_record_lacking_a_column_the_others_have_is_named_with_its_line(tmp_path):
    records = [ANSWERED] * 5 + [without(ANSWERED, "new-response")] * 5  # lines 6-10 lack it
    dataset = write_records(tmp_path, records)

    with pytest.raises(FormattingError) as raised:
        prepare_to_files(str(dataset), "sft", tmp_path / "rows.jsonl")

    assert str(raised.value).startswith(
        "Record 5 (line 6, external_id 'dolly-0') has no column 'new-response', which the other records have: the "
        "'sft' template raised KeyError: 'new-response' at sft_template.py, line ")
    assert "drop such records in the function (return None when 'new-response' is missing)" in str(raised.value)


def test_a_column_no_record_has_is_called_a_name_to_check(tmp_path):
    dataset = write_records(tmp_path, [{"text": "a"}, {"text": "b"}])

    with pytest.raises(FormattingError, match=r"raised KeyError: 'txt' on record 0 \(line 1\) at formatting_func\.py, "
                                              r"line 2: `return sample\['txt'\]`: the dataset has no column 'txt' "
                                              r"\(its columns: text\)\. Check the name\."):
        prepare_to_files(str(dataset), "sft", tmp_path / "rows.jsonl",
                         formatting_func="def formatting_func(sample):\n    return sample['txt']\n")


# -- rows that will not train as meant ----------------------------------------------------------------------------

def test_pairs_with_the_same_text_on_both_sides_are_counted_in_a_warning(tmp_path):
    records = [{"text": "same"}, {"text": "same"}, {"text": "other"}]
    source = ("def formatting_func(sample):\n"
              "    return (sample['text'], sample['text'] if sample['text'] == 'same' else 'different')\n")

    _, summary = prepare_in_process(tmp_path, records, "rm", source)

    assert summary.warnings == ["2 of 3 rows have the same text as chosen and rejected; such a pair teaches nothing "
                                "(no text can be preferred over itself). Check that the function returns two "
                                "different texts, the preferred one first."]
    assert "warning: 2 of 3 rows have the same text as chosen and rejected" in "\n".join(summary.lines())


def test_distinct_pairs_give_no_warning(tmp_path):
    _, summary = prepare_in_process(tmp_path, [{"text": "a"}], "rm",
                                    "def formatting_func(sample):\n    return ('good', 'bad')\n")

    assert summary.warnings == []
