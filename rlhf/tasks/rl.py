"""Reinforcement learning from a reward: GRPO and RLOO through TRL, PPO through our own compact trainer.

Rewards come from reward models (finished ``rm`` runs, local folders or Hub ids) and/or a Python reward function
with TRL's signature ``f(completions, prompts=…, **kwargs) -> list[float]`` run in a sandboxed process. With
several sources the rewards add up (TRL's ``reward_weights`` via ``extra`` can weigh them for GRPO/RLOO).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from rlhf.rows import RowContract
from rlhf.runs.config import field_default
from rlhf.tasks.spec import Batch, Card, Footprint, ModelKind, Plot, Reference, TaskSpec, Trainer

GROUP_FOOTPRINT = Footprint(Batch.GROUPS, Reference.WITH_KL)
PPO_FOOTPRINT = Footprint(Batch.ROLLOUTS, Reference.ALWAYS, value_head=True)
PPO_WORDS = "PPO (rlhf's compact implementation: policy and value head, GAE, KL penalty to the reference model)"
SPEC = TaskSpec(
    name="rl",
    label="RL (PPO / GRPO / RLOO)",
    title="reinforcement learning",
    rows=RowContract("rl", ("prompt",), with_id=True,
                     plain_layouts={"prompt": ("prompt",), "prompt-completion": ("prompt",),
                                    "prompt-chosen-rejected": ("prompt",)}),
    returns="Return a `str`: the prompt the policy completes (the template up to `### Response:`).",
    train_columns=("prompt",),
    sequences=(("prompt",),),
    model_kind=ModelKind.CAUSAL,
    # GRPO's and RLOO's group baselines take a larger step on the starter than PPO's clipped updates can
    trainers={"grpo": Trainer("trl", "GRPOConfig", "GRPOTrainer", 1e-6, starter_learning_rate=1e-3,
                              words="GRPO (TRL `GRPOTrainer`)", footprint=GROUP_FOOTPRINT),
              "rloo": Trainer("trl", "RLOOConfig", "RLOOTrainer", 1e-6, starter_learning_rate=1e-3,
                              words="RLOO (TRL `RLOOTrainer`)", footprint=GROUP_FOOTPRINT),
              "ppo": Trainer("rlhf.tasks.ppo", "PPOSettings", "PPOTrainer", 1.41e-5, words=PPO_WORDS,
                             footprint=PPO_FOOTPRINT)},
    starter_learning_rate=2e-4,
    starter_args={"lr_scheduler_type": "constant"},  # 20 steps on the starter: a linear decay halves what they learn
    card=Card("a causal language model, trained with reinforcement learning from a reward using {trainer}", ""),
    order=35,
    plots=frozenset({Plot.REWARD}),
    variant_field="rl.algorithm",
    rewarded=True,
)


# -- resolve ----------------------------------------------------------------------------------------------------

# GRPO/RLOO on the starter: 8 prompts a step, 2 completions each. A step's mean reward is mostly which prompts were
# drawn; more prompts (at the same 16 rollouts) make 20 steps' reward curve show learning rather than the draw.
STARTER_GROUPS_PER_STEP = 8
STARTER_NUM_GENERATIONS = 2
# PPO on the starter takes as many rollouts a step (one per prompt): at 8, 20 steps' first and last quarters were
# mostly which prompts they drew
STARTER_ROLLOUTS_PER_STEP = STARTER_GROUPS_PER_STEP * STARTER_NUM_GENERATIONS


def _max_completion(r) -> int:
    rl = r.config.rl
    return rl.max_completion_length or rl.max_new_tokens or (32 if r.starter_defaults else 256)


def resolve(r) -> dict[str, Any]:
    if r.config.rl.algorithm == "ppo":
        return _ppo_settings(r)
    rl, t = r.config.rl, r.config.training
    num_generations = rl.num_generations or (STARTER_NUM_GENERATIONS if r.starter_defaults else 4)
    # one prompt's group a step is too noisy a reward to learn from in a few steps; the starter affords eight
    groups = STARTER_GROUPS_PER_STEP if r.starter_defaults else 1
    task_args: dict[str, Any] = dict(
        num_generations=num_generations,
        max_completion_length=_max_completion(r),
        temperature=rl.temperature,
        per_device_train_batch_size=t.per_device_train_batch_size or groups * num_generations,
        generation_kwargs=rl.generation_kwargs or None,
    )
    if r.starter_defaults:
        task_args.update(_starter_rl_args(r))
    if t.beta is not None:
        task_args["beta"] = t.beta
    if t.use_vllm:  # vLLM in the training process, sharing its GPU (TRL's colocate mode; checked in build)
        task_args.update(use_vllm=True, vllm_mode="colocate")
    return r.trl_args(**task_args)


def _starter_rl_args(r) -> dict[str, Any]:
    """RLOO drops its KL-in-the-reward and normalizes its advantages, as GRPO's group scaling does, so both take
    steps of one size on the starter. The user's ``beta`` and ``extra`` still win."""
    args: dict[str, Any] = {}
    if r.config.rl.algorithm == "rloo":
        args.update(beta=0.0, normalize_advantages=True)
    return args


