"""Reward modelling with TRL's RewardTrainer: a one-score sequence classifier on (chosen, rejected) pairs.

Works on causal bases (a classification head on the last token) and encoder bases such as the seed's
``distilroberta-base``. Evaluation reports ``eval_accuracy``: how often chosen scores above rejected.
"""

from __future__ import annotations

from rlhf.tasks.base import TaskContext
from rlhf.tasks.models import load_reward_model

ROWS = "rm"
TRL_DEFAULT_LR = 1e-4


def build(ctx: TaskContext):
    from trl import RewardConfig, RewardTrainer

    args = ctx.trl_args(RewardConfig, TRL_DEFAULT_LR, max_length=ctx.max_length())
    model = load_reward_model(ctx.model_path, dtype=ctx.dtype())
    model.config.pad_token_id = ctx.tokenizer.pad_token_id
    return RewardTrainer(model=model, args=args, train_dataset=ctx.train_dataset, eval_dataset=ctx.eval_dataset,
                         processing_class=ctx.tokenizer, peft_config=ctx.peft_config("SEQ_CLS", model),
                         callbacks=ctx.callbacks)
