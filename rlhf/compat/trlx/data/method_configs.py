"""TRLX's method configs: ``MethodConfig`` and its registry (``trlx.data.method_configs``), and the three
methods its default configs use (TRLX keeps them beside its trainers: ``trlx.models.modeling_ppo.PPOConfig``,
``trlx.models.modeling_ilql.ILQLConfig``, ``trlx.trainer.accelerate_sft_trainer.SFTConfig``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

_METHODS: Dict[str, type] = {}


def register_method(cls: type) -> type:
    _METHODS[cls.__name__.lower()] = cls
    return cls


def get_method(name: str) -> type:
    """The method config class registered under ``name`` (case-insensitive), as TRLX's ``get_method``."""
    try:
        return _METHODS[name.lower()]
    except KeyError:
        raise ValueError(f"method name {name!r}: unknown; rlhf.compat.trlx knows "
                         f"{', '.join(sorted(_METHODS))}.") from None


@register_method
@dataclass
class MethodConfig:
    name: str

    @classmethod
    def from_dict(cls, config: Dict[str, Any]):
        return cls(**config)


@register_method
@dataclass
class PPOConfig(MethodConfig):
    ppo_epochs: int
    num_rollouts: int
    chunk_size: int
    init_kl_coef: float
    target: Optional[float]
    horizon: int
    gamma: float
    lam: float
    cliprange: float
    cliprange_value: float
    vf_coef: float
    scale_reward: Optional[str]
    ref_mean: Optional[float]
    ref_std: Optional[float]
    cliprange_reward: float
    gen_kwargs: dict
    gen_experience_kwargs: Optional[dict] = None
    num_value_layers_unfrozen: int = 0


@register_method
@dataclass
class ILQLConfig(MethodConfig):
    tau: float
    gamma: float
    cql_scale: float
    awac_scale: float
    alpha: float
    beta: float
    steps_for_target_q_sync: float
    two_qs: bool
    gen_kwargs: dict


@register_method
@dataclass
class SFTConfig(MethodConfig):
    gen_kwargs: dict


__all__ = ["ILQLConfig", "MethodConfig", "PPOConfig", "SFTConfig", "get_method", "register_method"]
