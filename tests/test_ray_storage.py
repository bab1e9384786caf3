"""A Ray run's folder in cluster storage (rlhf.runs.ray_storage) and what the app's watcher brings back from it,
without a cluster: the storage is a folder, and a bucket on an S3 server on 127.0.0.1 (moto) reached through
pyarrow's S3 filesystem, as a MinIO or AWS bucket would be."""

from __future__ import annotations

import json
import socket
import urllib.request

import pytest

from rlhf.errors import ConfigError
from rlhf.runs.folder import RunFolder
from rlhf.runs.ray_backend import (
    RAY_JOB,
    _fetch_results,
    _mirror_events,
    stored_checkpoint,
)
from rlhf.runs.ray_storage import ClusterStore, storage_uri, upload_checkpoint
from rlhf.runs.ray_worker import StorageSync


def test_cluster_storage_is_a_bucket_uri_or_an_absolute_path():
    assert storage_uri("s3://bucket/rlhf/") == "s3://bucket/rlhf"
    assert storage_uri("s3://bucket/rlhf/?endpoint_override=minio:9000") == "s3://bucket/rlhf?endpoint_override=minio:9000"
    assert storage_uri("/mnt/shared/rlhf") == "/mnt/shared/rlhf"
    assert storage_uri("") is None
    with pytest.raises(ConfigError, match="RLHF_RAY_STORAGE: 'runs/cluster' must be a bucket URI"):
        storage_uri("runs/cluster")


def test_credentials_in_the_storage_uri_are_refused_as_it_is_written_to_the_run_folder():
    with pytest.raises(ConfigError, match="credentials in the environment"):
        storage_uri("s3://bucket/rlhf?access_key=AKIA&secret_key=hush")


def test_a_run_folder_in_storage_goes_ahead_of_the_uri_query():
    store = ClusterStore.of_run("s3://bucket/rlhf?endpoint_override=127.0.0.1:9&scheme=http", "run-1")
    assert store.uri == "s3://bucket/rlhf/run-1?endpoint_override=127.0.0.1:9&scheme=http"
    assert store.location("ray") == "s3://bucket/rlhf/run-1/ray?endpoint_override=127.0.0.1:9&scheme=http"
    assert store.root == "bucket/rlhf/run-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(params=["folder", "s3"])
def storage(request, tmp_path, monkeypatch) -> str:
    """``RLHF_RAY_STORAGE`` as a user sets it: an absolute path, or a bucket on a local S3 server."""
    if request.param == "folder":
        return str(tmp_path / "storage")
    server_module = pytest.importorskip("moto.server")
    from pyarrow import fs

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    port = _free_port()
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()

    def stop() -> None:  # the server keeps its buckets in this process's memory: empty them for the next test
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST"))
        server.stop()

    request.addfinalizer(stop)
    endpoint = f"endpoint_override=127.0.0.1:{port}&scheme=http&region=us-east-1"
    fs.S3FileSystem(endpoint_override=f"127.0.0.1:{port}", scheme="http", region="us-east-1",
                    allow_bucket_creation=True).create_dir("rlhf-runs")
    return f"s3://rlhf-runs/cluster?{endpoint}"


def _checkpoint(folder, step, whole=True):
    path = folder / f"checkpoint-{step}"
    path.mkdir(parents=True)
    (path / "model.safetensors").write_bytes(b"weights")
    if whole:
        (path / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    return path


def test_the_last_stored_checkpoint_is_the_newest_with_its_trainer_state(tmp_path, storage):
    store = ClusterStore.of_run(storage, "run-1")
    for step, whole in ((9, True), (10, True), (12, False)):
        upload_checkpoint(store, _checkpoint(tmp_path / "local", step, whole))
    assert store.last_checkpoint() == "checkpoint-10"  # 10 after 9 by number; 12 is not whole


def test_rank_0_stores_checkpoints_results_and_events_and_the_watcher_brings_results_home(tmp_path, storage):
    """Rank 0's last sync puts the run's results and events in storage; the watcher appends the events the job
    added to the run folder's own (whole lines only) and fetches final/, metrics.json and plan.json, while the
    checkpoints stay in storage, noted for a resume."""
    store = ClusterStore.of_run(storage, "run-1")
    app = RunFolder.of(tmp_path / "runs" / "run-1")
    app.path.mkdir(parents=True)
    app.events.write_text('{"status": "queued"}\n')
    store.upload(app.events, "events.jsonl")
    record = {"storage": store.uri, "events_offset": app.events.stat().st_size}
    (app.path / RAY_JOB).write_text(json.dumps(record))

    worker = RunFolder.of(tmp_path / "scratch")
    worker.path.mkdir()
    worker.events.write_text('{"status": "queued"}\n{"step": 1, "loss": 2.0}\n{"status": "fini')  # mid-write
    sync = StorageSync(store, worker, rank=0)
    sync.sync()
    _mirror_events(app, record)
    assert app.read_events() == [{"status": "queued"}, {"step": 1, "loss": 2.0}]

    with worker.events.open("a") as handle:
        handle.write('shed"}\n')
    _checkpoint(worker.path, 5)
    (worker.path / "final").mkdir()
    (worker.path / "final" / "model.safetensors").write_bytes(b"final weights")
    (worker.path / "metrics.json").write_text('{"global_step": 5}')
    sync.sync(final=True)
    _fetch_results(app, record)
    assert app.recorded_status() == {"status": "finished"}
    assert (app.final / "model.safetensors").read_bytes() == b"final weights"
    assert json.loads(app.metrics.read_text()) == {"global_step": 5}
    assert not list(app.path.glob("checkpoint-*"))
    assert stored_checkpoint(app) == store.location("checkpoint-5")


def test_a_job_that_ended_while_no_watcher_followed_it_is_read_from_storage(tmp_path, monkeypatch, storage):
    """The app was down when the run's Ray job finished: the run is not 'interrupted' but finished, its events and
    final/ fetched from cluster storage the first time the app looks."""
    from rlhf.runs import ray_backend
    from rlhf.runs.config import RunConfig
    from rlhf.runs.events import append_event
    from rlhf.runs.manager import RunManager

    manager = RunManager(tmp_path / "runs")
    app = RunFolder.of(manager.runs_dir / "20260101-000000-sft-abcd")
    app.path.mkdir()
    RunConfig(task="sft", output_dir=str(app.path), backend="ray", ray_address="127.0.0.1:9").save(app.config)
    append_event(app.events, {"status": "queued"})
    store = ClusterStore.of_run(storage, app.id)
    record = {"job_id": "rlhf-done", "address": "http://127.0.0.1:9", "attempt": 1, "storage": store.uri,
              "events_offset": app.events.stat().st_size}
    append_event(app.events, {"status": "started", "backend": "ray", "world_size": 1})  # mirrored before the app went
    store.write_bytes("events.jsonl", app.events.read_bytes() + b'{"status": "finished", "step": 3}\n')
    store.write_bytes("final/model.safetensors", b"final weights")
    record["events_offset"] = app.events.stat().st_size
    (app.path / RAY_JOB).write_text(json.dumps(record))
    monkeypatch.setattr(ray_backend, "job_status", lambda run: "SUCCEEDED")

    assert manager.recover()["interrupted"] == []
    assert manager.status(app.id)["status"] == "finished"
    assert (app.final / "model.safetensors").read_bytes() == b"final weights"
