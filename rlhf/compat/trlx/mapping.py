"""A ``TRLConfig`` → the ``RunConfig`` of the rlhf run that trains it.

A field a script left at its default config's value (``default_ppo_config()`` and friends) is TRLX's default and
maps to the nearest rlhf setting, or is left to rlhf where TRLX's default has no counterpart (documented in
``UNSET_MEANS``). A field the script *changed* is honoured or refused with an error naming it: rlhf never
silently trains differently from what a changed field asked for. Step counts follow TRLX's: SFT and offline
training stop after ``total_steps`` optimiser steps or ``epochs`` passes, whichever comes first; PPO collects
``num_rollouts`` rollouts per iteration and takes ``ppo_epochs × ⌈num_rollouts / batch_size⌉`` optimiser steps on
them, for ``epochs`` iterations at most and ``total_steps`` optimiser steps in all (fewer steps than one iteration
takes: one iteration on the rollouts those steps train on, so TRLX's ``total_steps=1`` is one minibatch of fresh
rollouts). ``RLHF_TRLX_MAX_STEPS`` caps ``total_steps``, for a quick try of a script written for long runs.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import math
import os
from pathlib import Path
from typing import Any

from rlhf.compat.arguments import CompatArgumentError
from rlhf.compat.trlx.data.configs import TRLConfig
from rlhf.compat.trlx.data.default_configs import (
    default_ilql_config,
    default_ppo_config,
    default_sft_config,
)
from rlhf.compat.trlx.data.method_configs import ILQLConfig, PPOConfig, SFTConfig
from rlhf.runs.config import (
    DataSettings,
    LoraSettings,
    RLSettings,
    RunConfig,
    TrainingSettings,
)

MAX_STEPS_ENV = "RLHF_TRLX_MAX_STEPS"
TRAINERS = ("AcceleratePPOTrainer", "AccelerateILQLTrainer", "AccelerateSFTTrainer")
# TRLX's defaults that rlhf leaves to itself, and why (the README's TRLX section lists these).
UNSET_MEANS = {
    "model.num_layers_unfrozen": "every layer trains (or LoRA adapters, from model.peft_config)",
    "method.cliprange_reward": "rewards are not clipped",
    "train.eval_interval": "no periodic evaluation (PPO logs a sample with its reward every few steps)",
    "train.save_best": "the final model is kept, not the best-rewarded one",
    "method.gen_kwargs (SFT, ILQL)": "they only served TRLX's evaluation",
}
# Fields about where logs and checkpoints go, or speed alone: accepted as they are, whatever their value.
ACCEPTED = {"train.project_name", "train.entity_name", "train.group_name", "train.tracker", "train.logging_dir",
            "train.tags", "train.save_optimizer", "train.pipeline", "train.eval_interval", "train.save_best",
            "train.checkpoint_dir", "method.name", "method.chunk_size", "method.horizon"}
CONSTANT_T_MAX = 1e6  # a cosine schedule this long is constant over any run


class Method(enum.Enum):
    """What ``trlx.train`` does with its arguments, and the rlhf task it becomes."""

    SFT = "sft"        # samples alone
    PPO = "rl"         # reward_fn (+ prompts)
    OFFLINE = "kto"    # samples + rewards: KTO, desirable = reward above the median


def default_for(config: TRLConfig) -> TRLConfig:
    """The default config with the same method: the reference for "changed"."""
    for cls, make in ((PPOConfig, default_ppo_config), (ILQLConfig, default_ilql_config),
                      (SFTConfig, default_sft_config)):
        if isinstance(config.method, cls):
            return make()
    raise CompatArgumentError(f"trlx.train: config.method is a {type(config.method).__name__}; rlhf.compat.trlx "
                              "takes the PPO, ILQL and SFT method configs of default_ppo_config(), "
                              "default_ilql_config() and default_sft_config().")


class _Fields:
    """Reads ``section.name`` from the config, remembering which changed fields were used."""

    def __init__(self, config: TRLConfig):
        self.config, self.default = config, default_for(config)
        self.used: set[str] = set(ACCEPTED)

    def get(self, path: str) -> Any:
        self.used.add(path)
        section, name = path.split(".")
        return getattr(getattr(self.config, section), name)

    def changed(self, path: str) -> bool:
        section, name = path.split(".")
        default = getattr(getattr(self.default, section), name, dataclasses.MISSING)
        return getattr(getattr(self.config, section), name) != default

    def refuse(self, path: str, why: str) -> None:
        if self.changed(path):
            raise CompatArgumentError(f"trlx.train: config.{path}={self.get(path)!r} is not supported: {why}.")
        self.used.add(path)

    def refuse_unused(self, why: str) -> None:
        """Every changed field nothing above used or accepted is an error naming it."""
        for section in ("model", "tokenizer", "train", "method", "optimizer", "scheduler"):
            for field in dataclasses.fields(getattr(self.config, section)):
                path = f"{section}.{field.name}"
                if path not in self.used and self.changed(path):
                    raise CompatArgumentError(f"trlx.train: config.{path}={self.get(path)!r} is not supported: "
                                              f"{why}.")


def run_config(config: TRLConfig, method: Method, dataset: Path, rows: int, reward_code: str | None = None,
               ) -> RunConfig:
    fields = _Fields(config)
    model = _local_or_id(str(fields.get("model.model_path")))
    _check_model(fields, model)
    data = DataSettings(dataset=str(dataset), train_size=1.0)
    training = TrainingSettings(seed=int(fields.get("train.seed")),
                                learning_rate=float(fields.get("optimizer.kwargs").get("lr", 0)) or None)
    if fields.changed("train.seq_length"):
        training.max_length = int(fields.get("train.seq_length"))
    fields.used.add("train.seq_length")  # left alone: the tokenizer's limit, at most 1024 (TRLX's PPO/SFT default)
    _check_trainer(fields, method)
    _check_schedule(fields)
    rl = RLSettings()
    if method is Method.PPO:
        rl, steps, save_steps = _ppo(fields, reward_code)
        training.max_steps, training.save_steps = steps, save_steps
    else:
        _optimizer(fields, training)
        _batches(fields, training, rows)
        if isinstance(config.method, PPOConfig):
            for field in dataclasses.fields(PPOConfig):
                fields.refuse(f"method.{field.name}", "PPO's settings do not apply when trlx.train gets samples")
        elif isinstance(config.method, ILQLConfig):
            for field in dataclasses.fields(ILQLConfig):
                if field.name != "gen_kwargs":
                    fields.refuse(f"method.{field.name}", "rlhf trains offline with KTO, which has no ILQL "
                                  "settings (see rlhf.compat.trlx)")
        fields.used.add("method.gen_kwargs")
    lora = _lora(fields.get("model.peft_config"))
    run_name = fields.get("train.run_name")
    fields.refuse_unused("rlhf has no setting for it")
    return RunConfig(task=method.value, model=model, run_name=run_name, data=data, training=training, lora=lora,
                     rl=rl)


def _check_model(fields: _Fields, model: str) -> None:
    fields.refuse("model.model_arch_type", "rlhf trains causal language models")
    fields.refuse("model.num_layers_unfrozen", "rlhf trains every layer, or LoRA adapters (model.peft_config)")
    fields.refuse("model.model_extra_configs", "rlhf loads the model with its own config")
    tokenizer = fields.get("tokenizer.tokenizer_path")
    if fields.changed("tokenizer.tokenizer_path") and _local_or_id(str(tokenizer)) != model:
        raise CompatArgumentError(f"trlx.train: config.tokenizer.tokenizer_path={tokenizer!r} is not supported: "
                                  "a run uses its model's own tokenizer (save yours beside the model).")
    for name in ("padding_side", "truncation_side", "tokenizer_extra_configs"):
        fields.refuse(f"tokenizer.{name}", "a run sets up its model's tokenizer itself")


def _check_trainer(fields: _Fields, method: Method) -> None:
    trainer = fields.get("train.trainer")
    if trainer not in TRAINERS:
        raise CompatArgumentError(f"trlx.train: config.train.trainer={trainer!r} is not supported; rlhf trains "
                                  "SFT, PPO or offline (KTO) runs, chosen by trlx.train's arguments.")
    if method is Method.PPO and not isinstance(fields.config.method, PPOConfig):
        raise CompatArgumentError("trlx.train: reward_fn trains with PPO, so config.method must be PPO's: start "
                                  "from default_ppo_config().")
    fields.refuse("train.trainer_kwargs", "the trainer takes no extra arguments")
    fields.refuse("train.resume_from_checkpoint", "resume a run from the app's Train tab or `python -m rlhf runs`")
    fields.refuse("train.rollout_logging_dir", "PPO logs its samples to the run's events.jsonl")


def _check_schedule(fields: _Fields) -> None:
    scheduler = fields.config.scheduler
    fields.used.update({"scheduler.name", "scheduler.kwargs"})
    constant = scheduler.name == "cosine_annealing" and float(scheduler.kwargs.get("T_max", 0)) >= CONSTANT_T_MAX
    if not constant:
        raise CompatArgumentError(
            f"trlx.train: config.scheduler={scheduler.name!r} {scheduler.kwargs} is not supported: rlhf runs "
            "TRLX's default, a constant learning rate (cosine_annealing with T_max=1e12).")
    name = fields.get("optimizer.name")
    if str(name).lower() not in ("adamw", "adam"):
        raise CompatArgumentError(f"trlx.train: config.optimizer.name={name!r} is not supported: rlhf trains "
                                  "with AdamW.")


def _optimizer(fields: _Fields, training: TrainingSettings) -> None:
    kwargs = dict(fields.get("optimizer.kwargs"))
    kwargs.pop("lr", None)
    betas = kwargs.pop("betas", None)
    if betas is not None:
        training.extra.update(adam_beta1=float(betas[0]), adam_beta2=float(betas[1]))
    if "eps" in kwargs:
        training.extra["adam_epsilon"] = float(kwargs.pop("eps"))
    if "weight_decay" in kwargs:
        training.weight_decay = float(kwargs.pop("weight_decay"))
    if kwargs:
        raise CompatArgumentError(f"trlx.train: config.optimizer.kwargs {sorted(kwargs)} are not supported; rlhf "
                                  "takes lr, betas, eps and weight_decay.")
    training.lr_scheduler_type = "constant"


def _batches(fields: _Fields, training: TrainingSettings, rows: int) -> None:
    batch = int(fields.get("train.batch_size"))
    micro = fields.get("train.minibatch_size")
    if micro:
        if batch % int(micro):
            raise CompatArgumentError(f"trlx.train: config.train.minibatch_size={micro} must divide "
                                      f"config.train.batch_size={batch}.")
        training.per_device_train_batch_size, training.gradient_accumulation_steps = int(micro), batch // int(micro)
    else:
        training.per_device_train_batch_size = batch
    per_epoch = math.ceil(rows / batch)
    epochs = int(fields.get("train.epochs"))
    training.max_steps = min(_capped(int(fields.get("train.total_steps"))), epochs * per_epoch)
    training.num_train_epochs = float(epochs)
    training.save_steps = int(fields.get("train.checkpoint_interval"))


def _ppo(fields: _Fields, reward_code: str | None) -> tuple[RLSettings, int, int]:
    method = fields.config.method
    batch, rollouts = int(fields.get("train.batch_size")), int(fields.get("method.num_rollouts"))
    fields.refuse("train.minibatch_size", "PPO's optimisation batch is train.batch_size")
    for name, why in (("target", "rlhf's PPO keeps a fixed KL coefficient (init_kl_coef)"),
                      ("scale_reward", "rlhf's PPO uses the rewards as given"),
                      ("ref_mean", "rlhf's PPO uses the rewards as given"),
                      ("ref_std", "rlhf's PPO uses the rewards as given"),
                      ("cliprange_reward", "rlhf's PPO does not clip rewards"),
                      ("gen_experience_kwargs", "rollouts sample with gen_kwargs"),
                      ("num_value_layers_unfrozen", "rlhf's value head is one linear layer on the policy")):
        fields.refuse(f"method.{name}", why)
    kwargs = dict(fields.get("method.gen_kwargs"))
    new_tokens = int(kwargs.pop("max_new_tokens", 40))
    temperature = float(kwargs.pop("temperature", 1.0))
    optimizer = dict(fields.get("optimizer.kwargs"))
    optimizer.pop("lr", None)
    defaults = dict(fields.default.optimizer.kwargs)
    defaults.pop("lr", None)
    if optimizer != defaults:
        raise CompatArgumentError(f"trlx.train: config.optimizer.kwargs={optimizer} is not supported for PPO: "
                                  "rlhf's PPO takes the learning rate (lr) only.")
    ppo_epochs, minibatch = int(fields.get("method.ppo_epochs")), min(batch, rollouts)
    minibatches = math.ceil(rollouts / minibatch)
    per_iteration = ppo_epochs * minibatches
    total = _capped(int(fields.get("train.total_steps")))
    iterations = min(int(fields.get("train.epochs")), math.ceil(total / per_iteration))
    if total < per_iteration:
        # TRLX stops inside its first iteration: fewer passes, or only the minibatches it trains on
        ppo_epochs = math.ceil(total / minibatches)
        rollouts = minibatch * min(total, minibatches)
    save_every = max(1, int(fields.get("train.checkpoint_interval")) // per_iteration)
    rl = RLSettings(algorithm="ppo", reward_code=reward_code, reward_function="reward_func",
                    batch_size=rollouts, mini_batch_size=minibatch, num_ppo_epochs=ppo_epochs,
                    kl_coef=float(method.init_kl_coef), cliprange=float(method.cliprange),
                    cliprange_value=float(method.cliprange_value), vf_coef=float(method.vf_coef),
                    gamma=float(method.gamma), lam=float(method.lam),
                    min_new_tokens=new_tokens, max_new_tokens=new_tokens, temperature=temperature,
                    generation_kwargs=kwargs)
    fields.used.update({f"method.{n}" for n in ("init_kl_coef", "cliprange", "cliprange_value", "vf_coef", "gamma",
                                                "lam")})
    return rl, max(1, iterations), save_every


def _capped(steps: int) -> int:
    cap = os.environ.get(MAX_STEPS_ENV)
    if not cap:
        return steps
    try:
        return min(steps, max(1, int(cap)))
    except ValueError:
        raise CompatArgumentError(f"{MAX_STEPS_ENV}={cap!r}: give a whole number of steps.") from None


def _lora(peft_config: Any) -> LoraSettings:
    """TRLX's ``model.peft_config`` (a dict or a ``peft.LoraConfig``) → rlhf's LoRA settings."""
    if peft_config is None:
        return LoraSettings()
    values = dict(peft_config) if isinstance(peft_config, dict) else dict(vars(peft_config))
    kind = str(getattr(values.get("peft_type"), "value", values.get("peft_type", "LORA"))).upper()
    if kind != "LORA":
        raise CompatArgumentError(f"trlx.train: config.model.peft_config peft_type={kind!r} is not supported: rlhf "
                                  "trains LoRA adapters.")
    settings = LoraSettings(use_peft=True)
    for ours, theirs in (("lora_r", "r"), ("lora_alpha", "lora_alpha"), ("lora_dropout", "lora_dropout")):
        if values.get(theirs) is not None:
            setattr(settings, ours, type(getattr(settings, ours))(values[theirs]))
    targets = values.get("target_modules")
    if targets:
        settings.lora_target_modules = [targets] if isinstance(targets, str) else sorted(targets)
    return settings


def _local_or_id(ref: str) -> str:
    """Local folders become absolute (runs start elsewhere); Hub ids and 'starter' stay as they are."""
    path = Path(ref).expanduser()
    return str(path.resolve()) if path.exists() else ref


def copy_config(config: TRLConfig) -> TRLConfig:
    return copy.deepcopy(config)
