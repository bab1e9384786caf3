"""RunConfig: everything one run needs, saved as ``config.yaml`` beside the run and loadable back.

Field names are TRL's and transformers' own (``learning_rate``, ``per_device_train_batch_size``, ``max_steps``,
``beta``, ``num_generations``, ``use_peft``, ``lora_r`` …) so a user can move between this app and a TRL script
without translating. ``None`` means "the task's default for this model and hardware": the run's plan
(:func:`rlhf.tasks.plan.resolve`, saved as ``plan.json`` beside ``config.yaml``) says what that was. Defaults and
help text live here once, as field metadata. No secret is ever a field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from rlhf.errors import ConfigError


def setting(default: Any = None, help: str = "", factory: Any = None) -> Any:
    """A run setting: its default and its help text, in one place (``--help``, the Train tab and docs read them)."""
    if factory is not None:
        return field(default_factory=factory, metadata={"help": help})
    return field(default=default, metadata={"help": help})


def field_default(f: Any) -> Any:
    """A dataclass field's default (a fresh value from its factory); None for a field without one."""
    if f.default is not dataclasses.MISSING:
        return f.default
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else None


TASK_DEFAULT = "unset: the task's default for this model and hardware"


@dataclass
class DataSettings:
    """Where the rows come from: a dataset plus the formatting function that turns records into rows."""

    dataset: str = setting("sample", "a Hub dataset id, a local JSONL/JSON/CSV/Parquet file or folder, or 'sample'")
    dataset_config: str | None = setting(None, "the Hub dataset's configuration (subset)")
    split: str = setting("train", "the dataset split to read")
    formatting_func: str | None = setting(None, "a .py file with the formatting function (Argilla's formatting_func)")
    formatting_code: str | None = setting(None, "or the formatting function's source text (the app's editor)")
    function: str = setting("formatting_func", "the function's name in that file")
    train_size: float = setting(0.9, "share of rows for training, the rest for evaluation (1.0: no evaluation)")
    split_seed: int = setting(42, "seed of the train/test split (datasets' train_test_split)")
    timeout: float = setting(60.0, "seconds the formatting (and reward) function may run")
    memory_limit_mb: int = setting(4096, "memory the formatting (and reward) function may use, in MB")


