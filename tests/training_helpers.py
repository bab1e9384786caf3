"""Shared by the training tests: one starter model per session, and running real training processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

REPO_ROOT = Path(__file__).resolve().parent.parent
# Small and fast on 2 CPU cores; the sample's texts fit in 256 tokens.
FAST = ["--max-length", "256", "--per-device-train-batch-size", "8"]
FAST_SETTINGS = dict(max_length=256, per_device_train_batch_size=8)  # the same, as TrainingSettings fields


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


def sft_config(max_steps: int, **training: Any):
    """A tiny SFT run of the starter on the bundled sample, logging every step (RunConfig, for a RunManager)."""
    from rlhf.runs.config import DataSettings, RunConfig, TrainingSettings

    return RunConfig(task="sft", model="starter", data=DataSettings(dataset="sample"),
                     training=TrainingSettings(max_steps=max_steps, logging_steps=1,
                                               **{**FAST_SETTINGS, **training}))


def wait_for(predicate: Callable[[], Any], timeout: float = 120.0, poll: float = 0.2, what: str = "condition"):
    """Poll until ``predicate()`` is truthy and return its value; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"{what} not reached in {timeout} s")


def run_processes(run: Path) -> dict[str, int]:
    """The pids of a run's supervisor and trainer from its ``process.json``, once both are recorded (else {})."""
    try:
        info = json.loads((Path(run) / "process.json").read_text())
    except (OSError, ValueError):
        return {}
    pids = {role: (info.get(role) or {}).get("pid") for role in ("supervisor", "trainer")}
    return pids if all(pids.values()) else {}
