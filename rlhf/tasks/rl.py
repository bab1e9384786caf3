"""Reinforcement learning from a reward: GRPO and RLOO through TRL, PPO through our own compact trainer.

Rewards come from reward models (finished ``rm`` runs, local folders or Hub ids) and/or a Python reward function
with TRL's signature ``f(completions, prompts=…, **kwargs) -> list[float]`` run in a sandboxed process. With
several sources the rewards add up (TRL's ``reward_weights`` via ``extra`` can weigh them for GRPO/RLOO).
"""

from __future__ import annotations

from typing import Any, Callable

from rlhf.formatting.reward_sandbox import RewardSandbox
from rlhf.formatting.user_code import UserCode
from rlhf.runs.events import append_event
from rlhf.tasks.base import TaskContext
from rlhf.tasks.models import load_causal_lm

ROWS = "rl"
TRL_DEFAULT_LR = 1e-6


def reward_code(ctx: TaskContext) -> UserCode | None:
    rl = ctx.config.rl
    if rl.reward_code:
        return UserCode.from_text(rl.reward_code, rl.reward_function, filename="reward_func.py")
    if rl.reward_func:
        return UserCode.from_file(rl.reward_func, rl.reward_function)
    return None


def reward_sources(ctx: TaskContext) -> list[Any]:
    """Reward models (as scorers) and the sandboxed reward function, in the order the config gives them."""
    from rlhf.inference.scoring import RewardScorer

    sources: list[Any] = [RewardScorer(ref, max_length=ctx.max_length(512)) for ref in ctx.config.rl.reward_models]
    code = reward_code(ctx)
    if code is not None:
        sources.append(RewardSandbox(code, ctx.config.data.timeout, ctx.config.data.memory_limit_mb))
    return sources


def total_reward(sources: list[Any]) -> Callable[[list[str], list[str]], list[float]]:
    def reward_fn(prompts: list[str], completions: list[str]) -> list[float]:
        totals = [0.0] * len(completions)
        for source in sources:
            values = source(prompts=prompts, completions=completions)
            totals = [t + (0.0 if v is None else float(v)) for t, v in zip(totals, values)]
        return totals

    return reward_fn


def build(ctx: TaskContext):
    sources = reward_sources(ctx)
    algorithm = ctx.config.rl.algorithm
    if algorithm == "ppo":
        return _build_ppo(ctx, total_reward(sources))
    return _build_trl(ctx, sources, algorithm)


def _generation_defaults(ctx: TaskContext) -> tuple[int, int]:
    rl = ctx.config.rl
    num_generations = rl.num_generations or 4
    max_completion = rl.max_completion_length or rl.max_new_tokens or (32 if ctx.is_starter else 256)
    return num_generations, max_completion


def _build_trl(ctx: TaskContext, sources: list[Any], algorithm: str):
    from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer

    config_cls, trainer_cls = (GRPOConfig, GRPOTrainer) if algorithm == "grpo" else (RLOOConfig, RLOOTrainer)
    num_generations, max_completion = _generation_defaults(ctx)
    rl, t = ctx.config.rl, ctx.config.training
    task_args: dict[str, Any] = dict(
        num_generations=num_generations,
        max_completion_length=max_completion,
        temperature=rl.temperature,
        per_device_train_batch_size=t.per_device_train_batch_size or num_generations,
        generation_kwargs=rl.generation_kwargs or None,
    )
    if t.beta is not None:
        task_args["beta"] = t.beta
    args = ctx.trl_args(config_cls, TRL_DEFAULT_LR, **task_args)
    reward_funcs = [s.model if hasattr(s, "model") else s for s in sources]
    processing = [s.tokenizer if hasattr(s, "tokenizer") else None for s in sources]
    model = load_causal_lm(ctx.model_path, dtype=ctx.dtype())
    return trainer_cls(model=model, reward_funcs=reward_funcs, args=args, train_dataset=ctx.train_dataset,
                       eval_dataset=None, processing_class=ctx.tokenizer, reward_processing_classes=processing,
                       callbacks=ctx.callbacks, peft_config=ctx.peft_config("CAUSAL_LM", model))


class _PPOAdapter:
    """Gives our PPO trainer the ``train`` / ``save_model`` / ``state`` surface the run loop expects."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.metrics: dict[str, Any] = {}

    def train(self, resume_from_checkpoint: str | None = None):
        self.metrics = self.trainer.train(resume_from_checkpoint=resume_from_checkpoint) or {}
        return self.metrics

    def save_model(self, path: str) -> None:
        self.trainer.save_model(path)

    @property
    def stopped(self) -> bool:
        return bool(self.metrics.get("stopped"))

    @property
    def state(self):
        """Like ``transformers.TrainerState``, the one field the run loop reads."""
        from types import SimpleNamespace

        return SimpleNamespace(global_step=self.trainer.global_step)


def _build_ppo(ctx: TaskContext, reward_fn):
    from rlhf.tasks.ppo import PPOSettings, PPOTrainer

    rl, t = ctx.config.rl, ctx.config.training
    _, max_completion = _generation_defaults(ctx)
    batch_size = rl.batch_size or t.per_device_train_batch_size or (16 if ctx.hardware.device == "cuda" else 8)
    settings = PPOSettings(
        learning_rate=t.learning_rate or ctx.default_learning_rate(1.41e-5),
        batch_size=batch_size,
        mini_batch_size=rl.mini_batch_size or max(1, batch_size // 4),
        num_ppo_epochs=rl.num_ppo_epochs,
        kl_coef=rl.kl_coef,
        cliprange=rl.cliprange,
        cliprange_value=rl.cliprange_value,
        vf_coef=rl.vf_coef,
        gamma=rl.gamma,
        lam=rl.lam,
        whiten_rewards=rl.whiten_rewards,
        min_new_tokens=rl.min_new_tokens or max(1, max_completion // 4),
        max_new_tokens=rl.max_new_tokens or max_completion,
        max_prompt_length=max(8, ctx.max_length(512) - (rl.max_new_tokens or max_completion)),
        generation_kwargs=dict(rl.generation_kwargs),
        max_steps=t.max_steps if t.max_steps > 0 else max(1, int(len(ctx.train_dataset) * t.num_train_epochs
                                                                  // batch_size)),
        seed=t.seed,
        save_steps=t.save_steps or 0,
        logging_steps=t.logging_steps or 1,
    )
    events = ctx.config.output_dir + "/events.jsonl"
    trainer = PPOTrainer(
        model_path=ctx.model_path, tokenizer=ctx.tokenizer, prompts=list(ctx.train_dataset["prompt"]),
        reward_fn=reward_fn, settings=settings, output_dir=ctx.config.output_dir,
        peft_config=ctx.peft_config("CAUSAL_LM"), on_log=lambda metrics: append_event(events, metrics),
        should_stop=lambda: ctx.stop_flag is not None and ctx.stop_flag.requested,
    )
    return _PPOAdapter(trainer)
