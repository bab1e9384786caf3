"""Runs on a Ray cluster, the app's side: submit a run as a Ray job, follow it, stop it, re-attach to it.

Why a Ray *job* (``JobSubmissionClient``) and not a driver in this process: the job's driver runs on the cluster,
so the training outlives the app, its supervisor and this process; all that is kept here is the job id, in the
run folder's ``ray_job.json``, and that is enough to follow the run again after a restart.

For the run manager the process that "trains" a Ray run is ``python -m rlhf train --config …`` as for any run; with
``backend: ray`` that process is :func:`run_on_cluster`, a *watcher*: it submits the job (or finds the one it
submitted earlier for this attempt), copies the job's log into ``stdout.log``, and on SIGTERM asks the workers to
stop (:data:`STOP_FILE`, which rank 0 polls) so they save a checkpoint, stopping the Ray job only should they not
end in :data:`STOP_GRACE_S` seconds. Without ``RLHF_RAY_STORAGE`` the workers (:mod:`rlhf.runs.ray_worker`) write
events, checkpoints, ``final/`` and ``metrics.json`` into the run folder, which the cluster then shares (NFS; on
one machine simply the same disk). With it (a bucket, or a path the nodes and this machine mount) the cluster works
in ``<storage>/<run id>/`` (:mod:`rlhf.runs.ray_storage`): the watcher brings the events in as they come and
``final/``, ``metrics.json`` and ``plan.json`` when the job ends; checkpoints stay there for a resume. Either way
chat, score, push and export read a Ray run's folder like a local one.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlhf.errors import ConfigError

if TYPE_CHECKING:
    from rlhf.runs.config import RunConfig
    from rlhf.runs.folder import RunFolder

BACKENDS = ("local", "ray")
ADDRESS_ENV = "RLHF_RAY_ADDRESS"
STORAGE_ENV = "RLHF_RAY_STORAGE"
RAY_JOB = "ray_job.json"  # {"job_id", "address", "attempt", "submitted", "log_chars"}
STOP_FILE = "stop-requested"  # written by the watcher on a stop request; rank 0 polls for it
STOP_GRACE_S = 300.0  # after a stop request, how long the workers may take to checkpoint before the job is stopped
POLL_S = 1.0
UNREACHABLE_S = 60.0  # the cluster not answering this long: the run is interrupted (the job may still run)
RUNNING_JOB = ("PENDING", "RUNNING")
# The environment the job inherits: rlhf's own settings and the offline switches, never a token.
PASSED_ENV = ("RLHF_", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HOME")


def ray_installed() -> bool:
    return importlib.util.find_spec("ray") is not None


def cluster_address(config: "RunConfig | None" = None) -> str | None:
    """The run's ``ray_address``, else ``$RLHF_RAY_ADDRESS``, as an http URL (the dashboard, where jobs go)."""
    address = (config.ray_address if config is not None else None) or os.environ.get(ADDRESS_ENV) or ""
    address = address.strip()
    if not address:
        return None
    return address if "://" in address else f"http://{address}"


def validate(config: "RunConfig") -> None:
    """The cluster settings, named when wrong; a local run ignores them."""
    if config.backend not in BACKENDS:
        raise ConfigError(f"backend: '{config.backend}' is not a backend; choose one of {', '.join(BACKENDS)}.")
    if config.backend != "ray":
        return
    if not ray_installed():
        raise ConfigError("backend: ray needs Ray on this machine: pip install 'ray[default]'.")
    if cluster_address(config) is None:
        raise ConfigError(f"ray_address: which Ray cluster? Give --ray-address http://HEAD:8265 or set {ADDRESS_ENV}.")
    if config.num_workers < 1:
        raise ConfigError(f"num_workers: must be at least 1, got {config.num_workers}.")
    from rlhf.runs.ray_storage import storage_uri

    storage_uri(os.environ.get(STORAGE_ENV))  # a relative path is refused by name
    from rlhf.tasks.registry import spec

    task = spec(config.task)
    if config.num_workers > 1 and task.variant_field and task.variant(config) == "ppo":
        raise ConfigError("num_workers: PPO trains in one process (rlhf's own PPO trainer is not data-parallel); "
                          "use --num-workers 1, or GRPO/RLOO for several workers.")
    for name, amount in config.resources_per_worker.items():
        if not isinstance(amount, (int, float)) or isinstance(amount, bool) or amount < 0:
            raise ConfigError(f"resources_per_worker: '{name}' must be a non-negative number, got {amount!r}.")


