"""rlhf.services.preview without Gradio or visitors: prepared rows, counts and drops, token statistics."""

from __future__ import annotations

from rlhf.services import preview
from rlhf.services.inference import Inference


def test_prepared_rows_come_with_counts_and_the_rows_to_show(rlhf_cache):
    prepared = preview.prepare("sample", "sft", train_size=1.0, rows=2)

    assert prepared.result["records"] >= prepared.result["rows"] == len(prepared.train) > 2
    assert len(prepared.result["sample_rows"]) == 2 and prepared.result["columns"] == prepared.train.column_names
    assert isinstance(prepared.result["dropped"], dict)


def test_without_a_tokenizer_the_token_lengths_are_a_note(tmp_path):
    import datasets

    rows = datasets.Dataset.from_dict({"text": ["a b"]})

    result = preview.token_lengths(Inference(), str(tmp_path / "no-model"), rows, "sft", "mine")

    assert result["model"] == "mine" and "No tokenizer for 'mine'" in result["note"]
