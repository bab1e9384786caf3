"""The preview: a task's prepared rows over a whole dataset (through the sandbox, cached by
:func:`rlhf.prepare_rows.prepare_dataset`), their counts and drop reasons, the train/test split, and token
statistics under a model's tokenizer. No Gradio, no visitors: callers pass a resolved dataset path, the
formatting function as a :class:`rlhf.formatting.user_code.UserCode` (or None) and resolved model paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from rlhf.services.inference import Inference, model_libraries
from rlhf.services.messages import error_message


@dataclass
class Prepared:
    """A preview's plain answer (``result``) and the train split itself (``train``, a ``datasets.Dataset``)."""

    result: dict[str, Any]
    train: Any


def prepare(dataset_path: str, task: str, formatting_func=None, split: str = "train", config: str = "",
            train_size: float = 0.8, seed: int = 42, limits=None, rows: int = 20,
            progress: Callable[[int, int], None] | None = None) -> Prepared:
    """Prepare the rows for ``task``, split them, and keep the first ``rows`` of the train split to show."""
    from rlhf.prepare_rows import prepare_dataset

    model_libraries()
    prepared, summary = prepare_dataset(
        dataset_path, task, formatting_func=formatting_func, split=split or "train",
        dataset_config=config or None, train_size=float(train_size), seed=int(seed), limits=limits,
        progress=progress)
    train = prepared["train"] if hasattr(prepared, "keys") else prepared
    shown = train.select(range(min(int(rows), len(train)))).to_list()
    return Prepared({
        "task": task, "layout": summary.layout, "function": summary.function, "records": summary.records,
        "rows": summary.rows, "dropped": summary.dropped, "warnings": summary.warnings,
        "splits": summary.splits or {"train": summary.rows}, "columns": train.column_names,
        "sample_rows": shown,
    }, train)


def token_lengths(inference: Inference, model_path: str, rows, task: str, model: str | None = None) -> dict[str, Any]:
    """Token counts of the training text(s) of each row under ``model_path``'s tokenizer, named ``model`` (the
    reference as given); a note instead when there is no tokenizer (an offline Hub id, a folder without one)."""
    from rlhf.tasks.registry import spec

    model = model if model is not None else model_path
    try:
        lengths = inference.token_lengths(model_path, rows, spec(task).sequences)
    except Exception as error:
        return {"model": model, "note": f"No tokenizer for '{model}': {error_message(error)}"}
    return {"model": model, **lengths}
