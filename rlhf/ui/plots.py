"""A run's events → long-format DataFrames (``step``, ``value``, ``series``) for ``gr.LinePlot``.

Long format lets one plot show several curves (train and eval loss; chosen, rejected and margin) through the
plot's ``color`` column. Which metrics a plot shows follows TRL's own log names, so a new TRL metric with a
familiar name appears without changes here.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

PALETTE = ("#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04", "#db2777")

LOSS_KEYS = {"loss": "train loss", "eval_loss": "eval loss", "loss/policy": "policy loss",
             "loss/value": "value loss"}
# Vega-Lite cuts legend labels at 160 px (about 24 characters); the plots' legends cannot be widened from here,
# so series get short names: TRL's log names without their namespaces.
SERIES_NAMES = {"objective/rlhf_reward": "reward − KL", "objective/kl": "KL", "rewards/accuracies": "accuracy",
                "rewards/margins": "margin", "eval_rewards/accuracies": "eval accuracy",
                "eval_rewards/margins": "eval margin"}
LEGEND_CHARS = 22


def series_name(key: str) -> str:
    """A metric's name in a legend: a loss by what it is, ``rewards/<function>/mean`` by its function, at most
    :data:`LEGEND_CHARS` characters (the middle elided, so ``eval_`` and the end stay readable)."""
    name = LOSS_KEYS.get(key) or SERIES_NAMES.get(key)
    if name is None:
        name = key
        if name.startswith(("rewards/", "eval_rewards/")) and name.endswith("/mean"):
            name = name.replace("rewards/", "", 1).removesuffix("/mean")
        name = name.replace("eval_", "eval ", 1) if name.startswith("eval_") else name
    if len(name) > LEGEND_CHARS:
        keep = LEGEND_CHARS - 1
        name = name[:keep // 2] + "…" + name[-(keep - keep // 2):]
    return name


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _is_reward(key: str) -> bool:
    """GRPO/RLOO: the total and each reward function's mean; PPO: the reward, the KL-shaped total and the KL."""
    if key in ("reward", "eval_reward", "objective/rlhf_reward", "objective/kl", "kl"):
        return True
    return key.startswith("rewards/") and key.endswith("/mean")  # DPO's rewards/* have no /mean: see quality


def _is_quality(key: str) -> bool:
    """RM: accuracy and margin; DPO, KTO, ORPO: rewards/accuracies and rewards/margins; train and eval."""
    return key.removeprefix("eval_") in ("accuracy", "margin", "rewards/accuracies", "rewards/margins")


def color_map(df, column: str = "series") -> dict[str, str]:
    """A colour per series. Sending it with every update also makes the plot rebuild its legend when the
    series change (another run selected): the frontend redraws from scratch when ``color_map`` changes."""
    names = sorted(set(df[column]), key=lambda name: (name.startswith("eval"), name)) if len(df) else []
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def metric_rows(events: Iterable[dict[str, Any]], keep) -> list[dict[str, Any]]:
    rows = []
    for event in events:
        if "status" in event or "step" not in event:
            continue
        step = _number(event.get("step"))
        if step is None:
            continue
        for key, value in event.items():
            if key in ("step", "epoch", "time") or not keep(key):
                continue
            number = _number(value)
            if number is not None:
                rows.append({"step": step, "value": number, "series": series_name(key)})
    return rows


def drawable(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(curves, lone)``: a line plot draws nothing for a series with one point (an evaluation only at the end,
    the first one of several), so such points are kept apart and said in words (:func:`lone_caption`) rather
    than named in a legend with nothing drawn."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["series"]] = counts.get(row["series"], 0) + 1
    return ([r for r in rows if counts[r["series"]] > 1], [r for r in rows if counts[r["series"]] == 1])


PLOT_TITLES = {"loss": "Loss", "reward": "Reward (RL)", "quality": "Accuracy and margins"}


def not_recorded_caption(kept: list[str]) -> str | None:
    """Plots kept on the page from an earlier run (hiding a drawn plot breaks it in the browser) but empty for this
    run, named so that an empty frame is not read as a run that failed to learn."""
    if not kept:
        return None
    return " and ".join(f"*{PLOT_TITLES[name]}*" for name in kept) + ": not recorded by this run's task."


def lone_caption(lone: list[dict[str, Any]]) -> str | None:
    """The single-point series of a plot as text under it, e.g. "eval loss 2.465 at step 20"."""
    if not lone:
        return None
    evaluations = any(r["series"].startswith("eval") for r in lone)
    return " · ".join(f"{r['series']} {r['value']:.4g} at step {r['step']:g}" for r in lone) + \
        " (a single point so far, no line to draw" + ("; eval_steps sets how often the held-out rows are scored)"
                                                       if evaluations else ")")


def frame(rows: list[dict[str, Any]]):
    """Typed even when empty: the plot reads its axis types from the dtypes, and an empty object-typed frame
    would turn the axes into categories."""
    import pandas as pd

    return pd.DataFrame({"step": pd.Series([r["step"] for r in rows], dtype="float64"),
                         "value": pd.Series([r["value"] for r in rows], dtype="float64"),
                         "series": pd.Series([r["series"] for r in rows], dtype="object").astype(str)})


PLOTTED = {"loss": lambda k: k in LOSS_KEYS, "reward": _is_reward, "quality": _is_quality}


def run_rows(events: list[dict[str, Any]], task: str | None) -> dict[str, list[dict[str, Any]]]:
    """Each plot's rows (``loss``, ``reward``, ``quality``); none where the task's spec shows no such plot
    (:attr:`rlhf.tasks.spec.TaskSpec.plots`)."""
    from rlhf.tasks.spec import Plot
    from rlhf.ui.tasks import plots

    shown = {"loss", *(name for name, plot in (("reward", Plot.REWARD), ("quality", Plot.QUALITY))
                       if plot in plots(task))}
    return {name: metric_rows(events, keep) if name in shown else [] for name, keep in PLOTTED.items()}


def run_frames(events: list[dict[str, Any]], task: str | None) -> dict[str, Any]:
    """``{"loss": df, "reward": df, "quality": df}``; an empty frame (with the columns) where nothing was logged
    or where the task's spec shows no such plot."""
    return {name: frame(rows) for name, rows in run_rows(events, task).items()}


def histogram(lengths: dict[str, list[int]], bins: int = 20):
    """Token lengths → a bar-chart frame: ``tokens`` (bin label), ``rows``, ``column``; bins shared by series."""
    import pandas as pd

    values = [v for series in lengths.values() for v in series]
    if not values:
        return pd.DataFrame(columns=["tokens", "rows", "column"])
    low, high = min(values), max(values)
    width = max(1, math.ceil((high - low + 1) / bins))
    records = []
    for column, series in lengths.items():
        counts: dict[int, int] = {}
        for v in series:
            counts[(v - low) // width] = counts.get((v - low) // width, 0) + 1
        for index in range((high - low) // width + 1):
            start = low + index * width
            label = f"{start}" if width == 1 else f"{start}–{start + width - 1}"
            records.append({"tokens": label, "order": index, "rows": counts.get(index, 0), "column": column})
    df = pd.DataFrame(records).sort_values(["order", "column"]).drop(columns="order")
    return df
