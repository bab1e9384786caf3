"""The Hub token is used for its calls and is never written, returned, shown or readable by user code.

One flow through a real app (``--multi-user`` on 127.0.0.1) with a recognisable fake token in its environment as
``HF_TOKEN``, and a second one typed into the push form: load the sample, preview, run a formatting function,
train a tiny SFT run, chat with it, export its script, push it to a local fake Hub (twice: the token from the
environment, then from the form; plus a push the Hub refuses with an error that echoes the token), fetch the page
and its config. Every API response, the page, every file the flow wrote (runs, logs, cards, config.yaml,
events.jsonl, uploads, the rlhf cache, Gradio's temp folder, HOME, TMPDIR, the app's log) and everything the fake
Hub stored is then searched for both tokens, raw, URL-encoded and base64-encoded.

While the run trains, a formatting function sent through ``/run_code`` looks for the token the way hostile code
would: ``os.environ``, ``/proc/self/environ``, its parent's and every other process's ``/proc/<pid>/environ``.
(The CLI-level check, as an unprivileged user, is in ``test_security.py``.)
"""

from __future__ import annotations

import ast
import base64
import json
import secrets
import shutil
import time
import urllib.parse
import urllib.request

import pytest

from app_helpers import TERMINAL, free_port, start_app, stop_app, stop_runs, wait_until_serving
from fake_hub import PushHub
from figures import report

pytestmark = pytest.mark.training  # a full flow through a real app, a training run included

TOKEN_ENV = "hf_" + secrets.token_hex(16)  # the app's HF_TOKEN
TOKEN_FORM = "hf_" + secrets.token_hex(16)  # typed into the push form
TOKENS = {"HF_TOKEN": TOKEN_ENV, "push form": TOKEN_FORM}
RUN_SETTINGS = {"max_steps": 2, "max_length": 128, "per_device_train_batch_size": 8, "train_size": 1.0}
RUN_TIMEOUT_S = 120.0
PAGES = ("/", "/config", "/gradio_api/info", "/gradio_api/openapi.json")

FORMAT = '''def formatting_func(sample):
    response = sample["new-response"]
    if not response:
        return None
    return f"### Instruction: {sample['original-instruction']}\\n\\n### Response: {response[0]['value']}"
'''

# What hostile code in a formatting function would do: every place a process's environment can be read.
PEEK = '''import glob, os

def formatting_func(sample):
    found = {"os.environ": os.environ.get("HF_TOKEN"), "tried": 0, "read": [], "entries": []}
    paths = ["/proc/self/environ", f"/proc/{os.getppid()}/environ", *sorted(glob.glob("/proc/[0-9]*/environ"))]
    for path in paths:
        found["tried"] += 1
        try:
            with open(path, "rb") as handle:
                entries = handle.read().split(b"\\0")
        except OSError:
            continue
        found["read"].append(path)
        found["entries"] += [e.decode(errors="replace") for e in entries if b"TOKEN" in e.split(b"=")[0]]
    return repr(found)
'''


