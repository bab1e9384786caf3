"""Runs on a Ray cluster, the cluster's side: ``python -m rlhf.runs.ray_worker RUN_DIR`` is the Ray job's driver.

It trains the run with Ray Train (``TorchTrainer`` over ``ScalingConfig(num_workers, use_gpu, resources_per_worker)``,
workers spread over the nodes). Each Ray Train worker starts the ordinary training process,
``python -m rlhf.runs.ray_worker --train CONFIG`` (that is :func:`rlhf.train.run`, the same task builders as a
local run), as a child with torch.distributed's environment (rank, world size, a fresh master port): so the
trainer is exactly the one ``accelerate launch`` would start (rank 0 alone writes events, metrics and
``final/``; a stop reaches every rank at the same step), and it has a main thread for its SIGTERM handler, which
Ray Train's worker thread would not give it. Rank 0 records ``started`` with the world size and the nodes, and
passes a stop request (:data:`rlhf.runs.ray_backend.STOP_FILE`) on to its trainer as SIGTERM.

A worker lost with its node fails the run with a message naming the node; resume starts a new job that uses the
workers the remaining nodes can hold and continues from the last checkpoint.
"""

from __future__ import annotations

import argparse
import ctypes
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rlhf.runs.config import RunConfig
from rlhf.runs.events import append_event, warn
from rlhf.runs.folder import RunFolder, checkpoint_complete
from rlhf.runs.ray_backend import STOP_FILE, worker_resources
from rlhf.runs.ray_storage import EVENTS, RESULTS, ClusterStore, scratch_folder, upload_checkpoint
from rlhf.runs.status import TERMINAL, RunStatus

NODE_DEATH_WAIT_S = 40.0  # how long to wait for the cluster to declare a silent node dead, to name it
SYNC_S = 2.0  # with cluster storage: how often a worker copies new events and checkpoints there, and looks for a stop


def placeable_workers(config: RunConfig, nodes: list[dict[str, Any]]) -> int:
    """How many of the run's workers the live nodes can hold (at least 1: Ray then waits for room)."""
    need = {k: v for k, v in worker_resources(config).items() if v > 0}
    fits = 0
    for node in nodes:
        if node.get("Alive"):
            have = node.get("Resources") or {}
            fits += min((math.floor(have.get(k, 0) / v) for k, v in need.items()), default=config.num_workers)
    return max(1, min(config.num_workers, fits))


def _fits_anywhere(config: RunConfig, nodes: list[dict[str, Any]]) -> bool:
    need = {k: v for k, v in worker_resources(config).items() if v > 0}
    return any(node.get("Alive") and all((node.get("Resources") or {}).get(k, 0) >= v for k, v in need.items())
               for node in nodes)


def _die_with_parent() -> None:
    """The trainer ends with its Ray worker (a lost node takes both), never left behind holding the gloo group."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((os.environ.get("MASTER_ADDR", "127.0.0.1"), 0))
        return sock.getsockname()[1]


def train_worker(loop_config: dict[str, Any]) -> None:
    """One Ray Train worker: agree on a port and the nodes, start the trainer, pass on a stop, wait."""
    import ray
    import ray.train
    import torch.distributed as dist

    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    store = ClusterStore(loop_config["store"]) if loop_config.get("store") else None
    run = RunFolder.of(loop_config["run_dir"]) if store is None else _working_copy(store, loop_config["run_id"], rank)
    sync = StorageSync(store, run, rank)
    node = ray.get_runtime_context().get_node_id()
    nodes: list[Any] = [None] * world
    dist.all_gather_object(nodes, node)
    port = [_free_port() if rank == 0 else None]
    dist.broadcast_object_list(port, src=0)
    if rank == 0:
        config = RunConfig.load(run.config)
        append_event(run.events, {"status": RunStatus.STARTED, "worker_pid": os.getpid(), "task": config.task,
                                  "model": config.model, "resumed": bool(config.resume_from_checkpoint),
                                  "backend": "ray", "world_size": world, "nodes": list(dict.fromkeys(nodes)),
                                  "worker_nodes": nodes, "ray_job": os.environ.get("RAY_JOB_ID")})
    env = dict(os.environ, MASTER_PORT=str(port[0]), RANK=str(rank), WORLD_SIZE=str(world), PYTHONUNBUFFERED="1")
    trainer = subprocess.Popen([sys.executable, "-m", "rlhf.runs.ray_worker", "--train", str(run.config)],
                               env=env, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    stop_sent = False
    while trainer.poll() is None:
        sync.sync()
        if rank == 0 and not stop_sent and sync.stop_requested():
            trainer.send_signal(signal.SIGTERM)  # it saves a checkpoint; the other ranks stop at the same step
            stop_sent = True
        time.sleep(0.5)
    stopped_early = rank == 0 and stop_sent and trainer.returncode in (-signal.SIGTERM, -signal.SIGINT) \
        and (run.recorded_status() or {}).get("status") not in TERMINAL
    if stopped_early:
        checkpoint = run.last_checkpoint()  # stopped before training began: nothing new to save
        append_event(run.events, {"status": RunStatus.STOPPED, "checkpoint": checkpoint.name if checkpoint else None})
    sync.sync(final=True)
    # Rank 0 knows the run's verdict; a trainer that exits non-zero after "finished" (a crash at interpreter exit)
    # did its work: the run's verdict stands, as for a local run.
    verdict = (run.recorded_status() or {}).get("status") if rank == 0 else None
    if store is not None:
        shutil.rmtree(run.path, ignore_errors=True)  # all of it is in storage now
    if trainer.returncode != 0 and verdict in (RunStatus.FINISHED, RunStatus.STOPPED):
        print(f"ray: the trainer exited with code {trainer.returncode} after the run {verdict}", flush=True)
    elif trainer.returncode != 0:
        raise RuntimeError(f"the trainer of rank {rank} on node {node} exited with code {trainer.returncode}")


def _working_copy(store: ClusterStore, run_id: str, rank: int | str, checkpoint: bool = True) -> RunFolder:
    """A worker's (or the driver's) folder for a run kept in cluster storage: a fresh scratch folder on this node
    with the stored config (its output_dir pointing here), events and, for a worker's resume, the last checkpoint."""
    run = RunFolder.of(scratch_folder(run_id, rank))
    shutil.rmtree(run.path, ignore_errors=True)
    run.path.mkdir(parents=True)
    if not store.download("config.yaml", run.config):
        raise RuntimeError(f"the run's config.yaml is not in its cluster storage {store.uri}")
    store.download(EVENTS, run.events)
    config = RunConfig.load(run.config)
    config.output_dir = str(run.path)
    config.save(run.config)
    last = store.last_checkpoint() if checkpoint and config.resume_from_checkpoint else None
    if last:
        store.download(last, run.path / last)
    return run


