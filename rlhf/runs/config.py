"""RunConfig: everything one run needs, saved as ``config.yaml`` beside the run and loadable back.

Field names are TRL's and transformers' own (``learning_rate``, ``per_device_train_batch_size``, ``max_steps``,
``beta``, ``num_generations``, ``use_peft``, ``lora_r`` …) so a user can move between this app and a TRL script
without translating. ``None`` means "the task's default for this hardware", filled in by :func:`resolve` and
written back, so a saved config always says what actually ran. No secret is ever a field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from rlhf import TASKS
from rlhf.errors import ConfigError

RL_ALGORITHMS = ("ppo", "grpo", "rloo")


@dataclass
class DataSettings:
    """Where the rows come from: a dataset plus the formatting function that turns records into rows."""

    dataset: str = "sample"
    dataset_config: str | None = None
    split: str = "train"
    formatting_func: str | None = None  # path to a .py file
    formatting_code: str | None = None  # or its source text (from the app's editor)
    function: str = "formatting_func"
    train_size: float = 0.9
    split_seed: int = 42
    timeout: float = 60.0
    memory_limit_mb: int = 4096


@dataclass
class TrainingSettings:
    """transformers ``TrainingArguments`` / TRL ``*Config`` fields; ``extra`` passes any other one through."""

    learning_rate: float | None = None
    per_device_train_batch_size: int | None = None
    per_device_eval_batch_size: int | None = None
    gradient_accumulation_steps: int = 1
    num_train_epochs: float = 1.0
    max_steps: int = -1
    max_length: int | None = None
    logging_steps: int | None = None
    save_steps: int | None = None
    save_total_limit: int | None = 2
    eval_steps: int | None = None
    warmup_ratio: float = 0.0
    lr_scheduler_type: str = "linear"
    weight_decay: float = 0.0
    seed: int = 42
    bf16: bool | None = None
    gradient_checkpointing: bool = False
    packing: bool | None = None
    beta: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoraSettings:
    """TRL ``ModelConfig``'s PEFT fields."""

    use_peft: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: list[str] | None = None  # None: every linear layer


@dataclass
class RLSettings:
    """The RL stage: algorithm, reward sources, generation; PPO's own knobs follow TRL's former PPOConfig."""

    algorithm: str = "grpo"
    reward_models: list[str] = field(default_factory=list)
    reward_func: str | None = None  # path to a .py file
    reward_code: str | None = None  # or its source text
    reward_function: str = "reward_func"
    num_generations: int | None = None
    max_completion_length: int | None = None
    temperature: float = 1.0
    min_new_tokens: int | None = None  # the seed's length sampler (PPO)
    max_new_tokens: int | None = None
    generation_kwargs: dict[str, Any] = field(default_factory=dict)
    kl_coef: float = 0.05
    cliprange: float = 0.2
    cliprange_value: float = 0.2
    vf_coef: float = 0.1
    gamma: float = 1.0
    lam: float = 0.95
    num_ppo_epochs: int = 4
    batch_size: int | None = None  # PPO rollouts per step (the seed's PPOConfig(batch_size=…))
    mini_batch_size: int | None = None
    whiten_rewards: bool = False


@dataclass
class RunConfig:
    task: str
    model: str = "starter"
    output_dir: str = ""
    run_name: str | None = None
    from_scratch: bool = False  # pre-training: fresh weights from the model's config
    resume_from_checkpoint: bool = False
    data: DataSettings = field(default_factory=DataSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    lora: LoraSettings = field(default_factory=LoraSettings)
    rl: RLSettings = field(default_factory=RLSettings)

    def validate(self) -> "RunConfig":
        """Cheap checks that name the field at fault, before any model or data is loaded."""
        if self.task not in TASKS:
            raise ConfigError(f"task: unknown task '{self.task}'; choose one of {', '.join(TASKS)}.")
        if not self.model:
            raise ConfigError("model: give a Hub id, a local path, a finished run folder or 'starter'.")
        if not self.output_dir:
            raise ConfigError("output_dir: where should the run be written?")
        t = self.training
        if t.learning_rate is not None and not t.learning_rate > 0:
            raise ConfigError(f"learning_rate: must be positive, got {t.learning_rate}.")
        if t.max_steps == 0 or (t.max_steps < 0 and not t.num_train_epochs > 0):
            raise ConfigError("max_steps / num_train_epochs: the run would train for zero steps.")
        for name in ("per_device_train_batch_size", "gradient_accumulation_steps", "max_length"):
            value = getattr(t, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name}: must be at least 1, got {value}.")
        if self.lora.use_peft:
            if self.lora.lora_r < 1:
                raise ConfigError(f"lora_r: the LoRA rank must be at least 1, got {self.lora.lora_r}.")
            if not 0 <= self.lora.lora_dropout < 1:
                raise ConfigError(f"lora_dropout: must be in [0, 1), got {self.lora.lora_dropout}.")
        if not 0 < self.data.train_size <= 1:
            raise ConfigError(f"train_size: must be in (0, 1], got {self.data.train_size}.")
        if self.task == "rl":
            if self.rl.algorithm not in RL_ALGORITHMS:
                raise ConfigError(f"algorithm: unknown RL algorithm '{self.rl.algorithm}'; choose one of "
                                  f"{', '.join(RL_ALGORITHMS)}.")
            if not (self.rl.reward_models or self.rl.reward_func or self.rl.reward_code):
                raise ConfigError("reward_model / reward_func: RL needs at least one reward model or reward function.")
        return self

    # -- YAML ------------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        return _build(cls, data, "")

    def save(self, path: str | Path) -> Path:
        import yaml

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True), encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "RunConfig":
        import yaml

        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise ConfigError(f"{path}: cannot read the run config ({error}).") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a run config is a YAML mapping.")
        return cls.from_dict(data)

    def replace(self, **changes: Any) -> "RunConfig":
        return dataclasses.replace(self, **changes)


def _build(cls: type, data: dict[str, Any], prefix: str):
    """Dict → nested dataclass; unknown keys are errors naming the key and the accepted ones."""
    known = {f.name: f for f in fields(cls)}
    unknown = [k for k in data if k not in known]
    if unknown:
        raise ConfigError(f"{prefix}{unknown[0]}: unknown setting; accepted: {', '.join(known)}.")
    values = {}
    for name, value in data.items():
        sub = _SECTIONS.get(name)
        if sub is not None and cls is RunConfig:
            values[name] = _build(sub, value or {}, f"{name}.")
        else:
            values[name] = value
    if cls is RunConfig and "task" not in values:
        raise ConfigError("task: missing; choose one of " + ", ".join(TASKS) + ".")
    return cls(**values)


_SECTIONS: dict[str, type] = {"data": DataSettings, "training": TrainingSettings, "lora": LoraSettings,
                              "rl": RLSettings}


def section_fields() -> list[tuple[str | None, dataclasses.Field]]:
    """Every settable field as (section, field): the CLI turns each into a flag of the same name."""
    out: list[tuple[str | None, dataclasses.Field]] = []
    for f in fields(RunConfig):
        if f.name in _SECTIONS:
            out += [(f.name, sub) for sub in fields(_SECTIONS[f.name])]
        else:
            out.append((None, f))
    return out
