"""Supervised fine-tuning with TRL's SFTTrainer: text rows, or prompt/completion rows (loss on the completion)."""

from __future__ import annotations

from rlhf.tasks.base import TaskContext
from rlhf.tasks.models import load_causal_lm

ROWS = "sft"
TRL_DEFAULT_LR = 2e-5


def packing_is_exact(ctx: TaskContext) -> bool:
    """TRL packs padding-free (best-fit decreasing), which keeps examples apart only with flash-attention
    kernels; with SDPA or eager attention packed examples would attend to each other. So pack by default only
    where that holds (benchmarks/train_overhead.py measures the speed-up)."""
    import importlib.util

    return ctx.hardware.device == "cuda" and importlib.util.find_spec("flash_attn") is not None


def build(ctx: TaskContext, from_scratch: bool = False):
    from trl import SFTConfig, SFTTrainer

    exact = packing_is_exact(ctx)
    packing = exact if ctx.config.training.packing is None else ctx.config.training.packing
    args = ctx.trl_args(SFTConfig, TRL_DEFAULT_LR, max_length=ctx.max_length(), packing=packing)
    attention = {"attn_implementation": "flash_attention_2"} if packing and exact else {}
    model = load_causal_lm(ctx.model_path, dtype=ctx.dtype(), from_scratch=from_scratch, **attention)
    return SFTTrainer(model=model, args=args, train_dataset=ctx.train_dataset, eval_dataset=ctx.eval_dataset,
                      processing_class=ctx.tokenizer, peft_config=ctx.peft_config("CAUSAL_LM", model),
                      callbacks=ctx.callbacks)
