"""The isolated side of a Python reward function, started by :class:`rlhf.formatting.reward_sandbox.RewardSandbox`.

Protocol (JSON lines): the first line on stdin is the user code; each following line is a request
``{"prompts": [...], "completions": [...], "kwargs": {...}}`` answered on the protocol pipe with
``{"ok": true, "rewards": [...]}`` or ``{"ok": false, "error": "..."}``. The user's own prints go to stderr so
they cannot corrupt the protocol. Each call has a wall-clock limit, raised inside the user's code.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys

from rlhf.errors import FormattingError
from rlhf.formatting.user_code import UserCode, user_line
from rlhf.formatting.worker import WallClockLimit, _raise_limit


def _check(rewards, expected: int) -> list[float]:
    if not isinstance(rewards, (list, tuple)) or len(rewards) != expected:
        raise TypeError(f"returned {type(rewards).__name__}"
                        f"{' of length ' + str(len(rewards)) if isinstance(rewards, (list, tuple)) else ''}; "
                        f"expected a list of {expected} floats, one per completion")
    out = []
    for value in rewards:
        if value is None:
            out.append(float("nan"))  # TRL's convention: None means "not applicable to this sample"
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"returned a list containing {type(value).__name__} {value!r}; expected floats")
        out.append(float(value))
    return out


def main() -> int:
    protocol = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # the user's prints land in stderr
    sys.stdout = sys.stderr
    job = json.loads(sys.stdin.readline())
    timeout = float(job.get("timeout", 60))
    code = UserCode(**job["code"])
    signal.signal(signal.SIGALRM, _raise_limit)
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout)
        func = code.load()
        signal.setitimer(signal.ITIMER_REAL, 0)
        protocol.write(json.dumps({"ok": True, "ready": True}) + "\n")
    except (FormattingError, WallClockLimit) as error:
        protocol.write(json.dumps({"ok": False, "error": str(error) or "loading the reward function timed out"}) + "\n")
        return 1
    def where(error: BaseException) -> str:
        line = user_line(error.__traceback__, code.filename)
        return f", at {code.filename}{line}" if line else ""

    for line in sys.stdin:
        request = json.loads(line)
        try:
            signal.setitimer(signal.ITIMER_REAL, timeout)
            rewards = func(completions=request["completions"], prompts=request["prompts"], **request.get("kwargs", {}))
            signal.setitimer(signal.ITIMER_REAL, 0)
            checked = _check(rewards, len(request["completions"]))
            # NaN and ±inf are no reward: sent as None (TRL's "no reward here"), and their places counted, so the
            # parent can say so instead of training on them silently; a None the function returned is its choice
            not_finite = [i for i, (given, r) in enumerate(zip(rewards, checked))
                          if given is not None and not math.isfinite(r)]
            reply = {"ok": True, "rewards": [r if math.isfinite(r) else None for r in checked],
                     "not_finite": not_finite}
        except WallClockLimit as error:
            reply = {"ok": False, "error": f"took longer than the limit of {timeout:g} s per call" + where(error)}
        except MemoryError as error:
            reply = {"ok": False, "error": "exceeded the memory limit" + where(error)}
        except Exception as error:
            signal.setitimer(signal.ITIMER_REAL, 0)
            reply = {"ok": False, "error": f"raised {type(error).__name__}: {error}" + where(error)}
        protocol.write(json.dumps(reply) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
