"""Try a formatting function on the first few records and report each one: its rows, why it was dropped, or
its error. The app's "Run on 5 records" button uses this.

Unlike a preparation, a failing record does not stop the probe: the user sees every record's outcome at once.
The user's code still runs only in a child process, with the same limits and scrubbed environment as
:mod:`rlhf.formatting.sandbox` (this module is both the parent side, :func:`probe_records`, and the child,
``python -m rlhf.formatting.probe JOB.json``).
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any

from rlhf.errors import ConfigError, DataError, FormattingError
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
        kind = result["kind"]
        raise (DataError if kind == "data" else ConfigError if kind == "config" else FormattingError)(result["detail"])
    result["output"] = output
    return result


# The seed's example, with completions a reward function should rank differently.
EXAMPLE_PROMPT = fill_template(TOAD_PROMPT, TOAD_CONTEXT, "").strip()
EXAMPLE_COMPLETIONS = (" " + TOAD_GOOD, " Yes. All toads are frogs, but not all frogs are toads.", " " + TOAD_BAD,
                       " No.", " Yes ### Instruction: Is a frog a toad?")


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
    return {"task": "reward", "layout": "", "function": f"{code.filename}:{code.function}",
            "columns": ["completion", "reward"], "prompt": EXAMPLE_PROMPT,
            "records": [{"index": i, "external_id": None, "record": {"prompt": EXAMPLE_PROMPT, "completion": c},
                         "rows": [[c, r]], "dropped": None, "error": None}
                        for i, (c, r) in enumerate(zip(EXAMPLE_COMPLETIONS, rewards))]}


# -- the child ---------------------------------------------------------------------------------------------------

def run(job: dict) -> dict:
    from rlhf.formatting.user_code import user_line
    from rlhf.formatting.worker import WallClockLimit, start
    from rlhf.rows import RowTypeError

    work = start(job)
    code, per_record = work.code, work.per_record
    outcomes = []
    try:
        for index, record in enumerate(work.records()):
            if index >= job["limit"]:
                break
            outcome: dict[str, Any] = {"index": index, "external_id": record.get("external_id"), "record": record,
                                       "rows": [], "dropped": None, "error": None}
            try:
                produced, reason = per_record(record)
                outcome["rows"] = [list(values) for values in produced]
                outcome["dropped"] = reason
            except RowTypeError as error:
                outcome["error"] = str(error)
            except WallClockLimit as limit:
                line = user_line(limit.__traceback__, code.filename) if code else ""
                outcome["error"] = f"stopped: the time limit of {job['timeout']:g} s was reached{line}"
                outcomes.append(outcome)
                break
            except (Exception, SystemExit, KeyboardInterrupt) as error:
                line = user_line(error.__traceback__, code.filename) if code else ""
                outcome["error"] = f"raised {type(error).__name__}: {error}" + (f" (at {code.filename}{line})"
                                                                                if line else "")
            outcomes.append(outcome)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return {"ok": True, "layout": work.layout.describe(), "function": work.choice.label,
            "columns": list(work.rows.columns),
            "records": outcomes}


def main(argv: list[str]) -> int:
    from rlhf.formatting.worker import job_error, write_result

    job = json.loads(Path(argv[0]).read_text())
    try:
        result = run(job)
    except (DataError, FormattingError, ConfigError) as error:
        result = job_error(error)
    except MemoryError:
        result = {"ok": False, "kind": "code", "detail": f"the memory limit of {job['memory_limit_mb']} MB was "
                  "exceeded while loading the function"}
    except BaseException as error:  # the time limit while loading the function or reading the data
        what = "the time limit was reached" if type(error).__name__ == "WallClockLimit" else type(error).__name__
        result = {"ok": False, "kind": "code", "detail": f"The probe stopped before the first record's result: "
                                                          f"{what}."}
    write_result(job, result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
