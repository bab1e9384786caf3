"""Ten sessions at once against one real app: every call answers, every run trains, in queue order, and every chat
is answered while they do (its latency is printed with the figures; ``benchmarks/timings.py`` has the target).

One app (``--multi-user`` on 127.0.0.1, the starter model built once for the test session) serves ten
``gradio_client`` sessions, each in its own thread with its own ``Client`` and its own ``session`` value, so
each owns its run. Each session loads the sample, previews the SFT rows, queues a tiny SFT run and chats with
the starter model while the runs train one after the other; then it waits for its run. Submissions go through
one lock on the client side, so the order they were made in is known exactly; everything else overlaps.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app_helpers import TERMINAL, free_port, start_app, stop_app, stop_runs, wait_until_serving
from conftest import REPO_ROOT, cli_env
from figures import report

pytestmark = pytest.mark.slow  # ten sessions through a real app, their runs training (marked training)

SESSIONS = 10
MAX_STEPS = 2
# Tiny runs: the cost is each trainer's start (imports), so no eval split and no more steps than needed.
RUN_SETTINGS = {"max_steps": MAX_STEPS, "max_length": 128, "per_device_train_batch_size": 8, "logging_steps": 1,
                "train_size": 1.0}
CHATS_PER_SESSION = 2
CHAT_TOKENS = 16
ALL_RUNS_TIMEOUT_S = 300.0  # ten runs, one at a time; a generous ceiling, not the expected time
POLL_S = 3.0


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))]


class Session:
    """One user: their own client and session value, every call's answer, the run they queued."""

    def __init__(self, url: str, index: int, submit_lock: threading.Lock, submitted: list[str]):
        self.url, self.index = url, index
        self.session = f"load-{index}-{uuid.uuid4().hex[:8]}"
        self.submit_lock, self.submitted = submit_lock, submitted
        self.calls: list[tuple[str, dict]] = []  # (endpoint, answer); an exception becomes ok: false
        self.chat_seconds: list[float] = []
        self.run_id: str | None = None
        self.final: dict | None = None
        self.own_runs: list[str] | None = None

    def call(self, client, endpoint: str, **kwargs) -> dict:
        try:
            answer = client.predict(api_name=f"/{endpoint}", **kwargs)
        except Exception as error:  # the client's own failure (connection, queue) is a failed call too
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        if not isinstance(answer, dict):
            answer = {"ok": False, "error": f"not a JSON object: {answer!r}"}
        self.calls.append((endpoint, answer))
        return answer

    def __call__(self, deadline: float) -> "Session":
        from gradio_client import Client

        try:
            client = Client(self.url, verbose=False)
        except Exception as error:  # could not even connect: the session was not served
            self.calls.append(("connect", {"ok": False, "error": f"{type(error).__name__}: {error}"}))
            return self
        self.call(client, "load_data", dataset="sample")
        self.call(client, "preview", task="sft", dataset="sample", session=self.session)
        with self.submit_lock:  # the submission order, known exactly; nothing else is serialised
            started = self.call(client, "start_run", task="sft", model="starter", dataset="sample",
                                settings=RUN_SETTINGS, session=self.session)
            if started.get("ok"):
                self.run_id = started["run_id"]
                self.submitted.append(self.run_id)
        for _ in range(CHATS_PER_SESSION):  # while the queue trains
            begun = time.monotonic()
            reply = self.call(client, "chat", model="starter", message="Is a toad a frog?",
                              max_new_tokens=CHAT_TOKENS, session=self.session)
            if reply.get("ok"):
                self.chat_seconds.append(time.monotonic() - begun)
        if self.run_id is None:
            return self
        while time.monotonic() < deadline:
            status = self.call(client, "run_status", run_id=self.run_id, session=self.session)
            if not status.get("ok") or status["run"]["status"] in TERMINAL:
                self.final = status
                break
            time.sleep(POLL_S)
        listed = self.call(client, "run_status", session=self.session)
        self.own_runs = [run["id"] for run in listed.get("runs", [])]
        return self


def run_load(root: Path, starter_cache: Path) -> dict:
    """Ten sessions through one app, to the end of their runs; then /health. The app is stopped after.
    (``benchmarks/timings.py`` runs it too, for the chat latency.)"""
    from gradio_client import Client

    runs, log = root / "runs", root / "app.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    began = time.monotonic()
    proc = start_app(port, runs, starter_cache, log, "--multi-user")
    try:
        wait_until_serving(url, proc, log, timeout=60)
        submit_lock, submitted = threading.Lock(), []
        sessions = [Session(url, i, submit_lock, submitted) for i in range(SESSIONS)]
        deadline = time.monotonic() + ALL_RUNS_TIMEOUT_S
        with ThreadPoolExecutor(max_workers=SESSIONS) as pool:
            for future in [pool.submit(s, deadline) for s in sessions]:
                future.result()
        health = Client(url, verbose=False).predict(api_name="/health")
    finally:
        stop_runs(runs)
        stop_app(proc)
    seconds = time.monotonic() - began
    print(f"\nload: {SESSIONS} sessions, {len(submitted)} runs in {seconds:.1f} s (app start included)")
    return {"sessions": sessions, "submitted": submitted, "runs": runs, "health": health, "seconds": seconds}


def chat_latency(load: dict) -> tuple[list[float], str]:
    """The chats' durations, and the figure: median, p95 and max."""
    seconds = [t for s in load["sessions"] for t in s.chat_seconds]
    if not seconds:
        return seconds, "no chat answered"
    median, p95, worst = statistics.median(seconds), percentile(seconds, 0.95), max(seconds)
    return seconds, (f"median {median:.2f} s, p95 {p95:.2f} s, max {worst:.2f} s ({len(seconds)} chats of "
                     f"{CHAT_TOKENS} tokens while {SESSIONS} runs trained)")


