"""TRLX's reward-function calling convention, run inside the run's sandboxed reward process.

TRLX called ``reward_fn(samples=…, prompts=…, outputs=…, tokenizer=…)`` on a batch, with ``samples`` the prompt
and output joined, and took one score per sample (a list, a tensor or an array). rlhf's reward worker calls
TRL's ``f(completions, prompts=…)``; :func:`call_trlx_reward` bridges the two and, when the user's function
raises or returns the wrong number of scores, calls it again one sample at a time to name the sample at fault.

Importing this module is light (the sandbox imports it): transformers loads only if the function uses the
tokenizer, and models behind pipelines rebuild from their folders (:func:`rebuild_pipeline`, …).
"""

from __future__ import annotations

from typing import Any, Callable

SHOWN_CHARS = 200


class LazyTokenizer:
    """The run's tokenizer, loaded on first use: TRLX passed ``tokenizer=`` and most functions never read it."""

    def __init__(self, path: str | None):
        self._path, self._tokenizer = path, None

    def _load(self):
        if self._tokenizer is None:
            if not self._path:
                raise RuntimeError("reward_fn used `tokenizer`, but the run's model folder is unknown")
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self._path)
        return self._tokenizer

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._load(), name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._load()(*args, **kwargs)


def call_trlx_reward(fn: Callable, prompts: list[str] | None, completions: list[str], tokenizer_path: str | None,
                     extra: dict[str, Any] | None = None, hidden_prompt: str | None = None) -> list[float]:
    """One score per completion from a TRLX ``reward_fn``; errors name the sample (see the module docstring).
    A prompt equal to ``hidden_prompt`` (TRLX's default, the BOS token) is given as ``""``, as TRLX decoded it."""
    prompts = list(prompts) if prompts is not None else [""] * len(completions)
    prompts = ["" if hidden_prompt is not None and p == hidden_prompt else p for p in prompts]
    tokenizer = LazyTokenizer(tokenizer_path)

    def scores_of(indices: list[int]) -> list[float]:
        batch_prompts = [prompts[i] for i in indices]
        outputs = [completions[i] for i in indices]
        samples = [p + o for p, o in zip(batch_prompts, outputs)]
        return _as_scores(fn(samples=samples, prompts=batch_prompts, outputs=outputs, tokenizer=tokenizer,
                             **(extra or {})))

    everything = list(range(len(completions)))
    try:
        scores = scores_of(everything)
    except Exception as error:
        raise _blame(scores_of, everything, prompts, completions,
                     f"raised {type(error).__name__}: {error}") from error
    if len(scores) != len(completions):
        raise _blame(scores_of, everything, prompts, completions,
                     f"returned {len(scores)} scores for {len(completions)} samples")
    for i, score in enumerate(scores):
        if not isinstance(score, (int, float)) or isinstance(score, bool):
            raise TypeError(f"reward_fn returned {type(score).__name__} {score!r:.60} for sample {i} "
                            f"{_shown(prompts[i] + completions[i])}; expected a number")
    return [float(s) for s in scores]


def _as_scores(result: Any) -> list:
    """A list, tuple, tensor or array of numbers → a list of Python numbers (TRLX took any of them)."""
    if hasattr(result, "tolist"):
        result = result.tolist()
    if not isinstance(result, (list, tuple)):
        raise TypeError(f"reward_fn returned {type(result).__name__} {result!r:.60}; expected one score per sample")
    return [value.item() if hasattr(value, "item") else value for value in result]


def _blame(scores_of: Callable, indices: list[int], prompts: list[str], completions: list[str], what: str):
    """The first sample that fails alone (raises, or gives other than one score), as a ValueError naming it."""
    for i in indices:
        try:
            alone = scores_of([i])
        except Exception as error:
            return ValueError(f"reward_fn raised {type(error).__name__}: {error} on sample {i} "
                              f"{_shown(prompts[i] + completions[i])}")
        if len(alone) != 1:
            return ValueError(f"reward_fn returned {len(alone)} scores for sample {i} "
                              f"{_shown(prompts[i] + completions[i])}; expected one score per sample")
    first = _shown(prompts[0] + completions[0]) if completions else "''"
    return ValueError(f"reward_fn {what} (each sample alone scores fine; the batch's sample 0 is {first})")


def _shown(text: str) -> str:
    return repr(text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…")


# -- objects rebuilt from their folders (see rlhf.compat.trlx.reward_code) ---------------------------------------------

def rebuild_pipeline(task: str, model: str):
    from transformers import pipeline

    return pipeline(task=task, model=model)


def rebuild_pretrained(module: str, name: str, path: str):
    import importlib

    return getattr(importlib.import_module(module), name).from_pretrained(path)
