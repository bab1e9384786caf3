"""``python -m rlhf VERB …``: the engine without the UI. Every UI action has a verb here.

Errors print one readable paragraph on stderr and exit non-zero (2: bad input or setting, 3: the user's
function failed, 1: anything else); never a traceback from rlhf's own code.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from rlhf import TASKS, __version__
from rlhf.errors import RlhfError

Handler = Callable[[argparse.Namespace], int]


def _add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, metavar="SRC",
                        help="Hub id (owner/name), a local .jsonl/.json/.csv/.parquet file or folder, or 'sample'")
    parser.add_argument("--dataset-config", default=None, metavar="NAME", help="Hub dataset configuration (subset)")
    parser.add_argument("--split", default="train", help="dataset split to read (default: train)")
    parser.add_argument("--formatting-func", default=None, metavar="FILE.py",
                        help="Python file with the formatting function (default: none for plain datasets, "
                             "the task's template for dolly-style Argilla datasets)")
    parser.add_argument("--function", default="formatting_func", metavar="NAME",
                        help="name of the function in --formatting-func (default: formatting_func)")
    parser.add_argument("--train-size", type=float, default=1.0,
                        help="fraction of rows for training; below 1 also writes a test split (default: 1.0)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the train/test split (default: 42)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds the formatting function may take for the whole dataset (default: 60)")
    parser.add_argument("--memory-limit-mb", type=int, default=4096,
                        help="memory limit of the formatting process in MB (default: 4096)")


def _prepare(args: argparse.Namespace) -> int:
    from rlhf.formatting.sandbox import Limits
    from rlhf.prepare_rows import prepare_to_files

    summary = prepare_to_files(
        args.dataset, args.task, args.output, formatting_func=args.formatting_func, function=args.function,
        split=args.split, dataset_config=args.dataset_config, train_size=args.train_size, seed=args.seed,
        limits=Limits(args.timeout, args.memory_limit_mb), progress=_progress_printer(),
    )
    print("\n".join(summary.lines()), file=sys.stderr)
    return 0


def _progress_printer() -> Callable[[int, int], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(records: int, rows: int) -> None:
        print(f"\rformatting: {records} records → {rows} rows", end="", file=sys.stderr, flush=True)

    return show


def _train(args: argparse.Namespace) -> int:
    from rlhf.runs.cli_args import config_from_args
    from rlhf.train import run

    config = config_from_args(args)
    if not config.output_dir:
        from rlhf.errors import ConfigError

        raise ConfigError("output_dir: give --output-dir DIR (the run folder).")
    return run(config)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rlhf",
        description="From a human-feedback dataset to a fine-tuned, aligned model: prepare rows and train.",
    )
    parser.add_argument("--version", action="version", version=f"rlhf {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    verbs.required = True

    prepare = verbs.add_parser(
        "prepare", help="run a formatting function over a dataset and write training rows",
        description="Turn a feedback dataset into training rows for one task (Argilla's prepare_for_training). "
                    "Prints a summary on stderr: layout, records read, rows written, records dropped by reason.",
    )
    _add_dataset_arguments(prepare)
    prepare.add_argument("--task", required=True, choices=TASKS)
    prepare.add_argument("--output", required=True, metavar="OUT.jsonl|OUT.parquet",
                         help="where to write the rows; with --train-size < 1, OUT.train.* and OUT.test.*")
    prepare.set_defaults(handler=_prepare)

    from rlhf.runs.cli_args import add_run_arguments

    train = verbs.add_parser(
        "train", help="train one run in the foreground (pretrain, sft, rm, rl, dpo)",
        description="Train one run into --output-dir: config.yaml, events.jsonl, checkpoint-*/, final/, "
                    "metrics.json. Flags are RunConfig fields with TRL's names; --config RUN.yaml loads a saved run "
                    "and flags override it. SIGTERM stops after the current step with a checkpoint.",
    )
    add_run_arguments(train)
    train.set_defaults(handler=_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except RlhfError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
