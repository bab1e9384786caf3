"""TaskSpec: everything the app knows about one training task, declared once in the task's own module.

Each module in :mod:`rlhf.tasks` that trains something defines ``SPEC = TaskSpec(...)``, ``resolve(ctx)`` (the
task's own trainer arguments) and ``build(plan, ctx)`` (its trainer). The registry (:mod:`rlhf.tasks.registry`)
finds them; the CLI, the app's tabs, the exported script and the model card read the spec instead of keeping
tables of their own. Import-light: no torch or TRL here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from rlhf.rows import RowContract


class ModelKind(enum.Enum):
    """What the task trains: a text generator to chat with, or a one-score classifier to score texts with."""

    CAUSAL = "causal"
    CLASSIFIER = "classifier"

    @property
    def peft_task_type(self) -> str:
        return "CAUSAL_LM" if self is ModelKind.CAUSAL else "SEQ_CLS"


class Plot(enum.Enum):
    """The Train tab's plots beside the loss: the reward (RL) or the preference quality (margins, accuracy)."""

    REWARD = "reward"
    QUALITY = "quality"


class Batch(enum.Enum):
    """What one optimiser micro-step forwards with gradients, for the memory plan (:mod:`rlhf.runs.memory`)."""

    ROWS = "rows"  # per_device_train_batch_size sequences of max_length
    PAIRS = "pairs"  # chosen and rejected of each row in one forward: twice the rows
    GROUPS = "groups"  # GRPO/RLOO: per_device_train_batch_size prompt + completion sequences, sampled first
    ROLLOUTS = "rollouts"  # PPO: batch_size rollouts sampled, mini_batch_size of them forwarded at once


class Reference(enum.Enum):
    """Whether a trainer keeps the starting policy beside the one it trains (and forwards the batch through it).
    Under LoRA the reference is the base with the adapter disabled: no copy, but still a forward."""

    NONE = "none"
    ALWAYS = "always"  # DPO, KTO, PPO
    WITH_KL = "with_kl"  # GRPO, RLOO: only when beta > 0 (TRL's default 0 drops it)


@dataclass(frozen=True)
class Footprint:
    """What a trainer holds at its memory peak beside the weights and optimizer every trainer has: the facts
    :mod:`rlhf.runs.memory` reads, declared with the trainer instead of keyed on its config class's name."""

    batch: Batch = Batch.ROWS
    reference: Reference = Reference.NONE
    value_head: bool = False  # PPO's value head on the policy


@dataclass(frozen=True)
class Trainer:
    """A trainer and its config class, by import path (imported only when a run builds it)."""

    module: str
    config: str
    trainer: str
    default_learning_rate: float  # the config class's own default, for real models
    experimental: bool = False  # TRL ships it under trl.experimental: its API may change between releases
    starter_learning_rate: float | None = None  # on the starter, where this variant needs another than the task's
    words: str = ""  # for the card, where a task's variants differ ("GRPO (TRL `GRPOTrainer`)")
    footprint: Footprint = Footprint()  # what it holds in memory (the memory plan)

    def classes(self) -> tuple[type, type]:
        import importlib

        module = importlib.import_module(self.module)
        return getattr(module, self.config), getattr(module, self.trainer)


@dataclass(frozen=True)
class Card:
    """What the model card says about a model this task trained; ``{trainer}`` in the description is filled with
    the variant's :attr:`Trainer.words`, an empty ``tag`` is the variant's name."""

    description: str
    tag: str
    how_to_use: str = "generate"  # "generate" or "score": the card's usage snippet


@dataclass(frozen=True)
class TaskSpec:
    name: str
    label: str  # the dropdowns' label
    title: str  # in a sentence: "supervised fine-tuning"
    rows: RowContract
    returns: str  # the Format tab's note: what the function returns, in Markdown
    train_columns: tuple[str, ...]  # columns the trainer reads; the rest (Argilla's ``id``) is dropped
    sequences: tuple[tuple[str, ...], ...]  # the texts one row trains on, each the concatenation of these columns
    model_kind: ModelKind
    trainers: dict[str, Trainer]  # by variant; one entry "" for tasks without variants (RL: by algorithm)
    starter_learning_rate: float  # TRL's defaults suit billion-parameter models, not the 1M-parameter starter
    card: Card
    order: int  # position in the dropdowns
    plots: frozenset[Plot] = frozenset()
    variant_field: str = ""  # the RunConfig field choosing among ``trainers`` ("rl.algorithm")
    rewarded: bool = False  # trains from reward sources (the run's reward models and reward function)
    from_scratch: bool = False  # may start from fresh weights with the model's architecture (``from_scratch``)
    # other trainer defaults on the starter; one named like a training setting applies while that keeps its default
    starter_args: dict[str, Any] = field(default_factory=dict)
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)  # run settings with a fixed set of values

    @property
    def experimental(self) -> bool:
        return any(t.experimental for t in self.trainers.values())

    @property
    def chat(self) -> bool:
        return self.model_kind is ModelKind.CAUSAL

    def variant(self, config) -> str:
        """The trainer variant a run config selects (RL's algorithm), or ``""``."""
        if not self.variant_field:
            return ""
        section, name = self.variant_field.split(".")
        return getattr(getattr(config, section), name)

    def trainer(self, config) -> Trainer:
        return self.trainers[self.variant(config)]

    def card_description(self, config) -> str:
        return self.card.description.format(trainer=self.trainer(config).words)

    def card_tag(self, config) -> str:
        return self.card.tag or self.variant(config)

    def describe(self, config) -> str:
        """The run's task in words: "RL (GRPO)", "DPO"."""
        variant = self.variant(config)
        short = self.label.split(" (")[0]
        return f"{short} ({variant.upper()})" if variant else short
