"""Supervised fine-tuning with TRL's SFTTrainer: text rows, or prompt/completion rows (loss on the completion)."""

from __future__ import annotations

from rlhf.tasks.base import TaskContext
from rlhf.tasks.models import load_causal_lm

ROWS = "sft"
TRL_DEFAULT_LR = 2e-5


def build(ctx: TaskContext, from_scratch: bool = False):
    from trl import SFTConfig, SFTTrainer

    args = ctx.trl_args(SFTConfig, TRL_DEFAULT_LR, max_length=ctx.max_length(),
                        packing=bool(ctx.config.training.packing))
    model = load_causal_lm(ctx.model_path, dtype=ctx.dtype(), from_scratch=from_scratch)
    return SFTTrainer(model=model, args=args, train_dataset=ctx.train_dataset, eval_dataset=ctx.eval_dataset,
                      processing_class=ctx.tokenizer, peft_config=ctx.peft_config("CAUSAL_LM", model),
                      callbacks=ctx.callbacks)
