"""Helpers for the browser tests (``test_browser.py``): the app as a subprocess, Chromium through Playwright, and
the few Gradio widgets that need more than a click (dropdowns, the code editor, plots, tables).

Playwright is imported lazily, so importing this module never fails where it is not installed (the tests skip).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from app_helpers import free_port
from conftest import REPO_ROOT, cli_env
from rlhf.runs.status import TERMINAL

CHROMIUM = os.environ.get("RLHF_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
# The README's screenshots are refreshed with RLHF_UPDATE_SCREENSHOTS=1; otherwise they go to a temporary folder,
# so a test run leaves the work tree as it found it.
SCREENSHOTS = (REPO_ROOT / "docs" / "screenshots" if os.environ.get("RLHF_UPDATE_SCREENSHOTS")
               else Path(tempfile.gettempdir()) / "rlhf-screenshots")


# -- the app --------------------------------------------------------------------------------------------------

class App:
    """``python app.py`` on 127.0.0.1 and a free port, in its own process group (stopping it stops its runs'
    supervisors too), with the cache ``cache`` (the starter model) and offline."""

    def __init__(self, root: Path, cache: Path, *flags: str, **env: str | None) -> None:
        self.runs, self.log = root / "runs", root / "app.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        changes: dict[str, str | None] = dict(
            RLHF_CACHE_DIR=str(cache), HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", HF_TOKEN=None,
            RLHF_AUTH=None, SPACE_ID=None, OAUTH_CLIENT_ID=None, SYSTEM=None, GRADIO_SERVER_NAME=None,
            GRADIO_SERVER_PORT=None)
        environ = cli_env(**{**changes, **env})
        with open(self.log, "wb") as out:
            # --host 127.0.0.1 always: the tests never listen beyond this machine's loopback
            self.proc = subprocess.Popen(
                [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(self.port), "--runs-dir",
                 str(self.runs), *flags], cwd=REPO_ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def wait_until_serving(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the app did not answer within {timeout} s:\n{self.log_tail()}")

    def wait_for_run(self, run_id: str, timeout: float = 150) -> dict[str, Any]:
        """The run's status once it is over (read from the runs folder, as the app does)."""
        from rlhf.runs.manager import RunManager

        return RunManager(self.runs).wait(run_id, timeout=timeout, poll_s=0.5)

    def stop(self) -> None:
        if self.runs.is_dir():  # no run outlives the tests
            from rlhf.runs.manager import RunManager

            manager = RunManager(self.runs)
            for run in manager.list_runs():
                if run["status"] not in TERMINAL:
                    manager.stop(run["id"])
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


# -- the page -------------------------------------------------------------------------------------------------

def open_tab(page, name: str):
    """Click a tab and return its (visible) panel, the scope for the tab's widgets."""
    page.get_by_role("tab", name=name, exact=True).click()
    panel = page.locator("[role=tabpanel]:visible")
    panel.wait_for()
    return panel


def choose(page, scope, label: str, option: str | re.Pattern, timeout: float = 30) -> None:
    """Pick an option of the Gradio dropdown labelled ``label``. Options that arrive with the app's 2-second
    refresh (finished runs) are waited for: the list is closed and opened again until the option is there."""
    box = scope.get_by_label(label, exact=True)
    deadline = time.monotonic() + timeout
    while True:
        box.click()
        item = page.get_by_role("option", name=option).first
        try:
            item.wait_for(timeout=2500)
            item.click()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            page.keyboard.press("Escape")
            page.wait_for_timeout(500)


def editor_text(editor) -> str:
    """The text of a ``gr.Code`` (CodeMirror) editor, line by line."""
    return "\n".join(line.rstrip("\n") for line in editor.locator(".cm-line").all_inner_texts())


def replace_code(page, editor, code: str) -> None:
    """Select everything in a ``gr.Code`` editor and type ``code`` over it (as one input, so no auto-indent)."""
    editor.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)


def table_rows(scope) -> list[list[str]]:
    """A ``gr.Dataframe``'s body rows as cell texts (header rows left out)."""
    rows = []
    for row in scope.get_by_role("row").all():
        cells = row.get_by_role("gridcell")
        if cells.count():
            rows.append([text.strip() for text in cells.all_inner_texts()])
    return rows


# JS: the number of drawn marks of each visible plot in ``panel`` (vertices of every line, bars of every bar chart).
PLOT_MARKS_JS = """panel => [...panel.querySelectorAll('.vega-embed')].filter(e => e.offsetParent !== null).map(e => ({
    lines: [...e.querySelectorAll('.mark-line path')].map(
        p => ((p.getAttribute('d') || '').match(/[ML]/g) || []).length),
    bars: e.querySelectorAll('.mark-rect path').length,
    text: e.textContent,
}))"""


def plot_marks(panel) -> list[dict[str, Any]]:
    return panel.evaluate(PLOT_MARKS_JS)


def wait_for_plot(panel, title: str, ok, timeout: float = 20) -> dict[str, Any]:
    """Wait until the visible plot whose text includes ``title`` satisfies ``ok(marks)``; return its marks."""
    deadline = time.monotonic() + timeout
    while True:
        plots = [p for p in plot_marks(panel) if title in p["text"]]
        if plots and ok(plots[0]):
            return plots[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"the plot {title!r} did not draw as expected within {timeout} s: {plots}")
        time.sleep(0.25)


def screenshot(page, name: str) -> Path:
    """A full-page PNG of the current tab into docs/screenshots/NAME.png, without hover or focus styles."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, 0)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.wait_for_timeout(400)  # let transitions (button colours, plot redraws) settle
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path
