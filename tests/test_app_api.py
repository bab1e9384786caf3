"""The app end to end through its named API endpoints (``gradio_client``), against a real server process.

One app serves the module (``--multi-user`` on 127.0.0.1, so the run-isolation rule of public deployments is
exercised); it trains tiny runs on the bundled sample with the starter model, built once into a temporary
cache before the app starts. A second, short-lived app checks that it serves while the starter cache is still
empty, before it builds the starter (how long that first answer takes: ``benchmarks/timings.py``). Everything is
offline (``HF_HUB_OFFLINE=1``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app_helpers import free_port, start_app, stop_app, stop_runs, wait_for_run, wait_until_serving
from conftest import REPO_ROOT, cli_env
from rlhf.formatting.templates import TOAD_BAD, TOAD_GOOD, TOAD_PROMPT


# -- startup --------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_startup_serves_with_an_empty_starter_cache_before_building_the_starter(tmp_path):
    cache, log = tmp_path / "empty-cache", tmp_path / "app.log"
    port = free_port()
    proc = start_app(port, tmp_path / "runs", cache, log)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/", proc, log, timeout=60)
        assert not any(cache.glob("starter-*/build.json")), "the starter must not be built before serving"
    finally:
        stop_app(proc)


# -- the app with a built starter ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app(tmp_path_factory, starter_cache):
    root = tmp_path_factory.mktemp("app")
    cache, runs, log = starter_cache, root / "runs", root / "app.log"  # the session's starter, built once
    port = free_port()
    proc = start_app(port, runs, cache, log, "--multi-user")
    url = f"http://127.0.0.1:{port}/"
    wait_until_serving(url, proc, log, timeout=60)
    yield {"url": url, "runs": runs, "log": log}
    stop_runs(runs)  # no run outlives the tests
    stop_app(proc)


@pytest.fixture(scope="module")
def client(app):
    from gradio_client import Client

    return Client(app["url"], verbose=False)


@pytest.fixture(scope="module")
def runs(client):
    """A tiny SFT run and a tiny reward-model run, trained through the queue one after the other."""
    sft = client.predict("sft", "starter", "sample", "", {"max_steps": 3}, api_name="/start_run")
    assert sft["ok"], sft
    rm = client.predict("rm", "starter", "sample", "", {"max_steps": 2}, api_name="/start_run")
    assert rm["ok"], rm
    return {"sft": sft["run_id"], "rm": rm["run_id"], "queued_rm": rm}


def test_load_data_describes_the_sample(client):
    result = client.predict("sample", api_name="/load_data")

    assert result["ok"], result
    assert result["layout"] == "argilla-v1"
    assert result["records"] == 400
    assert result["fields"] == ["original-instruction", "original-context", "original-response"]
    assert result["questions"] == ["new-instruction", "new-context", "new-response"]
    assert result["templates_fit"] is True
    first = result["examples"][0]
    assert first["original-instruction"] == "Is a toad a frog?"
    assert {"user_id", "value", "status"} <= set(first["new-response"][0])


def test_preview_sft_counts_rows_and_says_why_records_were_dropped(client):
    result = client.predict("sft", "sample", "", api_name="/preview")

    assert result["ok"], result
    assert result["records"] == 400
    assert 0 < result["rows"] < 400
    assert result["dropped"] == {"formatting function returned None": 400 - result["rows"]}
    assert sum(result["splits"].values()) == result["rows"] and set(result["splits"]) == {"train", "test"}
    assert result["columns"] == ["id", "text"]
    assert result["sample_rows"][0]["text"].startswith("### Instruction: ")
    stats = result["token_lengths"]["stats"]["text"]
    assert stats["count"] == result["splits"]["train"] and 0 < stats["min"] <= stats["max"]


@pytest.mark.training
def test_a_queued_run_can_be_stopped(client, runs):
    waiting = client.predict("sft", "starter", "sample", "", {"max_steps": 500}, api_name="/start_run")
    assert waiting["ok"] and waiting["status"] == "queued", waiting

    stopped = client.predict(waiting["run_id"], api_name="/stop_run")

    assert stopped == {"ok": True, "run_id": waiting["run_id"], "status": "stopped"}
    assert client.predict(waiting["run_id"], api_name="/run_status")["run"]["status"] == "stopped"


@pytest.mark.training
def test_sft_run_trains_and_logs_a_loss_then_chats(client, runs):
    assert runs["queued_rm"]["status"] in ("queued", "starting")  # one job at a time: the RM waits its turn

    status = wait_for_run(client, runs["sft"])

    assert status["run"]["status"] == "finished", status["run"].get("error")
    assert status["run"]["step"] == 3
    assert isinstance(status["metrics"]["loss"], float)
    assert [e["step"] for e in status["history"] if "loss" in e] == [1, 2, 3]
    reply = client.predict(runs["sft"], "Is a toad a frog?", "Both frogs and toads are amphibians.",
                           api_name="/chat")
    assert reply["ok"], reply
    assert isinstance(reply["text"], str)
    listed = client.predict(api_name="/run_status")["runs"]
    assert {runs["sft"], runs["rm"]} <= {run["id"] for run in listed}


@pytest.mark.training
def test_reward_model_scores_one_float_per_text(client, runs):
    status = wait_for_run(client, runs["rm"])
    assert status["run"]["status"] == "finished", status["run"].get("error")

    texts = [TOAD_GOOD, TOAD_BAD, "No"]
    result = client.predict(runs["rm"], texts, TOAD_PROMPT, api_name="/score")

    assert result["ok"], result
    assert len(result["scores"]) == 3 and all(isinstance(s, float) for s in result["scores"])


@pytest.mark.training
def test_two_clients_have_separate_run_lists(app, client, runs):
    from gradio_client import Client

    other = Client(app["url"], verbose=False)

    assert other.predict(api_name="/run_status") == {"ok": True, "runs": []}
    peek = other.predict(runs["sft"], api_name="/run_status")
    assert not peek["ok"] and "No run" in peek["error"]
    assert not other.predict(runs["sft"], "Hello", api_name="/chat")["ok"]
    assert client.predict(api_name="/run_status")["runs"]  # the owner still sees them


def test_the_page_keeps_no_run_history_in_the_browser(app):
    import json
    import urllib.request

    with urllib.request.urlopen(app["url"] + "config", timeout=10) as response:
        config = json.loads(response.read())

    assert config["run_history"] is False  # Gradio would otherwise store every input, the token box included


@pytest.mark.training
def test_push_offline_says_the_hub_is_unreachable(client, runs):
    result = client.predict(runs["sft"], "someone/tiny-sft", api_name="/push")

    assert not result["ok"]
    assert "unreachable" in result["error"].lower()


def test_malformed_upload_is_a_readable_error_and_the_app_keeps_serving(client, tmp_path):
    from gradio_client import handle_file

    broken = tmp_path / "feedback.jsonl"
    broken.write_text('{"text": "fine"}\n{"text": \n', encoding="utf-8")

    result = client.predict("", handle_file(str(broken)), api_name="/load_data")

    assert not result["ok"]
    assert result["error"] == "feedback.jsonl, line 2: invalid JSON (Expecting value at column 1)."
    assert client.predict("sample", api_name="/load_data")["ok"]


def test_a_formatting_function_that_raises_is_reported_with_its_record_and_line(client):
    code = "def formatting_func(sample):\n    raise ValueError('no good')\n"

    preview = client.predict("sft", "sample", code, api_name="/preview")
    probe = client.predict("sft", code, "sample", 3, api_name="/run_code")

    assert not preview["ok"]
    assert "ValueError: no good" in preview["error"] and "record 0" in preview["error"]
    assert "line 2" in preview["error"] and "Traceback" not in preview["error"]
    assert probe["ok"] and len(probe["records"]) == 3
    assert all("ValueError: no good" in record["error"] for record in probe["records"])
    assert client.predict("sample", api_name="/load_data")["ok"]


# -- settings and the plain API, in process -------------------------------------------------------------------

def test_settings_decide_public_and_single_user_modes(tmp_path):
    from rlhf.ui.settings import AppSettings

    local = AppSettings.from_args(["--runs-dir", str(tmp_path)], environ={})
    exposed = AppSettings.from_args(["--host", "0.0.0.0", "--runs-dir", str(tmp_path)], environ={})
    guarded = AppSettings.from_args(["--share", "--runs-dir", str(tmp_path)], environ={"RLHF_AUTH": "ann:pw"})
    space = AppSettings.from_args(["--runs-dir", str(tmp_path)], environ={"SPACE_ID": "me/app"})

    assert (local.public, local.single_user, local.open_code) == (False, True, True)
    assert (exposed.public, exposed.single_user, exposed.open_code) == (True, False, False)
    assert exposed.access_note() and "--auth" in exposed.access_note()
    assert (guarded.public, guarded.open_code, guarded.auth) == (True, True, [("ann", "pw")])
    assert space.public and not space.can_run_code(signed_in=True)  # no OAuth configured on that Space
    assert AppSettings.from_args(["--multi-user"], environ={}).single_user is False
    assert AppSettings.from_args(["--host", "0.0.0.0", "--single-user"], environ={}).single_user is True
    assert AppSettings.from_args([], environ={"RLHF_CHAT_CONCURRENCY": "5"}).chat_concurrency == 5


def test_public_api_refuses_server_paths_and_foreign_code(tmp_path, rlhf_cache):
    from rlhf.errors import ConfigError, DataError
    from rlhf.ui.api import Api, Caller
    from rlhf.ui.settings import AppSettings

    api = Api(AppSettings(host="0.0.0.0", runs_dir=tmp_path / "runs"))
    visitor = Caller("browser:abc", may_run_code=False)

    with pytest.raises(DataError, match="not readable from a public deployment"):
        api.dataset_path(str(Path(__file__)))
    with pytest.raises(ConfigError, match="public deployment"):
        api.probe_code("sft", "def formatting_func(s):\n    return 'x'\n", visitor)
    with pytest.raises(ConfigError, match="public deployment"):
        api.start_run("sft", visitor)
    assert api.probe_code("sft", api.default_code("sft"), visitor, limit=1)["records"][0]["rows"]


@pytest.mark.slow
def test_the_page_builds_in_every_mode(tmp_path, rlhf_cache):
    from rlhf.ui.app import build_app
    from rlhf.ui.settings import AppSettings

    for flags in ([], ["--multi-user"], ["--host", "0.0.0.0"], ["--share", "--auth", "ann:pw"]):
        settings = AppSettings.from_args([*flags, "--runs-dir", str(tmp_path / "runs")], environ={})
        demo = build_app(settings)
        names = {d.api_name for d in demo.fns.values() if d.api_visibility == "public"}
        assert {"load_data", "preview", "start_run", "run_status", "stop_run", "chat", "score", "push"} <= names


@pytest.mark.slow
def test_importing_the_ui_loads_no_model_libraries():
    check = ("import sys, rlhf.ui.app; "
             "print(sorted(m for m in ('torch', 'transformers', 'datasets', 'trl', 'peft') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", check], cwd=REPO_ROOT, env=cli_env(), capture_output=True,
                            text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