def worker_resources(config: "RunConfig") -> dict[str, float]:
    """What each worker reserves: the run's resources_per_worker, else 1 CPU (and 1 GPU with use_gpu)."""
    if config.resources_per_worker:
        return {k: float(v) for k, v in config.resources_per_worker.items()}
    return {"CPU": 1.0, **({"GPU": 1.0} if config.use_gpu else {})}


# -- the cluster, as the Train tab and /health show it -------------------------------------------------------------

@dataclass
class ClusterNode:
    id: str
    ip: str
    head: bool
    cpus: float
    gpus: float


@dataclass
class ClusterInfo:
    address: str
    nodes: list[ClusterNode] = field(default_factory=list)
    free_cpus: float = 0.0
    free_gpus: float = 0.0
    error: str | None = None

    def summary(self) -> str:
        if self.error:
            return f"Ray cluster at {self.address}: {self.error}"
        return (f"Ray cluster at {self.address}: {len(self.nodes)} node{'s' if len(self.nodes) != 1 else ''}, "
                f"{self.free_cpus:g} CPUs and {self.free_gpus:g} GPUs free")

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "nodes": [vars(n) for n in self.nodes], "free_cpus": self.free_cpus,
                "free_gpus": self.free_gpus, "error": self.error}


def _get_json(url: str, timeout: float) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - the configured cluster only
        return json.loads(response.read().decode("utf-8"))


