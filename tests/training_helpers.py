"""Shared by the training tests: one starter model per session, and running real training processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = "### Instruction: {instruction}\n\n### Context: {context}\n\n### Response: {response}"
# Small and fast on 2 CPU cores; the sample's texts fit in 256 tokens.
FAST = ["--max-length", "256", "--per-device-train-batch-size", "8"]


def env_with_cache(cache: Path) -> dict[str, str]:
    env = dict(os.environ, RLHF_CACHE_DIR=str(cache), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
    return env


def train(cache: Path, out: Path, *flags: str, check: bool = True) -> subprocess.CompletedProcess:
    """``python -m rlhf train`` as a user runs it; returns the finished process."""
    done = subprocess.run([sys.executable, "-m", "rlhf", "train", "--output-dir", str(out), *flags],
                          cwd=REPO_ROOT, env=env_with_cache(cache), capture_output=True, text=True, timeout=600)
    if check and done.returncode != 0:
        raise AssertionError(f"training failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done


def events(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines() if line.strip()]


def series(run: Path, name: str) -> list[float]:
    return [e[name] for e in events(run) if isinstance(e.get(name), (int, float)) and "train_runtime" not in e]


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def statuses(run: Path) -> list[str]:
    return [e["status"] for e in events(run) if "status" in e]
