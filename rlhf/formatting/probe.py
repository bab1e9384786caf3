"""Try a formatting function on the first few records and report each one: its rows, why it was dropped, or
its error. The app's "Run on 5 records" button uses this.

Unlike a preparation, a failing record does not stop the probe: the user sees every record's outcome at once.
The user's code still runs only in a child process, with the same limits and scrubbed environment as
:mod:`rlhf.formatting.sandbox` (this module is both the parent side, :func:`probe_records`, and the child,
``python -m rlhf.formatting.probe JOB.json``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from rlhf.errors import ConfigError, DataError, FormattingError
from rlhf.formatting.sandbox import (KILL_GRACE_S, Limits, _died_message, _limit_resources, _tail, _wait,
                                     scrubbed_env)
from rlhf.formatting.user_code import UserCode

DEFAULT_RECORDS = 5


def probe_records(source, task: str, code: UserCode | None, limit: int = DEFAULT_RECORDS,
                  limits: Limits | None = None) -> dict[str, Any]:
    """``{"layout", "function", "records": [{"index", "external_id", "record", "rows", "dropped", "error"}]}``.

    ``source`` is a resolved :class:`rlhf.data.sources.Source`. Problems that concern the whole function (a
    syntax error, a missing function, a dataset that needs one) raise the same readable errors as a preparation.
    """
    limits = limits or Limits(timeout_s=30.0)
    with tempfile.TemporaryDirectory(prefix="rlhf-probe-") as home:
        job = {"source": source.to_dict(), "task": task, "code": code.to_dict() if code else None,
               "limit": int(limit), "timeout": limits.timeout_s, "memory_limit_mb": limits.memory_limit_mb,
               "result": os.path.join(home, "result.json")}
        job_path = Path(home, "job.json")
        job_path.write_text(json.dumps(job))
        log_path = Path(home, "output.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "rlhf.formatting.probe", str(job_path)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=home,
                env=scrubbed_env(home), preexec_fn=_limit_resources(limits.memory_limit_mb),
                start_new_session=True,
            )
            returncode = _wait(proc, limits.timeout_s + KILL_GRACE_S, os.path.join(home, "progress.json"), None)
        output = _tail(log_path)
        result_path = Path(job["result"])
        if not result_path.exists():
            raise FormattingError(_died_message(returncode, limits, output))
        result = json.loads(result_path.read_text())
    if not result["ok"]:
        kind = result["kind"]
        raise (DataError if kind == "data" else ConfigError if kind == "config" else FormattingError)(result["detail"])
    result["output"] = output
    return result


# -- the child ---------------------------------------------------------------------------------------------------

def run(job: dict) -> dict:
    from rlhf.data.sources import Source
    from rlhf.formatting.plan import choose_rows
    from rlhf.formatting.user_code import user_line
    from rlhf.formatting.worker import (WallClockLimit, _raise_limit, function_rows, plain_rows, records)
    from rlhf.tasks.rows import RowTypeError, task_rows

    source = Source.from_dict(job["source"])
    layout = source.layout()
    rows = task_rows(job["task"])
    choice = choose_rows(layout, job["task"], UserCode(**job["code"]) if job.get("code") else None)
    code = choice.code
    signal.signal(signal.SIGALRM, _raise_limit)
    signal.setitimer(signal.ITIMER_REAL, float(job["timeout"]))
    if code:
        func = code.load()
        per_record = lambda record: function_rows(func, rows, record)  # noqa: E731
    else:
        per_record = plain_rows(list(choice.plain_columns), layout)
    outcomes = []
    try:
        for index, record in enumerate(records(source, layout)):
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
    return {"ok": True, "layout": layout.describe(), "function": choice.label, "columns": list(rows.columns),
            "records": outcomes}


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text())
    try:
        result = run(job)
    except (DataError, FormattingError, ConfigError) as error:
        kind = "data" if isinstance(error, DataError) else "config" if isinstance(error, ConfigError) else "code"
        result = {"ok": False, "kind": kind, "detail": str(error)}
    except MemoryError:
        result = {"ok": False, "kind": "code", "detail": f"the memory limit of {job['memory_limit_mb']} MB was "
                  "exceeded while loading the function"}
    except BaseException as error:  # the time limit while loading the function or reading the data
        what = "the time limit was reached" if type(error).__name__ == "WallClockLimit" else type(error).__name__
        result = {"ok": False, "kind": "code", "detail": f"The probe stopped before the first record's result: "
                                                          f"{what}."}
    tmp = job["result"] + ".tmp"
    Path(tmp).write_text(json.dumps(result, default=str))
    os.replace(tmp, job["result"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
