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


@linux_only
def test_user_code_cannot_read_the_token_from_its_parent_process():
    secret = "hf_secretTOKENvalue123"
    work = Path(tempfile.mkdtemp(prefix="rlhf-security-"))
    try:
        (work / "d.jsonl").write_text('{"text": "hello"}\n')
        (work / "peek.py").write_text(PEEK)
        env = dict(os.environ, HF_TOKEN=secret, HOME=str(work), PYTHONPATH=str(ROOT))
        done = subprocess.run(
            [sys.executable, "-m", "rlhf", "prepare", "--dataset", str(work / "d.jsonl"),
             "--task", "sft", "--formatting-func", str(work / "peek.py"), "--output", str(work / "o.jsonl")],
            capture_output=True, text=True, env=env, cwd=work)
        assert done.returncode == 0, done.stderr
        rows = (work / "o.jsonl").read_text()
        assert secret not in rows and secret not in done.stderr
        assert '"text": "denied"' in rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- the sandbox's kernel limits (Landlock, seccomp, capabilities), where this kernel has them ----------------

ESCAPES = '''import os, socket, subprocess

def attempt(action):
    try:
        action()
        return "allowed"
    except OSError as error:
        return type(error).__name__

def formatting_func(sample):
    outside = os.path.join(os.path.dirname(os.getcwd()), "rlhf-escape.txt")  # beside its temp folder
    return " ".join(f"{name}={attempt(action)}" for name, action in [
        ("write_outside", lambda: open(outside, "w").write("x")),
        ("write_home", lambda: open("inside.txt", "w").write("x")),
        ("fork", lambda: os._exit(0) if os.fork() == 0 else None),
        ("subprocess", lambda: subprocess.run(["true"])),
        ("signal_parent", lambda: os.kill(os.getppid(), 0)),
        ("connect", lambda: socket.create_connection(("127.0.0.1", 9), timeout=1)),
    ])
'''


def test_sandboxed_code_may_write_only_its_temp_folder_and_start_no_process(tmp_path):
    from rlhf.formatting.confine import protections
    from rlhf.prepare_rows import prepare

    applied = " ".join(protections())
    if "Landlock" not in applied or "seccomp" not in applied:
        pytest.skip(f"this kernel does not offer Landlock and seccomp (applied: {applied or 'none'})")
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "hello"}\n')

    row = prepare(str(data), "sft", ESCAPES)[0]["text"]

    assert dict(item.split("=") for item in row.split()) == {
        "write_outside": "PermissionError", "write_home": "allowed", "fork": "PermissionError",
        "subprocess": "PermissionError", "signal_parent": "PermissionError", "connect": "PermissionError"}
    assert not list(Path(tempfile.gettempdir()).glob("rlhf-escape.txt"))
