"""Several training processes: ``rlhf train`` with a world size above 1 relaunches itself under ``accelerate launch``.

Why here and not in the run manager: the world size is a run setting (``num_processes``, ``distributed``), so the
one training command (``python -m rlhf train --config …``) decides it from the config, whether a user types it, the
app's supervisor starts it, or a test does. The launching process writes ``accelerate.yaml`` into the run folder
(the config ``accelerate launch --config_file`` reads, so the same launch can be repeated by hand), starts
accelerate in its own process group and waits; a stop (SIGTERM) is passed to that whole group, so every worker
sees it. Workers are recognised by torch.distributed's environment (``RANK``/``WORLD_SIZE``); rank 0 alone writes
events, metrics and checkpoints (:func:`is_main_process`).

On a machine without CUDA the workers train on CPU over gloo: accelerate's multi-GPU launcher is torch's
``torch.distributed.run``, and each worker's Trainer (``use_cpu``) joins a gloo process group. FSDP and DeepSpeed
need CUDA.
"""

from __future__ import annotations

import enum
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rlhf.errors import ConfigError

if TYPE_CHECKING:
    from rlhf.runs.config import RunConfig
    from rlhf.runs.folder import RunFolder

ACCELERATE_CONFIG = "accelerate.yaml"


class Distributed(str, enum.Enum):
    """How several processes share the model (the run config's ``distributed``)."""

    DDP = "ddp"
    FSDP = "fsdp"
    DEEPSPEED_ZERO2 = "deepspeed-zero2"
    DEEPSPEED_ZERO3 = "deepspeed-zero3"

    @property
    def needs_cuda(self) -> bool:
        return self is not Distributed.DDP


def rank() -> int:
    return int(os.environ.get("RANK", "0") or 0)


def world_size() -> int:
    """The world size of this process: torch.distributed's ``WORLD_SIZE`` under a launcher, else 1."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def is_worker() -> bool:
    """Whether this process was started by a distributed launcher (so it must not launch again)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def is_main_process() -> bool:
    return rank() == 0


def visible_gpus() -> int:
    """CUDA devices this machine shows; 0 without a GPU device node (skips importing torch just to count none)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES") == "" or not any(
            os.path.exists(device) for device in ("/dev/nvidiactl", "/dev/kfd", "/dev/dxg")):
        return 0
    try:
        import torch

        return torch.cuda.device_count()
    except Exception:  # no torch, broken driver: one process, and the trainer says what is wrong
        return 0


def single_process_only(config: "RunConfig") -> bool:
    """PPO is rlhf's own single-process trainer: it does not run data-parallel."""
    return config.task == "rl" and config.rl.algorithm == "ppo"


def requested_processes(config: "RunConfig", gpus: int | None = None) -> int:
    """The run's world size: ``num_processes`` if set, else every visible GPU (1 without CUDA, 1 for PPO)."""
    if config.training.num_processes is not None:
        return config.training.num_processes
    if single_process_only(config):
        return 1
    return max(1, visible_gpus() if gpus is None else gpus)


def validate(config: "RunConfig") -> None:
    """Cheap checks of the launch settings, naming the field (RunConfig.validate calls this)."""
    t = config.training
    if t.num_processes is not None and t.num_processes < 1:
        raise ConfigError(f"num_processes: must be at least 1, got {t.num_processes}.")
    allowed = [d.value for d in Distributed]
    if t.distributed not in allowed:
        raise ConfigError(f"distributed: '{t.distributed}' is not a choice; choose one of {', '.join(allowed)}.")
    if single_process_only(config) and (t.num_processes or 1) > 1:
        raise ConfigError(f"num_processes: PPO (rlhf's own trainer) trains in one process, got {t.num_processes}; "
                          f"use GRPO or RLOO (--algorithm grpo) for several processes or GPUs, or set "
                          f"--num-processes 1.")
    if t.use_vllm and not (config.task == "rl" and config.rl.algorithm in ("grpo", "rloo")):
        raise ConfigError("use_vllm: vLLM generates the rollouts of GRPO and RLOO only (task rl, algorithm grpo or "
                          "rloo).")


