"""What a task's ``build`` gets: the resolved plan plus what only a run has (rows, tokenizer, callbacks).

A task module says what is specific to it (``SPEC``, ``resolve``, ``build``); the shared decisions live in
:mod:`rlhf.tasks.plan`, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rlhf.tasks.plan import TrainPlan


@dataclass
class TaskContext:
    """Everything a task's ``build`` needs, already loaded and checked."""

    plan: TrainPlan
    tokenizer: Any
    train_dataset: Any
    eval_dataset: Any
    callbacks: list = field(default_factory=list)
    stop_flag: Any = None  # rlhf.tasks.callbacks.StopFlag, for trainers that are not transformers Trainers

    @property
    def config(self):
        return self.plan.config

    def trl_trainer(self, model, **kwargs: Any):
        """The plan's TRL trainer on this run's rows: the arguments every TRL trainer takes, plus ``kwargs``."""
        _, trainer_cls = self.plan.trainer.classes()
        return trainer_cls(model=model, args=self.plan.trainer_config(), train_dataset=self.train_dataset,
                           processing_class=self.tokenizer, peft_config=self.plan.peft_config(model),
                           callbacks=self.callbacks, **{"eval_dataset": self.eval_dataset, **kwargs})
