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
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from rlhf.runs.config import RunConfig
from rlhf.runs.events import append_event, warn
from rlhf.runs.folder import RunFolder
from rlhf.runs.ray_backend import STOP_FILE, STORAGE_ENV, worker_resources
from rlhf.runs.status import TERMINAL, RunStatus

NODE_DEATH_WAIT_S = 40.0  # how long to wait for the cluster to declare a silent node dead, to name it


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

    run = RunFolder.of(loop_config["run_dir"])
    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
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
        if rank == 0 and not stop_sent and (run.path / STOP_FILE).exists():
            trainer.send_signal(signal.SIGTERM)  # it saves a checkpoint; the other ranks stop at the same step
            stop_sent = True
        time.sleep(0.5)
    if rank == 0 and stop_sent and trainer.returncode in (-signal.SIGTERM, -signal.SIGINT) \
            and (run.recorded_status() or {}).get("status") not in TERMINAL:
        checkpoint = run.last_checkpoint()  # stopped before training began: nothing new to save
        append_event(run.events, {"status": RunStatus.STOPPED, "checkpoint": checkpoint.name if checkpoint else None})
        return
    if trainer.returncode != 0:
        raise RuntimeError(f"the trainer of rank {rank} on node {node} exited with code {trainer.returncode}")


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


def _record_failure(run: RunFolder, error: BaseException) -> None:
    """Name the lost node when a node was lost; otherwise keep the trainer's own verdict, or give the error."""
    last = run.recorded_status() or {}
    # A peer's connection dropped (or no verdict at all): maybe a node died; the cluster takes seconds to say so.
    suspect = last.get("status") not in TERMINAL or "connection" in str(last.get("error", "")).lower()
    lost = _lost_nodes(run, wait=suspect)
    checkpoint = run.last_checkpoint()
    hint = f"; resume continues from {checkpoint.name}" if checkpoint else "; no checkpoint yet: start the run again"
    if lost:
        step = next((e["step"] for e in reversed(run.read_events()) if isinstance(e.get("step"), int)), 0)
        append_event(run.events, {"status": RunStatus.FAILED, "step": step, "lost_nodes": lost,
                                  "error": f"lost the worker node{'s' if len(lost) > 1 else ''} "
                                           f"{', '.join(lost)} at step {step}{hint}"})
    elif last.get("status") not in TERMINAL:
        append_event(run.events, {"status": RunStatus.FAILED,
                                  "error": f"Ray Train failed: {type(error).__name__}: {str(error)[:500]}{hint}"})


def drive(run: RunFolder) -> int:
    """The job's driver: fit a TorchTrainer whose workers train the run; returns the exit status."""
    import ray
    from ray.train import FailureConfig, RunConfig as RayRunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    ray.init()  # inside a Ray job: the job's own cluster
    config = RunConfig.load(run.config)
    workers = placeable_workers(config, ray.nodes())
    if not _fits_anywhere(config, ray.nodes()):
        warn(run.events, f"resources_per_worker: no live node of the cluster can hold a worker "
                         f"({worker_resources(config)}); the job waits until the cluster has one (an autoscaling "
                         f"cluster adds it; otherwise stop the run and ask for less)")
    elif workers < config.num_workers:
        warn(run.events, f"num_workers: the cluster's live nodes hold {workers} of the {config.num_workers} "
                         f"workers asked for; training with {workers}")
    storage = os.environ.get(STORAGE_ENV) or str(run.path / "ray")
    trainer = TorchTrainer(
        train_worker, train_loop_config={"run_dir": str(run.path)},
        scaling_config=ScalingConfig(num_workers=workers, use_gpu=config.use_gpu,
                                     resources_per_worker=worker_resources(config), placement_strategy="SPREAD"),
        run_config=RayRunConfig(name=run.id, storage_path=storage, failure_config=FailureConfig(max_failures=0)))
    try:
        result = trainer.fit()
        error = getattr(result, "error", None)
    except Exception as raised:  # Ray Train 2: a failed worker group raises
        error = raised
    if error is not None:
        _record_failure(run, error)
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
    args = parser.parse_args(argv)
    if args.train:
        from rlhf.train import run

        return run(RunConfig.load(args.train))
    return drive(RunFolder.of(args.run_dir))


if __name__ == "__main__":
    sys.exit(main())
