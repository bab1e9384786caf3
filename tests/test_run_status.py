"""RunStatus: an enum in the code, the same plain strings in events.jsonl, the manager's answers and messages."""

from __future__ import annotations

import json

import orjson

from rlhf.runs.events import STATUSES, TERMINAL, append_event, read_events
from rlhf.runs.manager import RunManager, _public
from rlhf.runs.status import ACTIVE, RunStatus


def test_a_status_is_its_plain_string_everywhere():
    assert RunStatus.FINISHED == "finished" and "finished" == RunStatus.FINISHED
    assert hash(RunStatus.FAILED) == hash("failed") and "failed" in {RunStatus.FAILED}
    assert str(RunStatus.STOPPED) == f"{RunStatus.STOPPED}" == "stopped"
    assert f"{RunStatus.QUEUED:>8}" == "  queued" and RunStatus.QUEUED + "!" == "queued!"
    assert json.dumps({"status": RunStatus.STARTED}) == '{"status": "started"}'
    assert {status.value for status in TERMINAL} == {"stopped", "finished", "failed", "interrupted"}
    assert {status.value for status in ACTIVE} == {"queued", "starting", "started", "stopping"}
    assert RunStatus.STARTING not in STATUSES and set(TERMINAL) <= set(STATUSES)
    assert all(status in TERMINAL for status in ("stopped", "finished", "failed", "interrupted"))


def test_events_hold_plain_strings(tmp_path):
    path = tmp_path / "events.jsonl"
    append_event(path, {"status": RunStatus.FAILED, "error": "x"})
    assert json.loads(path.read_text())["status"] == "failed"
    assert '"status": "failed"' in path.read_text()
    assert type(read_events(path)[0]["status"]) is str


def test_an_unknown_recorded_status_is_kept_as_it_is():
    assert RunStatus.coerce("finished") is RunStatus.FINISHED
    assert RunStatus.coerce("paused") == "paused" and RunStatus.coerce(None) is None


def test_the_managers_answers_carry_plain_strings(tmp_path):
    public = _public({"status": RunStatus.INTERRUPTED, "_recorded": RunStatus.STARTED})
    assert type(public["status"]) is str and public == {"status": "interrupted"}
    assert orjson.dumps({public["status"]: 1}) == b'{"interrupted":1}'  # as a key too (Gradio's serializer)

    run = tmp_path / "runs" / "r1"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text("task: sft\nmodel: m\n")
    append_event(run / "events.jsonl", {"status": RunStatus.STARTED, "pid": 2 ** 22 + 7})  # no such process
    info = RunManager(tmp_path / "runs").status("r1")
    assert info["status"] == "interrupted" and type(info["status"]) is str
    assert [e["status"] for e in read_events(run / "events.jsonl")] == ["started", "interrupted"]
