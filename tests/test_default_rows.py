"""Without a function, each task's rows follow the dataset's layout: plain columns where the dataset already has
the task's columns, else the template written for this kind of dataset (dolly-style Argilla fields, preference
pairs), else a message that a function is needed. The engine decides (:func:`rlhf.formatting.plan.default_rows`,
used by ``python -m rlhf prepare`` without ``--formatting-func``); the Format tab only says which is used.
"""

from __future__ import annotations

import json

import pytest

from conftest import DOLLY_RECORDS, read_rows, run_cli, write_jsonl
from rlhf.data.layouts import detect_layout
from rlhf.data.sources import SAMPLE_FILE
from rlhf.formatting.plan import DefaultRows, RowsSource, default_rows
from rlhf.formatting.templates import template_code, template_source
from rlhf.tasks.registry import spec, task_names

PAIRS_CSV = ('prompt,chosen,rejected\n'
             '"Q: Is a toad a frog? A:", Yes., No.\n'
             '"Q: Name a planet. A:", Mars., A star.\n')


def write_pairs_csv(folder):
    path = folder / "pairs.csv"
    path.write_text(PAIRS_CSV, encoding="utf-8")
    return path


def layout_of(path):
    from rlhf.data.sources import resolve_source

    return resolve_source(str(path)).layout()


def test_a_prompt_chosen_rejected_csv_prepares_sft_rows_of_prompt_and_chosen_with_no_user_code(tmp_path):
    dataset = write_pairs_csv(tmp_path)

    result = run_cli("prepare", "--dataset", dataset, "--task", "sft", "--output", tmp_path / "rows.jsonl")

    assert result.returncode == 0, result.stderr
    assert "function: the 'text_from_pairs' template" in result.stderr
    assert read_rows(tmp_path / "rows.jsonl") == [{"id": 0, "text": "Q: Is a toad a frog? A: Yes."},
                                                  {"id": 1, "text": "Q: Name a planet. A: Mars."}]


def test_kto_from_preference_pairs_labels_the_chosen_reply_desirable_and_the_rejected_not(tmp_path):
    from rlhf.prepare_rows import prepare_to_files

    summary = prepare_to_files(str(write_pairs_csv(tmp_path)), "kto", tmp_path / "rows.jsonl")

    assert summary.function == "the 'kto_from_pairs' template"
    assert read_rows(tmp_path / "rows.jsonl")[:2] == [
        {"prompt": "Q: Is a toad a frog? A:", "completion": " Yes.", "label": True},
        {"prompt": "Q: Is a toad a frog? A:", "completion": " No.", "label": False}]


def test_sft_on_kto_rows_trains_on_the_desirable_completions_only(tmp_path):
    from rlhf.prepare_rows import prepare_to_files

    dataset = write_jsonl(tmp_path / "kto.jsonl", [
        {"prompt": "Q: Is a toad a frog? A:", "completion": " Yes.", "label": True},
        {"prompt": "Q: Is a toad a frog? A:", "completion": " No.", "label": False}])

    summary = prepare_to_files(str(dataset), "sft", tmp_path / "rows.jsonl")

    assert summary.function == "the 'text_from_labels' template"  # not the plain prompt/completion columns
    assert read_rows(tmp_path / "rows.jsonl") == [{"id": 0, "text": "Q: Is a toad a frog? A: Yes."}]


def test_sft_on_pairs_without_a_prompt_trains_on_the_chosen_text(tmp_path):
    from rlhf.prepare_rows import prepare_to_files

    dataset = write_jsonl(tmp_path / "hh.jsonl", [{"chosen": "Human: Hi. Assistant: Hello!",
                                                  "rejected": "Human: Hi. Assistant: Go away."}])

    prepare_to_files(str(dataset), "sft", tmp_path / "rows.jsonl")

    assert read_rows(tmp_path / "rows.jsonl") == [{"id": 0, "text": "Human: Hi. Assistant: Hello!"}]


def test_on_preference_pairs_every_task_has_plain_columns_or_a_template(tmp_path):
    layout = layout_of(write_pairs_csv(tmp_path))

    chosen = {name: default_rows(layout, spec(name).rows) for name in task_names()}

    assert not [name for name, d in chosen.items() if d.needs_function]
    assert chosen["sft"] == DefaultRows(template="text_from_pairs")
    assert chosen["dpo"] == DefaultRows(plain_columns=("prompt", "chosen", "rejected"))


