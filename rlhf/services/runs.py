"""Runs for the app: a RunConfig built from plain settings (by their TRL names, typed as the CLI types its flags),
its resolved plan, and start / stop / resume / status / listing over :class:`rlhf.runs.manager.RunManager`.
No Gradio, no visitors: who may see or start a run is decided by :class:`rlhf.ui.api.Api`.
"""

from __future__ import annotations

import argparse
import functools
import json
import threading
import time
from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

from rlhf.errors import ConfigError

RUNS_TTL_S = 1.0
SAME_SUBMISSION_S = 2.0  # a second identical Start within this is a double-click, not a new run
PLANS_KEPT = 32
# Fields the settings dict may not set: the run's identity, its data and its code have their own arguments.
NOT_SETTABLE = ("task", "model", "output_dir", "formatting_func", "formatting_code", "function", "reward_func",
                "reward_code", "reward_function", "dataset", "dataset_config", "split")
# What stands for the reward function in a plan (:class:`Plans`): the plan does not depend on its code.
PLACEHOLDER_REWARD = SimpleNamespace(
    source="def reward_func(completions, **kwargs):\n    return [0.0] * len(completions)\n", function="reward_func")
# The public part of a run's metrics (see summary).
SUMMARY_METRICS = ("loss", "train_loss", "eval_loss", "reward", "objective/rlhf_reward", "accuracy", "eval_accuracy",
                   "rewards/accuracies", "rewards/margins", "margin", "learning_rate", "epoch")


# -- settings → RunConfig ------------------------------------------------------------------------------------------

def _kind(f) -> str:
    """A field's type, bare: ``int | None`` → ``int``, ``dict[str, Any]`` → ``dict``."""
    return str(f.type).replace(" | None", "").split("[")[0]


@functools.lru_cache(maxsize=1)
def _fields() -> dict[str, tuple[str | None, Any]]:
    from rlhf.runs.config import section_fields

    return {f.name: (section, f) for section, f in section_fields()}


@functools.lru_cache(maxsize=1)
def text_converters() -> dict[str, Callable[[str], Any]]:
    """How text becomes each kind of value (int, float, true|false, a JSON object): the converters of the CLI's
    flags (:func:`rlhf.runs.cli_args.add_run_arguments`), so ``--max-steps 3`` and ``{"max_steps": "3"}`` agree."""
    from rlhf.runs.cli_args import add_run_arguments

    parser = argparse.ArgumentParser(add_help=False)
    add_run_arguments(parser)
    kinds = {name: _kind(f) for name, (_, f) in _fields().items()}
    out: dict[str, Callable[[str], Any]] = {}
    for action in parser._actions:
        if callable(action.type) and action.dest in kinds:
            out.setdefault(kinds[action.dest], action.type)
    return out


def settable() -> list[str]:
    # ray_address: the app sends runs only to the cluster its operator configured (RLHF_RAY_ADDRESS)
    return sorted(n for n in _fields() if n not in ("task", "model", "output_dir", "ray_address"))


def coerce(name: str, value: Any) -> Any:
    """A JSON value → the type of the RunConfig field ``name`` (JSON has one number type, so a UI may send 3.0
    for an int; text goes through the CLI flag's converter)."""
    _, f = _fields()[name]
    kind, optional = _kind(f), "None" in str(f.type)
    if value is None or value == "":
        if optional:
            return None
        raise ConfigError(f"settings.{name}: a value is required.")
    try:
        if isinstance(value, str) and kind in text_converters():
            value = text_converters()[kind](value)
        if kind == "bool":
            if not isinstance(value, (bool, int, float)):
                raise ValueError(value)
            return bool(value)
        if kind == "int":
            number = float(value)
            if not number.is_integer():
                raise ValueError(value)
            return int(number)
        if kind == "float":
            return float(value)
        if kind == "dict" and not isinstance(value, dict):
            raise ValueError(value)
        if kind == "list" and not isinstance(value, list):
            return [value]
    except (TypeError, ValueError, argparse.ArgumentTypeError):
        raise ConfigError(f"settings.{name}: expected {str(f.type).replace(' | None', '')}, got {value!r}.") from None
    return value


def apply_settings(run, settings: dict[str, Any] | None,
                   reward_model: Callable[[str], str] = lambda ref: ref) -> None:
    """Set RunConfig fields from flat settings by their TRL names; ``reward_model`` resolves each reward model
    reference (a visitor's run id → its folder)."""
    fields = _fields()
    for name, value in (settings or {}).items():
        if name not in fields or name in NOT_SETTABLE:
            raise ConfigError(f"settings.{name}: unknown or not settable here; accepted: {', '.join(settable())}.")
        section, _ = fields[name]
        if name == "reward_models":
            value = [reward_model(ref) for ref in ([value] if isinstance(value, str) else value or [])]
        else:
            value = coerce(name, value)
        setattr(getattr(run, section) if section else run, name, value)


