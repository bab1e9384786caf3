"""Kahneman-Tversky optimisation with TRL's KTOTrainer on (prompt, completion, label) rows.

KTO needs no pairs: each completion is simply desirable (``label`` True) or not, which is what a thumbs up/down
or a single rating gives. A preference pair yields two rows (chosen True, rejected False). The reference model
is the starting policy, as in DPO.
"""

from __future__ import annotations

from typing import Any

from rlhf.rows import RowContract
from rlhf.tasks import dpo
from rlhf.tasks.spec import Card, Footprint, ModelKind, Plot, Reference, TaskSpec, Trainer

SPEC = TaskSpec(
    name="kto",
    label="KTO (desirable / undesirable)",
    title="Kahneman-Tversky optimisation",
    rows=RowContract("kto", ("prompt", "completion", "label"), types=("str", "str", "bool"),
                     plain_layouts={"prompt-completion-label": ("prompt", "completion", "label")}),
    returns="Return a `(prompt, completion, label)` tuple: two `str` and a `bool`, True when the completion is "
            "desirable. Yield several per record (both replies of a pair, one per thumbs up/down).",
    train_columns=("prompt", "completion", "label"),
    sequences=(("prompt", "completion"),),
    model_kind=ModelKind.CAUSAL,
    trainers={"": Trainer("trl", "KTOConfig", "KTOTrainer", 1e-6, footprint=Footprint(reference=Reference.ALWAYS))},
    starter_learning_rate=5e-4,
    card=Card("a causal language model, aligned on completions labelled desirable or undesirable with "
              "Kahneman-Tversky Optimization (TRL `KTOTrainer`)", "kto"),
    order=42,
    plots=frozenset({Plot.QUALITY}),
    options={"loss_type": ("kto", "apo_zero_unpaired")},
)


def resolve(r) -> dict[str, Any]:
    args = dpo.preference_args(r)
    # KTO estimates its KL term from mismatched pairs inside a batch: it needs at least two rows per batch
    batch = r.config.training.per_device_train_batch_size
    if batch is None:
        args["per_device_train_batch_size"] = 8 if r.hardware.device == "cuda" else 4
    return r.trl_args(**args)


build = dpo.build