class StorageSync:
    """With cluster storage, what a worker copies there as it trains: its checkpoints once written (rank 0's are
    whole when their ``trainer_state.json`` is; another rank's RNG state once a newer one exists), and rank 0's
    events; at the end also ``final/``, ``metrics.json`` and ``plan.json``, events last. Without storage (the
    run folder is shared) nothing to do."""

    def __init__(self, store: ClusterStore | None, run: RunFolder, rank: int) -> None:
        self.store, self.run, self.rank = store, run, rank
        self.uploaded: set[str] = {p.name for p in run.checkpoints()}  # downloaded to resume from: stored
        self.events_size = -1
        self.next_at = self.stop_checked_at = 0.0

    def stop_requested(self) -> bool:
        """Whether the watcher asked for a stop (in storage: asked at most every SYNC_S seconds)."""
        if self.store is None:
            return (self.run.path / STOP_FILE).exists()
        if time.monotonic() < self.stop_checked_at + SYNC_S:
            return False
        self.stop_checked_at = time.monotonic()
        return self.store.exists(STOP_FILE)

    def sync(self, final: bool = False) -> None:
        if self.store is None or (not final and time.monotonic() < self.next_at):
            return
        self.next_at = time.monotonic() + SYNC_S
        checkpoints = self.run.checkpoints()
        for checkpoint in checkpoints:
            written = checkpoint_complete(checkpoint) if self.rank == 0 else (final or checkpoint != checkpoints[-1])
            if checkpoint.name not in self.uploaded and written:
                upload_checkpoint(self.store, checkpoint)
                self.uploaded.add(checkpoint.name)
        if self.rank != 0:
            return
        for gone in self.uploaded - {p.name for p in checkpoints}:  # the Trainer's save_total_limit removed it
            self.store.delete_dir(gone)
            self.uploaded.discard(gone)
        if final:
            for name in RESULTS:
                if (self.run.path / name).exists():
                    self.store.upload(self.run.path / name, name)
        size = self.run.events.stat().st_size if self.run.events.exists() else 0
        if size != self.events_size:
            self.store.upload(self.run.events, EVENTS)
            self.events_size = size


def _lost_nodes(run: RunFolder, wait: bool) -> list[str]:
    """The nodes this attempt's workers ran on that the cluster now reports dead; with ``wait``, waiting a while
    for the cluster to notice a node that went silent."""
    import ray

    started = next((e for e in reversed(run.read_events()) if e.get("status") == RunStatus.STARTED), {})
    used = set(started.get("nodes") or [])
    deadline = time.monotonic() + (NODE_DEATH_WAIT_S if wait else 0)
    while used:
        alive = {n["NodeID"] for n in ray.nodes() if n.get("Alive")}
        lost = sorted(used - alive)
        if lost or time.monotonic() > deadline:
            return lost
        time.sleep(1.0)
    return []