def cluster_info(address: str | None = None, timeout: float = 3.0) -> ClusterInfo | None:
    """The configured cluster's live nodes and free CPUs/GPUs (its dashboard's state API); None when no cluster is
    configured, an ``error`` when it does not answer. Never raises: the page and /health show what is known."""
    address = address or cluster_address()
    if address is None:
        return None
    info = ClusterInfo(address)
    try:
        nodes = _get_json(f"{address}/api/v0/nodes?limit=1000", timeout)["data"]["result"]["result"]
        usage = _get_json(f"{address}/api/cluster_status?format=0", timeout)["data"]["clusterStatus"][
            "loadMetricsReport"]["usage"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        info.error = f"not reachable ({type(error).__name__}: {str(error)[:200]})"
        return info
    for node in nodes:
        if node.get("state") != "ALIVE":
            continue
        total = node.get("resources_total") or {}
        info.nodes.append(ClusterNode(node.get("node_id", ""), node.get("node_ip", ""), bool(node.get("is_head_node")),
                                      float(total.get("CPU", 0)), float(total.get("GPU", 0))))
    for name in ("CPU", "GPU"):
        used, total = (usage.get(name) or [0.0, 0.0])[:2]
        setattr(info, f"free_{name.lower()}s", max(0.0, float(total) - float(used)))
    return info


_RECENT: dict[str, tuple[float, ClusterInfo]] = {}


def recent_cluster_info(max_age_s: float = 5.0) -> ClusterInfo | None:
    """:func:`cluster_info` of the configured cluster, asked at most every ``max_age_s`` seconds (every open page
    and a load balancer poll it), with a short timeout so a cluster that does not answer never holds a page."""
    address = cluster_address()
    if address is None:
        return None
    seen = _RECENT.get(address)
    if seen is None or time.monotonic() - seen[0] > max_age_s:
        seen = _RECENT[address] = (time.monotonic(), cluster_info(address, timeout=1.5))
    return seen[1]


# -- the job of one run --------------------------------------------------------------------------------------------

def job_record(run: "RunFolder") -> dict[str, Any]:
    from rlhf.runs.manager import read_json

    return read_json(run.path / RAY_JOB)


def _client(address: str):
    from ray.job_submission import JobSubmissionClient

    return JobSubmissionClient(address)


def job_status(run: "RunFolder") -> str | None:
    """The Ray job's status (PENDING, RUNNING, STOPPED, SUCCEEDED, FAILED), "GONE" when the cluster no longer
    knows it, None when the run has no job or the cluster does not answer."""
    record = job_record(run)
    if not record.get("job_id") or not ray_installed():
        return None
    try:
        return str(_client(record["address"]).get_job_status(record["job_id"]).value)
    except RuntimeError as error:  # the dashboard answered: no such job (a restarted cluster)
        return "GONE" if "does not exist" in str(error) or "404" in str(error) else None
    except Exception:  # connection refused, timeout: unknown
        return None


def job_running(run: "RunFolder") -> bool:
    """Whether the run's Ray job still trains (its watcher may be gone: the app's machine restarted)."""
    return (run.path / RAY_JOB).is_file() and job_status(run) in RUNNING_JOB


def fetch_ended_job(run: "RunFolder") -> bool:
    """A job kept in cluster storage that ended while no watcher followed it (the app was down): bring its events
    and results into the run folder now; whether anything was fetched."""
    record = job_record(run) if (run.path / RAY_JOB).is_file() else {}
    if not record.get("storage") or record.get("fetched") or job_status(run) in (None, *RUNNING_JOB):
        return False
    try:
        _fetch_results(run, record)
    except OSError:  # storage not answering: the run stays interrupted; Resume still works from the stored checkpoint
        return False
    return True


def request_stop(run: "RunFolder") -> None:
    """Ask the workers to checkpoint and stop; rank 0 sees the file after its current step (in the run's
    cluster storage, when it has one)."""
    (run.path / STOP_FILE).write_text(str(time.time()))
    store = _store(job_record(run))
    if store is not None:
        store.write_bytes(STOP_FILE, str(time.time()).encode())


def _store(record: dict[str, Any]):
    """The run's folder in cluster storage, None when the cluster shares the run folder."""
    from rlhf.runs.ray_storage import ClusterStore

    return ClusterStore(record["storage"]) if record.get("storage") else None


def stored_checkpoint(run: "RunFolder") -> str | None:
    """The last checkpoint a Ray run left in its cluster storage (as the watcher last saw it), None without."""
    return (job_record(run) if (run.path / RAY_JOB).is_file() else {}).get("checkpoint")


def _mirror_events(run: "RunFolder", record: dict[str, Any]) -> None:
    """Bring the events the job added to its stored ``events.jsonl`` into the run folder's (whole lines only:
    a worker may be writing the stored file right now)."""
    from rlhf.runs.manager import write_json
    from rlhf.runs.ray_storage import EVENTS

    data = _store(record).read_bytes(EVENTS) or b""
    offset, end = int(record.get("events_offset") or 0), data.rfind(b"\n") + 1
    if end > offset:
        with open(run.events, "ab") as handle:
            handle.write(data[offset:end])
        record["events_offset"] = end
        write_json(run.path / RAY_JOB, record)


def _fetch_results(run: "RunFolder", record: dict[str, Any]) -> None:
    """The job ended: its last events, and ``final/``, ``metrics.json`` and ``plan.json``, into the run folder;
    the last stored checkpoint is noted in ``ray_job.json`` (resume reads it from storage)."""
    import shutil

    from rlhf.runs.manager import write_json
    from rlhf.runs.ray_storage import RESULTS

    store = _store(record)
    _mirror_events(run, record)
    for name in RESULTS:
        if store.exists(name):
            if (run.path / name).is_dir():
                shutil.rmtree(run.path / name)
            store.download(name, run.path / name)
    checkpoint = store.last_checkpoint()
    record["checkpoint"] = store.location(checkpoint) if checkpoint else None
    record["fetched"] = True
    write_json(run.path / RAY_JOB, record)


def _attempt(run: "RunFolder") -> int:
    from rlhf.runs.status import RunStatus

    return sum(1 for e in run.read_events() if e.get("status") == RunStatus.QUEUED)


def _job_env(config: "RunConfig") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith(PASSED_ENV) and "TOKEN" not in k}
    env[ADDRESS_ENV] = cluster_address(config) or ""
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])  # rlhf on a shared disk; installed works too
    env["PYTHONUNBUFFERED"] = "1"
    return env