def test_a_dolly_style_file_gets_the_dolly_template_for_every_task(tmp_path):
    layout = layout_of(write_jsonl(tmp_path / "dolly.jsonl", DOLLY_RECORDS))

    for name in task_names():
        assert default_rows(layout, spec(name).rows) == DefaultRows(template=spec(name).rows.template), name


def test_dpo_on_dolly_style_data_trains_on_the_very_text_sft_trains_on():
    """The dolly templates share one prompt template: DPO's prompt + chosen is SFT's text, RM's chosen is it too,
    and RL's prompt is SFT's text up to the response."""
    sft, dpo, rm, rl = (template_code(name).load() for name in ("sft", "dpo", "rm", "rl"))
    records = [json.loads(line) for line in SAMPLE_FILE.read_text(encoding="utf-8").splitlines()]
    compared = 0
    for record in records:
        text, pairs = sft(record), list(dpo(record))
        if text is None or not pairs:
            continue
        prompt, chosen, _ = pairs[0]
        assert prompt + chosen == text == next(rm(record))[0]
        assert text.startswith(next(rl(record)))
        compared += 1
    assert compared >= 200


def test_columns_no_template_reads_need_a_function():
    layout = detect_layout(["instruction", "output"])

    assert default_rows(layout, spec("sft").rows).needs_function


@pytest.mark.parametrize(("code", "used"), [
    ("", RowsSource.TEMPLATE),
    (template_source("text_from_pairs") + "\n", RowsSource.TEMPLATE),
    ("def formatting_func(sample):\n    return sample['chosen']\n", RowsSource.FUNCTION),
], ids=["empty", "the-template-unchanged", "edited"])
def test_which_makes_the_rows_follows_the_editor(code, used):
    assert DefaultRows(template="text_from_pairs").used_with(code) is used


def test_an_empty_editor_uses_the_plain_columns_where_they_fit():
    assert DefaultRows(plain_columns=("prompt",)).used_with("") is RowsSource.PLAIN


# -- what the app shows ------------------------------------------------------------------------------------------

@pytest.fixture
def pairs_info(tmp_path):
    from rlhf.data.sources import resolve_source
    from rlhf.services.datasets import describe_source

    path = write_pairs_csv(tmp_path)
    return describe_source(resolve_source(str(path)), str(path))


def test_the_sft_editor_starts_from_the_pairs_template_on_a_preference_csv(pairs_info):
    from rlhf.ui import tasks

    assert tasks.template("sft", pairs_info) == "text_from_pairs"
    assert tasks.template("sft", None) == "sft"
    assert pairs_info["needs_function"] == []


@pytest.mark.parametrize(("task", "code", "says"), [
    ("sft", None, "Used for training: the template `text_from_pairs`** (as the editor shows it): Training text "
                  "from preference pairs"),
    ("sft", "def formatting_func(sample):\n    return 'x'\n",
     "Used for training: your function** (the editor). Reset or clear the editor to use the 'text_from_pairs' "
     "template."),
    ("rm", "", "Used for training: the dataset's plain columns** (`prompt`, `chosen`, `rejected` as they are"),
], ids=["template", "your-function", "plain-columns"])
def test_the_format_tab_says_which_makes_the_rows(pairs_info, task, code, says):
    from rlhf.ui.tasks import rows_note

    if code is None:
        code = template_source("text_from_pairs")
    assert says in rows_note(task, pairs_info, code)


def test_the_format_tab_says_when_the_dataset_needs_a_function():
    from rlhf.ui.tasks import rows_note

    info = {"columns": ["instruction", "output"], "fields": [], "defaults": {"sft": DefaultRows().to_dict()}}

    assert ("This dataset needs your function for this task:** no template reads its columns (`instruction`, "
            "`output`)") in rows_note("sft", info, "")


def test_a_visitor_who_may_not_run_code_may_still_run_the_template_picked_for_the_dataset(tmp_path, rlhf_cache):
    from rlhf.ui.api import Api, Caller
    from rlhf.ui.settings import AppSettings

    api = Api(AppSettings(host="0.0.0.0", runs_dir=tmp_path / "runs"))
    visitor = Caller("browser:abc", may_run_code=False)
    info = {"defaults": {"sft": DefaultRows(template="text_from_pairs").to_dict()}}

    code = api.user_code(api.default_code("sft", info), "sft", visitor)

    assert code is not None and code.source.strip() == template_source("text_from_pairs").strip()
