"""Resolve once: a run config → the :class:`TrainPlan` that training, the exported script and the card all read.

A run config leaves most settings empty ("the task's default for this hardware"). :func:`resolve` fills them in
one place: the model's folder, the dtype, the exact keyword arguments of the task's TRL ``*Config`` (or of our
PPO's settings), LoRA, and what the trainer is given. ``rlhf train`` builds its trainer from the plan and writes
it to ``plan.json``; ``export-script`` prints the same arguments; the Train tab and the model card show them.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlhf.errors import ConfigError
from rlhf.runs.config import RunConfig, field_default
from rlhf.tasks.spec import TaskSpec, Trainer

LORA_LEARNING_RATE_FACTOR = 10.0  # LoRA trains a small adapter: TRL's full-model rates barely move it
CALLBACKS = ("EventsCallback", "StopCallback")  # metrics to events.jsonl; SIGTERM stops with a checkpoint


@dataclass(frozen=True)
class Hardware:
    device: str  # "cuda" | "mps" | "cpu"
    gpus: int
    bf16: bool

    @classmethod
    def detect(cls) -> "Hardware":
        import torch

        if torch.cuda.is_available():
            return cls("cuda", torch.cuda.device_count(), torch.cuda.is_bf16_supported())
        return cls("cpu", 0, False)


CPU = Hardware("cpu", 0, False)


class Defaults(str, enum.Enum):
    """Whose defaults fill the settings a run leaves empty. TRL's suit billion-parameter models; on the
    1M-parameter starter (and every run trained from it) they barely move the weights, so the task's
    ``starter_learning_rate`` and ``starter_args`` apply there."""

    STARTER = "starter"  # the model is the starter or descends from it (see rlhf.runs.lineage)
    MODEL = "model"  # any other model: TRL's defaults

    @classmethod
    def of(cls, model: str) -> "Defaults":
        from rlhf.runs.lineage import derives_from_starter

        return cls.STARTER if derives_from_starter(model) else cls.MODEL


@dataclass
class Resolver:
    """What a task's ``resolve`` may look at: the settings, the hardware and the model, never data or weights."""

    config: RunConfig
    spec: TaskSpec
    hardware: Hardware
    defaults_for: Defaults
    model_max_length: int | None = None  # the tokenizer's limit, when it has one

    @property
    def starter_defaults(self) -> bool:
        """Whether the starter's defaults apply (the model is the starter or was trained from it)."""
        return self.defaults_for is Defaults.STARTER

    @property
    def trainer(self) -> Trainer:
        return self.spec.trainer(self.config)

    @property
    def has_eval(self) -> bool:
        return self.config.data.train_size < 1  # prepare splits off a test set exactly then

    def default_learning_rate(self) -> float:
        if self.starter_defaults:
            return self.trainer.starter_learning_rate or self.spec.starter_learning_rate
        factor = LORA_LEARNING_RATE_FACTOR if self.config.lora.use_peft else 1.0
        return self.trainer.default_learning_rate * factor

    def learning_rate(self) -> float:
        return self.config.training.learning_rate or self.default_learning_rate()

    def starter_args(self) -> dict[str, Any]:
        """The task's ``starter_args``, less any the user set: one named like a training setting (such as
        ``lr_scheduler_type``) applies only while that setting keeps its default."""
        t = self.config.training
        settings = {f.name: f for f in dataclasses.fields(t)}
        return {name: value for name, value in self.spec.starter_args.items()
                if name not in settings or getattr(t, name) == field_default(settings[name])}

    def max_length(self, fallback: int = 1024) -> int:
        return max_length(self.config, self.model_max_length, fallback)

    def bf16(self) -> bool:
        t = self.config.training
        return self.hardware.bf16 if t.bf16 is None else t.bf16

    def fp16(self) -> bool:
        """Mixed precision on a GPU without bfloat16 (before Ampere): float16 autocast with loss scaling."""
        return self.hardware.device == "cuda" and not self.bf16() and self.config.training.bf16 is None

    def precision_args(self) -> dict[str, Any]:
        """Mixed precision (autocast over float32 master weights), TF32 matmuls where the GPU has them, Liger."""
        args: dict[str, Any] = {"fp16": self.fp16()}  # always said: the exported script merges it over hardware
        if self.hardware.device == "cuda" and self.hardware.bf16:
            args["tf32"] = True
        if self.config.training.use_liger_kernel:
            args["use_liger_kernel"] = True
        return args

    def trl_args(self, **task_args: Any) -> dict[str, Any]:
        """A TRL ``*Config``'s keyword arguments: common fields, the task's own, then the user's ``extra``;
        only the fields the config class has."""
        t, hw = self.config.training, self.hardware
        config_cls, _ = self.trainer.classes()
        batch = t.per_device_train_batch_size or (8 if hw.device == "cuda" else 4)
        args: dict[str, Any] = dict(
            output_dir=self.config.output_dir,
            run_name=self.config.run_name,
            learning_rate=self.learning_rate(),
            per_device_train_batch_size=batch,
            per_device_eval_batch_size=t.per_device_eval_batch_size or batch,
            gradient_accumulation_steps=t.gradient_accumulation_steps,
            num_train_epochs=t.num_train_epochs,
            max_steps=t.max_steps,
            logging_steps=t.logging_steps or (1 if 0 < t.max_steps <= 200 else 10),
            save_strategy="steps",
            save_steps=t.save_steps or 500,
            save_total_limit=t.save_total_limit,
            eval_strategy="steps" if (t.eval_steps and self.has_eval) else "no",
            eval_steps=t.eval_steps,
            warmup_ratio=t.warmup_ratio,
            lr_scheduler_type=t.lr_scheduler_type,
            weight_decay=t.weight_decay,
            seed=t.seed,
            bf16=self.bf16(),
            use_cpu=hw.device == "cpu",
            report_to="none",
            disable_tqdm=True,
            dataloader_num_workers=0,
        )
        if self.starter_defaults:
            args.update(self.starter_args())  # below the task's own arguments, which carry the user's settings
        args.update(task_args)
        known = {f.name for f in dataclasses.fields(config_cls)}
        # transformers 5 renamed it; the run config keeps the familiar name. Unset: TRL's default (on), said aloud
        checkpointing = True if t.gradient_checkpointing is None else t.gradient_checkpointing
        args["activation_checkpointing" if "activation_checkpointing" in known else "gradient_checkpointing"] = \
            checkpointing
        args.update(self.precision_args())
        for name, value in t.extra.items():
            if name not in known:
                raise ConfigError(f"extra.{name}: not a {config_cls.__name__} argument.")
            args[name] = value
        return {k: v for k, v in args.items() if k in known}


