"""Helpers of benchmarks/gpu_check.sh: run an exported script and measure it, record a run, print the table.

    python benchmarks/gpu_check_run.py script SCRIPT.py OUT.json     # run it here (runpy), note time and memory
    python benchmarks/gpu_check_run.py record --name … --path rlhf|trl --run DIR …   # one results.jsonl line
    python benchmarks/gpu_check_run.py report results.jsonl           # the table

Figures: tokens/s is training tokens (TRL's ``num_tokens``) over the trainer's ``train_runtime``, or for RL the
rollout's generation rate (``rollout/tokens_per_second``); model FLOPs utilisation is ``6 · parameters · tokens/s``
over the GPU's dense bf16 peak (training tokens only; the table says n/a where none are counted).
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import sys
import time
from pathlib import Path

# Dense bf16 (fp16 for T4) peak FLOP/s by GPU name, from the vendors' data sheets (no sparsity).
PEAK_FLOPS = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "A10G": 125e12, "A10": 125e12, "L40S": 362e12,
              "L4": 121e12, "T4": 65e12, "V100": 125e12, "RTX 4090": 165e12, "RTX 3090": 71e12}


def run_script(script: str, out: str) -> int:
    """The exported script, in this process (so its peak GPU memory can be read), from its own folder."""
    import torch

    os.chdir(Path(script).resolve().parent)  # its OUTPUT_DIR is relative: <run>-export beside the script
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    sys.argv = [script]
    found = runpy.run_path(script, run_name="__main__")
    seconds = time.perf_counter() - started
    trainer = found.get("trainer")
    history = list(getattr(getattr(trainer, "state", None), "log_history", None)
                   or getattr(trainer, "log_history", None) or [])
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else _max_rss_mb()
    Path(out).write_text(json.dumps({"seconds": seconds, "peak_memory_mb": peak, "log_history": history},
                                    default=str))
    return 0


def _max_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _events(run: Path) -> list[dict]:
    try:
        lines = (run / "events.jsonl").read_text().splitlines()
    except OSError:
        return []
    return [json.loads(line) for line in lines if line.strip()]


def _parameters(model: str) -> int | None:
    try:
        from rlhf.tasks.models import resolve_model_path
        from transformers import AutoConfig, AutoModelForCausalLM

        config = AutoConfig.from_pretrained(resolve_model_path(model, "model"))
        import torch

        with torch.device("meta"):
            return sum(p.numel() for p in AutoModelForCausalLM.from_config(config).parameters())
    except Exception:  # a figure less, never a failed check
        return None


def _speed(history: list[dict]) -> tuple[float | None, float | None, float | None]:
    """(training tokens/s, rollout tokens/s, train_runtime) from a trainer's log lines."""
    runtime = next((h["train_runtime"] for h in history if "train_runtime" in h), None)
    tokens = max((h["num_tokens"] for h in history if isinstance(h.get("num_tokens"), (int, float))), default=None)
    rollout = [h["rollout/tokens_per_second"] for h in history
               if isinstance(h.get("rollout/tokens_per_second"), (int, float))]
    train_rate = tokens / runtime if tokens and runtime else None
    return train_rate, (sum(rollout) / len(rollout) if rollout else None), runtime


def record(args) -> int:
    run = Path(args.run)
    entry: dict = {"name": args.name, "path": args.path, "exit_code": args.code, "seconds": round(args.seconds, 1)}
    if args.path == "rlhf":
        history = [e for e in _events(run) if "status" not in e]
        try:
            metrics = json.loads((run / "metrics.json").read_text())
        except (OSError, ValueError):
            metrics = {}
        entry["peak_memory_mb"] = metrics.get("peak_memory_mb")
        try:
            entry["estimate_mb"] = json.loads(Path(args.estimate).read_text())["total_mb"]
        except (OSError, ValueError, KeyError, TypeError):
            entry["estimate_mb"] = None
    else:
        try:
            measured = json.loads(Path(args.script_json).read_text())
        except (OSError, ValueError):
            measured = {}
        history = measured.get("log_history", [])
        entry["peak_memory_mb"] = measured.get("peak_memory_mb")
    entry["train_tokens_per_s"], entry["rollout_tokens_per_s"], entry["train_runtime"] = _speed(history)
    entry["parameters"] = _parameters(args.model)
    print(json.dumps(entry))
    return 0


def _gpu_peak() -> tuple[str, float | None]:
    try:
        import torch

        if not torch.cuda.is_available():
            return "cpu", None
        name = torch.cuda.get_device_name(0)
    except Exception:
        return "?", None
    return name, next((flops for key, flops in PEAK_FLOPS.items() if key in name), None)


def _number(value, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def report(path: str) -> int:
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    device, peak = _gpu_peak()
    print(f"device: {device}; MFU against {_number(peak and peak / 1e12)} TFLOP/s dense bf16")
    header = f"{'run':<7}{'path':<6}{'exit':>5}{'wall s':>8}{'train s':>9}{'train tok/s':>13}{'rollout tok/s':>15}" \
             f"{'MFU':>7}{'peak MB':>10}{'estimate MB':>13}{'est. err':>10}"
    print(header)
    print("-" * len(header))
    for row in rows:
        if row.get("skipped"):
            print(f"{row['name']:<7}{row['path']:<6}  skipped: {row['skipped']}")
            continue
        rate, params = row.get("train_tokens_per_s"), row.get("parameters")
        mfu = 6 * params * rate / peak if (rate and params and peak) else None
        measured, estimate = row.get("peak_memory_mb"), row.get("estimate_mb")
        error = (estimate - measured) / measured if (measured and estimate) else None
        print(f"{row['name']:<7}{row['path']:<6}{row.get('exit_code', ''):>5}{_number(row.get('seconds'), 1):>8}"
              f"{_number(row.get('train_runtime'), 1):>9}{_number(rate):>13}{_number(row.get('rollout_tokens_per_s')):>15}"
              f"{'n/a' if mfu is None else f'{mfu:.1%}':>7}{_number(measured):>10}{_number(estimate):>13}"
              f"{'' if error is None else f'{error:+.0%}':>10}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    script = verbs.add_parser("script")
    script.add_argument("script")
    script.add_argument("out")
    rec = verbs.add_parser("record")
    for name in ("--name", "--path", "--run", "--model"):
        rec.add_argument(name, required=True)
    rec.add_argument("--code", type=int, default=0)
    rec.add_argument("--seconds", type=float, default=0.0)
    rec.add_argument("--estimate", default="")
    rec.add_argument("--script-json", default="")
    rep = verbs.add_parser("report")
    rep.add_argument("results")
    args = parser.parse_args()
    if args.verb == "script":
        return run_script(args.script, args.out)
    if args.verb == "record":
        return record(args)
    return report(args.results)


if __name__ == "__main__":
    sys.exit(main())