@dataclass
class TrainingSettings:
    """transformers ``TrainingArguments`` / TRL ``*Config`` fields; ``extra`` passes any other one through."""

    learning_rate: float | None = setting(None, f"{TASK_DEFAULT} (the starter's tuned rate, TRL's otherwise)")
    per_device_train_batch_size: int | None = setting(None, f"rows per step and device; {TASK_DEFAULT}")
    per_device_eval_batch_size: int | None = setting(None, "rows per evaluation batch; unset: the training batch")
    gradient_accumulation_steps: int = setting(1, "steps whose gradients add up before an optimiser step")
    num_train_epochs: float = setting(1.0, "passes over the training rows (when max_steps is not set)")
    max_steps: int = setting(-1, "optimiser steps to train; -1: num_train_epochs decides")
    max_length: int | None = setting(None, "tokens per training sequence; unset: the tokenizer's limit, at most 1024")
    logging_steps: int | None = setting(None, "log every N steps; unset: 1 for short runs, 10 otherwise")
    save_steps: int | None = setting(None, "checkpoint every N steps; unset: 500 (PPO: at the end)")
    save_total_limit: int | None = setting(2, "checkpoints kept")
    eval_steps: int | None = setting(None, "evaluate every N steps (needs train_size < 1)")
    warmup_ratio: float = setting(0.0, "share of steps with a linear learning-rate warm-up")
    lr_scheduler_type: str = setting("linear", "learning-rate schedule (transformers' names)")
    weight_decay: float = setting(0.0, "AdamW weight decay")
    seed: int = setting(42, "random seed of the training")
    bf16: bool | None = setting(None, "bfloat16 mixed precision; unset: on where the GPU supports it")
    gradient_checkpointing: bool | None = setting(None, "recompute activations in the backward pass to save "
                                                        "memory; unset: on for TRL's trainers (TRL's default), off "
                                                        "for PPO")
    packing: bool | None = setting(None, "SFT: pack rows into full sequences; unset: only where it is exact "
                                         "(CUDA with flash-attn)")
    beta: float | None = setting(None, "DPO/KTO/ORPO/GRPO/RLOO: strength of the preference or KL term; unset: TRL's")
    loss_type: str | None = setting(None, "DPO/KTO: the loss (DPO: sigmoid, ipo, hinge, robust, apo_zero, …); "
                                          "unset: TRL's")
    # -- several processes and fast RL generation (rlhf.runs.launch; rlhf.tasks.rl) --
    num_processes: int | None = setting(None, "training processes (one per GPU) under accelerate launch; unset: "
                                              "every visible GPU (1 without CUDA; PPO always 1)")
    distributed: str = setting("ddp", "how several processes share the model: ddp, fsdp, deepspeed-zero2 or "
                                      "deepspeed-zero3 (the last three need CUDA)")
    use_vllm: bool = setting(False, "GRPO/RLOO: generate the rollouts with vLLM on the training GPU (TRL's colocate "
                                    "mode); needs CUDA and vllm installed")
    # -- precision and kernels (rlhf.tasks.plan resolves them; rlhf.runs.memory estimates with them) --
    attn_implementation: str | None = setting(None, "attention kernel: sdpa, flash_attention_2 (needs CUDA and "
                                                    "flash-attn) or eager; unset: flash_attention_2 where SFT packs, "
                                                    "else the model's default (sdpa)")
    use_liger_kernel: bool = setting(False, "Liger's fused Triton kernels (needs CUDA and liger-kernel); not for PPO")
    load_in_4bit: bool = setting(False, "QLoRA: the frozen base in 4-bit nf4 under LoRA adapters (needs use_peft, "
                                        "CUDA and bitsandbytes)")
    extra: dict[str, Any] = setting(help="any other argument of the task's TRL config, as JSON", factory=dict)


@dataclass
class LoraSettings:
    """TRL ``ModelConfig``'s PEFT fields."""

    use_peft: bool = setting(False, "train LoRA adapters instead of every weight")
    lora_r: int = setting(16, "LoRA rank")
    lora_alpha: int = setting(32, "LoRA scaling (alpha)")
    lora_dropout: float = setting(0.05, "dropout on the LoRA adapters")
    lora_target_modules: list[str] | None = setting(None, "layers to adapt; unset: every linear layer")


@dataclass
class RLSettings:
    """The RL stage: algorithm, reward sources, generation; PPO's knobs follow TRL's former PPOConfig and, left
    empty, take :class:`rlhf.tasks.ppo.PPOSettings`' defaults."""

    algorithm: str = setting("grpo", "RL algorithm: grpo, rloo or ppo")
    reward_models: list[str] = setting(help="reward models: finished rm runs, local folders or Hub ids (repeat the "
                                            "flag for several; rewards add up)", factory=list)
    reward_func: str | None = setting(None, "a .py file with a reward function f(completions, prompts=…, **kw)")
    reward_code: str | None = setting(None, "or the reward function's source text (the app's editor)")
    reward_function: str = setting("reward_func", "the reward function's name")
    num_generations: int | None = setting(None, "GRPO/RLOO: completions per prompt; unset: 4 (2 on the starter)")
    max_completion_length: int | None = setting(None, "new tokens per completion; unset: 32 on the starter, 256 "
                                                      "otherwise")
    temperature: float = setting(1.0, "sampling temperature of the rollouts")
    min_new_tokens: int | None = setting(None, "PPO: the length sampler's lower bound; unset: a quarter of the max")
    max_new_tokens: int | None = setting(None, "PPO: the length sampler's upper bound; unset: max_completion_length")
    generation_kwargs: dict[str, Any] = setting(help="extra generate() arguments for the rollouts, as JSON",
                                                factory=dict)
    kl_coef: float | None = setting(None, "PPO: KL penalty to the reference model; unset: PPOSettings' 0.05")
    cliprange: float | None = setting(None, "PPO: policy clip range; unset: 0.2")
    cliprange_value: float | None = setting(None, "PPO: value clip range; unset: 0.2")
    vf_coef: float | None = setting(None, "PPO: value-loss weight; unset: 0.1")
    gamma: float | None = setting(None, "PPO: discount; unset: 1.0")
    lam: float | None = setting(None, "PPO: GAE lambda; unset: 0.95")
    num_ppo_epochs: int | None = setting(None, "PPO: optimisation passes over each batch of rollouts; unset: 4")
    batch_size: int | None = setting(None, "PPO: rollouts per step (the seed's PPOConfig(batch_size=…)); unset: 16 "
                                           "on the starter and on GPU, 8 on CPU")
    mini_batch_size: int | None = setting(None, "PPO: rollouts per optimisation minibatch; unset: a quarter")
    whiten_rewards: bool = setting(False, "PPO: whiten the scores over each batch")


