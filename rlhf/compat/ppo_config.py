"""``PPOConfig``: TRL 0.x's PPO settings by their old names, for scripts that did ``from trl import PPOConfig``.

Current TRL has no ``PPOConfig``; rlhf trains PPO with its own trainer (:mod:`rlhf.tasks.ppo`). This dataclass
keeps the fields of TRL 0.x's ``PPOConfig`` that trainer honours, with their TRL meaning (``batch_size``: rollouts
per PPO step, ``mini_batch_size``: rollouts per optimisation minibatch, …). A field left at ``None`` is left to
rlhf's default for the model and hardware, as every setting a compat script does not give (TRL 0.x's defaults
are in the comments). ``ArgillaTrainer.update_config(config=…)`` also takes any object (or dict) with these
attributes, such as an old ``trl.PPOConfig``; attributes it does not know are left alone there.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from rlhf.compat.arguments import CompatArgumentError, reject_unknown

TRL_DEFAULT_STEPS = 20000


@dataclass
class PPOConfig:
    steps: int | None = None              # TRL: samples to train on (20000); Argilla's loop made one pass instead
    learning_rate: float | None = None    # TRL 1.41e-5
    batch_size: int | None = None         # rollouts (prompts) per PPO step; TRL 256
    mini_batch_size: int | None = None    # rollouts per optimisation minibatch; TRL 1
    ppo_epochs: int | None = None         # optimisation passes over each batch of rollouts; TRL 4
    init_kl_coef: float | None = None     # KL penalty coefficient, kept fixed (no adaptive control); TRL 0.2
    kl_coef: float | None = None          # newer TRL's name for it; wins when both are given
    gamma: float | None = None            # TRL 1.0
    lam: float | None = None              # TRL 0.95
    cliprange: float | None = None        # TRL 0.2
    cliprange_value: float | None = None  # TRL 0.2
    vf_coef: float | None = None          # TRL 0.1
    whiten_rewards: bool | None = None    # TRL False
    seed: int | None = None               # TRL 0; None: the trainer's seed


_dataclass_init = PPOConfig.__init__


def _init(self, *args: Any, **kwargs: Any) -> None:
    reject_unknown("PPOConfig", {k: v for k, v in kwargs.items() if k not in _FIELDS}, _FIELDS)
    _dataclass_init(self, *args, **kwargs)


_FIELDS = [f.name for f in dataclasses.fields(PPOConfig)]
PPOConfig.__init__ = _init  # type: ignore[method-assign]

# PPOConfig field (and accepted alias) → rlhf RLSettings field.
_RL_FIELDS = {"mini_batch_size": "mini_batch_size", "ppo_epochs": "num_ppo_epochs",
              "num_ppo_epochs": "num_ppo_epochs", "gamma": "gamma", "lam": "lam", "cliprange": "cliprange",
              "cliprange_value": "cliprange_value", "vf_coef": "vf_coef", "whiten_rewards": "whiten_rewards"}


def ppo_settings(config: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A PPOConfig, an object with its attributes, or a dict → (rl settings, training settings) for RunConfig."""
    if isinstance(config, dict):
        known = set(_FIELDS) | {"num_ppo_epochs"}
        reject_unknown("update_config(config=…)", {k: v for k, v in config.items() if k not in known}, known)
        get = config.get
    else:
        def get(name: str, default: Any = None) -> Any:
            return getattr(config, name, default)
    if not isinstance(config, (dict, PPOConfig)) and not any(hasattr(config, name) for name in _FIELDS):
        raise CompatArgumentError(f"update_config: config must be a PPOConfig (or an object or dict with its fields: "
                                  f"{', '.join(_FIELDS)}), got {type(config).__name__}.")
    rl: dict[str, Any] = {}
    training: dict[str, Any] = {}
    for name, target in _RL_FIELDS.items():
        if get(name) is not None:
            rl[target] = get(name)
    kl = get("kl_coef") if get("kl_coef") is not None else get("init_kl_coef")
    if kl is not None:
        rl["kl_coef"] = float(kl)
    batch_size = get("batch_size")
    if batch_size is not None:
        rl["batch_size"] = int(batch_size)
    if get("learning_rate") is not None:
        training["learning_rate"] = float(get("learning_rate"))
    if get("seed") is not None:
        training["seed"] = int(get("seed"))
    steps = get("steps")
    if steps is not None and steps != TRL_DEFAULT_STEPS:
        if batch_size is None:
            raise CompatArgumentError("PPOConfig: steps counts samples, as in TRL 0.x; give batch_size too, so that "
                                      "it makes ceil(steps / batch_size) PPO steps (or use "
                                      "update_config(max_steps=…)).")
        training["max_steps"] = max(1, math.ceil(int(steps) / int(batch_size)))  # TRL's `total_ppo_epochs`
    return rl, training
