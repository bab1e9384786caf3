"""Model, tokenizer and reward-pipeline objects given to ``ArgillaTrainer``, saved where a run can load them.

A run trains in its own process, which cannot receive Python objects: Argilla 1.x scripts that pass
``model=AutoModelForCausalLM.from_pretrained(…)``, ``tokenizer=…`` or a PPO ``reward_model=pipeline(…)`` get them
saved with ``save_pretrained`` into a folder under ``RLHF_DATA_DIR/compat-inputs/`` (named by time and kind), and
the run is given that folder, as if its path had been passed; the run's log says so.

A reward classifier with several labels (a ``pipeline("sentiment-analysis", …)``, as Argilla's PPO examples
used) is rewarded as Argilla's PPO loop did: the score of the positive, last label (``output[1]["score"]`` with
``function_to_apply="none"``: the raw logit). It is saved as a single-output classifier whose one logit is that
label's, so every rlhf reward path (PPO, GRPO, RLOO, the exported script) reads the same number.
"""

from __future__ import annotations

import copy
import secrets
import time
from pathlib import Path
from typing import Any

from rlhf.compat.arguments import CompatArgumentError


def is_model_object(value: Any) -> bool:
    return hasattr(value, "save_pretrained") and hasattr(value, "config")


def is_tokenizer_object(value: Any) -> bool:
    return hasattr(value, "save_pretrained") and hasattr(value, "convert_tokens_to_ids")


def inputs_folder(kind: str) -> Path:
    from rlhf.paths import data_dir

    folder = data_dir() / "compat-inputs" / f"{time.strftime('%Y%m%d-%H%M%S')}-{kind}-{secrets.token_hex(2)}"
    folder.mkdir(parents=True)
    return folder


def base_model(model: Any) -> Any:
    """TRL 0.x's value-head wrapper (``AutoModelForCausalLMWithValueHead``) saves through its ``pretrained_model``;
    rlhf's PPO adds its own value head."""
    inner = getattr(model, "pretrained_model", None)
    return inner if is_model_object(inner) else model


def save_model(model: Any, tokenizer: Any, model_ref: str | None, single_output: bool = False) -> Path:
    """The model (an object, or ``model_ref``: a name or path) with the tokenizer object beside it: one folder.
    ``single_output`` (reward modelling): a classifier with several labels is saved with one output, its last
    label's (``AutoModelForSequenceClassification.from_pretrained`` gives two labels unless told otherwise)."""
    folder = inputs_folder("model")
    if model is not None:
        model = base_model(model)
        several = int(getattr(model.config, "num_labels", 1) or 1) > 1
        classifier = type(model).__name__.endswith("ForSequenceClassification")
        (single_score(model) if single_output and classifier and several else model).save_pretrained(folder)
        if tokenizer is None:
            tokenizer = _tokenizer_of(model, "model")
    else:
        from rlhf.tasks.models import resolve_model_path

        source = Path(resolve_model_path(model_ref, "model"))
        for item in source.iterdir():  # the weights linked, not copied; the tokenizer object replaces theirs
            if item.is_file() and not item.name.startswith(("tokenizer", "special_tokens", "vocab", "merges")):
                (folder / item.name).symlink_to(item.resolve())
    tokenizer.save_pretrained(folder)
    return folder


def _tokenizer_of(model: Any, what: str):
    from transformers import AutoTokenizer

    name = getattr(model, "name_or_path", None) or getattr(getattr(model, "config", None), "_name_or_path", None)
    try:
        return AutoTokenizer.from_pretrained(name)
    except Exception:
        raise CompatArgumentError(
            f"ArgillaTrainer: the {what} object's tokenizer cannot be found (its name_or_path is {name!r}); pass "
            "tokenizer=… too.") from None


def reward_model_folder(value: Any) -> Path:
    """A pipeline or a classifier object → a folder holding a single-score classifier and its tokenizer."""
    model = getattr(value, "model", None) if not is_model_object(value) else value
    if not is_model_object(model):
        raise CompatArgumentError(f"update_config: reward_model must be a path, a Hub id, a transformers pipeline "
                                  f"or a sequence classifier, got {type(value).__name__}.")
    tokenizer = getattr(value, "tokenizer", None) or _tokenizer_of(model, "reward model")
    labels = int(getattr(model.config, "num_labels", 1) or 1)
    folder = inputs_folder("reward-model")
    (single_score(model) if labels > 1 else model).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def single_score(model: Any) -> Any:
    """A copy of a several-label classifier whose one output is the last label's logit."""
    import torch

    labels = model.config.num_labels
    clone = copy.deepcopy(model)
    heads = [(name, module) for name, module in clone.named_modules()
             if isinstance(module, torch.nn.Linear) and module.out_features == labels]
    if not heads:
        raise CompatArgumentError(f"update_config: reward_model {type(model).__name__} has {labels} labels but no "
                                  "linear output layer of that size, so its last label's score cannot be read.")
    name, head = heads[-1]
    single = torch.nn.Linear(head.in_features, 1, bias=head.bias is not None, dtype=head.weight.dtype)
    with torch.no_grad():
        single.weight.copy_(head.weight[-1:])
        if head.bias is not None:
            single.bias.copy_(head.bias[-1:])
    parent_name, _, attr = name.rpartition(".")
    setattr(clone.get_submodule(parent_name) if parent_name else clone, attr, single)
    last = clone.config.id2label.get(labels - 1, f"LABEL_{labels - 1}")
    clone.config.num_labels = 1
    clone.config.id2label, clone.config.label2id = {0: last}, {last: 0}
    if hasattr(clone, "num_labels"):
        clone.num_labels = 1
    return clone
