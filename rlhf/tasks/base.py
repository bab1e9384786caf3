"""What every task shares: hardware-aware defaults, TRL config building, LoRA, datasets and callbacks.

A task module only says what is specific to it: which prepared rows it trains on, its defaults, and which TRL
trainer (or our PPO) to build. Everything else is here, once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from rlhf.errors import ConfigError
from rlhf.runs.config import RunConfig


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


# Learning rates for the tiny starter model: TRL's defaults suit billion-parameter models and barely move a
# 1M-parameter one in a few dozen steps.
STARTER_LEARNING_RATES = {"pretrain": 1e-3, "sft": 1e-3, "rm": 5e-4, "dpo": 5e-4, "rl": 2e-4}
LORA_LEARNING_RATE_FACTOR = 10.0


@dataclass
class TaskContext:
    """Everything a task's ``build`` needs, already loaded and checked."""

    config: RunConfig
    model_path: str
    tokenizer: Any
    train_dataset: Any
    eval_dataset: Any
    hardware: Hardware
    callbacks: list = field(default_factory=list)
    is_starter: bool = False
    stop_flag: Any = None  # rlhf.tasks.callbacks.StopFlag, for trainers that are not transformers Trainers

    def default_learning_rate(self, trl_default: float) -> float:
        if self.is_starter:
            return STARTER_LEARNING_RATES[self.config.task]
        return trl_default * (LORA_LEARNING_RATE_FACTOR if self.config.lora.use_peft else 1.0)

    def trl_args(self, config_cls: type, trl_default_lr: float, **task_args: Any):
        """A TRL ``*Config`` from the run's settings: common fields, task defaults, then the user's ``extra``."""
        t, hw = self.config.training, self.hardware
        batch = t.per_device_train_batch_size or (8 if hw.device == "cuda" else 4)
        logging_steps = t.logging_steps or (1 if 0 < t.max_steps <= 200 else 10)
        args: dict[str, Any] = dict(
            output_dir=self.config.output_dir,
            run_name=self.config.run_name,
            learning_rate=t.learning_rate or self.default_learning_rate(trl_default_lr),
            per_device_train_batch_size=batch,
            per_device_eval_batch_size=t.per_device_eval_batch_size or batch,
            gradient_accumulation_steps=t.gradient_accumulation_steps,
            num_train_epochs=t.num_train_epochs,
            max_steps=t.max_steps,
            logging_steps=logging_steps,
            save_strategy="steps",
            save_steps=t.save_steps or 500,
            save_total_limit=t.save_total_limit,
            eval_strategy="steps" if (t.eval_steps and self.eval_dataset is not None) else "no",
            eval_steps=t.eval_steps,
            warmup_ratio=t.warmup_ratio,
            lr_scheduler_type=t.lr_scheduler_type,
            weight_decay=t.weight_decay,
            seed=t.seed,
            bf16=hw.bf16 if t.bf16 is None else t.bf16,
            use_cpu=hw.device == "cpu",
            report_to="none",
            disable_tqdm=True,
            dataloader_num_workers=0,
        )
        args.update(task_args)
        known = {f.name for f in dataclasses.fields(config_cls)}
        if t.gradient_checkpointing:  # transformers 5 renamed it; the run config keeps the familiar name
            args["activation_checkpointing" if "activation_checkpointing" in known else "gradient_checkpointing"] = True
        for name, value in t.extra.items():
            if name not in known:
                raise ConfigError(f"extra.{name}: not a {config_cls.__name__} argument.")
            args[name] = value
        args = {k: v for k, v in args.items() if k in known}
        try:
            return config_cls(**args)
        except (ValueError, TypeError) as error:
            raise ConfigError(f"training settings rejected by {config_cls.__name__}: {error}") from None

    def max_length(self, fallback: int = 1024) -> int:
        limit = getattr(self.tokenizer, "model_max_length", fallback) or fallback
        return self.config.training.max_length or min(fallback, int(limit) if limit < 1e9 else fallback)

    def peft_config(self, task_type: str, model=None):
        """LoRA settings, with the target modules checked against ``model`` so a typo fails with a clear message
        before training instead of deep inside PEFT."""
        lora = self.config.lora
        if not lora.use_peft:
            return None
        from peft import LoraConfig

        if model is not None and lora.lora_target_modules:
            names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
            missing = [t for t in lora.lora_target_modules if t not in names]
            if missing:
                import torch

                linear = sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                                 if isinstance(module, torch.nn.Linear) or type(module).__name__ == "Conv1D"})
                raise ConfigError(f"lora_target_modules: {', '.join(missing)} not found in {self.config.model}; its "
                                  f"linear layers are: {', '.join(linear)}.")
        return LoraConfig(r=lora.lora_r, lora_alpha=lora.lora_alpha, lora_dropout=lora.lora_dropout,
                          target_modules=lora.lora_target_modules or "all-linear", task_type=task_type)

    def dtype(self):
        import torch

        bf16 = self.hardware.bf16 if self.config.training.bf16 is None else self.config.training.bf16
        return torch.bfloat16 if bf16 else torch.float32