def submit(config: "RunConfig", run: "RunFolder") -> str:
    """Submit the run's Ray job and record it in ``ray_job.json``; returns the job id."""
    from rlhf.runs.manager import write_json

    from rlhf.runs.ray_storage import EVENTS, ClusterStore, storage_uri

    address = cluster_address(config)
    attempt = _attempt(run)
    (run.path / STOP_FILE).unlink(missing_ok=True)
    entrypoint = f"python -m rlhf.runs.ray_worker {json.dumps(str(run.path))}"
    record: dict[str, Any] = {"address": address, "attempt": attempt, "log_chars": 0}
    storage = storage_uri(os.environ.get(STORAGE_ENV))
    if storage:  # the cluster works on its own copy of the run folder; the watcher brings results back
        store = ClusterStore.of_run(storage, run.id)
        store.delete(STOP_FILE)
        store.upload(run.config, "config.yaml")
        store.upload(run.events, EVENTS)
        entrypoint += f" --store {json.dumps(store.uri)}"
        record.update(storage=store.uri, events_offset=run.events.stat().st_size,
                      checkpoint=stored_checkpoint(run))
    job_id = _client(address).submit_job(
        entrypoint=entrypoint, submission_id=f"rlhf-{run.id}-{attempt}-{os.urandom(2).hex()}",
        runtime_env={"env_vars": _job_env(config)}, entrypoint_num_cpus=0, metadata={"rlhf_run": run.id})
    write_json(run.path / RAY_JOB, {"job_id": job_id, **record, "submitted": time.time()})
    return job_id


