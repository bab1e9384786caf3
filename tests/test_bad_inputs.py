"""Every case of the bad-input corpus (tests/bad_inputs/cases.py), through the CLI and through the app's API.

Each must end with a message that says what is wrong (matching the case's pattern), a non-zero exit status on the
CLI or ``ok: false`` from the API, no traceback, and leave the app answering ``/health``. The corpus runs with
``HF_TOKEN`` set to a known fake token, which must appear in no output. The end-of-run figures count the cases
that ran, whichever ran and in whatever order: ``N bad inputs: N handled``.
"""

from __future__ import annotations

import re
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app_helpers import TERMINAL, free_port, start_app, stop_app, stop_runs, wait_until_serving
from bad_inputs.cases import CASES, CODE_MEMORY_MB, CODE_TIMEOUT_S, SECRET_TOKEN, Case, settings_as_flags
from conftest import cli_env, run_cli
from figures import report

pytestmark = pytest.mark.training  # the corpus through the CLI and an app; its config cases start trainers

CLI_WORKERS = 3  # cases that wait on a time limit overlap; the CPU-bound ones take their turn
OUTCOMES: dict[str, dict[str, str]] = {"cli": {}, "api": {}}  # case id → "" (handled) or what went wrong
ESCAPE_FILE = Path(tempfile.gettempdir()) / "rlhf-bad-input-write.txt"


def dataset_ref(case: Case, folder: Path) -> str:
    """What the user would type for a file case: a Hub id, a path that is not there, or the written file."""
    if case.name == "hub-id-offline":
        return case.filename
    if case.name == "missing-file":
        return str(folder / case.filename)
    return str(case.write(folder))


def cli_args(case: Case, folder: Path) -> list[str]:
    limits = ["--timeout", str(CODE_TIMEOUT_S), "--memory-limit-mb", str(CODE_MEMORY_MB)]
    output = ["--output", str(folder / "out.jsonl")]
    if case.kind == "file":
        return ["prepare", "--dataset", dataset_ref(case, folder), "--task", case.task, *output]
    if case.kind == "function":
        return ["prepare", "--dataset", "sample", "--task", case.task, "--formatting-func", str(case.write(folder)),
                *limits, *output]
    if case.kind == "reward":
        return ["try-code", "--task", "reward", "--code", str(case.write(folder)), *limits]
    return ["train", "--task", case.task, "--model", case.model, "--dataset", "sample", "--output-dir",
            str(folder / "run"), "--max-length", "64", *settings_as_flags(case)]


def judge(case: Case, ok: bool, message: str) -> str:
    """"" when the case was handled as the corpus says; else what went wrong, for the failure report."""
    if SECRET_TOKEN in message:
        return "the token appears in the output"
    if "Traceback" in message:
        return f"a traceback reached the user: {message[-500:]}"
    if case.succeeds:
        return "" if ok and len(message) < 64_000 else f"expected a bounded success, got ok={ok}, {len(message)} chars"
    if ok:
        return "accepted the bad input"
    if not re.search(case.expect, message):
        return f"message does not match /{case.expect}/: {message[-800:]}"
    return ""


# -- the CLI -----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cli_results(starter_cache, tmp_path_factory):
    """Every case through ``python -m rlhf``, a few at a time; case id → (exit status, stderr)."""
    root = tmp_path_factory.mktemp("bad-cli")
    env = cli_env(RLHF_CACHE_DIR=str(starter_cache), HF_HUB_OFFLINE="1", HF_TOKEN=SECRET_TOKEN)

    def run(case: Case):
        folder = root / case.id
        result = run_cli(*cli_args(case, folder), env=env, timeout=300)
        return case.id, (result.returncode, result.stdout[-4000:] + result.stderr)

    with ThreadPoolExecutor(CLI_WORKERS) as pool:
        return dict(pool.map(run, CASES))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_cli_names_what_is_wrong(case, cli_results):
    code, output = cli_results[case.id]
    stderr_line = next((line for line in reversed(output.strip().splitlines()) if line.startswith("error: ")
                        or ": error: " in line), output.strip()[-800:])
    problem = judge(case, code == 0, output if case.succeeds else stderr_line)
    if not problem and not case.succeeds and code == 0:
        problem = "exit status 0"
    OUTCOMES["cli"][case.id] = problem
    assert not problem, problem
    assert not ESCAPE_FILE.exists(), "user code wrote outside its sandbox"


# -- the API -----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app(starter_cache, tmp_path_factory):
    root = tmp_path_factory.mktemp("bad-api")
    port, log = free_port(), root / "app.log"
    proc = start_app(port, root / "runs", starter_cache, log, env={
        "HF_TOKEN": SECRET_TOKEN, "RLHF_CODE_TIMEOUT_S": str(CODE_TIMEOUT_S),
        "RLHF_CODE_MEMORY_MB": str(CODE_MEMORY_MB), "RLHF_MAX_UPLOAD_MB": "64"})
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, proc, log, timeout=60)
        yield {"url": url, "root": root, "runs": root / "runs", "proc": proc, "log": log}
    finally:
        stop_runs(root / "runs")
        stop_app(proc)


