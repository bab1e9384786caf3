"""One run, in this process: check the config, prepare rows, build the task's trainer, train, save, report.

This is what ``python -m rlhf train`` runs and what :mod:`rlhf.runs` launches as a child process. It writes the
run folder contract: ``config.yaml`` (as given, no secrets), ``plan.json`` (what it resolved to: the trainer's
exact arguments), ``events.jsonl`` (metrics and status lines), ``checkpoint-*/``, ``final/`` and ``metrics.json``. SIGTERM stops after the current step with a checkpoint.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any

from rlhf.errors import ConfigError, FormattingError, RlhfError
from rlhf.runs.config import RunConfig
from rlhf.runs.diskspace import is_disk_full
from rlhf.runs.events import append_event, warn
from rlhf.runs import launch
from rlhf.runs.folder import RunFolder
from rlhf.runs.memory import measured_peak_mb
from rlhf.runs.status import RunStatus

def prepare_rows(config: RunConfig):
    """Train (and eval) datasets for the run, through the same isolated formatting as ``prepare``."""
    from rlhf.formatting.sandbox import Limits
    from rlhf.prepare_rows import prepare_dataset

    data = config.data
    formatting = data.formatting_code if data.formatting_code else data.formatting_func
    try:
        rows, summary = prepare_dataset(
            data.dataset, config.task, formatting_func=formatting, function=data.function, split=data.split,
            dataset_config=data.dataset_config, train_size=data.train_size, seed=data.split_seed,
            limits=Limits(data.timeout, data.memory_limit_mb),
        )
    except FormattingError as error:
        raise FormattingError(f"data.formatting_func: {error}") from None
    except RlhfError as error:
        raise type(error)(f"data: {error}") from None
    from rlhf.tasks.registry import spec

    keep = spec(config.task).train_columns  # anything else (Argilla's ``id``) is dropped before training

    def trim(ds):
        return ds.remove_columns([c for c in ds.column_names if c not in keep])

    if hasattr(rows, "keys"):
        return trim(rows["train"]), trim(rows["test"]), summary
    return trim(rows), None, summary


def build_context(config: RunConfig, folder: RunFolder, stop_flag) -> Any:
    """Rows, tokenizer and the resolved plan (written to ``plan.json``) for the task's ``build``."""
    from rlhf.tasks.base import TaskContext
    from rlhf.tasks.callbacks import EventsCallback, StopCallback
    from rlhf.tasks.models import load_tokenizer, resolve_model_path
    from rlhf.tasks.plan import resolve

    model_path = resolve_model_path(config.model, "model")
    train_rows, eval_rows, summary = prepare_rows(config)
    append_event(folder.events, {"prepared": {"records": summary.records, "rows": summary.rows,
                                              "dropped": summary.dropped, "splits": summary.splits}})
    for warning in summary.warnings:  # rows that will not train as meant: the run log says so, once
        warn(folder.events, warning)
    try:
        tokenizer = load_tokenizer(model_path)
    except (OSError, ValueError) as error:
        raise ConfigError(f"model: cannot load a tokenizer from {model_path} ({error}).") from None
    plan = resolve(config, model_path=model_path, max_length_limit=tokenizer.model_max_length)
    return TaskContext(plan=plan, tokenizer=tokenizer, train_dataset=train_rows, eval_dataset=eval_rows,
                       callbacks=[EventsCallback(folder.events), StopCallback(stop_flag)], stop_flag=stop_flag)


def seed_model_init(seed: int) -> None:
    """Seed before the task builds its model: a reward model's score head (and a LoRA adapter, a value head)
    starts from random weights drawn there, before TRL's trainer seeds, so without this the same run trained
    twice gave another reward model each time."""
    from transformers import set_seed

    set_seed(seed)


def _loss_summary(folder: RunFolder) -> dict[str, Any]:
    losses = [e["loss"] for e in folder.read_events() if isinstance(e.get("loss"), (int, float))]
    return {"first_loss": losses[0], "last_loss": losses[-1]} if losses else {}


