"""Python reward functions (TRL's ``f(completions, prompts=…, **kwargs) -> list[float]``) called across a
process boundary: the user's code lives in a persistent sandboxed worker, started once per run, with the same
scrubbed environment and memory limit as formatting functions.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from typing import Any, Callable

from rlhf.errors import FormattingError
from rlhf.formatting.sandbox import OutputTail, start_sandboxed
from rlhf.formatting.user_code import UserCode


class RewardSandbox:
    """A callable usable directly as a TRL ``reward_funcs`` entry and by our PPO loop.

    Rewards that are not numbers (NaN, ±inf) come back as None (TRL's "no reward here"; our PPO sums it as 0.0);
    they are counted (``not_finite`` of ``scored``) and ``on_warning`` hears of them, the first time and each time
    their total doubles, so a run log says so without a line per step."""

    def __init__(self, code: UserCode, timeout_s: float = 60.0, memory_limit_mb: int = 4096,
                 on_warning: Callable[[str], None] | None = None):
        self.code = code
        self.on_warning = on_warning
        self.scored = self.not_finite = self.calls = 0
        self.last_not_finite: list[int] = []  # the last call's completions that got NaN or ±inf
        self._warned_at = 0
        self.__name__ = code.function  # TRL logs rewards under the function's name
        self._home = tempfile.TemporaryDirectory(prefix="rlhf-reward-")
        self._proc = start_sandboxed(["-m", "rlhf.formatting.reward_worker"], self._home.name, memory_limit_mb,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, bufsize=1)
        self._output = OutputTail(self._proc.stderr)  # the user's prints: only the tail is kept
        self._send({"code": code.to_dict(), "timeout": timeout_s})
        self._receive("loading")

    def _send(self, message: dict) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(message) + "\n")
            self._proc.stdin.flush()
        except BrokenPipeError:
            raise FormattingError(f"reward function `{self.code.function}`: its process ended unexpectedly "
                                  "(memory limit or crash).") from None

    def _receive(self, what: str) -> dict:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            code = self._proc.wait()
            last = self._output.close().strip().splitlines()[-1:]
            raise FormattingError(f"reward function `{self.code.function}`: its process ended while {what} "
                                  f"(exit status {code}; memory limit or crash)."
                                  + (f" Its last output: {last[0][:300]}" if last else ""))
        reply = json.loads(line)
        if not reply["ok"]:
            raise FormattingError(f"reward function `{self.code.function}` {reply['error']}")
        return reply

    def __call__(self, prompts: list[str] | None = None, completions: list[Any] | None = None,
                 **kwargs: Any) -> list[float | None]:
        completions = [_as_text(c) for c in (completions or [])]
        prompts = [_as_text(p) for p in (prompts or [""] * len(completions))]
        extra = {k: v for k, v in kwargs.items() if _jsonable(v)}
        self._send({"prompts": prompts, "completions": completions, "kwargs": extra})
        reply = self._receive("scoring")
        self._count(len(completions), reply.get("not_finite") or [])
        return reply["rewards"]

    def _count(self, scored: int, not_finite: list[int]) -> None:
        self.calls, self.scored = self.calls + 1, self.scored + scored
        self.not_finite += len(not_finite)
        self.last_not_finite = list(not_finite)
        if self.not_finite and self.not_finite >= 2 * self._warned_at and self.on_warning is not None:
            self._warned_at = self.not_finite
            self.on_warning(self.warning())

    def warning(self) -> str:
        calls = f"{self.calls:,} call" + ("s" if self.calls != 1 else "")
        return (f"reward function `{self.code.function}` returned NaN (or ±inf) for {self.not_finite:,} of "
                f"{self.scored:,} completions so far ({calls}); those get no reward from it (PPO counts 0.0, "
                "GRPO and RLOO leave a completion no source scored out). Make it return a number for every "
                "completion.")

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._output.close()
        self._home.cleanup()

    def __del__(self) -> None:
        try:
            if sys.is_finalizing():  # daemon threads are frozen now: closing the pipe its drainer reads aborts Python
                self._proc.kill()
                return
            self.close()
        except Exception:
            pass


def _as_text(value: Any) -> str:
    """Conversational completions arrive as message lists; reward functions here take text."""
    if isinstance(value, list):
        return "".join(m.get("content", "") for m in value if isinstance(m, dict))
    return str(value)


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True