def encodings(secret: str) -> set[bytes]:
    """The secret as bytes, URL-encoded, and base64-encoded (standard and URL-safe) at each of the three byte
    alignments it can have inside a longer encoded text."""
    raw = secret.encode()
    forms = {raw, urllib.parse.quote(secret, safe="").encode(), urllib.parse.quote_plus(secret).encode()}
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw + b"\0\0")
        start, end = -(-shift * 4 // 3), (shift + len(raw)) * 4 // 3
        forms.add(encoded[start:end])
        forms.add(encoded[start:end].replace(b"+", b"-").replace(b"/", b"_"))
    return forms


NEEDLES = {name: encodings(token) for name, token in TOKENS.items()}


def leaks(data: bytes) -> list[str]:
    """Which tokens ``data`` holds, in any of their encodings."""
    return [name for name, forms in NEEDLES.items() if any(form in data for form in forms)]


def wait_for_status(client, run_id: str, session: str, wanted: tuple[str, ...], responses: list) -> dict:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        status = client.predict(run_id=run_id, session=session, api_name="/run_status")
        responses.append(("run_status", status))
        assert status["ok"], status
        if status["run"]["status"] in wanted:
            return status
        time.sleep(0.5)
    pytest.fail(f"run {run_id} did not reach {wanted} within {RUN_TIMEOUT_S} s: {status}")


@pytest.fixture(scope="module")
def flow(tmp_path_factory, starter_cache):
    """The whole flow; every response, page and the paths it wrote, and what the fake Hub received."""
    from gradio_client import Client, handle_file

    root = tmp_path_factory.mktemp("secrets")
    cache = root / "rlhf-cache"
    shutil.copytree(starter_cache, cache)  # this flow's own cache, so all of it is searched
    folders = {name: root / name for name in ("runs", "gradio-temp", "home", "tmp")}
    for folder in folders.values():
        folder.mkdir()
    log = root / "app.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    session = "secrets-" + secrets.token_hex(4)
    responses: list[tuple[str, object]] = []
    with PushHub() as hub:
        env = {"HF_TOKEN": TOKEN_ENV, "HF_HUB_OFFLINE": None, "HF_ENDPOINT": hub.endpoint,
               "GRADIO_TEMP_DIR": str(folders["gradio-temp"]), "HOME": str(folders["home"]),
               "TMPDIR": str(folders["tmp"]), "HF_HOME": None, "HF_HUB_CACHE": None, "HF_DATASETS_CACHE": None,
               "XDG_CACHE_HOME": None, "HUGGING_FACE_HUB_TOKEN": None}
        proc = start_app(port, folders["runs"], cache, log, "--multi-user", env=env)
        try:
            wait_until_serving(url + "/", proc, log, timeout=60)
            client = Client(url + "/", verbose=False)
            upload = root / "feedback.jsonl"  # goes through Gradio's upload folder into the runs folder
            upload.write_text("".join(json.dumps({"text": f"Toads are frogs, note {i}."}) + "\n" for i in range(8)),
                              encoding="utf-8")

            def call(endpoint: str, **kwargs):
                answer = client.predict(api_name=f"/{endpoint}", **kwargs)
                responses.append((endpoint, answer))
                return answer

            steps = {
                "load_data": call("load_data", dataset="sample"),
                "upload": call("load_data", dataset="", file=handle_file(str(upload))),
                "preview": call("preview", task="sft", dataset="sample", code=FORMAT, session=session),
                "run_code": call("run_code", task="sft", code=FORMAT, dataset="sample", records=2, session=session),
                "start_run": call("start_run", task="sft", model="starter", dataset="sample", code=FORMAT,
                                  settings=RUN_SETTINGS, session=session),
            }
            run_id = steps["start_run"]["run_id"]
            # While the supervisor and the trainer (which inherit HF_TOKEN) are alive.
            training = wait_for_status(client, run_id, session, ("started", *TERMINAL), responses)
            steps["peek"] = call("run_code", task="sft", code=PEEK, dataset="sample", records=1, session=session)
            steps["peek_during"] = training["run"]["status"]
            steps["run"] = wait_for_status(client, run_id, session, TERMINAL, responses)
            steps["chat"] = call("chat", model=run_id, message="Is a toad a frog?", max_new_tokens=8,
                                 session=session)
            steps["export_script"] = call("export_script", run_id=run_id, session=session)
            steps["push_env"] = call("push", run_id=run_id, repo_id="someone/tiny-sft", session=session)
            steps["push_form"] = call("push", run_id=run_id, repo_id="someone/tiny-sft-form", token=TOKEN_FORM,
                                      session=session)
            steps["push_refused"] = call("push", run_id=run_id, repo_id="forbidden/tiny-sft", token=TOKEN_FORM,
                                         session=session)
            steps["run_status"] = call("run_status", session=session)
            steps["health"] = call("health")
            pages = {}
            for path in PAGES:
                with urllib.request.urlopen(url + path, timeout=30) as page:
                    pages[path] = page.read()
        finally:
            stop_runs(folders["runs"])
            stop_app(proc)
    return {"steps": steps, "responses": responses, "pages": pages, "root": root, "hub": hub}


@pytest.fixture(scope="module")
def found(flow):
    """Everything the flow left behind, searched for both tokens: {where: token names} per kind."""
    files = [p for p in flow["root"].rglob("*") if p.is_file() and not p.is_symlink()]
    hub = flow["hub"]
    result = {
        "files": {str(p.relative_to(flow["root"])): names for p in files if (names := leaks(p.read_bytes()))},
        "responses": {f"{i}: {endpoint}": names for i, (endpoint, answer) in enumerate(flow["responses"])
                      if (names := leaks(json.dumps(answer, ensure_ascii=False).encode()))},
        "pages": {path: names for path, body in flow["pages"].items() if (names := leaks(body))},
        "hub files": {f"{repo}/{path}": names for repo, stored in hub.repos.items()
                      for path, data in stored["files"].items() if (names := leaks(data))},
        "hub request bodies": {f"{r['method']} {r['route']}": names for r in hub.requests
                               if (names := leaks(r.get("raw") or b""))},
        "searched": {"files": files, "hub files": sum(len(s["files"]) for s in hub.repos.values())},
    }
    total = sum(len(v) for k, v in result.items() if k != "searched")
    report("secrets found", f"{total} in {len(files)} files, {len(flow['responses'])} API responses and the page "
                            f"HTML (token from env and from the push form)")
    return result


def test_the_flow_used_both_tokens_for_real(flow):
    """Every step worked, and the fake Hub saw each token where it belongs: the Authorization header."""
    steps, hub = flow["steps"], flow["hub"]
    failed = {name: step for name, step in steps.items() if isinstance(step, dict) and not step.get("ok")
              and name != "push_refused"}

    assert not failed, failed
    assert steps["run"]["run"]["status"] == "finished", steps["run"]
    assert "README.md" in hub.files("someone/tiny-sft") and "README.md" in hub.files("someone/tiny-sft-form")
    by_repo = {f"{r['json']['organization']}/{r['json']['name']}": r["auth"] for r in hub.requests
               if r["route"] == "/api/repos/create"}
    assert by_repo == {"someone/tiny-sft": f"Bearer {TOKEN_ENV}", "someone/tiny-sft-form": f"Bearer {TOKEN_FORM}",
                       "forbidden/tiny-sft": f"Bearer {TOKEN_FORM}"}


def test_no_file_the_flow_wrote_holds_a_token(found):
    searched = found["searched"]["files"]
    names = {p.name for p in searched}
    folders = {part for p in searched for part in p.parts}

    assert {"config.yaml", "events.jsonl", "stdout.log", "card.md", "app.log"} <= names  # the search saw them
    assert {".uploads", "gradio-temp", "prepared"} <= folders  # the upload's two copies, the prepared-rows cache
    assert found["files"] == {}


def test_no_api_response_holds_a_token(flow, found):
    assert {endpoint for endpoint, _ in flow["responses"]} >= {"load_data", "preview", "run_code", "start_run",
                                                               "run_status", "chat", "export_script", "push"}
    assert found["responses"] == {}


def test_a_hub_error_that_echoes_the_token_comes_back_without_it(flow):
    refused = flow["steps"]["push_refused"]

    assert not refused["ok"] and "403" in refused["error"]
    assert TOKEN_FORM not in refused["error"] and "***" in refused["error"]


def test_the_page_and_its_config_hold_no_token(flow, found):
    assert b"<html" in flow["pages"]["/"].lower() and b"push" in flow["pages"]["/config"]
    assert found["pages"] == {}


def test_the_hub_received_no_token_in_files_or_request_bodies(found):
    assert found["searched"]["hub files"] >= 2
    assert found["hub files"] == {} and found["hub request bodies"] == {}


def test_user_code_cannot_read_the_token_from_any_process(flow):
    """A formatting function (via /run_code, while the run trains) reads os.environ, /proc/self, its parent's
    and every readable /proc/<pid>/environ: no token comes back."""
    peek = flow["steps"]["peek"]
    seen = ast.literal_eval(peek["records"][0]["rows"][0][0])  # the function's repr() of what it found
    print(f"\nuser code (while the run was {flow['steps']['peek_during']}) could read {len(seen['read'])} of "
          f"{seen['tried']} environ files: {seen['read']}; entries named *TOKEN*: {seen['entries']}")

    assert "/proc/self/environ" in seen["read"]  # it ran, and could read at least its own environment
    assert seen["os.environ"] is None
    assert not leaks(json.dumps(peek, ensure_ascii=False).encode()), seen["entries"]
