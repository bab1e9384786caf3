"""What does rlhf add on top of plain TRL, and which SFT batching is fastest?

1. The same SFT run (starter model, bundled sample, fixed steps) through ``python -m rlhf train`` and through
   the plain TRL script ``python -m rlhf export-script`` prints for it, timed side by side, alternating, in one
   run. Both are whole processes, start to finish. Target: rlhf within 5% of plain TRL.
2. SFT throughput (tokens/s of training, from the trainer's own ``num_tokens`` and ``train_runtime``) with
   padded batches, with packing, and with padding-free batching.

    python benchmarks/train_overhead.py [--steps 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rlhf.runs.config import DataSettings, RunConfig, TrainingSettings  # noqa: E402


def run(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def throughput(run_dir: Path) -> float:
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    tokens = max(e["num_tokens"] for e in events if "num_tokens" in e and "eval_loss" not in e)
    runtime = next(e["train_runtime"] for e in events if "train_runtime" in e)
    return tokens / runtime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "rlhf.starter"], cwd=ROOT, env=env, check=True, capture_output=True)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        training = TrainingSettings(max_steps=args.steps, max_length=256, per_device_train_batch_size=8,
                                    logging_steps=10, save_steps=10_000)
        config = RunConfig(task="sft", model="starter", output_dir=str(tmp / "rlhf-run"),
                           data=DataSettings(dataset="sample", train_size=1.0), training=training)
        config_path = config.save(tmp / "run.yaml")
        script = tmp / "plain_trl.py"
        subprocess.run([sys.executable, "-m", "rlhf", "export-script", "--config", str(config_path), "--output",
                        str(script)], cwd=ROOT, env=env, check=True, capture_output=True)
        script.write_text(script.read_text().replace(repr(str(tmp / "rlhf-run")), repr(str(tmp / "trl-run"))))

        ours, plain = [], []
        for _ in range(args.repeat):
            ours.append(run([sys.executable, "-m", "rlhf", "train", "--config", str(config_path)], env))
            plain.append(run([sys.executable, str(script)], env))
        ours_s, plain_s = statistics.median(ours), statistics.median(plain)
        print(f"SFT, starter model, sample data, {args.steps} steps; median of {args.repeat} alternating runs")
        print(f"  python -m rlhf train    {ours_s:6.2f} s   {[round(t, 2) for t in ours]}")
        print(f"  plain TRL script        {plain_s:6.2f} s   {[round(t, 2) for t in plain]}")
        print(f"  ratio rlhf / TRL        {ours_s / plain_s:6.3f}")

        print("SFT throughput (training tokens per second, trainer's own count)")
        for label, settings in (("padded batches", {"packing": False}),
                                ("packing (bfd)", {"packing": True}),
                                ("packing (wrapped)", {"packing": True, "extra": {"packing_strategy": "wrapped"}})):
            variant = RunConfig(task="sft", model="starter", output_dir=str(tmp / label.split()[0] / label[-6:-1]),
                                data=DataSettings(dataset="sample"),
                                training=TrainingSettings(max_steps=args.steps, max_length=256,
                                                          per_device_train_batch_size=8, logging_steps=10,
                                                          save_steps=10_000, **settings))
            path = variant.save(Path(variant.output_dir + ".yaml"))
            run([sys.executable, "-m", "rlhf", "train", "--config", str(path)], env)
            print(f"  {label:<18} {throughput(Path(variant.output_dir)):9.0f} tokens/s")
        print("  (packing is only exact with flash-attention kernels: with SDPA/eager attention, packed examples attend\n"
              "   to each other, so rlhf packs by default only on CUDA with flash-attn installed)")


if __name__ == "__main__":
    main()