def _record_failure(run: RunFolder, error: BaseException, store: ClusterStore | None) -> None:
    """Name the lost node when a node was lost; otherwise keep the trainer's own verdict, or give the error."""
    last = run.recorded_status() or {}
    # A peer's connection dropped (or no verdict at all): maybe a node died; the cluster takes seconds to say so.
    suspect = last.get("status") not in TERMINAL or "connection" in str(last.get("error", "")).lower()
    lost = _lost_nodes(run, wait=suspect)
    checkpoint = store.last_checkpoint() if store is not None else getattr(run.last_checkpoint(), "name", None)
    hint = f"; resume continues from {checkpoint}" if checkpoint else "; no checkpoint yet: start the run again"
    if lost:
        step = next((e["step"] for e in reversed(run.read_events()) if isinstance(e.get("step"), int)), 0)
        append_event(run.events, {"status": RunStatus.FAILED, "step": step, "lost_nodes": lost,
                                  "error": f"lost the worker node{'s' if len(lost) > 1 else ''} "
                                           f"{', '.join(lost)} at step {step}{hint}"})
    elif last.get("status") not in TERMINAL:
        append_event(run.events, {"status": RunStatus.FAILED,
                                  "error": f"Ray Train failed: {type(error).__name__}: {str(error)[:500]}{hint}"})


def drive(run_dir: str, store_uri: str | None = None) -> int:
    """The job's driver: fit a TorchTrainer whose workers train the run; returns the exit status. With cluster
    storage (``store_uri``) the run folder is the app's, out of reach: the driver reads and writes the stored
    events through a working copy of its own."""
    import ray
    from ray.train import FailureConfig, RunConfig as RayRunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    ray.init()  # inside a Ray job: the job's own cluster
    run_id = Path(run_dir).name
    store = ClusterStore(store_uri) if store_uri else None
    run = RunFolder.of(run_dir) if store is None else _working_copy(store, run_id, "driver", checkpoint=False)
    config = RunConfig.load(run.config)
    workers = placeable_workers(config, ray.nodes())
    if not _fits_anywhere(config, ray.nodes()):
        warn(run.events, f"resources_per_worker: no live node of the cluster can hold a worker "
                         f"({worker_resources(config)}); the job waits until the cluster has one (an autoscaling "
                         f"cluster adds it; otherwise stop the run and ask for less)")
    elif workers < config.num_workers:
        warn(run.events, f"num_workers: the cluster's live nodes hold {workers} of the {config.num_workers} "
                         f"workers asked for; training with {workers}")
    if store is not None:
        store.upload(run.events, EVENTS)  # the warnings, before rank 0 reads the stored events
    loop_config = {"run_dir": str(run.path)} if store is None else {"store": store.uri, "run_id": run_id}
    storage = store.location("ray") if store is not None else str(run.path / "ray")  # Ray Train's own records
    trainer = TorchTrainer(
        train_worker, train_loop_config=loop_config,
        scaling_config=ScalingConfig(num_workers=workers, use_gpu=config.use_gpu,
                                     resources_per_worker=worker_resources(config), placement_strategy="SPREAD"),
        run_config=RayRunConfig(name=run_id, storage_path=storage, failure_config=FailureConfig(max_failures=0)))
    try:
        result = trainer.fit()
        error = getattr(result, "error", None)
    except Exception as raised:  # Ray Train 2: a failed worker group raises
        error = raised
    if store is not None:
        store.download(EVENTS, run.events)  # what rank 0 last stored
    code = _verdict(run, error, store)
    if store is not None:
        store.upload(run.events, EVENTS)
        shutil.rmtree(run.path, ignore_errors=True)
    return code


def _verdict(run: RunFolder, error: BaseException | None, store: ClusterStore | None) -> int:
    if error is not None:
        _record_failure(run, error, store)
        return 1
    last = run.recorded_status() or {}
    if last.get("status") not in TERMINAL:
        append_event(run.events, {"status": RunStatus.FAILED, "error": "the Ray workers ended without a result"})
        return 1
    return 0 if last["status"] in (RunStatus.FINISHED, RunStatus.STOPPED) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rlhf.runs.ray_worker", description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", nargs="?", help="the run folder (the Ray job's driver)")
    parser.add_argument("--train", metavar="CONFIG", help="train one rank of the run (started by a Ray worker)")
    parser.add_argument("--store", metavar="URI", help="the run's folder in cluster storage (RLHF_RAY_STORAGE)")
    args = parser.parse_args(argv)
    if args.train:
        from rlhf.train import run

        return run(RunConfig.load(args.train))
    return drive(args.run_dir, args.store)


if __name__ == "__main__":
    sys.exit(main())