def run_config(task: str, model_path: str, dataset_path: str, output_dir: str | Path,
               settings: dict[str, Any] | None = None, formatting=None, reward=None, dataset_config: str = "",
               split: str = "train", reward_model: Callable[[str], str] = lambda ref: ref):
    """A validated RunConfig from plain values. ``formatting`` and ``reward`` are
    :class:`rlhf.formatting.user_code.UserCode` (or None); the reward function is kept for rewarded tasks only."""
    from rlhf.runs.config import DataSettings, RunConfig
    from rlhf.tasks.registry import spec

    run = RunConfig(task=task, model=model_path,
                    data=DataSettings(dataset=dataset_path, dataset_config=dataset_config or None,
                                      split=split or "train",
                                      formatting_code=formatting.source if formatting else None,
                                      function=formatting.function if formatting else "formatting_func"))
    apply_settings(run, settings, reward_model)
    if reward is not None and spec(task).rewarded:
        run.rl.reward_code, run.rl.reward_function = reward.source, reward.function
    return run.replace(output_dir=str(output_dir)).validate()  # the settings first: they cost nothing to check


def check_models(run) -> None:
    """The run's model and reward models can be found (reward model configs are read with transformers)."""
    from rlhf.services.inference import model_libraries
    from rlhf.tasks.models import check_models as check
    from rlhf.tasks.registry import spec

    rewards = run.rl.reward_models if spec(run.task).rewarded else []
    if rewards:
        model_libraries()
    check(run.model, rewards)


class Plans:
    """Resolved plans (:func:`rlhf.tasks.plan.resolve`) of configs not yet run, cached per config: what the
    trainer would be given, without loading a model or reading the data."""

    def __init__(self, kept: int = PLANS_KEPT) -> None:
        self._plans: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.kept = kept

    def resolve(self, run) -> dict[str, Any]:
        """The plan's plain dict (:meth:`rlhf.tasks.plan.TrainPlan.to_dict`); a ConfigError for bad settings."""
        key = json.dumps(run.to_dict(), sort_keys=True, default=str)
        with self._lock:
            if key in self._plans:
                self._plans.move_to_end(key)
                return self._plans[key]
        from rlhf.tasks.plan import resolve

        plan = resolve(run.replace(), model_path=plan_model_path(run.model)).to_dict()
        with self._lock:
            self._plans[key] = plan
            while len(self._plans) > self.kept:
                self._plans.popitem(last=False)
        return plan


def plan_model_path(model: str) -> str:
    """Where the plan reads the tokenizer's limit, without building the starter or asking the Hub: the starter's
    folder (built or not), a local folder's model, else the reference itself (a Hub id: no limit known)."""
    from rlhf.starter import is_starter

    if is_starter(model):
        from rlhf.starter.cache import starter_dir

        return str(starter_dir())
    if Path(model).expanduser().is_dir():
        from rlhf.tasks.models import resolve_model_path

        return resolve_model_path(model, "model")
    return model


# -- the runs folder -----------------------------------------------------------------------------------------------