@dataclass
class RunConfig:
    task: str = setting(help="what to train: one of the registered tasks")
    model: str = setting("starter", "a Hub id, a local model folder, a finished run, or 'starter'")
    output_dir: str = setting("", "the run folder")
    run_name: str | None = setting(None, "a name to show for the run")
    from_scratch: bool = setting(False, "pre-training: fresh weights with the model's architecture")
    resume_from_checkpoint: bool = setting(False, "continue from the run folder's last checkpoint")
    # -- where the run trains: this machine or a Ray cluster (rlhf.runs.ray_backend) --
    backend: str = setting("local", "where the run trains: local (this machine) or ray (a Ray cluster, as a Ray job)")
    ray_address: str | None = setting(None, "Ray: the cluster's dashboard address (http://HEAD:8265, as for 'ray job "
                                            "submit'); unset: $RLHF_RAY_ADDRESS")
    num_workers: int = setting(1, "Ray: data-parallel training workers (Ray Train), spread over the nodes")
    use_gpu: bool = setting(False, "Ray: each worker trains on one GPU")
    resources_per_worker: dict[str, Any] = setting(help="Ray: resources each worker reserves, as JSON (e.g. "
                                                        "'{\"CPU\": 2}'); unset: 1 CPU, plus 1 GPU with use_gpu",
                                                   factory=dict)
    data: DataSettings = field(default_factory=DataSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    lora: LoraSettings = field(default_factory=LoraSettings)
    rl: RLSettings = field(default_factory=RLSettings)

    def validate(self) -> "RunConfig":
        """Cheap checks that name the field at fault, before any model or data is loaded."""
        from rlhf.tasks.registry import spec

        task = spec(self.task)  # an unknown task: the error names the known ones
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
        if task.variant_field and task.variant(self) not in task.trainers:
            name = task.variant_field.split(".")[-1]
            raise ConfigError(f"{name}: unknown {task.name} {name} '{task.variant(self)}'; choose one of "
                              f"{', '.join(task.trainers)}.")
        for name, allowed in task.options.items():
            value = getattr(self.training, name)
            if value is not None and value not in allowed:
                raise ConfigError(f"{name}: '{value}' is not a {task.name} {name}; choose one of {', '.join(allowed)}.")
        if self.training.loss_type is not None and "loss_type" not in task.options:
            raise ConfigError(f"loss_type: the {task.name} task has no loss_type to choose.")
        if task.rewarded and not (self.rl.reward_models or self.rl.reward_func or self.rl.reward_code):
            raise ConfigError("reward_model / reward_func: RL needs at least one reward model or reward function.")
        from rlhf.runs import launch

        launch.validate(self)  # num_processes, distributed, use_vllm
        from rlhf.runs import ray_backend

        ray_backend.validate(self)  # backend, ray_address, num_workers, resources_per_worker
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
        from rlhf.tasks.registry import task_names

        raise ConfigError("task: missing; choose one of " + ", ".join(task_names()) + ".")
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
