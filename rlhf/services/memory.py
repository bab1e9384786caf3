"""Will a run fit? The memory plan (:mod:`rlhf.runs.memory`) of a config not yet run, for the Train tab (shown as
the form changes, cached per config) and for Start (a run that cannot fit is refused unless the user insists)."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from rlhf.errors import ConfigError

KEPT = 32


class MemoryPlans:
    def __init__(self, kept: int = KEPT) -> None:
        self._estimates: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.kept = kept

    def estimate(self, run):
        """The :class:`~rlhf.runs.memory.MemoryEstimate` of ``run``, or None where the model's config cannot be
        read yet (the starter before its first build, a Hub id offline): no estimate is no refusal."""
        key = json.dumps(run.to_dict(), sort_keys=True, default=str)
        with self._lock:
            if key in self._estimates:
                self._estimates.move_to_end(key)
                return self._estimates[key]
        from rlhf.runs.memory import estimate
        from rlhf.services.runs import plan_model_path
        from rlhf.tasks.plan import resolve

        plan = resolve(run.replace(), model_path=plan_model_path(run.model))
        try:
            result = estimate(plan)
        except (OSError, ValueError, KeyError):
            result = None
        with self._lock:
            self._estimates[key] = result
            while len(self._estimates) > self.kept:
                self._estimates.popitem(last=False)
        return result

    def check_fits(self, run) -> None:
        """A ConfigError with the estimate and the changes that would lower it, for a run that cannot fit."""
        from rlhf.runs.memory import refusal

        reason = refusal(self.estimate(run), "tick 'Start even if it may not fit' (force)")
        if reason:
            raise ConfigError(reason)


def memory_text(answer: dict[str, Any] | None) -> str:
    """The Train tab's line under the plan: the estimate's total, its verdict and what would lower it."""
    if not answer:
        return "*Memory: no estimate (the model's config is not readable yet).*"
    have = f" of {answer['available_mb']:,} MB" if answer.get("available_mb") else ""
    parts = ", ".join(f"{name} {mb:,}" for name, mb in answer["parts"].items() if mb)
    verdict = "fits" if answer["fits"] else "**does not fit**"
    text = f"**Memory**: about {answer['total_mb']:,} MB on {answer['device']}{have}: {verdict} ({parts} MB)."
    if answer.get("suggestions"):
        text += " Would lower it: " + "; ".join(f"`{s}`" for s in answer["suggestions"]) + "."
    return text