class Runs:
    """Start, stop, resume, status and listing over one :class:`rlhf.runs.manager.RunManager`; thread-safe."""

    def __init__(self, manager, runs_dir: str | Path, ttl_s: float = RUNS_TTL_S) -> None:
        self.manager = manager
        self.runs_dir = Path(runs_dir)
        self.ttl_s = ttl_s
        self._runs: tuple[float, list[dict[str, Any]]] = (0.0, [])
        self._lock = threading.Lock()  # short critical sections only (the listing)
        self._recent: dict[tuple[str, str], tuple[float, str]] = {}  # (owner, config) → (when, run id)
        self._submitting = threading.Lock()

    def all(self) -> list[dict[str, Any]]:
        """Every run, newest first. Every open page polls this, so the listing is shared for ``ttl_s``."""
        with self._lock:
            listed_at, runs = self._runs
        if time.monotonic() - listed_at > self.ttl_s:
            runs = [self._with_rewards(run) for run in self.manager.list_runs()]
            with self._lock:
                self._runs = (time.monotonic(), runs)
        return runs

    def forget(self) -> None:
        with self._lock:
            self._runs = (0.0, [])

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for run in self.all():
            counts[run["status"]] = counts.get(run["status"], 0) + 1
        return counts

    def folder(self, run_id: str) -> Path | None:
        """The run's folder, or None when ``run_id`` names no run here (or is not a plain id)."""
        run_id = (run_id or "").strip()
        path = self.runs_dir / run_id
        if not run_id or "/" in run_id or run_id.startswith(".") or not (path / "config.yaml").is_file():
            return None
        return path

    def config(self, run_id: str) -> dict[str, Any]:
        """The run's saved config.yaml, as plain values."""
        from rlhf.runs.manager import _read_yaml

        return _read_yaml(self.runs_dir / run_id / "config.yaml")

    def _with_rewards(self, run: dict[str, Any]) -> dict[str, Any]:
        """An RL run's status with its algorithm and reward sources (read from its config.yaml), so a listing
        says "RL · PPO · reward: rm-run" rather than only the task."""
        from rlhf.tasks.registry import spec

        try:
            if not run.get("task") or not spec(run["task"]).rewarded:
                return run
            rl = self.config(run["id"]).get("rl") or {}
        except Exception:  # an unknown task or an unreadable config: the plain status
            return run
        return {**run, "algorithm": rl.get("algorithm"), "reward_models": list(rl.get("reward_models") or []),
                "reward_function": rl.get("reward_function") if (rl.get("reward_code") or rl.get("reward_func"))
                else None}

    def submit(self, run, owner: str = "", merge_repeat: bool = False) -> dict[str, Any]:
        """Queue a validated RunConfig: ``{"run_id", "status", "queue_position"}``. With ``merge_repeat`` (the
        page's Start button), the same config submitted again by the same owner within :data:`SAME_SUBMISSION_S`
        (a double-click) is the same run; API callers who queue the same run twice get two."""
        settings = {k: v for k, v in run.to_dict().items() if k not in ("output_dir", "run_name")}  # set by submit
        key = (owner, json.dumps(settings, sort_keys=True, default=str))
        with self._submitting:
            now = time.monotonic()
            self._recent = {k: v for k, v in self._recent.items() if now - v[0] < SAME_SUBMISSION_S}
            if merge_repeat and key in self._recent:
                return self.brief(self._recent[key][1])
            run_id = self.manager.submit(run)
            self._recent[key] = (now, run_id)
        self.forget()
        return self.brief(run_id)

    def brief(self, run_id: str) -> dict[str, Any]:
        status = self.manager.status(run_id)
        return {"run_id": run_id, "status": status["status"], "queue_position": status.get("queue_position")}

    def stop(self, run_id: str) -> dict[str, Any]:
        status = self.manager.stop(run_id)
        self.forget()
        return {"run_id": run_id, "status": status["status"]}

    def resume(self, run_id: str) -> dict[str, Any]:
        self.manager.resume(run_id)
        self.forget()
        return self.brief(run_id)

    def detail(self, run_id: str, log_lines: int = 20,
               ref: Callable[[str | None], str] = lambda x: x or "") -> dict[str, Any]:
        """A run's status, its metric history and status changes, and the end of its log."""
        from rlhf.runs.folder import RunFolder

        folder = RunFolder(self.runs_dir / run_id)
        status = self._with_rewards(self.manager.status(run_id))
        events = folder.read_events()
        history = [e for e in events if "status" not in e and "step" in e]
        return {"run": summary(status, ref), "metrics": status.get("metrics") or {},
                "events": events,  # in the order they were written: the run's story
                "history": history, "statuses": [e for e in events if "status" in e],
                "notes": [e for e in events if "status" not in e and "step" not in e],
                "progress": progress(folder.read_plan(), events, status),
                "log": tail_lines(folder.stdout, log_lines)}


def progress(plan: dict[str, Any], events: list[dict[str, Any]], status: dict[str, Any]) -> dict[str, Any]:
    """How far a run is: ``{"step", "total", "eta_s"}``. The total is the plan's ``max_steps``, or, for a run by
    epochs, the prepared train rows over the effective batch; the ETA extrapolates the pace of the logged steps
    (None until two steps are logged or when the total is unknown)."""
    args = plan.get("args") or {}
    steps = [(e["time"], e["step"]) for e in events
             if "status" not in e and isinstance(e.get("step"), (int, float)) and isinstance(e.get("time"), float)]
    step = status.get("step") or (steps[-1][1] if steps else 0)
    total = args.get("max_steps") if isinstance(args.get("max_steps"), int) and args["max_steps"] > 0 else None
    if total is None:
        prepared = next((e["prepared"] for e in reversed(events) if isinstance(e.get("prepared"), dict)), {})
        rows = (prepared.get("splits") or {}).get("train") or prepared.get("rows")
        batch = (args.get("per_device_train_batch_size") or 0) * (args.get("gradient_accumulation_steps") or 1)
        epochs = args.get("num_train_epochs")
        if rows and batch and isinstance(epochs, (int, float)):
            import math

            total = math.ceil(rows / batch) * math.ceil(epochs) or None
    eta = None
    if total and len(steps) >= 2 and steps[-1][1] > steps[0][1]:
        pace = (steps[-1][0] - steps[0][0]) / (steps[-1][1] - steps[0][1])
        eta = max(0.0, (total - steps[-1][1]) * pace)
    return {"step": step, "total": total, "eta_s": eta}


def summary(run: dict[str, Any], ref: Callable[[str | None], str] = lambda x: x or "") -> dict[str, Any]:
    """The public part of a run's status (no local paths, no pids); ``ref`` shows its model reference."""
    metrics = run.get("metrics") or {}
    return {"id": run["id"], "task": run.get("task"), "model": ref(run.get("model")) or None,
            "status": run["status"], "step": run.get("step"), "queue_position": run.get("queue_position"),
            "error": run.get("error"), "created": run.get("created"), "started": run.get("started"),
            "ended": run.get("ended"), "metrics": {k: metrics[k] for k in SUMMARY_METRICS if k in metrics},
            "placement": run.get("placement"),
            **({"algorithm": run.get("algorithm"), "reward_models": [ref(m) for m in run.get("reward_models") or []],
                "reward_function": run.get("reward_function")} if "algorithm" in run else {})}


def tail_lines(path: Path, count: int) -> list[str]:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    return lines[-max(0, int(count)):] if count else []
