"""Direct preference optimisation with TRL's DPOTrainer on (prompt, chosen, rejected) rows.

The reference model is the starting policy (TRL builds it, or disables the adapter under LoRA); ``beta`` and
``loss_type`` (sigmoid, ipo, hinge, robust, apo_zero, …) are TRL's own. Its metrics (``rewards/margins``,
``rewards/accuracies``, …) go to events.jsonl unchanged.
"""

from __future__ import annotations

from typing import Any

from rlhf.rows import RowContract
from rlhf.tasks.spec import Batch, Card, Footprint, ModelKind, Plot, Reference, TaskSpec, Trainer

PREFERENCE_ROWS = dict(columns=("prompt", "chosen", "rejected"),
                       plain_layouts={"prompt-chosen-rejected": ("prompt", "chosen", "rejected")})
SPEC = TaskSpec(
    name="dpo",
    label="DPO",
    title="direct preference optimisation",
    rows=RowContract("dpo", **PREFERENCE_ROWS),
    returns="Return a `(prompt, chosen, rejected)` tuple of three `str`; the trainer appends each completion to the "
            "prompt.",
    train_columns=("prompt", "chosen", "rejected"),
    sequences=(("prompt", "chosen"), ("prompt", "rejected")),
    model_kind=ModelKind.CAUSAL,
    trainers={"": Trainer("trl", "DPOConfig", "DPOTrainer", 1e-6,
                          footprint=Footprint(Batch.PAIRS, Reference.ALWAYS))},
    starter_learning_rate=5e-4,
    card=Card("a causal language model, aligned on prompt/chosen/rejected triples with Direct Preference "
              "Optimization (TRL `DPOTrainer`)", "dpo"),
    order=40,
    plots=frozenset({Plot.QUALITY}),
    options={"loss_type": ("sigmoid", "ipo", "hinge", "robust", "apo_zero", "apo_down", "exo_pair", "nca_pair",
                           "bco_pair", "sppo_hard", "aot", "aot_unpaired", "discopop", "sigmoid_norm")},
)


def preference_args(r) -> dict[str, Any]:
    """``max_length``, and ``beta`` / ``loss_type`` where the run sets them: what DPO, KTO and ORPO share."""
    t = r.config.training
    args: dict[str, Any] = {"max_length": r.max_length()}
    if t.beta is not None:
        args["beta"] = t.beta
    if t.loss_type is not None:
        args["loss_type"] = t.loss_type
    return args


def resolve(r) -> dict[str, Any]:
    return r.trl_args(**preference_args(r))


def build(ctx):
    from rlhf.tasks.models import load_causal_lm

    return ctx.trl_trainer(load_causal_lm(ctx.plan.model_path, dtype=ctx.plan.torch_dtype(), **ctx.plan.model_kwargs))
