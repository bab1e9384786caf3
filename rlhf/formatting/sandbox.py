"""Run user code in a child process: a wall-clock limit, a memory limit, and no secrets in its environment.

The child (:mod:`rlhf.formatting.worker`) gets a whitelisted environment (no ``HF_TOKEN``, no cloud keys),
``RLIMIT_AS`` for memory and its own session so the whole process group can be killed. Its result comes back as
JSON and every failure becomes one paragraph naming the record, its ``external_id``, the error and the user's line.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import rlhf
from rlhf.errors import FormattingError
from rlhf.formatting.confine import Confinement, prepare as prepare_confinement
from rlhf.formatting.failures import FailureKind, error_class

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MEMORY_LIMIT_MB = 4096
KILL_GRACE_S = 5.0
SAFE_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONHASHSEED", "PYTHONIOENCODING", "SYSTEMROOT")
OUTPUT_TAIL_BYTES = 2000


@dataclass
class Limits:
    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB


@dataclass
class WorkerResult:
    records: int
    rows: int
    dropped: dict[str, int] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    layout: str = ""
    function: str = ""
    output: str = ""  # what the user's code printed (tail)
    identical_pairs: int = 0  # rows whose chosen and rejected are the same text


def scrubbed_env(home: str) -> dict[str, str]:
    """Only what Python needs: a whitelist, so secrets added to the parent later cannot leak in."""
    env = {k: os.environ[k] for k in SAFE_ENV if k in os.environ}
    package_root = str(Path(rlhf.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([package_root] + [p for p in sys.path if p and os.path.isdir(p)])
    env.update(HOME=home, TMPDIR=home, PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1",
               HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    return env


def _limit_resources(memory_limit_mb: int, confinement: Confinement) -> Callable[[], None]:
    limit = memory_limit_mb * 1024 * 1024
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    if hard != resource.RLIM_INFINITY:  # already limited (e.g. a trainer under prlimit): a child cannot raise it
        limit = min(limit, hard)

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        confinement.apply()

    return apply


def start_sandboxed(argv: list[str], home: str, memory_limit_mb: int, writable: tuple[str, ...] = (),
                    **popen: Any) -> subprocess.Popen:
    """Start ``python ARGV`` as a sandboxed child (see :mod:`rlhf.formatting.confine`): scrubbed environment,
    memory limit, its own session, writes only under ``home`` and ``writable``, no new processes."""
    confinement = prepare_confinement([home, *writable])
    try:
        return subprocess.Popen([sys.executable, *argv], cwd=home, env=scrubbed_env(home),
                                preexec_fn=_limit_resources(memory_limit_mb, confinement),
                                start_new_session=True, **popen)
    finally:
        confinement.close()


def run_isolated(module: str, job: dict, limits: Limits,
                 progress: Callable[[int, int], None] | None = None) -> tuple[dict, str]:
    """Run ``python -m MODULE JOB.json`` in the sandbox; returns its JSON result and the tail of its output.

    The child writes ``job["result"]`` last thing; a child that died before (killed, crashed, out of memory)
    becomes a readable FormattingError here. Its output goes through a pipe of which only the tail is kept, so
    code that prints gigabytes fills no disk.
    """
    with tempfile.TemporaryDirectory(prefix="rlhf-worker-") as home:
        job = dict(job, timeout=limits.timeout_s, memory_limit_mb=limits.memory_limit_mb,
                   result=os.path.join(home, "result.json"), progress=os.path.join(home, "progress.json"))
        job_path = Path(home, "job.json")
        job_path.write_text(json.dumps(job))
        output_dir = str(Path(job["output"]["path"]).parent) if job.get("output") else None
        # -S: no site processing; PYTHONPATH (scrubbed_env) already lists every path the parent uses.
        proc = start_sandboxed(["-S", "-m", module, str(job_path)], home, limits.memory_limit_mb,
                               (output_dir,) if output_dir else (), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output = OutputTail(proc.stdout)
        returncode = _wait(proc, limits.timeout_s + KILL_GRACE_S, job["progress"], progress)
        tail = output.close()
        result_path = Path(job["result"])
        if not result_path.exists():
            raise FormattingError(_died_message(returncode, limits, tail))
        return json.loads(result_path.read_text()), tail


class OutputTail:
    """Drains a child's output on a thread, keeping the last :data:`OUTPUT_TAIL_BYTES` and counting the rest."""

    def __init__(self, stream) -> None:
        self.stream, self.tail, self.total = stream, "", 0
        self.thread = threading.Thread(target=self._drain, name="rlhf-sandbox-output", daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        for chunk in iter(lambda: self.stream.read(1 << 16), self.stream.read(0)):
            text = chunk.decode("utf-8", errors="replace") if isinstance(chunk, bytes) else chunk
            self.total += len(text)
            self.tail = (self.tail + text)[-OUTPUT_TAIL_BYTES:]

    def close(self) -> str:
        self.thread.join(timeout=KILL_GRACE_S)
        self.stream.close()
        if self.total > len(self.tail):
            return f"[{self.total - len(self.tail):,} earlier characters of output not kept]\n" + self.tail
        return self.tail


def run_worker(job: dict, limits: Limits, progress: Callable[[int, int], None] | None = None) -> WorkerResult:
    """Run one formatting job in the sandbox and return its counts, or raise a readable error."""
    result, output = run_isolated("rlhf.formatting.worker", job, limits, progress)
    if not result["ok"]:
        raise _error_for(result, job.get("code"), output)
    return WorkerResult(result["records"], result["rows"], result["dropped"], result["columns"], result["layout"],
                        result["function"], output, result.get("identical_pairs", 0))


def _wait(proc: subprocess.Popen, deadline_s: float, progress_path: str,
          progress: Callable[[int, int], None] | None) -> int | None:
    """Wait for the worker (a blocking wait: no polling latency on the fast path), reporting progress from a
    side thread; kill its process group if it outlives the limit. Returns None when it had to be killed."""
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        _kill_group(proc)

    timer = threading.Timer(deadline_s, kill)
    timer.daemon = True
    timer.start()
    done = threading.Event()
    if progress is not None:
        threading.Thread(target=_report_progress, args=(done, progress_path, progress), daemon=True).start()
    try:
        returncode = proc.wait()
    finally:
        timer.cancel()
        done.set()
    return None if killed.is_set() else returncode


def _report_progress(done: threading.Event, progress_path: str, progress: Callable[[int, int], None]) -> None:
    while not done.wait(0.2):
        try:
            counts = json.loads(Path(progress_path).read_text())
        except (OSError, ValueError):
            continue
        progress(counts.get("records", 0), counts.get("rows", 0))


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _died_message(returncode: int | None, limits: Limits, output: str) -> str:
    if returncode is None:
        why = (f"did not finish within the time limit of {limits.timeout_s:g} s (it was stopped; it was not "
               "running Python code that could be interrupted, e.g. a long C call)")
    elif returncode < 0 and -returncode == signal.SIGKILL:
        why = (f"was killed (SIGKILL), most likely for using more than the memory limit of "
               f"{limits.memory_limit_mb} MB")
    elif returncode < 0:
        why = f"was killed by signal {signal.Signals(-returncode).name}"
    elif "MemoryError" in output or "failed to map segment" in output:
        why = f"ran out of memory (the memory limit is {limits.memory_limit_mb} MB)"
    else:
        why = f"exited with status {returncode} before reporting a result"
    last = output.strip().splitlines()[-1:] if output.strip() else []
    return f"The formatting function's process {why}." + (f" Its last output: {last[0]}" if last else "")


def _error_for(result: dict, code: dict | None, output: str) -> Exception:
    kind, detail = FailureKind(result["kind"]), result["detail"]
    if kind.whole_job:  # the child's own words
        return error_class(kind)(detail)
    function = f"`{code['function']}`" if code else result.get("function") or "preparation"  # or a template
    where = _record_name(result)
    code_file = code["filename"] if code else result.get("code_file")
    line = f" at {code_file}{result.get('line', '')}" if code_file and result.get("line") else ""
    if kind is FailureKind.EXCEPTION and result.get("missing_column"):
        message = _missing_column(result, function, detail, line)
    elif kind is FailureKind.EXCEPTION:
        message = f"{function} raised {detail} on {where}{line}."
        if detail.startswith("IndexError") and result.get("empty_questions"):
            message += (f" This record has no annotator responses ({', '.join(result['empty_questions'][:3])} "
                        "are empty lists): return None for such records to drop them, as the templates do.")
    elif kind is FailureKind.TYPE and code is None:  # plain columns of the wrong type: the data's fault, not code's
        message = (f"The dataset {detail}, on {_record_name(result, located=True)}. Fix that column's values, or "
                   "write a formatting function that converts them.")
    elif kind is FailureKind.TYPE:
        message = f"{function} {detail}, on {where}. Return None to drop a record, or a list/generator for several rows."
    elif kind is FailureKind.TIMEOUT:
        message = (f"{function} was stopped because {detail} (for the whole dataset), while on {where}{line}. "
                   "Raise the limit (--timeout) or make the function faster.")
    else:  # FailureKind.MEMORY
        message = (f"{function} was stopped because {detail}, on {where}{line}. Raise the limit (--memory-limit-mb) "
                   "or use less memory per record.")
    return error_class(kind, user_code=code is not None)(message + " No output was written.")


def _missing_column(result: dict, function: str, detail: str, line: str) -> str:
    """A KeyError for a column the record lacks: say so, and whether the other records have it (the data is at
    fault) or none does (a misspelt name)."""
    column = result["missing_column"]
    if result.get("others_have_it"):
        return (f"{_record_name(result, located=True).capitalize()} has no column {column!r}, which the other "
                f"records have: {function} raised {detail}{line}. Fix the data, or drop such records in the "
                f"function (return None when {column!r} is missing).")
    columns = ", ".join(result.get("columns") or []) or "none"
    return (f"{function} raised {detail} on {_record_name(result, located=True)}{line}: the dataset has no column "
            f"{column!r} (its columns: {columns}). Check the name.")


def _record_name(result: dict, located: bool = False) -> str:
    """``record 5 (external_id 'x')``; ``located``: with where it is in the file (``record 5 (line 6)``), for the
    failures the data is at fault for."""
    index = result.get("index")
    if index is None or index < 0:
        return "loading the function"
    external = result.get("external_id")
    about = [result["location"]] if located and result.get("location") else []
    about += [f"external_id {external!r}"] if external not in (None, "") else []
    return f"record {index}" + (f" ({', '.join(about)})" if about else "")