@dataclass
class TrainPlan:
    """One run, resolved: what trains, on what, with which exact arguments."""

    config: RunConfig
    spec: TaskSpec
    trainer: Trainer
    model_path: str
    hardware: Hardware
    defaults_for: Defaults  # whose defaults filled the empty settings
    dtype: str  # "float32" | "bfloat16"
    args: dict[str, Any]  # the trainer config's exact keyword arguments
    lora: dict[str, Any] | None  # LoraConfig's keyword arguments, or None for full fine-tuning
    model_max_length: int | None = None  # the tokenizer's limit, when it has one
    model_kwargs: dict[str, Any] = field(default_factory=dict)  # extra from_pretrained arguments
    callbacks: tuple[str, ...] = CALLBACKS
    _built: Any = field(default=None, repr=False, compare=False)

    def max_length(self, fallback: int = 1024) -> int:
        return max_length(self.config, self.model_max_length, fallback)

    @property
    def from_scratch(self) -> bool:
        return self.spec.from_scratch and self.config.from_scratch

    def trainer_config(self):
        """The trainer's config object (a TRL ``*Config``, or our ``PPOSettings``), built once from :attr:`args`."""
        if self._built is None:
            config_cls, _ = self.trainer.classes()
            try:
                self._built = config_cls(**self.args)
            except (ValueError, TypeError) as error:
                raise ConfigError(f"training settings rejected by {config_cls.__name__}: {error}") from None
        return self._built

    def torch_dtype(self):
        import torch

        return getattr(torch, self.dtype)

    def peft_config(self, model=None):
        """LoRA settings, with the target modules checked against ``model`` so a typo fails with a clear message
        before training instead of deep inside PEFT."""
        if self.lora is None:
            return None
        from peft import LoraConfig

        targets = self.config.lora.lora_target_modules
        if model is not None and targets:
            names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
            missing = [t for t in targets if t not in names]
            if missing:
                import torch

                linear = sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                                 if isinstance(module, torch.nn.Linear) or type(module).__name__ == "Conv1D"})
                raise ConfigError(f"lora_target_modules: {', '.join(missing)} not found in {self.config.model}; its "
                                  f"linear layers are: {', '.join(linear)}.")
        return LoraConfig(**self.lora)

    def to_dict(self) -> dict[str, Any]:
        """For ``plan.json``, the card and the Train tab: plain JSON values."""
        return {"task": self.spec.name, "description": self.spec.describe(self.config),
                "trainer": f"{self.trainer.module}.{self.trainer.trainer}",
                "config_class": f"{self.trainer.module}.{self.trainer.config}", "model": self.config.model,
                "model_path": self.model_path, "dtype": self.dtype, "device": self.hardware.device,
                "args": json.loads(json.dumps(self.args, default=str)), "lora": self.lora,
                "model_kwargs": self.model_kwargs, "callbacks": list(self.callbacks),
                "defaults_for": self.defaults_for.value}

    def save(self, path: str | Path, built_config: Any = None) -> None:
        """``plan.json``; with the config object the trainer was given, its full ``to_dict()`` beside the args."""
        data = self.to_dict()
        if built_config is not None:
            fields = built_config.to_dict() if hasattr(built_config, "to_dict") else dataclasses.asdict(built_config)
            data["trainer_config"] = json.loads(json.dumps(fields, default=str))
        Path(path).write_text(json.dumps(data, indent=2), encoding="utf-8")


