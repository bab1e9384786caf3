"""Causal-LM pre-training on plain text rows (the seed's pre-training section).

The same language-modelling objective as SFT on text rows, so it reuses SFT's trainer; what differs is that it
can start from fresh weights (``from_scratch``) with the architecture of the given model.
"""

from __future__ import annotations

from rlhf.tasks import sft
from rlhf.tasks.base import TaskContext

ROWS = "pretrain"
TRL_DEFAULT_LR = sft.TRL_DEFAULT_LR


def build(ctx: TaskContext):
    return sft.build(ctx, from_scratch=ctx.config.from_scratch)
