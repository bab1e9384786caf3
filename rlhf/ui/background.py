"""Slow things the app starts at launch without waiting for them: building the starter model and probing the Hub.

The starter build (20–60 s of CPU) runs as a separate process (``python -m rlhf.starter``) at a lower priority,
so the page serves at once and stays responsive while it builds; its progress lines feed the status line at the
top of the page. The Hub probe is a TCP connect of at most a few seconds, re-checked now and then.
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time

log = logging.getLogger("rlhf.ui")
PROGRESS_LINE = re.compile(r"^\[\s*(\d+)%\]\s*(.*)$")
HUB_RECHECK_S = 60.0


def _die_with_parent() -> None:
    """In the child: lower priority, and get SIGTERM when the app process dies (Linux), so no build outlives it."""
    try:
        os.nice(10)
    except OSError:
        pass
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class StarterStatus:
    """The starter model's state: ``ready``, ``building`` (with a fraction and a message), ``failed`` or ``idle``."""

    def __init__(self) -> None:
        self.state = "idle"
        self.fraction = 0.0
        self.message = ""
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None

    def check(self) -> bool:
        """Is the starter built (in this process's cache)? Cheap after the first call."""
        from rlhf.starter.cache import is_complete, starter_dir

        try:
            ready = is_complete(starter_dir())
        except Exception:  # an unreadable sample or cache: the build will say what is wrong
            ready = False
        if ready:
            with self._lock:
                self.state, self.fraction = "ready", 1.0
        return ready

    def start(self) -> None:
        """Build in the background unless it is built already or a build is under way."""
        if self.check():
            return
        with self._lock:
            if self.state == "building":
                return
            self.state, self.fraction, self.message = "building", 0.0, "starting"
        threading.Thread(target=self._build, name="rlhf-starter-build", daemon=True).start()

    def _build(self) -> None:
        started = time.monotonic()
        try:
            proc = subprocess.Popen([sys.executable, "-m", "rlhf.starter"], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                    preexec_fn=_die_with_parent)
        except OSError as error:
            with self._lock:
                self.state, self.message = "failed", f"could not start the build ({error})"
            return
        self._proc = proc
        last = ""
        assert proc.stderr is not None
        for line in proc.stderr:
            line = line.strip()
            if not line:
                continue
            last = line
            match = PROGRESS_LINE.match(line)
            if match:
                with self._lock:
                    self.fraction, self.message = int(match.group(1)) / 100, match.group(2)
        code = proc.wait()
        with self._lock:
            if code == 0:
                self.state, self.fraction, self.message = "ready", 1.0, ""
                log.info("starter model built in %.0f s", time.monotonic() - started)
            else:
                self.state, self.message = "failed", last[-300:] or f"exit status {code}"
                log.warning("starter model build failed: %s", self.message)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()

    def describe(self) -> str:
        with self._lock:
            state, fraction, message = self.state, self.fraction, self.message
        if state == "ready":
            return "Starter model: ready"
        if state == "building":
            return (f"Starter model: building in the background, {fraction:.0%} ({message}); it is used as soon as "
                    "it is ready")
        if state == "failed":
            return f"Starter model: the build failed ({message}); it is retried when a run or chat needs it"
        return "Starter model: built on first use"

    @property
    def ready(self) -> bool:
        return self.state == "ready" or self.check()


class HubStatus:
    """Whether the Hugging Face Hub can be reached, probed in the background and re-checked every minute."""

    def __init__(self) -> None:
        self.reachable: bool | None = None
        self.checked = 0.0
        self._lock = threading.Lock()
        self._probing = False

    def refresh(self, wait: bool = False) -> bool | None:
        if time.monotonic() - self.checked < HUB_RECHECK_S and self.reachable is not None:
            return self.reachable
        with self._lock:
            if self._probing and not wait:
                return self.reachable
            self._probing = True
        if wait:
            self._probe()
        else:
            threading.Thread(target=self._probe, name="rlhf-hub-probe", daemon=True).start()
        return self.reachable

    def _probe(self) -> None:
        from rlhf.data.sources import hub_reachable

        try:
            reachable = hub_reachable()
        finally:
            with self._lock:
                self._probing = False
        self.reachable, self.checked = reachable, time.monotonic()

    def describe(self) -> str:
        from rlhf.data.sources import hub_endpoint, hub_is_offline

        self.refresh()
        if self.reachable is None:
            return "Hugging Face Hub: checking…"
        if self.reachable:
            return "Hugging Face Hub: reachable"
        why = "HF_HUB_OFFLINE is set" if hub_is_offline() else f"{hub_endpoint()} cannot be reached"
        return f"Hugging Face Hub: **unreachable** ({why})"

    def note(self, offline_consequence: str) -> str:
        """The status line for a tab; offline, a warning box that says what this tab cannot do."""
        text = self.describe()
        if self.reachable is False:
            return f"<div class='rlhf-error'>⚠️ {text.replace('**', '')}: {offline_consequence}</div>"
        return text
