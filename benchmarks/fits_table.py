"""The README's "Real models and GPUs" table: for each preset (its real configuration, real vocabulary) and task,
the first of full fine-tuning, LoRA and QLoRA whose memory estimate (rlhf.runs.memory) fits each GPU, with the
task's defaults on a GPU (batch 8, 1024 tokens; GRPO 4 completions of 256 tokens; PPO 16 rollouts in minibatches
of 4; gradient checkpointing as TRL's default, on; PPO off), else with smaller batches (the same rows per optimiser
step through gradient accumulation). Prints Markdown.

    python benchmarks/fits_table.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rlhf.models.presets import PRESETS  # noqa: E402
from rlhf.runs.config import RunConfig  # noqa: E402
from rlhf.runs.memory import estimate  # noqa: E402
from rlhf.tasks.plan import Hardware, resolve  # noqa: E402

GPUS = {"T4 16GB": (Hardware("cuda", 1, False), 15_360), "A10G 24GB": (Hardware("cuda", 1, True), 23_028),
        "A100 80GB": (Hardware("cuda", 1, True), 81_920)}
TASKS = {"SFT": ("sft", None), "RM": ("rm", None), "DPO": ("dpo", None), "GRPO": ("rl", "grpo"),
         "PPO": ("rl", "ppo")}
MODES = (("full", False, False), ("LoRA", True, False), ("QLoRA", True, True))
# the task's default batch first (None), then smaller ones with gradient accumulation (PPO: smaller minibatches);
# GRPO's batch is its group of completions, so it is not shrunk here
BATCHES = {None: (None, 4, 2, 1), "ppo": (None, 4, 2), "grpo": (None,)}


def config_for(task: str, algorithm: str | None, lora: bool, four_bit: bool, batch: int | None) -> RunConfig:
    config = RunConfig(task=task, model="preset", output_dir="out")
    config.lora.use_peft, config.training.load_in_4bit = lora, four_bit
    if batch is not None:  # smaller batches, the same rows per optimiser step
        config.training.per_device_train_batch_size = batch
        config.training.gradient_accumulation_steps = 8 // batch
        config.rl.batch_size, config.rl.mini_batch_size = 16, max(1, batch // 2)
    if algorithm:
        config.rl.algorithm = algorithm
        config.rl.reward_code = "def reward_func(completions, **kw):\n    return [0.0] * len(completions)\n"
    return config


def cell(preset, task: str, algorithm: str | None, hardware: Hardware, available: float) -> str:
    model_config = preset.config()
    for batch in BATCHES[algorithm]:
        for mode, lora, four_bit in MODES:
            plan = resolve(config_for(task, algorithm, lora, four_bit, batch), hardware=hardware,
                           model_path="preset", max_length_limit=preset.max_positions)
            answer = estimate(plan, model_config=model_config, available=available, suggest=False)
            if answer.fits:
                return f"{mode}{'' if batch is None else f', batch {batch}'} ({answer.total_mb / 1024:.1f} GB)"
    return f"no (QLoRA, batch 1: {answer.total_mb / 1024:.1f} GB)"


def main() -> int:
    print("| model | task | " + " | ".join(GPUS) + " |")
    print("|---|---|" + "---|" * len(GPUS))
    for name, preset in PRESETS.items():
        for label, (task, algorithm) in TASKS.items():
            cells = [cell(preset, task, algorithm, hardware, available) for hardware, available in GPUS.values()]
            print(f"| {name} | {label} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
