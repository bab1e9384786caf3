"""Python reward functions (TRL's ``f(completions, prompts=…, **kwargs) -> list[float]``) called across a
process boundary: the user's code lives in a persistent sandboxed worker, started once per run, with the same
scrubbed environment and memory limit as formatting functions.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from typing import Any

from rlhf.errors import FormattingError
from rlhf.formatting.sandbox import OutputTail, start_sandboxed
from rlhf.formatting.user_code import UserCode


class RewardSandbox:
    """A callable usable directly as a TRL ``reward_funcs`` entry and by our PPO loop."""

    def __init__(self, code: UserCode, timeout_s: float = 60.0, memory_limit_mb: int = 4096):
        self.code = code
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
        return self._receive("scoring")["rewards"]

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._output.close()
        self._home.cleanup()

    def __del__(self) -> None:
        try:
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