def run(config: RunConfig) -> int:
    """Train one run to completion, stop, or failure; returns the process exit status."""
    from rlhf.tasks.models import check_models
    from rlhf.tasks.registry import task_module

    config.validate()  # before the seconds of torch/transformers imports: a bad setting fails at once
    folder = RunFolder.of(config.output_dir)
    if not launch.is_worker():  # the launching process: workers read the config it saved, and it says started
        folder.path.mkdir(parents=True, exist_ok=True)
        config.save(folder.config)
        processes = launch.requested_processes(config)
        append_event(folder.events, {"status": RunStatus.STARTED, "pid": os.getpid(), "task": config.task,
                                     "model": config.model, "resumed": bool(config.resume_from_checkpoint),
                                     "world_size": processes})
        if processes > 1:
            return _run_workers(config, folder, processes)
    step = 0
    trainer = None
    try:
        check_models(config.model, config.rl.reward_models if task_module(config.task).SPEC.rewarded else [])
        from rlhf.tasks.callbacks import StopFlag

        _quiet_progress_bars()
        stop_flag = StopFlag().install()
        ctx = build_context(config, folder, stop_flag)
        main = launch.is_main_process()  # of several processes, rank 0 alone writes the run folder's files
        if main:
            ctx.plan.save(folder.plan)
        seed_model_init(config.training.seed)
        trainer = task_module(config.task).build(ctx)
        if main:
            ctx.plan.save(folder.plan, ctx.plan.trainer_config())  # with every field of the config the trainer got
        resume = folder.last_checkpoint() if config.resume_from_checkpoint else None
        if config.resume_from_checkpoint and resume is None:
            raise ConfigError("resume_from_checkpoint: the run has no complete checkpoint to resume from.")
        trainer.train(resume_from_checkpoint=str(resume) if resume else None)
        step = _global_step(trainer)
        if stop_flag.requested or getattr(trainer, "stopped", False):
            checkpoint = folder.last_checkpoint()
            append_event(folder.events, {"status": RunStatus.STOPPED, "step": step,
                                         "checkpoint": checkpoint.name if checkpoint else None})
            return 0
        trainer.save_model(str(folder.final))  # every rank: FSDP and DeepSpeed gather the weights to save
        if main:
            ctx.tokenizer.save_pretrained(str(folder.final))
        metrics = {"task": config.task, "model": config.model, "global_step": step,
                   "world_size": launch.world_size(), **_loss_summary(folder)}
        if getattr(trainer, "eval_dataset", None) is not None:
            metrics.update(trainer.evaluate())  # logged to events.jsonl by EventsCallback
        metrics.update(getattr(trainer, "metrics", {}) or {})
        metrics["peak_memory_mb"] = round(measured_peak_mb(ctx.plan.hardware.device), 1)
        if main:
            folder.metrics.write_text(json.dumps(metrics, indent=2, default=str))
        append_event(folder.events, {"status": RunStatus.FINISHED, "step": step})
        return 0
    except RlhfError as error:
        _record_failure(folder, {"status": RunStatus.FAILED, "error": str(error), "step": _global_step(trainer)})
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except BaseException as error:  # a crash inside training: keep the reason, never lose the folder
        step = _global_step(trainer)
        if is_disk_full(error, folder.path):
            reason = _disk_full(folder, step, error)  # frees space first: the verdict goes to the same disk
        else:
            reason = _failure_reason(error, step)
        _record_failure(folder, {"status": RunStatus.FAILED, "error": reason, "step": step})
        try:
            traceback.print_exc()
        except OSError:  # stdout.log is on the full disk too
            pass
        return 1


def _run_workers(config: RunConfig, folder: RunFolder, processes: int) -> int:
    """Train with ``processes`` workers under ``accelerate launch`` (rlhf.runs.launch); rank 0 records the
    outcome. Should the workers all die without one, say so here."""
    try:
        accelerate_file = launch.write_accelerate_config(config, folder, processes)
    except RlhfError as error:
        _record_failure(folder, {"status": RunStatus.FAILED, "error": str(error), "step": 0})
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    code = launch.launch(launch.launch_command(accelerate_file, folder.config))
    outcome = folder.recorded_status() or {}
    if outcome.get("status") in (RunStatus.FINISHED, RunStatus.STOPPED):
        return 0  # a stop reaches the launcher too, which then exits non-zero: the workers' verdict stands
    if outcome.get("status") != RunStatus.FAILED:
        _record_failure(folder, {"status": RunStatus.FAILED, "step": 0, "error": f"the {processes} training "
                                 f"processes exited with code {code} without a result; see stdout.log"})
    return code or 1


def _quiet_progress_bars() -> None:
    """Metrics go to events.jsonl and stdout.log as lines; per-map progress bars would only bury them."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()


def _global_step(trainer) -> int:
    return int(getattr(getattr(trainer, "state", None), "global_step", 0) or 0)


def _disk_full(folder: RunFolder, step: int, error: BaseException) -> str:
    """The disk filled up. Remove what the failure left half written (an incomplete checkpoint, or a ``final/``
    that a run which did not finish never uses) so that the verdict, and the supervisor's bookkeeping after it,
    can still be written to that disk; then say what happened and what is left to resume from."""
    import shutil

    removed = folder.remove_incomplete_checkpoints()
    if folder.final.exists():
        shutil.rmtree(folder.final, ignore_errors=True)
        removed.append(folder.final.name)
    where = f"while saving {' and '.join(removed)}" if removed else f"while writing to {folder.path}"
    reason = f"disk full (No space left on device) at step {step} {where}"
    if removed:
        reason += f"; the incomplete {' and '.join(removed)} {'was' if len(removed) == 1 else 'were'} removed to " \
                  f"free space"
    kept = folder.last_checkpoint()
    if kept is not None:
        reason += f"; the previous checkpoint {kept.name} is intact: free space on the disk holding the runs " \
                  f"folder, then resume"
    else:
        reason += "; there is no complete checkpoint yet: free space on the disk, then start the run again"
    return f"{reason} ({type(error).__name__}: {str(error)[:200]})"


def _record_failure(folder: RunFolder, event: dict[str, Any]) -> None:
    """Append the verdict; when even that cannot be written (the disk is still full), say it on stderr and leave
    the verdict to the supervisor, which records one for a trainer that exits without."""
    try:
        append_event(folder.events, event)
    except OSError as error:
        try:
            print(f"error: cannot record the failure in {folder.events} ({error}): {event['error']}",
                  file=sys.stderr)
        except OSError:
            pass


def _failure_reason(error: BaseException, step: int) -> str:
    name = type(error).__name__
    text = str(error).lower()
    if isinstance(error, MemoryError) or "OutOfMemory" in name or any(
            sign in text for sign in ("out of memory", "can't allocate memory", "cannot allocate memory")):
        return (f"out of memory at step {step} ({name}: {str(error)[:300]}). Lower per_device_train_batch_size or "
                "max_length, enable use_peft, or use a smaller model.")
    if isinstance(error, KeyboardInterrupt):
        return f"interrupted at step {step}"
    return f"{name} at step {step}: {str(error)[:500]}"
