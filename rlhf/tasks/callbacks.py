"""Trainer callbacks every task shares: metrics into ``events.jsonl``, and a clean stop on SIGTERM."""

from __future__ import annotations

import signal
from pathlib import Path

from transformers import TrainerCallback

from rlhf.runs.events import append_event


class StopFlag:
    """Set by SIGTERM/SIGINT; the trainer checks it after each step, saves a checkpoint and returns."""

    def __init__(self) -> None:
        self.requested = False

    def install(self) -> "StopFlag":
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._request)
        return self

    def _request(self, signum, frame) -> None:
        self.requested = True


class EventsCallback(TrainerCallback):
    """Each ``Trainer.log`` call becomes one event, TRL's metric names unchanged."""

    def __init__(self, events_path: Path):
        self.events_path = events_path

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and state.is_world_process_zero:
            append_event(self.events_path, {"step": state.global_step, "epoch": state.epoch, **logs})


class StopCallback(TrainerCallback):
    def __init__(self, flag: StopFlag):
        self.flag = flag

    def on_step_end(self, args, state, control, **kwargs):
        if _requested_anywhere(self.flag.requested, args.device):
            self.flag.requested = True  # every process stops at this step and saves the same checkpoint
            control.should_save = True
            control.should_training_stop = True
        return control


def _requested_anywhere(requested: bool, device) -> bool:
    """With several processes, whether any was asked to stop (they must all stop at the same step, or the ones
    still training wait forever on the others); one process: its own flag."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return requested
    flag = torch.tensor([1.0 if requested else 0.0], device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item())
