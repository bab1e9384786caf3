"""Every registered task (and RL algorithm) on the presets, on this CPU: does it train, how fast, how much memory,
and how far the memory plan is from the measured peak.

For each preset (``rlhf build-model``: the real dimensions, random weights) and each trainer the task registry
declares (pre-training, SFT, RM, DPO, KTO, ORPO, GRPO, RLOO, PPO, and whatever is added later), one or two steps
through ``python -m rlhf train`` and ``rlhf estimate`` for the same flags. Printed, not asserted: a table of
task, preset, seconds per step, peak MB (``peak_memory_mb`` in metrics.json: max RSS), the estimate and its error.
A run that fails is a row saying so, with the end of its stderr below the table.

    nice python benchmarks/presets_all_tasks.py [--presets gpt2-124m smollm2-135m] [--tasks kto orpo] [--steps 1]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scale import COMMON, preset_models, preset_options, rlhf_side, run

# RL's rollouts kept short, as in scale.py: the point is the code path and the peak, not the learning
RL_FLAGS = {"grpo": ("--num-generations", "2", "--max-completion-length", "16"),
            "rloo": ("--num-generations", "2", "--max-completion-length", "16"),
            "ppo": ("--batch-size", "2", "--mini-batch-size", "1", "--num-ppo-epochs", "1",
                    "--max-completion-length", "16")}


def trainers() -> dict[str, tuple[str, ...]]:
    """Each trainer of each registered task, by a short name, with the flags that select it."""
    from rlhf.tasks.registry import specs

    found: dict[str, tuple[str, ...]] = {}
    for spec in specs():
        for variant in spec.trainers:
            if not variant:
                found[spec.name] = ("--task", spec.name)
                continue
            option = "--" + spec.variant_field.split(".")[-1].replace("_", "-")
            found[variant] = ("--task", spec.name, option, variant, *RL_FLAGS.get(variant, ()))
    return found


def measure(preset: str, name: str, flags: tuple[str, ...], model: Path, work: Path, steps: int,
            env: dict[str, str]) -> dict:
    from rlhf.tasks.registry import spec

    run_dir = work / f"{preset}-{name}"
    command = [*flags, "--model", str(model), *COMMON, "--max-steps", str(steps)]
    if spec(flags[1]).rewarded:
        command += ["--reward-func", str(work / "reward.py")]
    estimate = json.loads(run([sys.executable, "-m", "rlhf", "estimate", *command], env).stdout)
    run([sys.executable, "-m", "rlhf", "train", "--output-dir", str(run_dir), *command], env)
    measured = rlhf_side(run_dir)
    peak = measured["peak_memory_mb"]
    return {"task": name, "preset": preset, "steps": measured["steps"],
            "step_s": measured["train_runtime"] / max(1, measured["steps"]), "peak_mb": peak,
            "estimate_mb": estimate["total_mb"], "error": (estimate["total_mb"] - peak) / peak,
            "parts": estimate["parts"]}


def table(rows: list[dict]) -> str:
    head = "| task | preset | s/step | peak MB | estimate MB | error |\n|---|---|---|---|---|---|"
    lines = []
    for r in rows:
        if "failed" in r:
            lines.append(f"| {r['task']} | {r['preset']} | failed | | | |")
        else:
            lines.append(f"| {r['task']} | {r['preset']} | {r['step_s']:.1f} | {r['peak_mb']:,.0f} | "
                         f"{r['estimate_mb']:,} | {r['error']:+.1%} |")
    return "\n".join([head, *lines])


def main() -> int:
    names = trainers()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", default=list(names), choices=list(names))
    args = preset_options(parser, steps=1).parse_args()
    rows, failures = [], []
    for preset, model, work, env in preset_models(args, "rlhf-all-tasks-"):
        for name in args.tasks:
            try:
                rows.append(measure(preset, name, names[name], model, work, args.steps, env))
                print(json.dumps(rows[-1]), flush=True)
            except (RuntimeError, ValueError, KeyError) as error:
                rows.append({"task": name, "preset": preset, "failed": True})
                failures.append(f"{preset} {name}: {error}")
                print(failures[-1], file=sys.stderr, flush=True)
    print(table(rows))
    for failure in failures:
        print(f"\n{failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
