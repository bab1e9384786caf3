"""TRLX's in-memory training data → rows in a JSONL file an rlhf run reads (plain columns, no formatting function).

- ``samples`` alone → SFT rows: strings are ``text`` rows (TRLX trained on all of them); ``[prompt, completion]``
  pairs are ``prompt``/``completion`` rows, the loss on the completion (as TRLX's SFT masked the prompt).
- ``samples`` + ``rewards`` → KTO rows: ``label`` is True for a reward above the median (see rlhf.compat.trlx);
  a string sample's prompt is the BOS token, TRLX's own shorthand (KTO needs a prompt).
- ``prompts`` (or TRLX's default, empty prompts: TRLX used the BOS token, which its reward_fn saw as ``""``) →
  RL prompt rows.

The file is named by its content under ``RLHF_DATA_DIR/trlx/``, so it outlives the script for Resume.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from pathlib import Path
from typing import Any, Sequence

from rlhf.compat.arguments import CompatArgumentError


def sft_rows(samples: Sequence[Any]) -> list[dict[str, str]]:
    pairs = [_pair(sample, i) for i, sample in enumerate(samples)]
    if all(prompt is None for prompt, _ in pairs):
        return [{"text": text} for _, text in pairs]
    if any(prompt is None for prompt, _ in pairs):
        first = next(i for i, (prompt, _) in enumerate(pairs) if prompt is None)
        raise CompatArgumentError(f"trlx.train: samples[{first}] is a string, but other samples are "
                                  "[prompt, completion] pairs; give all samples in one form.")
    return [{"prompt": prompt, "completion": completion} for prompt, completion in pairs]


def kto_rows(samples: Sequence[Any], rewards: Sequence[Any]) -> tuple[list[dict[str, Any]], float]:
    """KTO rows, desirable when the reward is above the median; returns the rows and that median."""
    if len(samples) != len(rewards):  # TRLX's own check and message
        raise ValueError(f"Number of samples {len(samples)} should match the number of rewards {len(rewards)}")
    values = []
    for i, reward in enumerate(rewards):
        value = reward.item() if hasattr(reward, "item") else reward
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise CompatArgumentError(f"trlx.train: rewards[{i}] is {reward!r:.60}; rewards must be finite numbers.")
        values.append(float(value))
    if not values:
        raise CompatArgumentError("trlx.train: samples and rewards are empty.")
    median = statistics.median(values)
    if all(value == values[0] for value in values):
        raise CompatArgumentError(f"trlx.train: every reward is {values[0]:g}, so no sample is better than another; "
                                  "offline training learns from rewards that differ.")
    rows = []
    for i, (sample, value) in enumerate(zip(samples, values)):
        prompt, completion = _pair(sample, i)
        rows.append({"prompt": prompt, "completion": completion, "label": value > median})
    return rows, median


def with_prompt(rows: list[dict[str, Any]], bos_token: str) -> list[dict[str, Any]]:
    """TRLX's shorthand: a string sample is ``(tokenizer.bos_token, sample)``."""
    return [{**row, "prompt": bos_token if row["prompt"] is None else row["prompt"]} for row in rows]


def prompt_rows(prompts: Sequence[Any]) -> list[dict[str, str]]:
    rows = []
    for i, prompt in enumerate(prompts):
        if isinstance(prompt, dict):
            extra = sorted(k for k in prompt if k != "prompt")
            if "prompt" not in prompt or extra:
                raise CompatArgumentError(
                    f"trlx.train: prompts[{i}] is a dict with keys {sorted(prompt)}; rlhf takes its 'prompt' only "
                    "(extra keys, which TRLX passed to reward_fn, are not supported).")
            prompt = prompt["prompt"]
        if not isinstance(prompt, str):
            raise CompatArgumentError(f"trlx.train: prompts[{i}] is {type(prompt).__name__}; prompts are strings.")
        rows.append({"prompt": prompt})
    if not rows:
        raise CompatArgumentError("trlx.train: prompts is empty.")
    return rows


def write_rows(rows: list[dict[str, Any]], kind: str) -> Path:
    from rlhf.paths import data_dir

    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    folder = data_dir() / "trlx"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}-{hashlib.sha256(text.encode()).hexdigest()[:16]}.jsonl"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return path.resolve()


def _pair(sample: Any, index: int) -> tuple[str | None, str]:
    """A string (no prompt) or a [prompt, completion] pair; anything else names the sample."""
    if isinstance(sample, str):
        return None, sample
    if isinstance(sample, (list, tuple)) and len(sample) == 2 and all(isinstance(s, str) for s in sample):
        return sample[0], sample[1]
    if isinstance(sample, (list, tuple)) and len(sample) > 2:
        raise CompatArgumentError(f"trlx.train: samples[{index}] has {len(sample)} parts; TRLX's multi-turn "
                                  "[prompt, output, prompt, output, …] samples are not supported: give "
                                  "[prompt, completion] pairs.")
    raise CompatArgumentError(f"trlx.train: samples[{index}] is {sample!r:.80}; a sample is a string or a "
                              "[prompt, completion] pair of strings.")