def api_call(client, case: Case, folder: Path) -> tuple[bool, str]:
    """The case through the endpoint a user (or script) would use; (ok, message)."""
    from gradio_client import handle_file

    if case.kind == "file":
        ref = dataset_ref(case, folder)
        if case.name in ("hub-id-offline", "missing-file", "empty-folder"):
            loaded = client.predict(dataset=ref, api_name="/load_data")  # not something one uploads
        else:
            loaded = client.predict(dataset="", file=handle_file(ref), api_name="/load_data")
        if not loaded["ok"]:
            return False, loaded["error"]
        result = client.predict(task=case.task, dataset=loaded["dataset"], code="", api_name="/preview")
    elif case.kind == "function":
        result = client.predict(task=case.task, dataset="sample", code=case.write(folder).read_text(),
                                api_name="/preview")
    elif case.kind == "reward":
        result = client.predict(task="reward", code=case.write(folder).read_text(), api_name="/run_code")
    else:
        result = client.predict(task=case.task, model=case.model, dataset="sample", code="",
                                settings={"max_length": 64, **case.settings}, api_name="/start_run")
        if result["ok"]:  # accepted: the trainer is the one to find the fault; the run must fail saying so
            result = wait_failed(client, result["run_id"])
    return bool(result["ok"]), result.get("error") or str(result)[:2000]


def wait_failed(client, run_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.predict(run_id=run_id, api_name="/run_status")
        run = status["run"]
        if run["status"] in TERMINAL:
            return {"ok": run["status"] != "failed", "error": run.get("error") or run["status"]}
        time.sleep(0.5)
    return {"ok": True, "error": f"run {run_id} still {run['status']} after {timeout} s"}


@pytest.fixture(scope="module")
def api_results(app):
    """Every case through the API, with a health check after each; case id → (ok, message, healthy)."""
    from gradio_client import Client

    local = threading.local()  # one client per worker thread: a Client is not made to be shared across threads

    def run(case: Case):
        client = getattr(local, "client", None) or Client(app["url"], verbose=False)
        local.client = client
        try:
            ok, message = api_call(client, case, app["root"] / case.id)
        except Exception as error:  # the client raised: the server refused the request (e.g. upload too large)
            ok, message = False, f"{type(error).__name__}: {error}"
        healthy = client.predict(api_name="/health")
        return case.id, (ok, message, bool(healthy.get("ok")) and healthy.get("status") == "serving")

    with ThreadPoolExecutor(2) as pool:
        return dict(pool.map(run, CASES))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_api_names_what_is_wrong_and_keeps_serving(case, api_results):
    ok, message, healthy = api_results[case.id]
    problem = judge(case, ok, message) or ("" if healthy else "the app stopped answering /health")
    OUTCOMES["api"][case.id] = problem
    assert not problem, problem
    assert not ESCAPE_FILE.exists(), "user code wrote outside its sandbox"


def test_the_app_survived_the_corpus_and_leaked_no_token(app, api_results):
    assert app["proc"].poll() is None, "the app process died"
    assert SECRET_TOKEN not in app["log"].read_text(errors="replace")
    for path in app["runs"].rglob("*"):
        if path.is_file() and path.stat().st_size < 50 << 20:
            assert SECRET_TOKEN.encode() not in path.read_bytes(), path


def summary() -> str | None:
    """The figure, over the cases that ran through the CLI or the API (None when none did): a case counts as
    handled when every channel it ran through handled it."""
    ran = [case for case in CASES if any(case.id in OUTCOMES[channel] for channel in OUTCOMES)]
    if not ran:
        return None
    handled = [case for case in ran if not any(OUTCOMES[channel].get(case.id) for channel in OUTCOMES)]
    through = {"cli": "through the CLI", "api": "through the API, the app answering /health after each"}
    channels = "; ".join(f"{sum(1 for p in outcomes.values() if not p)} of {len(outcomes)} {through[channel]}"
                         for channel, outcomes in OUTCOMES.items() if outcomes)
    kinds = {kind: sum(1 for c in ran if c.kind == kind) for kind in ("file", "function", "reward", "config")}
    figure = (f"{len(ran)} bad inputs: {len(handled)} handled ({channels}; "
              f"{', '.join(f'{n} {k}' for k, n in kinds.items() if n)})")
    if len(ran) < len(CASES):
        figure += f"; {len(CASES) - len(ran)} of the corpus's {len(CASES)} cases did not run"
    return figure


report("bad inputs", summary)