def max_length(config: RunConfig, limit: int | None, fallback: int = 1024) -> int:
    """The run's ``max_length``, else the tokenizer's limit capped at ``fallback``."""
    return config.training.max_length or (min(fallback, int(limit)) if limit and limit < 1e9 else fallback)


def model_max_length(model_path: str) -> int | None:
    """The tokenizer's length limit from ``tokenizer_config.json``, without loading the tokenizer."""
    try:
        data = json.loads((Path(model_path) / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("model_max_length")
    return int(value) if isinstance(value, (int, float)) else None


ATTN_IMPLEMENTATIONS = ("sdpa", "flash_attention_2", "eager")


def weights_dtype(r: Resolver) -> str:
    """The dtype the model is loaded in. Full fine-tuning keeps float32 master weights and trains under bf16/fp16
    autocast (the trainer's ``bf16``/``fp16``); under LoRA the frozen base is stored in half precision."""
    half = r.bf16() or r.fp16()
    if not half or not r.config.lora.use_peft:
        return "float32"
    return "bfloat16" if r.bf16() else "float16"


def kernel_model_kwargs(r: Resolver) -> dict[str, Any]:
    """``from_pretrained`` arguments for the attention kernel and QLoRA's 4-bit base (a dict transformers turns
    into a ``BitsAndBytesConfig``: plain JSON for plan.json and the exported script)."""
    t, lora = r.config.training, r.config.lora
    kwargs: dict[str, Any] = {}
    if t.attn_implementation is not None:
        if t.attn_implementation not in ATTN_IMPLEMENTATIONS:
            raise ConfigError(f"attn_implementation: '{t.attn_implementation}' is not one of "
                              f"{', '.join(ATTN_IMPLEMENTATIONS)}.")
        kwargs["attn_implementation"] = t.attn_implementation
    if t.load_in_4bit:
        if not lora.use_peft:
            raise ConfigError("load_in_4bit: QLoRA trains LoRA adapters over the 4-bit base; set use_peft too.")
        kwargs["quantization_config"] = {
            "quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
            "bnb_4bit_use_double_quant": True,
            "bnb_4bit_compute_dtype": "bfloat16" if r.hardware.bf16 else "float16"}
    return kwargs


OPTIONAL_PACKAGES = {"bitsandbytes": "bitsandbytes", "liger-kernel": "liger_kernel", "flash-attn": "flash_attn",
                     "vllm": "vllm"}  # pip name → import name: kernels a run may ask for, none of them required


def optional_packages() -> dict[str, bool]:
    """Which optional kernel packages this machine has (found, not imported: importing vllm takes seconds)."""
    import importlib.util

    return {name: importlib.util.find_spec(module) is not None for name, module in OPTIONAL_PACKAGES.items()}


def check_machine(config: RunConfig, hardware: Hardware) -> None:
    """What this machine must have for the run's kernels: CUDA and the optional package each one needs."""
    import importlib.util

    t = config.training
    needs = [("load_in_4bit", t.load_in_4bit, "bitsandbytes", "QLoRA (4-bit nf4 base weights)"),
             ("attn_implementation", t.attn_implementation == "flash_attention_2", "flash_attn",
              "flash_attention_2"),
             ("use_liger_kernel", t.use_liger_kernel, "liger_kernel", "Liger kernels")]
    for name, wanted, package, what in needs:
        if not wanted:
            continue
        if hardware.device != "cuda":
            raise ConfigError(f"{name}: {what} needs a CUDA GPU, and this machine has none (device: "
                              f"{hardware.device}). Unset {name} to train here.")
        if importlib.util.find_spec(package) is None:
            raise ConfigError(f"{name}: {what} needs the optional package {package.replace('_', '-')}, which is not "
                              f"installed (pip install {package.replace('_', '-')}).")


def resolve(config: RunConfig, hardware: Hardware | None = None, model_path: str | None = None,
            max_length_limit: int | None = None) -> TrainPlan:
    """The run's plan. ``model_path`` is the folder ``from_pretrained`` reads (found from ``config.model`` when
    not given); ``max_length_limit`` the tokenizer's ``model_max_length`` (read from the folder when not given)."""
    from rlhf.tasks.registry import task_module

    config.validate()
    module = task_module(config.task)
    spec: TaskSpec = module.SPEC
    if model_path is None:
        from rlhf.tasks.models import resolve_model_path

        model_path = resolve_model_path(config.model, "model")
    detected = hardware is None  # resolving for this machine (a run, an estimate): what it lacks is an error
    hardware = hardware or Hardware.detect()
    resolver = Resolver(config, spec, hardware, Defaults.of(config.model),
                        max_length_limit if max_length_limit is not None else model_max_length(model_path))
    lora = config.lora
    peft = None if not lora.use_peft else dict(
        r=lora.lora_r, lora_alpha=lora.lora_alpha, lora_dropout=lora.lora_dropout,
        target_modules=lora.lora_target_modules or "all-linear", task_type=spec.model_kind.peft_task_type)
    args = module.resolve(resolver)
    model_kwargs = module.model_kwargs(resolver) if hasattr(module, "model_kwargs") else {}
    model_kwargs.update(kernel_model_kwargs(resolver))
    if detected:
        check_machine(config, hardware)
    return TrainPlan(config=config, spec=spec, trainer=resolver.trainer, model_path=str(model_path),
                     hardware=hardware, defaults_for=resolver.defaults_for,
                     dtype=weights_dtype(resolver), args=args, lora=peft,
                     model_max_length=resolver.model_max_length, model_kwargs=model_kwargs)