def script_launch_note(config: "RunConfig") -> str:
    """What an exported script says about several processes (the run config stays the one place they are set)."""
    if single_process_only(config):
        return "PPO trains in one process: run this script with python, not under accelerate launch."
    n = config.training.num_processes
    count = f"{n} processes as the run set" if n and n > 1 else "N processes (N GPUs)"
    return (f"Several processes or GPUs: `accelerate launch --num_processes {n if n and n > 1 else 'N'} "
            f"--multi_gpu SCRIPT.py` for {count}; a run of rlhf's that trained with several wrote the exact launch "
            f"config to its folder ({ACCELERATE_CONFIG}: `accelerate launch --config_file {ACCELERATE_CONFIG} "
            f"SCRIPT.py`, which also sets {config.training.distributed}). The batch size is per device, so the "
            f"effective batch grows with the number of processes.")


def accelerate_config(config: "RunConfig", processes: int, cuda: bool) -> dict:
    """The ``accelerate launch --config_file`` mapping for this run.

    Without CUDA, DDP is launched as accelerate's MULTI_GPU type all the same: that is the launcher that starts
    torch.distributed workers (its MULTI_CPU type needs MPI); each worker then trains on CPU over gloo."""
    kind = Distributed(config.training.distributed)
    if kind.needs_cuda and not cuda:
        raise ConfigError(f"distributed: {kind.value} needs CUDA GPUs and this machine has none; use ddp.")
    if kind in (Distributed.DEEPSPEED_ZERO2, Distributed.DEEPSPEED_ZERO3) and not _installed("deepspeed"):
        raise ConfigError(f"distributed: {kind.value} needs the deepspeed package (pip install deepspeed); or use "
                          f"fsdp or ddp.")
    bf16 = config.training.bf16
    mixed = "bf16" if (cuda and bf16 is not False) else "no"
    base = {"compute_environment": "LOCAL_MACHINE", "debug": False, "machine_rank": 0, "num_machines": 1,
            "num_processes": processes, "main_training_function": "main", "mixed_precision": mixed,
            "rdzv_backend": "static", "same_network": True, "use_cpu": False, "downcast_bf16": "no",
            "gpu_ids": "all"}
    if kind is Distributed.DDP:
        return {**base, "distributed_type": "MULTI_GPU"}
    if kind is Distributed.FSDP:
        return {**base, "distributed_type": "FSDP", "fsdp_config": {
            "fsdp_version": 2, "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP", "fsdp_cpu_ram_efficient_loading":
            True, "fsdp_offload_params": False, "fsdp_reshard_after_forward": True,
            "fsdp_state_dict_type": "FULL_STATE_DICT", "fsdp_activation_checkpointing":
            bool(config.training.gradient_checkpointing)}}
    stage = 2 if kind is Distributed.DEEPSPEED_ZERO2 else 3
    return {**base, "distributed_type": "DEEPSPEED", "deepspeed_config": {
        "zero_stage": stage, "offload_optimizer_device": "none", "offload_param_device": "none",
        "zero3_init_flag": stage == 3, "zero3_save_16bit_model": stage == 3, "gradient_accumulation_steps":
        config.training.gradient_accumulation_steps, "gradient_clipping": 1.0}}


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def write_accelerate_config(config: "RunConfig", folder: "RunFolder", processes: int) -> Path:
    import yaml

    cuda = visible_gpus() > 0
    if cuda and processes > visible_gpus():
        raise ConfigError(f"num_processes: {processes} processes but {visible_gpus()} visible GPUs; one process "
                          f"trains on one GPU.")
    path = folder.path / ACCELERATE_CONFIG
    data = accelerate_config(config, processes, cuda)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def launch_command(config_file: Path, run_config: Path, port: int | None = None) -> list[str]:
    """``accelerate launch --config_file accelerate.yaml -m rlhf train --config config.yaml``."""
    command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config_file)]
    command += ["--main_process_port", str(port or free_port())]
    return command + ["-m", "rlhf", "train", "--config", str(run_config)]


def free_port() -> int:
    """A free local port for the workers' rendezvous (two runs at once must not share one)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch(command: list[str]) -> int:
    """Run the workers' launcher in its own process group and wait; SIGTERM/SIGINT go to the whole group (every
    worker saves a checkpoint and stops at the same step; see rlhf.tasks.callbacks.StopCallback)."""
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True, env=env)

    def forward(signum, frame):
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:
            pass

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
