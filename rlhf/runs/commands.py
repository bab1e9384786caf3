"""``python -m rlhf runs …``: the run queue from the command line (what the Train tab does).

    runs submit  [train flags]      queue a run and return at once (prints its id)
    runs list                       every run with status, step and queue position
    runs status  ID                 one run as JSON
    runs tail    ID [--follow]      its events as JSON lines
    runs stop    ID                 stop it (it saves a checkpoint first)
    runs resume  ID                 queue it again from its last checkpoint
"""

from __future__ import annotations

import argparse
import json

def runs_dir_default() -> str:
    from rlhf.paths import runs_dir

    return str(runs_dir())


def add_runs_parser(verbs, with_run_flags: bool = True) -> None:
    runs = verbs.add_parser("runs", help="queue, list, follow, stop and resume background runs",
                            description=__doc__.split("\n\n")[0])
    runs.add_argument("--runs-dir", default=None, help="folder holding the runs (default: $RLHF_DATA_DIR/runs "
                                                       "or ./runs)")
    actions = runs.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    submit = actions.add_parser("submit", help="queue a run (same flags as train; --output-dir is chosen)")
    if with_run_flags:
        from rlhf.runs.cli_args import add_run_arguments

        add_run_arguments(submit)
        submit.add_argument("--force", action="store_true",
                            help="queue it even if its memory estimate ('rlhf estimate') says it will not fit")
    actions.add_parser("list", help="every run, newest first")
    for name, text in (("status", "one run as JSON"), ("stop", "stop a run (checkpoint first)"),
                       ("resume", "resume a run from its last checkpoint")):
        actions.add_parser(name, help=text).add_argument("run_id")
    tail = actions.add_parser("tail", help="a run's events as JSON lines")
    tail.add_argument("run_id")
    tail.add_argument("--follow", action="store_true", help="keep printing until the run ends")
    runs.set_defaults(handler=handle)


def _check_memory(config) -> None:
    """A run whose memory plan does not fit this machine is refused (exit 2) with what would lower it."""
    from rlhf.errors import ConfigError
    from rlhf.runs.memory import estimate_config, refusal
    from rlhf.starter import is_starter

    if is_starter(config.model):  # 1M parameters always fit; estimating would build it here, and submit is quick
        return
    probe = config.replace(output_dir=config.output_dir or "estimate")
    try:
        result = estimate_config(probe)
    except (OSError, ValueError, KeyError):  # the model's config unreadable: no estimate is no refusal
        return
    reason = refusal(result, "add --force")
    if reason:
        raise ConfigError(reason)


def handle(args: argparse.Namespace) -> int:
    from rlhf.runs.manager import RunManager

    manager = RunManager(args.runs_dir or runs_dir_default())
    if args.action == "submit":
        from rlhf.runs.cli_args import config_from_args

        fields = {k: v for k, v in vars(args).items() if k not in ("runs_dir", "action", "force")}
        config = config_from_args(argparse.Namespace(**fields))
        if not getattr(args, "force", False):
            _check_memory(config)
        print(manager.submit(config))
    elif args.action == "list":
        for run in manager.list_runs():
            position = f" #{run['queue_position']}" if run.get("queue_position") else ""
            print(f"{run['id']}  {run.get('task') or '-':8} {run['status'] + position:12} step {run.get('step') or 0}")
    elif args.action == "status":
        print(json.dumps(manager.status(args.run_id), default=str, indent=2))
    elif args.action == "tail":
        for event in manager.tail(args.run_id, follow=args.follow):
            print(json.dumps(event, default=str), flush=True)
    elif args.action == "stop":
        print(manager.stop(args.run_id)["status"])
    elif args.action == "resume":
        print(manager.resume(args.run_id))
    return 0


__all__ = ["add_runs_parser", "handle"]
