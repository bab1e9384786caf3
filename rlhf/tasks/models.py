"""Resolve a model reference and load it: ``starter``, a Hub id, a local folder, or a finished run.

A finished run's ``final/`` may hold a LoRA adapter; it is merged into its base on load so the next stage (RM on
an SFT model, RL on an SFT model) starts from the tuned weights with plain transformers objects.
"""

from __future__ import annotations

import json
from pathlib import Path

from rlhf.errors import ConfigError


def resolve_model_path(model: str, field: str = "model") -> str:
    """A path ``from_pretrained`` accepts, or a ConfigError naming ``field``."""
    from rlhf.data.sources import HUB_ID, hub_reachable
    from rlhf.starter import is_starter, resolve_model

    if is_starter(model):
        return resolve_model(model)
    path = Path(model).expanduser()
    if path.is_dir():
        for candidate in (path / "final", path):
            if (candidate / "config.json").exists() or (candidate / "adapter_config.json").exists():
                return str(candidate.resolve())
        raise ConfigError(f"{field}: {model} is a folder without a model (no config.json or adapter_config.json); "
                          "for a run, it has no final/ model yet.")
    if HUB_ID.match(model) or "/" not in model:
        if _in_hub_cache(model) or hub_reachable():
            return model
        raise ConfigError(f"{field}: '{model}' is not a local folder and the Hugging Face Hub is unreachable, so it "
                          "cannot be downloaded. Use 'starter', a finished run, or a local model folder.")
    raise ConfigError(f"{field}: {model} does not exist.")


def check_models(model: str, reward_models: list[str] = ()) -> None:
    """Before a run is queued: its model can be found and its reward models are reward models, so a typo fails
    in the form, not a minute later in the trainer. The starter is built on demand, so it is not loaded here."""
    from rlhf.starter import is_starter

    if not is_starter(model):
        resolve_model_path(model, "model")
    for reward in reward_models:
        if is_starter(reward):
            raise ConfigError("reward_models: 'starter' is a causal language model, not a reward model. Train "
                              "one with an 'rm' run and pick that run.")
        check_is_reward_model(resolve_model_path(reward, "reward_models"))


def _in_hub_cache(model: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(model, "config.json"), str)
    except Exception:
        return False


def adapter_base(path: str) -> str | None:
    config = Path(path) / "adapter_config.json"
    if not config.exists():
        return None
    return json.loads(config.read_text())["base_model_name_or_path"]


def load_tokenizer(path: str):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_causal_lm(path: str, dtype=None, from_scratch: bool = False, **kwargs):
    """A causal LM; adapters are merged into their base; ``from_scratch`` keeps only the architecture."""
    from transformers import AutoConfig, AutoModelForCausalLM

    base = adapter_base(path)
    if base is not None:
        from peft import AutoPeftModelForCausalLM

        return AutoPeftModelForCausalLM.from_pretrained(path, dtype=dtype, **kwargs).merge_and_unload()
    if from_scratch:
        return AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(path), dtype=dtype, **kwargs)
    return AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **kwargs)


def load_reward_model(path: str, dtype=None, field: str = "model", **kwargs):
    """A single-score sequence classifier: a trained RM as is, or a fresh head on a causal/encoder base;
    ``kwargs`` (the plan's attention kernel, QLoRA's 4-bit config) go to ``from_pretrained``."""
    from transformers import AutoModelForSequenceClassification

    base = adapter_base(path)
    if base is not None:
        from peft import AutoPeftModelForSequenceClassification

        model = AutoPeftModelForSequenceClassification.from_pretrained(path, num_labels=1, dtype=dtype, **kwargs)
        model = model.merge_and_unload()
    else:
        try:
            model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, dtype=dtype, **kwargs)
        except (ValueError, KeyError, OSError) as error:
            raise ConfigError(f"{field}: {path} cannot be loaded as a sequence classifier ({error}).") from None
    return model


def check_is_reward_model(path: str, field: str = "reward_models") -> None:
    """RL rewards come from trained classifiers with one score; a plain LM would give noise."""
    from transformers import AutoConfig

    adapter = Path(path) / "adapter_config.json"
    if adapter.exists():
        task_type = json.loads(adapter.read_text()).get("task_type")
        if task_type != "SEQ_CLS":
            raise ConfigError(f"{field}: {path} is a LoRA adapter for {task_type}, not a reward model (SEQ_CLS).")
        return
    try:
        config = AutoConfig.from_pretrained(path)
    except (OSError, ValueError) as error:
        raise ConfigError(f"{field}: {path} has no readable model config ({error}).") from None
    architectures = getattr(config, "architectures", None) or []
    if not any(a.endswith("ForSequenceClassification") for a in architectures) or config.num_labels != 1:
        raise ConfigError(
            f"{field}: {path} is not a reward model (architectures: {', '.join(architectures) or 'unknown'}; "
            f"labels: {config.num_labels}). Train one with an 'rm' run, or pass a sequence classifier with a "
            "single output."
        )
