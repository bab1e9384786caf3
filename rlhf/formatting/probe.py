"""Try a formatting function on the first few records and report each one: its rows, why it was dropped, or
its error. The app's "Run on 5 records" button uses this.

Unlike a preparation, a failing record does not stop the probe: the user sees every record's outcome at once.
The user's code still runs only in a child process, with the same limits and scrubbed environment as
:mod:`rlhf.formatting.sandbox` (this module is both the parent side, :func:`probe_records`, and the child,
``python -m rlhf.formatting.probe JOB.json``).
"""

from __future__ import annotations

import signal
import sys
from typing import Any

from rlhf.errors import ConfigError
from rlhf.formatting.failures import FailureKind, error_class
from rlhf.formatting.sandbox import Limits, run_isolated
from rlhf.formatting.templates import TOAD_BAD, TOAD_CONTEXT, TOAD_GOOD, TOAD_PROMPT, fill_template
from rlhf.formatting.user_code import UserCode
from rlhf.rows import RowContract

DEFAULT_RECORDS = 5


def probe_records(source, rows: RowContract, code: UserCode | None, limit: int = DEFAULT_RECORDS,
                  limits: Limits | None = None) -> dict[str, Any]:
    """``{"layout", "function", "records": [{"index", "external_id", "record", "rows", "dropped", "error"}]}``.

    ``source`` is a resolved :class:`rlhf.data.sources.Source`. Problems that concern the whole function (a
    syntax error, a missing function, a dataset that needs one) raise the same readable errors as a preparation.
    """
    limits = limits or Limits(timeout_s=30.0)
    job = {"source": source.to_dict(), "rows": rows.to_dict(), "code": code.to_dict() if code else None, "limit": int(limit)}
    result, output = run_isolated("rlhf.formatting.probe", job, limits)
    if not result["ok"]:
        raise error_class(result["kind"])(result["detail"])
    result["output"] = output
    return result


# The seed's example, with completions a reward function should rank differently.
EXAMPLE_PROMPT = fill_template(TOAD_PROMPT, TOAD_CONTEXT, "").strip()
EXAMPLE_COMPLETIONS = (" " + TOAD_GOOD, " Yes. All toads are frogs, but not all frogs are toads.", " " + TOAD_BAD,
                       " No.", " Yes ### Instruction: Is a frog a toad?")


NOT_A_NUMBER = "NaN or ±inf: no reward (0.0 in PPO)"


def probe_reward(code: UserCode | None, limits: Limits | None = None) -> dict[str, Any]:
    """A reward function on five example completions, in its sandbox: the same shape as :func:`probe_records`
    (each completion a record whose one row is ``[completion, reward]``)."""
    from rlhf.formatting.reward_sandbox import RewardSandbox

    if code is None:
        raise ConfigError("The reward function is empty: write a function "
                          "`reward_func(completions, prompts=None, **kwargs) -> list[float]`.")
    limits = limits or Limits(timeout_s=30.0)
    sandbox = RewardSandbox(code, timeout_s=limits.timeout_s, memory_limit_mb=limits.memory_limit_mb)
    try:
        rewards = sandbox(prompts=[EXAMPLE_PROMPT] * len(EXAMPLE_COMPLETIONS), completions=list(EXAMPLE_COMPLETIONS))
    finally:
        sandbox.close()
    not_a_number = set(sandbox.last_not_finite)
    return {"task": "reward", "layout": "", "function": f"{code.filename}:{code.function}",
            "columns": ["completion", "reward"], "prompt": EXAMPLE_PROMPT,
            "records": [{"index": i, "external_id": None, "record": {"prompt": EXAMPLE_PROMPT, "completion": c},
                         "rows": [[c, r]], "dropped": None, "error": None,
                         "note": NOT_A_NUMBER if i in not_a_number else None}
                        for i, (c, r) in enumerate(zip(EXAMPLE_COMPLETIONS, rewards))]}


# -- the child ---------------------------------------------------------------------------------------------------

def run(job: dict) -> dict:
    from rlhf.formatting.worker import each_record, start

    work = start(job)
    outcomes = []
    try:
        for outcome in each_record(work, limit=job["limit"]):
            outcomes.append({"index": outcome.index, "external_id": outcome.external_id, "record": outcome.record,
                             "rows": [list(values) for values in outcome.rows], "dropped": outcome.dropped,
                             "error": outcome.message(job, work.code)})
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return {"ok": True, "layout": work.layout.describe(), "function": work.choice.label,
            "columns": list(work.rows.columns),
            "records": outcomes}


def _failed(job: dict, error: BaseException) -> dict:
    """Before the first record's result: the limits while loading the function or reading the data."""
    from rlhf.formatting.worker import WallClockLimit, memory_limit_exceeded

    if isinstance(error, MemoryError):
        return {"ok": False, "kind": FailureKind.CODE, "detail": f"{memory_limit_exceeded(job)} while loading the "
                                                                 "function"}
    what = "the time limit was reached" if isinstance(error, WallClockLimit) else type(error).__name__
    return {"ok": False, "kind": FailureKind.CODE, "detail": f"The probe stopped before the first record's result: "
                                                             f"{what}."}


def main(argv: list[str]) -> int:
    from rlhf.formatting.worker import serve

    return serve(argv, run, _failed, catch=(BaseException,))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
