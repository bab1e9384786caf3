"""Hub sources: a Hub id fails helpfully without network (how fast: ``benchmarks/timings.py``), and loads through
``datasets`` with one.

The loading path is exercised end to end against a local HTTP server (``tests/fake_hub.py``) that answers the
Hub API calls ``datasets.load_dataset`` makes; nothing is monkeypatched. Those tests run in subprocesses because
``huggingface_hub`` reads ``HF_ENDPOINT`` once, at import.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import (DOLLY_RECORDS, assert_clean_failure, cli_env, error_line, read_rows, run_cli, write_jsonl,
                      write_parquet)
from fake_hub import FakeHub
from rlhf.data.sources import hub_reachable, resolve_source

SECRET = "hf_secretHubTOKEN0987654321"
CLOSED_ENDPOINT = "http://127.0.0.1:9"


@pytest.fixture
def hub(tmp_path):
    """A local Hub serving ``owner/dolly`` (the six dolly records as one parquet file)."""
    write_parquet(tmp_path / "hub" / "owner" / "dolly" / "data" / "train-00000-of-00001.parquet", DOLLY_RECORDS)
    with FakeHub(tmp_path / "hub") as server:
        yield server


def hub_env(tmp_path: Path, **changes) -> dict[str, str]:
    """A fresh Hugging Face cache, so nothing is found there by accident."""
    return cli_env(HF_HOME=str(tmp_path / "hf-home"), HF_DATASETS_CACHE=None, HF_HUB_CACHE=None, **changes)


# -- no network -------------------------------------------------------------------------------------------------

def test_a_hub_id_fails_when_hf_hub_offline_is_set(tmp_path):
    result = run_cli("prepare", "--dataset", "argilla/databricks-dolly-15k-curated-en", "--task", "sft",
                     "--output", tmp_path / "rows.jsonl", env=hub_env(tmp_path, HF_HUB_OFFLINE="1"))

    assert_clean_failure(result, 2)
    message = error_line(result)
    assert "Hugging Face Hub is unreachable (HF_HUB_OFFLINE is set)" in message
    assert "'argilla/databricks-dolly-15k-curated-en'" in message
    assert "--dataset data.jsonl" in message and "--dataset sample" in message


def test_a_hub_id_fails_when_the_endpoint_refuses_connections(tmp_path):
    env = hub_env(tmp_path, HF_HUB_OFFLINE=None, HF_ENDPOINT=CLOSED_ENDPOINT)
    result = run_cli("prepare", "--dataset", "owner/dolly", "--task", "sft", "--output", tmp_path / "rows.jsonl",
                     env=env)

    assert_clean_failure(result, 2)
    message = error_line(result)
    assert f"Hugging Face Hub is unreachable ({CLOSED_ENDPOINT} cannot be reached" in message
    assert "--dataset data.jsonl" in message and "--dataset sample" in message


def test_hub_reachable_is_false_when_offline_is_set(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    assert hub_reachable() is False


def test_hub_reachable_is_false_for_a_closed_port(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", CLOSED_ENDPOINT)

    assert hub_reachable(timeout=2) is False


def test_hub_reachable_is_true_for_a_listening_endpoint(monkeypatch):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{listener.getsockname()[1]}")

        assert hub_reachable(timeout=2) is True


def test_a_local_file_that_looks_like_a_hub_id_is_read_as_a_file(tmp_path, monkeypatch):
    write_jsonl(tmp_path / "owner" / "name.jsonl", [{"text": "a"}])
    monkeypatch.chdir(tmp_path)

    assert resolve_source("owner/name.jsonl").kind == "file"


# -- through a (local) Hub --------------------------------------------------------------------------------------

LOAD_SNIPPET = """
import json, sys
from rlhf.data.sources import load_hub_dataset
source = load_hub_dataset(sys.argv[1])
records = [r for batch in source.batches() for r in batch]
print(json.dumps({"source": source.to_dict(), "records": records}))
"""


def load_in_subprocess(repo_id: str, env: dict[str, str]) -> dict:
    result = subprocess.run([sys.executable, "-c", LOAD_SNIPPET, repo_id], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_load_hub_dataset_points_at_the_arrow_cache_of_the_download(tmp_path, hub):
    env = hub_env(tmp_path, HF_HUB_OFFLINE=None, HF_ENDPOINT=hub.endpoint)

    loaded = load_in_subprocess("owner/dolly", env)

    source = loaded["source"]
    assert source["kind"] == "hub" and source["spec"] == "owner/dolly"
    assert source["files"] and all(fmt == "arrow" for _, fmt in source["files"])
    assert all(Path(path).is_file() and Path(path).is_relative_to(tmp_path / "hf-home")
               for path, _ in source["files"])
    assert loaded["records"] == DOLLY_RECORDS
    assert any(path.endswith("/data/train-00000-of-00001.parquet") for _, path, _ in hub.requests)


@pytest.mark.slow
def test_rows_prepare_from_a_hub_dataset(tmp_path, hub):
    env = hub_env(tmp_path, HF_HUB_OFFLINE=None, HF_ENDPOINT=hub.endpoint)
    local = write_parquet(tmp_path / "local.parquet", DOLLY_RECORDS)

    from_hub = run_cli("prepare", "--dataset", "owner/dolly", "--task", "rm", "--output", tmp_path / "hub.jsonl",
                       env=env)
    from_file = run_cli("prepare", "--dataset", local, "--task", "rm", "--output", tmp_path / "file.jsonl", env=env)

    assert from_hub.returncode == 0, from_hub.stderr
    assert from_file.returncode == 0, from_file.stderr
    assert read_rows(tmp_path / "hub.jsonl") == read_rows(tmp_path / "file.jsonl")
    assert len(read_rows(tmp_path / "hub.jsonl")) == 4


@pytest.mark.slow
def test_a_downloaded_hub_dataset_is_served_from_the_cache_when_offline(tmp_path, hub):
    online = hub_env(tmp_path, HF_HUB_OFFLINE=None, HF_ENDPOINT=hub.endpoint)
    load_in_subprocess("owner/dolly", online)
    requests_online = len(hub.requests)

    result = run_cli("prepare", "--dataset", "owner/dolly", "--task", "rl", "--output", tmp_path / "rows.jsonl",
                     env=hub_env(tmp_path, HF_HUB_OFFLINE="1", HF_ENDPOINT=hub.endpoint))

    assert result.returncode == 0, result.stderr
    assert len(read_rows(tmp_path / "rows.jsonl")) == 5
    assert len(hub.requests) == requests_online, "offline, nothing may reach the Hub"


@pytest.mark.slow
def test_the_token_is_sent_to_the_hub_but_never_printed(tmp_path, hub):
    env = hub_env(tmp_path, HF_HUB_OFFLINE=None, HF_ENDPOINT=hub.endpoint, HF_TOKEN=SECRET)

    result = run_cli("prepare", "--dataset", "owner/dolly", "--task", "rm", "--output", tmp_path / "rows.jsonl",
                     env=env)

    assert result.returncode == 0, result.stderr
    assert f"Bearer {SECRET}" in {auth for _, _, auth in hub.requests}
    assert SECRET not in result.stderr + result.stdout + (tmp_path / "rows.jsonl").read_text()


@pytest.mark.slow
def test_a_missing_hub_dataset_exits_2_naming_it(tmp_path, hub):
    env = hub_env(tmp_path, HF_HUB_OFFLINE=None, HF_ENDPOINT=hub.endpoint)

    result = run_cli("prepare", "--dataset", "owner/missing", "--task", "sft", "--output", tmp_path / "rows.jsonl",
                     env=env)

    assert_clean_failure(result, 2)
    message = error_line(result)
    assert "'owner/missing'" in message


@pytest.mark.slow
def test_a_missing_split_of_a_hub_dataset_exits_2_naming_it(tmp_path, hub):
    env = hub_env(tmp_path, HF_HUB_OFFLINE=None, HF_ENDPOINT=hub.endpoint)

    result = run_cli("prepare", "--dataset", "owner/dolly", "--split", "test", "--task", "sft",
                     "--output", tmp_path / "rows.jsonl", env=env)

    assert_clean_failure(result, 2)
    assert "error: Dataset 'owner/dolly' has no split 'test'" in result.stderr.strip().splitlines()[-1]
