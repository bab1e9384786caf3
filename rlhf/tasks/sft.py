"""Supervised fine-tuning with TRL's SFTTrainer: text rows, or prompt/completion rows (loss on the completion)."""

from __future__ import annotations

from typing import Any

from rlhf.rows import RowContract
from rlhf.tasks.spec import Card, ModelKind, TaskSpec, Trainer

SPEC = TaskSpec(
    name="sft",
    label="SFT (supervised fine-tuning)",
    title="supervised fine-tuning",
    rows=RowContract("sft", ("text",), with_id=True,
                     plain_layouts={"text": ("text",), "prompt-completion": ("prompt", "completion"),
                                    "messages": ("messages",)}),
    returns="Return a `str`: the whole training text, prompt and response in the template.",
    train_columns=("text", "prompt", "completion", "messages"),
    sequences=(("text",),),
    model_kind=ModelKind.CAUSAL,
    trainers={"": Trainer("trl", "SFTConfig", "SFTTrainer", 2e-5)},
    starter_learning_rate=1e-3,
    card=Card("a causal language model, fine-tuned on demonstrations with supervised fine-tuning (TRL "
              "`SFTTrainer`)", "sft"),
    order=20,
)


def packing_is_exact(hardware) -> bool:
    """TRL packs padding-free (best-fit decreasing), which keeps examples apart only with flash-attention
    kernels; with SDPA or eager attention packed examples would attend to each other. So pack by default only
    where that holds (benchmarks/train_overhead.py measures the speed-up)."""
    import importlib.util

    return hardware.device == "cuda" and importlib.util.find_spec("flash_attn") is not None


def _packing(r) -> bool:
    packing = r.config.training.packing
    return packing_is_exact(r.hardware) if packing is None else packing


def resolve(r) -> dict[str, Any]:
    return r.trl_args(max_length=r.max_length(), packing=_packing(r))


def model_kwargs(r) -> dict[str, Any]:
    return {"attn_implementation": "flash_attention_2"} if _packing(r) and packing_is_exact(r.hardware) else {}


def build(ctx):
    from rlhf.tasks.models import load_causal_lm

    plan = ctx.plan
    model = load_causal_lm(plan.model_path, dtype=plan.torch_dtype(), from_scratch=plan.from_scratch,
                           **plan.model_kwargs)
    return ctx.trl_trainer(model)