def _ppo_settings(r) -> dict[str, Any]:
    """PPOSettings' arguments: the run's PPO knobs where set, PPOSettings' own defaults otherwise."""
    from rlhf.tasks.ppo import PPOSettings

    rl, t = r.config.rl, r.config.training
    own = {f.name: field_default(f) for f in dataclasses.fields(PPOSettings)}
    max_completion = _max_completion(r)
    default_batch = STARTER_ROLLOUTS_PER_STEP if r.starter_defaults else (16 if r.hardware.device == "cuda" else 8)
    batch = rl.batch_size or t.per_device_train_batch_size or default_batch
    knobs = {name: getattr(rl, name) if getattr(rl, name) is not None else own[name]
             for name in ("num_ppo_epochs", "kl_coef", "cliprange", "cliprange_value", "vf_coef", "gamma", "lam",
                          "whiten_rewards")}
    return dict(
        learning_rate=r.learning_rate(),
        batch_size=batch,
        mini_batch_size=rl.mini_batch_size or max(1, batch // 4),
        **knobs,
        min_new_tokens=rl.min_new_tokens or max(1, max_completion // 4),
        max_new_tokens=rl.max_new_tokens or max_completion,
        max_prompt_length=max(8, r.max_length(512) - (rl.max_new_tokens or max_completion)),
        generation_kwargs=dict(rl.generation_kwargs),
        max_steps=t.max_steps,
        num_train_epochs=t.num_train_epochs,
        seed=t.seed,
        save_steps=t.save_steps or 0,
        logging_steps=t.logging_steps or 1,
        bf16=r.bf16() and r.hardware.device == "cuda",
        fp16=r.fp16(),
        gradient_checkpointing=bool(t.gradient_checkpointing),  # unset: off (PPO's small batches keep activations)
    )


# -- build ------------------------------------------------------------------------------------------------------

def reward_code(config):
    from rlhf.formatting.user_code import UserCode

    rl = config.rl
    if rl.reward_code:
        return UserCode.from_text(rl.reward_code, rl.reward_function, filename="reward_func.py")
    if rl.reward_func:
        return UserCode.from_file(rl.reward_func, rl.reward_function)
    return None


def reward_sources(ctx) -> list[Any]:
    """Reward models (as scorers) and the sandboxed reward function, in the order the config gives them."""
    from rlhf.formatting.reward_sandbox import RewardSandbox
    from rlhf.inference.scoring import RewardScorer
    from rlhf.runs.events import warn

    config = ctx.config
    length = ctx.plan.max_length(512)  # reward models read what the policy may, capped at 512
    sources: list[Any] = [RewardScorer(ref, max_length=length) for ref in config.rl.reward_models]
    code = reward_code(config)
    if code is not None:  # NaN rewards train as none: the run log counts them
        events = f"{config.output_dir}/events.jsonl"
        sources.append(RewardSandbox(code, config.data.timeout, config.data.memory_limit_mb,
                                     on_warning=lambda text: warn(events, text)))
    return sources


def total_reward(sources: list[Any]) -> Callable[[list[str], list[str]], list[float]]:
    def reward_fn(prompts: list[str], completions: list[str]) -> list[float]:
        totals = [0.0] * len(completions)
        for source in sources:
            values = source(prompts=prompts, completions=completions)
            totals = [t + (0.0 if v is None else float(v)) for t, v in zip(totals, values)]
        return totals

    return reward_fn


def build(ctx):
    from rlhf.tasks.models import load_causal_lm
    from rlhf.tasks.rl_samples import sample_callback
    from rlhf.tasks.rollout_speed import measure_trl_rollouts

    sources = reward_sources(ctx)
    if ctx.config.rl.algorithm == "ppo":
        return _build_ppo(ctx, total_reward(sources))
    if ctx.config.training.use_vllm:
        require_vllm(ctx.plan.hardware.device)
    # each source is a TRL reward function: a reward model scores through its RewardScorer (the text ending in
    # EOS, as it trained and as PPO and the Score tab score), not as TRL would feed the bare model (no EOS)
    model = load_causal_lm(ctx.plan.model_path, dtype=ctx.plan.torch_dtype(), **ctx.plan.model_kwargs)
    trainer = ctx.trl_trainer(model, reward_funcs=sources, eval_dataset=None)
    trainer.add_callback(sample_callback(trainer, _events_path(ctx)))
    measure_trl_rollouts(trainer)
    return trainer


def require_vllm(device: str) -> None:
    """``use_vllm`` needs a CUDA GPU and the ``vllm`` package; say which one is missing (exit 2)."""
    import importlib.util

    from rlhf.errors import ConfigError

    missing = []
    if device != "cuda":
        missing.append(f"a CUDA GPU (this run trains on {device})")
    if importlib.util.find_spec("vllm") is None:
        missing.append("the vllm package (pip install vllm)")
    if missing:
        raise ConfigError(f"use_vllm: vLLM generation needs {' and '.join(missing)}; leave use_vllm off to "
                          f"generate with transformers.")


def _events_path(ctx) -> str:
    return ctx.config.output_dir + "/events.jsonl"


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


def _build_ppo(ctx, reward_fn):
    from rlhf.runs.events import append_event
    from rlhf.tasks.ppo import PPOTrainer
    from rlhf.tasks.rl_samples import due, pick, report, step_line

    events = _events_path(ctx)
    latest: dict[str, Any] = {}  # the last rollout's first sample, for the log

    def rewarded(prompts: list[str], completions: list[str]) -> list[float]:
        rewards = reward_fn(prompts, completions)
        latest["sample"] = pick(prompts, completions, rewards)
        return rewards

    def on_log(metrics: dict[str, Any]) -> None:
        append_event(events, metrics)
        step, max_steps = int(metrics.get("step", 0)), trainer.settings.max_steps
        if latest.get("sample") is not None and due(step, max_steps):
            report(events, step, max_steps, metrics.get("reward"), latest["sample"])
        else:
            print(step_line(step, max_steps, metrics), flush=True)

    trainer = PPOTrainer(
        model_path=ctx.plan.model_path, tokenizer=ctx.tokenizer, prompts=list(ctx.train_dataset["prompt"]),
        reward_fn=rewarded, settings=ctx.plan.trainer_config(), output_dir=ctx.config.output_dir,
        peft_config=ctx.plan.peft_config(), on_log=on_log, model_kwargs=ctx.plan.model_kwargs,
        should_stop=lambda: ctx.stop_flag is not None and ctx.stop_flag.requested,
    )
    return _PPOAdapter(trainer)
