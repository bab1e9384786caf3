"""Odds-ratio preference optimisation with TRL's experimental ORPOTrainer on (prompt, chosen, rejected) rows.

ORPO adds an odds-ratio preference term to the SFT loss on the chosen reply, so it needs no reference model and
no SFT stage before it. TRL ships it under ``trl.experimental``: its API may change between TRL releases.
"""

from __future__ import annotations

from typing import Any

from rlhf.rows import RowContract
from rlhf.tasks import dpo
from rlhf.tasks.spec import Batch, Card, Footprint, ModelKind, Plot, TaskSpec, Trainer

SPEC = TaskSpec(
    name="orpo",
    label="ORPO (experimental in TRL)",
    title="odds-ratio preference optimisation",
    rows=RowContract("orpo", template="dpo", **dpo.PREFERENCE_ROWS),  # the same rows as DPO
    returns=dpo.SPEC.returns,
    train_columns=dpo.SPEC.train_columns,
    sequences=dpo.SPEC.sequences,
    model_kind=ModelKind.CAUSAL,
    trainers={"": Trainer("trl.experimental.orpo", "ORPOConfig", "ORPOTrainer", 1e-6, experimental=True,
                          footprint=Footprint(Batch.PAIRS))},
    starter_learning_rate=1e-3,
    # On the tiny starter, TRL's λ = 0.1 leaves the odds-ratio term too weak to rank held-out pairs in 60 steps
    starter_args={"beta": 1.0},
    card=Card("a causal language model, aligned on prompt/chosen/rejected triples with Odds Ratio Preference "
              "Optimization, without a reference model (TRL's experimental `ORPOTrainer`)", "orpo"),
    order=44,
    plots=frozenset({Plot.QUALITY}),
)


def resolve(r) -> dict[str, Any]:
    args = dpo.preference_args(r)
    args.pop("loss_type", None)  # ORPO has one loss
    return r.trl_args(**args)


build = dpo.build
