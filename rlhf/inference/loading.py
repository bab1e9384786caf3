"""Load a causal LM for generation: ``starter``, a Hub id, a local model folder or a finished run.

The app's chat calls this once per message, so loaded models are kept in a small LRU cache (two entries: the
model being chatted with and one to compare it to). The key is the resolved path plus the newest modification
time of the files in it, so re-training into the same run folder loads the new weights instead of serving stale
ones.

A LoRA run's ``final/`` holds an adapter: it is merged into its base on load (``merge_and_unload``). The merged
model generates exactly what the un-merged one does, without PEFT's per-layer indirection on every token, and
the rest of the code sees one plain transformers model whatever the run was.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlhf.errors import ConfigError

CACHE_SIZE = 2


@dataclass(frozen=True)
class LoadedModel:
    """A model ready for ``generate``: weights in eval mode on ``device``, and its tokenizer (pad set)."""

    path: str
    model: Any
    tokenizer: Any
    device: str
    from_adapter: bool


_cache: "OrderedDict[tuple[str, int], LoadedModel]" = OrderedDict()
_lock = threading.Lock()


def load_for_generation(model_ref: str) -> LoadedModel:
    """The model behind ``model_ref``, from the cache when its files have not changed since it was loaded."""
    from rlhf.tasks.models import resolve_model_path

    path = resolve_model_path(str(model_ref), "model")
    key = (path, _files_mtime(path))
    with _lock:  # one load at a time: two chat messages for a new model must not load it twice
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        for stale in [k for k in _cache if k[0] == path]:  # older weights of the same folder
            del _cache[stale]
        loaded = _load(path)
        _cache[key] = loaded
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return loaded


def clear_cache() -> None:
    """Forget every loaded model (tests, or the app freeing memory before a training run)."""
    with _lock:
        _cache.clear()


def cached_paths() -> list[str]:
    """Resolved paths currently cached, least recently used first."""
    with _lock:
        return [path for path, _ in _cache]


def _files_mtime(path: str) -> int:
    """Newest mtime among the folder's files (0 for a Hub id): changes whenever a run rewrites ``final/``."""
    folder = Path(path)
    if not folder.is_dir():
        return 0
    return max((p.stat().st_mtime_ns for p in folder.iterdir() if p.is_file()), default=0)


def _load(path: str) -> LoadedModel:
    import torch

    from rlhf.tasks.models import adapter_base, load_causal_lm, load_tokenizer

    _refuse_reward_model(path)
    try:
        tokenizer = load_tokenizer(path)
        model = load_causal_lm(path)
    except (OSError, ValueError, KeyError) as error:
        raise ConfigError(f"model: cannot load {path} as a causal language model ({error}).") from None
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device).eval()
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return LoadedModel(path=path, model=model, tokenizer=tokenizer, device=device,
                       from_adapter=adapter_base(path) is not None)


def _refuse_reward_model(path: str) -> None:
    """A reward model would load as a language model with a random head and babble; say what to do instead."""
    folder = Path(path)
    adapter = folder / "adapter_config.json"
    if adapter.exists():
        is_classifier = json.loads(adapter.read_text()).get("task_type") == "SEQ_CLS"
    elif (folder / "config.json").exists():
        architectures = json.loads((folder / "config.json").read_text()).get("architectures") or []
        is_classifier = bool(architectures) and all(a.endswith("ForSequenceClassification") for a in architectures)
    else:
        return
    if is_classifier:
        raise ConfigError(f"model: {path} is a reward model (a sequence classifier), not a language model; it "
                          "scores texts (`python -m rlhf score`) but cannot generate.")
