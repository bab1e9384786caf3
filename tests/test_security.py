"""rlhf's own processes hide their environment (and so HF_TOKEN) from the user code they start."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc are Linux-only")

PEEK = '''import os

def formatting_func(sample):
    try:
        with open(f"/proc/{os.getppid()}/environ", "rb") as handle:
            return handle.read().decode(errors="replace")
    except PermissionError:
        return "denied"
'''


@linux_only
def test_harden_process_makes_the_process_non_dumpable():
    code = "from rlhf.security import harden_process, is_dumpable; harden_process(); print(is_dumpable())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "False"


@linux_only
def test_the_cli_hardens_itself_before_running_a_verb(tmp_path):
    code = ("import sys; from rlhf.cli import main; from rlhf.security import is_dumpable; "
            f"main(['runs', '--runs-dir', {str(tmp_path)!r}, 'list']); print(is_dumpable())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip().splitlines()[-1] == "False"


def _as_unprivileged_user() -> list[str]:
    """Run as `nobody` when we are root: root may read any process, so the check needs a plain user."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot test as a plain user")
    # The CLI must run as that user, and so must the worker it starts with the same interpreter.
    nested = "import subprocess, sys, pyarrow, rlhf; sys.exit(subprocess.run([sys.executable, '-c', 'import pyarrow']).returncode)"
    probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                            nested], capture_output=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if probe.returncode != 0:
        pytest.skip("running as root and this Python (or its packages) is not usable by an unprivileged user "
                    "(e.g. installed under /root): the /proc check needs a plain user")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@linux_only
def test_user_code_cannot_read_the_token_from_its_parent_process():
    secret = "hf_secretTOKENvalue123"
    work = Path(tempfile.mkdtemp(prefix="rlhf-security-"))
    try:
        work.chmod(0o777)
        (work / "d.jsonl").write_text('{"text": "hello"}\n')
        (work / "peek.py").write_text(PEEK)
        env = dict(os.environ, HF_TOKEN=secret, HOME=str(work), PYTHONPATH=str(ROOT))
        done = subprocess.run(
            [*_as_unprivileged_user(), sys.executable, "-m", "rlhf", "prepare", "--dataset", str(work / "d.jsonl"),
             "--task", "sft", "--formatting-func", str(work / "peek.py"), "--output", str(work / "o.jsonl")],
            capture_output=True, text=True, env=env, cwd=work)
        assert done.returncode == 0, done.stderr
        rows = (work / "o.jsonl").read_text()
        assert secret not in rows and secret not in done.stderr
        assert '"text": "denied"' in rows
    finally:
        shutil.rmtree(work, ignore_errors=True)