@pytest.fixture(scope="module")
def load(tmp_path_factory, starter_cache):
    return run_load(tmp_path_factory.mktemp("load"), starter_cache)


def events_of(runs: Path, run_id: str) -> list[dict]:
    """Every line of the run's events.jsonl, parsed strictly: a torn or garbled line fails the test."""
    lines = (runs / run_id / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.mark.training
def test_every_call_of_every_session_succeeds(load):
    failed = [(s.index, endpoint, answer.get("error")) for s in load["sessions"] for endpoint, answer in s.calls
              if not answer.get("ok")]
    served = sum(1 for s in load["sessions"] if s.calls and all(answer.get("ok") for _, answer in s.calls))
    calls = sum(len(s.calls) for s in load["sessions"])
    report("sessions served", f"{served} of {SESSIONS} concurrent sessions, every call ok ({calls} calls: "
                              f"load_data, preview, start_run, {CHATS_PER_SESSION} chats, run_status)")

    assert not failed, failed
    assert served == SESSIONS


@pytest.mark.training
def test_each_session_owns_exactly_its_own_run(load):
    for s in load["sessions"]:
        assert s.run_id is not None, f"session {s.index} queued no run"
        assert s.own_runs == [s.run_id], f"session {s.index} sees {s.own_runs}"


@pytest.mark.training
def test_every_run_finishes(load):
    outcomes = {s.run_id: (s.final or {}).get("run", {}).get("status") for s in load["sessions"]}
    errors = {s.run_id: (s.final or {}).get("run", {}).get("error") for s in load["sessions"]
              if outcomes[s.run_id] != "finished"}

    assert len(load["submitted"]) == SESSIONS
    assert set(outcomes.values()) == {"finished"}, errors


@pytest.mark.training
def test_runs_train_one_at_a_time_in_submission_order(load):
    """Each run starts after the run submitted before it has ended, so the queue kept submission order."""
    spans = []
    for run_id in load["submitted"]:
        events = events_of(load["runs"], run_id)
        started = [e["time"] for e in events if e.get("status") == "started"]
        ended = [e["time"] for e in events if e.get("status") in TERMINAL]
        assert len(started) == 1 and len(ended) == 1, (run_id, events)
        spans.append((run_id, started[0], ended[0]))
    in_order = sum(1 for before, after in zip(spans, spans[1:]) if after[1] >= before[2]) + 1
    gaps = [after[1] - before[2] for before, after in zip(spans, spans[1:])]
    print(f"\nruns: {statistics.mean(end - start for _, start, end in spans):.1f} s each from started to ended, "
          f"{statistics.mean(gaps):.1f} s from one run's end to the next one's start")
    report("runs completed in queue order", f"{in_order} of {len(spans)}")

    for before, after in zip(spans, spans[1:]):
        assert after[1] >= before[2], f"{after[0]} started at {after[1]}, before {before[0]} ended at {before[2]}"


@pytest.mark.training
def test_no_event_is_lost(load):
    """Every run logs queued, started, one loss per step and finished, each line whole, in that order."""
    for run_id in load["submitted"]:
        events = events_of(load["runs"], run_id)
        statuses = [e["status"] for e in events if "status" in e]
        assert statuses == ["queued", "started", "finished"], (run_id, statuses)
        steps = [e["step"] for e in events if "loss" in e]
        assert steps == list(range(1, MAX_STEPS + 1)), (run_id, steps)
        positions = {key: next(i for i, e in enumerate(events) if e.get("status") == key)
                     for key in ("queued", "started", "finished")}
        losses = [i for i, e in enumerate(events) if "loss" in e]
        assert positions["queued"] < positions["started"] < min(losses) <= max(losses) < positions["finished"]


@pytest.mark.training
def test_every_chat_is_answered_under_load(load):
    seconds, figure = chat_latency(load)
    print(f"\nchat latency under load: {figure}")
    report("chat latency under load", figure)  # printed, not asserted: benchmarks/timings.py has the target

    assert len(seconds) == SESSIONS * CHATS_PER_SESSION


@pytest.mark.training
def test_health_answers_after_the_load(load):
    health = load["health"]

    assert health["ok"] and health["status"] == "serving", health
    assert health["runs"] == {"finished": SESSIONS} and health["queued"] == 0, health


@pytest.mark.slow
def test_requests_that_arrive_while_the_model_libraries_load_see_them_whole():
    """In a fresh app, the first preview or chat imports transformers (seconds); a preview arriving meanwhile
    must not be handed a half-built module (datasets' fingerprinting then fails with AttributeError)."""
    check = """
import sys, threading
from datasets.fingerprint import Hasher
from rlhf.ui.api import model_libraries

class Row:
    pass

errors, done = [], threading.Event()

def first_chat():
    model_libraries()
    import transformers.processing_utils  # what loading the model and its tokenizer imports
    done.set()

def previews():  # one request after another, from the moment transformers appears in sys.modules
    while not done.is_set():
        if "transformers" in sys.modules:
            try:
                model_libraries()
                import transformers
                transformers.PreTrainedTokenizerBase
                Hasher.hash(Row())  # what Dataset.from_file does with its state
            except Exception as error:
                errors.append(repr(error))
                return

threads = [threading.Thread(target=previews), threading.Thread(target=first_chat)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(errors)
"""
    result = subprocess.run([sys.executable, "-c", check], cwd=REPO_ROOT, env=cli_env(), capture_output=True,
                            text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
