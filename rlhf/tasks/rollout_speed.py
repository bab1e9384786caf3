"""Rollout tokens per second: RL spends most of its time generating, so every RL step logs how fast it did.

The metric is ``rollout/tokens_per_second``: completion tokens this process generated, over the seconds its
generation call took (vLLM's or transformers' ``generate``), averaged over the steps of one log line. With
several processes each measures its own generation (rank 0's is logged); the whole run generates about world
size times as many.
"""

from __future__ import annotations

import functools
import time
from typing import Any

METRIC = "rollout/tokens_per_second"


def tokens_per_second(tokens: int, seconds: float) -> float:
    return float(tokens) / max(seconds, 1e-9)


def _count_tokens(completion_ids: Any) -> int:
    """Completion tokens of a batch given as lists of ids (TRL) or a 2-D tensor with a mask applied by the
    caller."""
    if hasattr(completion_ids, "numel"):
        return int(completion_ids.numel())
    return sum(len(ids) for ids in completion_ids)


def measure_trl_rollouts(trainer) -> None:
    """Time TRL's GRPO/RLOO generation (``_generate_single_turn``, where both call vLLM or ``generate``) and add
    each call's rate to the trainer's own metrics, which it averages into its next log line."""
    generate = getattr(trainer, "_generate_single_turn", None)
    metrics = getattr(trainer, "_metrics", None)
    if generate is None or metrics is None:  # another TRL: no speed line rather than a broken run
        return

    @functools.wraps(generate)
    def timed(*args, **kwargs):
        started = time.perf_counter()
        result = generate(*args, **kwargs)
        seconds = time.perf_counter() - started
        completion_ids = result[0] if isinstance(result, tuple) else result
        mode = "train" if trainer.model.training else "eval"
        metrics[mode][METRIC].append(tokens_per_second(_count_tokens(completion_ids), seconds))
        return result

    trainer._generate_single_turn = timed