class Watcher:
    """The local process of a Ray run: follows its job until it ends, then makes sure the run has a verdict."""

    def __init__(self, config: "RunConfig", run: "RunFolder") -> None:
        self.config = config
        self.run = run
        self.stop_requested_at: float | None = None
        self.job_stop_sent = False

    def main(self) -> int:
        from rlhf.runs.manager import write_json

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        record = job_record(self.run)
        if record.get("attempt") == _attempt(self.run) and job_status(self.run) in RUNNING_JOB:
            print(f"ray: re-attached to job {record['job_id']} on {record['address']}", flush=True)
        else:
            try:
                submit(self.config, self.run)
            except Exception as error:  # the cluster does not answer, or refuses the job
                from rlhf.runs.events import append_event
                from rlhf.runs.status import RunStatus

                message = f"cannot submit the run to the Ray cluster at {cluster_address(self.config)}: " \
                          f"{type(error).__name__}: {str(error)[:300]}"
                append_event(self.run.events, {"status": RunStatus.FAILED, "error": message})
                print(f"error: {message}", file=sys.stderr)
                return 1
            record = job_record(self.run)
            print(f"ray: submitted job {record['job_id']} to {record['address']} (asking for "
                  f"{self.config.num_workers} worker{'s' if self.config.num_workers != 1 else ''})", flush=True)
        client = _client(record["address"])
        job_id, logged = record["job_id"], int(record.get("log_chars") or 0)
        last_answer, status = time.monotonic(), None
        while True:
            try:
                status = str(client.get_job_status(job_id).value)
                logs = client.get_job_logs(job_id)
                last_answer = time.monotonic()
            except RuntimeError as error:
                if "does not exist" in str(error):
                    status = "GONE"
                    break
                logs = None
            except Exception:
                logs = None
            if record.get("storage"):
                try:
                    _mirror_events(self.run, record)
                except OSError:  # storage not answering this once: the next poll tries again
                    pass
            if logs is not None and len(logs) > logged:
                sys.stdout.write(logs[logged:])
                sys.stdout.flush()
                logged = len(logs)
                record["log_chars"] = logged
                write_json(self.run.path / RAY_JOB, record)
            if status not in RUNNING_JOB and logs is not None:
                break
            if time.monotonic() - last_answer > UNREACHABLE_S:
                status = "UNREACHABLE"
                break
            if self.stop_requested_at and not self.job_stop_sent and status in RUNNING_JOB:
                waited = time.monotonic() - self.stop_requested_at
                if not _workers_started(self.run) or waited > STOP_GRACE_S:  # nobody to checkpoint, or too slow
                    why = "before its workers started" if waited <= STOP_GRACE_S else \
                        f"as the workers did not stop within {STOP_GRACE_S:g} s"
                    print(f"ray: stopping job {job_id} {why}", flush=True)
                    client.stop_job(job_id)
                    self.job_stop_sent = True
            time.sleep(POLL_S)
        if record.get("storage"):
            try:
                _fetch_results(self.run, record)
            except OSError as error:
                print(f"ray: cannot read the run's results from {record['storage']}: {error}", file=sys.stderr)
        return self._verdict(status, client, job_id)

    def _stop(self, signum: int, frame: object) -> None:
        if self.stop_requested_at is None:
            self.stop_requested_at = time.monotonic()
            request_stop(self.run)

    def _verdict(self, status: str | None, client, job_id: str) -> int:
        """The job ended: the workers' verdict stands; without one, say what happened to the job."""
        from rlhf.runs.events import append_event
        from rlhf.runs.status import TERMINAL, RunStatus

        last = self.run.recorded_status() or {}
        if last.get("status") in TERMINAL:
            return 0 if last["status"] in (RunStatus.FINISHED, RunStatus.STOPPED) else 1
        checkpoint = self.run.last_checkpoint() or stored_checkpoint(self.run)
        name = Path(str(checkpoint)).name if checkpoint else None
        hint = f"; resume continues from {name}" if name else ""
        address = job_record(self.run).get("address")
        if status == "GONE":
            event = {"status": RunStatus.INTERRUPTED, "error": f"the Ray job {job_id} is gone from the cluster at "
                                                                 f"{address} (restarted?){hint}"}
        elif status == "UNREACHABLE":
            event = {"status": RunStatus.INTERRUPTED, "error": f"the Ray cluster at {address} has not answered for "
                                                                 f"{UNREACHABLE_S:g} s; its job {job_id} may still "
                                                                 f"run{hint}"}
        elif status == "STOPPED" and self.stop_requested_at is not None:
            event = {"status": RunStatus.STOPPED, "checkpoint": name}
        else:
            try:
                message = client.get_job_info(job_id).message or ""
            except Exception:
                message = ""
            event = {"status": RunStatus.FAILED, "error": f"the Ray job {job_id} ended {status} without a result"
                                                           f"{': ' + message[:300] if message else ''}{hint}"}
        append_event(self.run.events, event)
        return 0 if event["status"] == RunStatus.STOPPED else 1


def _workers_started(run: "RunFolder") -> bool:
    """Whether rank 0 has said ``started`` since the run was last queued (this attempt's workers exist)."""
    from rlhf.runs.status import RunStatus

    for event in reversed(run.read_events()):
        if event.get("status") == RunStatus.STARTED:
            return True
        if event.get("status") == RunStatus.QUEUED:
            return False
    return False


def run_on_cluster(config: "RunConfig") -> int:
    """``rlhf train`` with ``backend: ray``: make sure the run folder holds its config, then follow its job."""
    from rlhf.runs.folder import RunFolder

    config.validate()
    run = RunFolder.of(config.output_dir)
    run.path.mkdir(parents=True, exist_ok=True)
    config.save(run.config)
    return Watcher(config, run).main()
