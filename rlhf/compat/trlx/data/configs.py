"""TRLX's config dataclasses (``trlx.data.configs``), same names, fields and defaults, so that scripts which build
or edit a ``TRLConfig`` run unchanged. What each field does in an rlhf run is :mod:`rlhf.compat.trlx.mapping`'s job.
"""

from __future__ import annotations

import json
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from rlhf.compat.trlx.data.method_configs import MethodConfig, get_method


def _merge_dicts(base: Dict, update: Dict) -> Dict:
    """Merge two dictionaries recursively, returning a new dictionary (TRLX's helper for ``evolve``)."""
    base = deepcopy(base)
    for key, value in update.items():
        base[key] = _merge_dicts(base.get(key, {}), value) if isinstance(value, dict) else value
    return base


@dataclass
class ModelConfig:
    model_path: str
    model_arch_type: str = "causal"
    num_layers_unfrozen: int = -1
    peft_config: Any = None
    model_extra_configs: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, config: Dict[str, Any]):
        return cls(**config)


@dataclass
class TokenizerConfig:
    tokenizer_path: str
    padding_side: str = "left"
    truncation_side: str = "right"
    tokenizer_extra_configs: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, config: Dict[str, Any]):
        return cls(**config)


@dataclass
class OptimizerConfig:
    name: str
    kwargs: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, config: Dict[str, Any]):
        return cls(**config)


@dataclass
class SchedulerConfig:
    name: str
    kwargs: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, config: Dict[str, Any]):
        return cls(**config)


@dataclass
class TrainConfig:
    total_steps: int
    seq_length: int
    epochs: int
    batch_size: int
    checkpoint_interval: int
    eval_interval: int
    pipeline: str
    trainer: str
    trainer_kwargs: Dict[str, Any] = field(default_factory=dict)
    project_name: str = "trlx"
    run_name: Optional[str] = None
    entity_name: Optional[str] = None
    group_name: Optional[str] = None
    checkpoint_dir: str = "ckpts"
    rollout_logging_dir: Optional[str] = None
    save_best: bool = True
    save_optimizer: bool = True
    resume_from_checkpoint: Optional[str] = None
    tracker: Optional[str] = "wandb"
    logging_dir: Optional[str] = None
    tags: Optional[List[str]] = field(default_factory=list)
    seed: int = 1000
    minibatch_size: Optional[int] = None

    @classmethod
    def from_dict(cls, config: Dict[str, Any]):
        return cls(**config)


@dataclass
class TRLConfig:
    """Top level config for trlX (TRLX's class name and methods)."""

    method: MethodConfig
    model: ModelConfig
    optimizer: OptimizerConfig
    scheduler: SchedulerConfig
    tokenizer: TokenizerConfig
    train: TrainConfig

    @classmethod
    def load_yaml(cls, yml_fp: str) -> "TRLConfig":
        import yaml

        with open(yml_fp, encoding="utf-8") as handle:
            return cls.from_dict(yaml.safe_load(handle))

    def to_dict(self) -> Dict[str, Any]:
        return {name: dict(getattr(self, name).__dict__)
                for name in ("method", "model", "optimizer", "scheduler", "tokenizer", "train")}

    def evolve(self, **kwargs: Any) -> "TRLConfig":
        """A copy with nested fields updated: ``config.evolve(method=dict(gamma=0.99))``."""
        return TRLConfig.from_dict(_merge_dicts(self.to_dict(), kwargs))

    @classmethod
    def from_dict(cls, config: Dict[str, Any]) -> "TRLConfig":
        return cls(
            method=get_method(config["method"]["name"]).from_dict(config["method"]),
            model=ModelConfig.from_dict(config["model"]),
            tokenizer=TokenizerConfig.from_dict(config["tokenizer"]),
            optimizer=OptimizerConfig.from_dict(config["optimizer"]),
            scheduler=SchedulerConfig.from_dict(config["scheduler"]),
            train=TrainConfig.from_dict(config["train"]),
        )

    def __str__(self) -> str:
        return json.dumps(self.to_dict(), indent=4, default=str)


__all__ = ["ModelConfig", "OptimizerConfig", "SchedulerConfig", "TRLConfig", "TokenizerConfig", "TrainConfig"]
