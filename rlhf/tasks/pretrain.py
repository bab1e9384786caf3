"""Causal-LM pre-training on plain text rows (the seed's pre-training section).

The same language-modelling objective as SFT on text rows, so it reuses SFT's trainer; what differs is that it
can start from fresh weights (``from_scratch``) with the architecture of the given model.
"""

from __future__ import annotations

from rlhf.rows import RowContract
from rlhf.tasks import sft
from rlhf.tasks.spec import Card, ModelKind, TaskSpec

SPEC = TaskSpec(
    name="pretrain",
    label="Pre-training",
    title="pre-training",
    rows=RowContract("pretrain", ("text",), with_id=True, plain_layouts={"text": ("text",)}),
    returns="Return a `str` (a passage of training text).",
    train_columns=("text",),
    sequences=(("text",),),
    model_kind=ModelKind.CAUSAL,
    trainers=sft.SPEC.trainers,
    starter_learning_rate=1e-3,
    card=Card("a causal language model, further pre-trained on plain text (next-token prediction)", "pretraining"),
    order=10,
    from_scratch=True,
)

resolve = sft.resolve
model_kwargs = sft.model_kwargs
build = sft.build
