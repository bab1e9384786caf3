"""Real architectures on this CPU: rlhf against the plain TRL script it exports, and the memory plan against
the measured peak.

For each preset (``rlhf build-model``: the real dimensions, random weights) and each of SFT, DPO, GRPO and PPO, a
few steps through ``python -m rlhf train`` and through the script ``python -m rlhf export-script`` writes for the
same run, one after the other, in one invocation. Printed, not asserted:

* step time ratio, rlhf / plain TRL (goal <= 1.05): each side's own ``train_runtime`` over its steps;
* peak memory ratio, rlhf / plain TRL (goal <= 1.10): max RSS of each process (``peak_memory_mb`` in rlhf's
  metrics.json; ``getrusage`` in the wrapper that runs the script);
* estimate error (goal <= 25%): ``rlhf estimate`` for the run's config.yaml against rlhf's measured peak.

    nice python benchmarks/scale.py [--presets gpt2-124m smollm2-135m] [--tasks sft dpo grpo ppo] [--steps 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
COMMON = ("--dataset", "sample", "--train-size", "1.0", "--max-length", "64", "--per-device-train-batch-size", "2",
          "--save-steps", "1000")
TASK_FLAGS = {
    "sft": ("--task", "sft"),
    "dpo": ("--task", "dpo"),
    "grpo": ("--task", "rl", "--algorithm", "grpo", "--num-generations", "2", "--max-completion-length", "16"),
    "ppo": ("--task", "rl", "--algorithm", "ppo", "--batch-size", "2", "--mini-batch-size", "1",
            "--num-ppo-epochs", "1", "--max-completion-length", "16"),
}
REWARD = "def reward_func(completions, **kwargs):\n    return [len(c) / 10 for c in completions]\n"
# Runs the exported script's module (run_name != "__main__": it stops with `trainer` built), trains it, and
# prints its train_runtime, steps and the process's max RSS as one JSON line.
PLAIN = """
import json, resource, runpy, sys, time
scope = runpy.run_path(sys.argv[1], run_name="exported")
trainer = scope["trainer"]
started = time.perf_counter()
result = trainer.train()
runtime = time.perf_counter() - started
steps = getattr(getattr(trainer, "state", None), "global_step", None) or getattr(trainer, "global_step", 0)
print(json.dumps({"train_runtime": runtime, "steps": steps,
                  "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(command: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:6])} … failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done


def rlhf_side(run_dir: Path) -> dict:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines() if line.strip()]
    runtime = next((e["train_runtime"] for e in events if "train_runtime" in e), metrics.get("train_runtime"))
    return {"train_runtime": float(runtime), "steps": metrics["global_step"], "peak_memory_mb": metrics["peak_memory_mb"]}


def measure(preset: str, task: str, model: Path, work: Path, steps: int, env: dict[str, str]) -> dict:
    run_dir = work / f"{preset}-{task}"
    flags = [*TASK_FLAGS[task], "--model", str(model), *COMMON, "--max-steps", str(steps)]
    if task in ("grpo", "ppo"):
        flags += ["--reward-func", str(work / "reward.py")]
    estimate = json.loads(run([sys.executable, "-m", "rlhf", "estimate", *flags], env).stdout)
    run([sys.executable, "-m", "rlhf", "train", "--output-dir", str(run_dir), *flags], env)
    mine = rlhf_side(run_dir)
    script = work / f"{preset}-{task}.py"
    run([sys.executable, "-m", "rlhf", "export-script", "--config", str(run_dir / "config.yaml"), "--output",
         str(script)], env)
    # the exported script writes to a folder beside where it runs: the work folder, not the repository
    plain = json.loads(run([sys.executable, "-c", PLAIN, str(script)], env, cwd=work).stdout.strip().splitlines()[-1])
    step, plain_step = mine["train_runtime"] / max(1, mine["steps"]), plain["train_runtime"] / max(1, plain["steps"])
    return {"preset": preset, "task": task, "steps": mine["steps"], "rlhf_step_s": step, "plain_step_s": plain_step,
            "step_ratio": step / plain_step, "rlhf_peak_mb": mine["peak_memory_mb"],
            "plain_peak_mb": plain["peak_memory_mb"], "memory_ratio": mine["peak_memory_mb"] / plain["peak_memory_mb"],
            "estimate_mb": estimate["total_mb"],
            "estimate_error": (estimate["total_mb"] - mine["peak_memory_mb"]) / mine["peak_memory_mb"]}


def table(rows: list[dict]) -> str:
    head = ("| preset | task | steps | step s rlhf | step s TRL | ratio | peak MB rlhf | peak MB TRL | ratio | "
            "estimate MB | error |\n|---|---|---|---|---|---|---|---|---|---|---|")
    lines = [f"| {r['preset']} | {r['task']} | {r['steps']} | {r['rlhf_step_s']:.1f} | {r['plain_step_s']:.1f} | "
             f"{r['step_ratio']:.2f} | {r['rlhf_peak_mb']:,.0f} | {r['plain_peak_mb']:,.0f} | {r['memory_ratio']:.2f} | "
             f"{r['estimate_mb']:,} | {r['estimate_error']:+.1%} |" for r in rows]
    return "\n".join([head, *lines])


def preset_options(parser: argparse.ArgumentParser, steps: int) -> argparse.ArgumentParser:
    """The flags the preset benchmarks share: which presets, how many steps, a folder of built presets to reuse."""
    parser.add_argument("--presets", nargs="+", default=["gpt2-124m", "smollm2-135m"])
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--models", default=None, help="a folder of built presets to reuse (else built here)")
    return parser


def preset_models(args: argparse.Namespace, prefix: str) -> Iterator[tuple[str, Path, Path, dict[str, str]]]:
    """Each preset with its model folder (built on first use), the work folder (reward.py in it) and the env."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        work = Path(tmp)
        (work / "reward.py").write_text(REWARD)
        models = Path(args.models) if args.models else work / "models"
        for preset in args.presets:
            model = models / preset
            if not (model / "config.json").exists():
                run([sys.executable, "-m", "rlhf", "build-model", "--preset", preset, "--output", str(model)], env)
            yield preset, model, work, env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASK_FLAGS), choices=list(TASK_FLAGS))
    args = preset_options(parser, steps=2).parse_args()
    rows = []
    for preset, model, work, env in preset_models(args, "rlhf-scale-"):
        for task in args.tasks:
            try:
                rows.append(measure(preset, task, model, work, args.steps, env))
                print(json.dumps(rows[-1]), flush=True)
            except RuntimeError as error:
                print(f"{preset} {task}: {error}", file=sys.stderr, flush=True)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
