"""Direct preference optimisation with TRL's DPOTrainer on (prompt, chosen, rejected) rows.

The reference model is the starting policy (TRL builds it, or disables the adapter under LoRA); ``beta`` is
TRL's own. Its metrics (``rewards/margins``, ``rewards/accuracies``, …) go to events.jsonl unchanged.
"""

from __future__ import annotations

from rlhf.tasks.base import TaskContext
from rlhf.tasks.models import load_causal_lm

ROWS = "dpo"
TRL_DEFAULT_LR = 1e-6


def build(ctx: TaskContext):
    from trl import DPOConfig, DPOTrainer

    extra = {} if ctx.config.training.beta is None else {"beta": ctx.config.training.beta}
    args = ctx.trl_args(DPOConfig, TRL_DEFAULT_LR, max_length=ctx.max_length(), **extra)
    model = load_causal_lm(ctx.model_path, dtype=ctx.dtype())
    return DPOTrainer(model=model, args=args, train_dataset=ctx.train_dataset, eval_dataset=ctx.eval_dataset,
                      processing_class=ctx.tokenizer, peft_config=ctx.peft_config("CAUSAL_LM", model),
                      callbacks=ctx.callbacks)
