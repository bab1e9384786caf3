"""Starting a real app (``python app.py``) for the tests that talk to it over HTTP, and waiting on its runs.

Shared by the API, load and secrets tests: each starts the app in its own process group on 127.0.0.1 (a free
port), waits for its first HTTP 200, and stops it (and everything it started) at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO_ROOT, cli_env
from rlhf.runs.status import TERMINAL  # noqa: F401 (the tests import it from here too)

RUN_TIMEOUT_S = 150.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(cache: Path, **changes: str | None) -> dict[str, str]:
    """The app's environment: offline, no analytics, no token or deployment settings unless ``changes`` add
    them (a value of None removes a variable)."""
    return cli_env(**{"RLHF_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
                      "HF_TOKEN": None, "RLHF_AUTH": None, "SPACE_ID": None, "GRADIO_SERVER_NAME": None,
                      "GRADIO_SERVER_PORT": None, **changes})


def start_app(port: int, runs: Path, cache: Path, log: Path, *flags: str,
              env: dict[str, str | None] | None = None) -> subprocess.Popen:
    """``python app.py`` in its own process group, so stopping it also stops a starter build it began.
    ``env``: changes to :func:`app_env`."""
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--runs-dir", str(runs), *flags],
                                cwd=REPO_ROOT, env=app_env(cache, **(env or {})), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def wait_until_serving(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> float:
    """Seconds until the first HTTP 200 from ``url``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            pytest.fail(f"the app exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.05)
    pytest.fail(f"the app did not answer within {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


def stop_app(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def stop_runs(runs: Path) -> None:
    """Stop every run under ``runs`` that has not ended: no training process outlives the tests."""
    from rlhf.runs.manager import RunManager

    manager = RunManager(runs)
    for run in manager.list_runs():
        if run["status"] not in TERMINAL:
            manager.stop(run["id"])


def wait_for_run(client, run_id: str, timeout: float = RUN_TIMEOUT_S, session: str = "",
                 poll_s: float = 1.0) -> dict:
    """The run's ``/run_status`` once it has ended (``session``: the caller's session, where runs are owned)."""
    deadline = time.monotonic() + timeout
    status: dict = {}
    while time.monotonic() < deadline:
        status = client.predict(run_id=run_id, session=session, api_name="/run_status")
        assert status["ok"], status
        if status["run"]["status"] in TERMINAL:
            return status
        time.sleep(poll_s)
    pytest.fail(f"run {run_id} did not finish within {timeout} s: {status}")
