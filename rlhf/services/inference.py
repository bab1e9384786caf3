"""Inference for the app: generation, reward scoring and token counts over model paths, with the caches that
keep loaded tokenizers and reward models between requests. No Gradio, no visitors: callers pass resolved model
paths (see :meth:`rlhf.ui.api.Api.model_path`) and get plain values back.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Iterator

from rlhf.errors import ConfigError
from rlhf.formatting.templates import fill_template

PROMPT_FORMATS = ("template", "chat", "raw")
TOKENIZERS_KEPT = 4
SCORERS_KEPT = 2

_LIBRARIES_LOCK = threading.Lock()
_libraries_ready = False


def model_libraries() -> None:
    """Import ``transformers`` and ``datasets`` to the end, once, before a request uses either.

    While transformers is first imported (seconds; its ``processing_utils`` even runs its ``__init__`` a second
    time), other threads can be handed a half-built module: ``from transformers import AutoTokenizer`` fails
    with ImportError, and datasets' fingerprinting, which looks up ``transformers.PreTrainedTokenizerBase``
    whenever transformers is in ``sys.modules``, with AttributeError. So the first requests that need them (a
    preview, a chat, a score, a Hub dataset) import them here, one thread at a time, and the others wait.
    """
    global _libraries_ready
    if _libraries_ready:
        return
    with _LIBRARIES_LOCK:
        if not _libraries_ready:
            import datasets  # noqa: F401
            import transformers
            import transformers.processing_utils  # noqa: F401 (what the first tokenizer load imports)

            transformers.PreTrainedTokenizerBase  # noqa: B018 (the lazy attribute datasets looks up)
            _libraries_ready = True


def quiet_loading() -> None:
    """Weight-loading progress bars would fill the server log on every model load."""
    try:
        import transformers

        transformers.utils.logging.disable_progress_bar()
    except Exception:
        pass


def prompt_for(message: str, context: str = "", history: list[dict] | None = None,
               prompt_format: str = "template"):
    """What the model is given: the instruction template (as the runs were trained), a chat, or raw text."""
    message = message or ""
    if prompt_format == "chat":
        turns = [{"role": m["role"], "content": str(m["content"])} for m in (history or [])
                 if isinstance(m, dict) and m.get("role") in ("user", "assistant", "system")
                 and isinstance(m.get("content"), str)]
        return turns + [{"role": "user", "content": message}]
    if prompt_format == "raw":
        return message
    if prompt_format != "template":
        raise ConfigError(f"prompt_format: choose one of {', '.join(PROMPT_FORMATS)}.")
    return fill_template(message, context, "").rstrip()


def token_sequences(sequences: tuple[tuple[str, ...], ...], columns: list[str]) -> dict[str, tuple[str, ...]]:
    """The texts one row trains on (the task's ``sequences``), named by their last column ("chosen" for DPO's
    prompt + chosen), limited to the columns present; else the first text-like column there is."""
    out = {seq[-1]: seq for seq in sequences if seq and all(c in columns for c in seq)}
    if not out:
        out = {c: (c,) for c in ("text", "prompt", "messages") if c in columns}
        out = dict(list(out.items())[:1])
    return out


def stats(values: list[int]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    return {"count": len(values), "min": ordered[0], "mean": round(sum(values) / len(values), 1),
            "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], "max": ordered[-1]}


def model_max_length(tokenizer) -> int | None:
    value = getattr(tokenizer, "model_max_length", None)
    return int(value) if value and value < 1e9 else None


class Inference:
    """Generation, scoring and token counts; thread-safe, one instance per app."""

    def __init__(self) -> None:
        self._scorers: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self._tokenizers: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()  # short critical sections only (caches)
        self._load_lock = threading.Lock()  # one reward-model load at a time

    def tokenizer(self, path: str):
        from rlhf.tasks.models import load_tokenizer, resolve_model_path

        resolved = resolve_model_path(path, "model")
        with self._lock:
            if resolved in self._tokenizers:
                self._tokenizers.move_to_end(resolved)
                return self._tokenizers[resolved]
        model_libraries()
        tokenizer = load_tokenizer(resolved)
        with self._lock:
            self._tokenizers[resolved] = tokenizer
            while len(self._tokenizers) > TOKENIZERS_KEPT:
                self._tokenizers.popitem(last=False)
        return tokenizer

    def token_lengths(self, path: str, rows, sequences: tuple[tuple[str, ...], ...]) -> dict[str, Any]:
        """Token counts of the training text(s) of each row (a ``datasets.Dataset``) under ``path``'s tokenizer:
        ``{"max_length", "lengths": {name: [n, …]}, "stats": {name: {min, mean, p95, max}}}``."""
        tokenizer = self.tokenizer(path)
        series: dict[str, list[int]] = {}
        for name, columns in token_sequences(sequences, rows.column_names).items():
            parts = [rows[c] for c in columns]
            texts = ["".join(p if isinstance(p, str) else str(p) for p in row) for row in zip(*parts)]
            series[name] = [len(ids) for ids in tokenizer(texts, add_special_tokens=True)["input_ids"]]
        return {"max_length": model_max_length(tokenizer), "lengths": series,
                "stats": {c: stats(v) for c, v in series.items()}}

    def generate(self, path: str, prompt, prompt_format: str = "template", max_new_tokens: int = 64,
                 temperature: float = 0.7, top_p: float = 0.95, top_k: int = 0, repetition_penalty: float = 1.0,
                 seed: int | None = None) -> Iterator[str]:
        """The reply so far, growing as tokens arrive, as :func:`rlhf.inference.generation.stream_reply` gives it
        (what ``rlhf generate`` prints for the same settings)."""
        from rlhf.inference.generation import stream_reply

        model_libraries()
        quiet_loading()
        yield from stream_reply(path, prompt, prompt_format, max_new_tokens=int(max_new_tokens),
                                temperature=float(temperature), top_p=float(top_p), top_k=int(top_k),
                                repetition_penalty=float(repetition_penalty),
                                seed=None if seed in (None, "", -1) else int(seed))

    def score(self, path: str, texts: list[str], prompt: str = "", context: str = "") -> list[float]:
        """One reward per text; with ``prompt``, each text is a response formatted as the reward model's training
        pairs were (:func:`rlhf.inference.scoring.reward_texts`)."""
        from rlhf.inference.scoring import reward_texts

        return [round(float(s), 6) for s in self.scorer(path).score(reward_texts(texts, prompt, context))]

    def scorer(self, ref: str):
        from rlhf.inference.loading import _files_mtime
        from rlhf.inference.scoring import RewardScorer
        from rlhf.tasks.models import resolve_model_path

        path = resolve_model_path(ref, "reward model")
        key = (path, _files_mtime(path))
        model_libraries()
        quiet_loading()
        with self._load_lock:
            with self._lock:
                if key in self._scorers:
                    self._scorers.move_to_end(key)
                    return self._scorers[key]
            scorer = RewardScorer(path)
            with self._lock:
                self._scorers[key] = scorer
                while len(self._scorers) > SCORERS_KEPT:
                    self._scorers.popitem(last=False)
            return scorer
