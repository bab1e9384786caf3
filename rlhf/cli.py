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
    if config.backend == "ray":  # this process follows the run's Ray job; the cluster trains
        from rlhf.runs.ray_backend import run_on_cluster

        return run_on_cluster(config)
    return run(config)


def _estimate(args: argparse.Namespace) -> int:
    """The run's memory plan as JSON, from the same flags as ``train`` (no data is read, no weights loaded)."""
    import json

    from rlhf.runs.cli_args import config_from_args
    from rlhf.runs.memory import estimate_config

    config = config_from_args(args)
    if not config.output_dir:
        config.output_dir = "estimate"  # a plan needs a folder name; nothing is written
    _quiet_model_loading()
    print(json.dumps(estimate_config(config).to_dict(), indent=2))
    return 0


def _build_model(args: argparse.Namespace) -> int:
    from rlhf.models.presets import build_model

    _quiet_model_loading()
    out = build_model(args.preset, args.output, seed=args.seed, dtype=args.dtype)
    print(f"wrote {out} (random init; use it as --model {out})", file=sys.stderr)
    return 0


def _push(args: argparse.Namespace) -> int:
    import os

    from rlhf.errors import ConfigError
    from rlhf.hub.push import TOKEN_ENV, push_run

    token = os.environ.get(args.token_env, "").strip() or None
    if token is None and args.token_env != TOKEN_ENV:
        raise ConfigError(f"--token-env: the environment variable {args.token_env} is not set (or empty).")

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    url = push_run(args.run, args.repo_id, token=token, private=not args.public, merge_adapter=args.merge_adapter,
                   commit_message=args.commit_message, progress=say)
    print(url)
    return 0


def _generate(args: argparse.Namespace) -> int:
    """As is, the completion exactly; with --template or --chat, the reply as the Chat tab shows it (one function,
    so the two agree for the same settings and seed)."""
    from rlhf.inference.generation import generate, stream_generate, stream_reply
    from rlhf.services.inference import prompt_for

    _quiet_model_loading()
    options = dict(max_new_tokens=args.max_new_tokens, temperature=args.temperature, top_p=args.top_p,
                   top_k=args.top_k, repetition_penalty=args.repetition_penalty, seed=args.seed)
    prompt_format = "template" if args.template else "chat" if args.chat else "raw"
    if prompt_format == "raw":
        if not args.stream:
            print(generate(args.model, args.prompt, **options))
            return 0
        texts = stream_generate(args.model, args.prompt, **options)
    else:
        texts = stream_reply(args.model, prompt_for(args.prompt, args.context, prompt_format=prompt_format),
                             prompt_format, **options)
    text = shown = ""
    for text in texts:
        if args.stream and text.startswith(shown):
            print(text[len(shown):], end="", flush=True)
            shown = text
    if text != shown:  # not streamed, or a streamed reply that changed its start
        print(("\n" if shown else "") + text, end="")
    print()
    return 0


def _score(args: argparse.Namespace) -> int:
    import json

    from rlhf.inference.scoring import RewardScorer

    rows, pairs = _read_score_rows(args.input)
    _quiet_model_loading()
    scorer = RewardScorer(args.model)
    if pairs:
        prefix = [row.get("prompt") or "" for row in rows]
        chosen = scorer.score([p + row["chosen"] for p, row in zip(prefix, rows)], batch_size=args.batch_size)
        rejected = scorer.score([p + row["rejected"] for p, row in zip(prefix, rows)], batch_size=args.batch_size)
        scored = [{**row, "chosen_score": c, "rejected_score": r} for row, c, r in zip(rows, chosen, rejected)]
    else:
        scores = scorer.score([row["text"] for row in rows], batch_size=args.batch_size)
        scored = [{**row, "score": s} for row, s in zip(rows, scores)]
    from pathlib import Path

    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in scored), encoding="utf-8")
    if pairs:
        wins = sum(row["chosen_score"] > row["rejected_score"] for row in scored)
        print(f"scored {len(scored)} pairs: chosen > rejected in {wins}/{len(scored)} ({wins / len(scored):.3f}); "
              f"wrote {output}", file=sys.stderr)
    else:
        print(f"scored {len(scored)} rows; wrote {output}", file=sys.stderr)
    return 0


def _read_score_rows(path: str) -> tuple[list[dict], bool]:
    """JSONL rows with ``text``, or ``chosen``/``rejected`` (+ optional ``prompt``); the first row decides which."""
    import json

    from rlhf.errors import DataError

    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"--input: cannot read {path} ({error}).") from None
    rows: list[dict] = []
    pairs = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{path} line {number}: not valid JSON ({error.msg}).") from None
        if not isinstance(row, dict):
            raise DataError(f"{path} line {number}: expected a JSON object, got {type(row).__name__}.")
        if pairs is None:
            pairs = "chosen" in row or "rejected" in row
        needed = ("chosen", "rejected") if pairs else ("text",)
        for column in needed + (("prompt",) if pairs and row.get("prompt") is not None else ()):
            if not isinstance(row.get(column), str):
                what = "missing column" if column not in row else "not a string:"
                raise DataError(f"{path} line {number}: {what} '{column}' (rows need "
                                f"{' and '.join(needed)}{', optionally prompt' if pairs else ''}).")
        rows.append(row)
    if not rows:
        raise DataError(f"{path}: no rows to score.")
    return rows, bool(pairs)


def _quiet_model_loading() -> None:
    """Weight-loading progress bars would mix with the completion on the terminal."""
    import transformers

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()


def _export_script(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rlhf.export_script import export_script_from_file

    script = export_script_from_file(args.config)
    if args.output:
        Path(args.output).write_text(script, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        print(script, end="")
    return 0


def _try_code(args: argparse.Namespace) -> int:
    """The Format tab's "Run on 5 records": one JSON line per record; exit 3 when any record failed."""
    import json

    from rlhf.formatting.probe import probe_records, probe_reward
    from rlhf.formatting.sandbox import Limits
    from rlhf.formatting.user_code import UserCode

    limits = Limits(args.timeout, args.memory_limit_mb)
    default = "reward_func" if args.task == "reward" else "formatting_func"
    code = UserCode.from_file(args.code, args.function or default) if args.code else None
    if args.task == "reward":
        result = probe_reward(code, limits)
    else:
        from rlhf.data.sources import resolve_source

        from rlhf.tasks.registry import spec

        result = probe_records(resolve_source(args.dataset, split=args.split, config=args.dataset_config),
                               spec(args.task).rows, code, limit=args.records, limits=limits)
    failed = [record for record in result["records"] if record.get("error")]
    for record in result["records"]:
        print(json.dumps({k: record.get(k) for k in ("index", "external_id", "rows", "dropped", "error")},
                         ensure_ascii=False, default=str))
    for record in failed[:1]:
        print(f"error: record {record['index']}: {record['error']}", file=sys.stderr)
    return 3 if failed else 0


def build_parser(verb: str | None = None) -> argparse.ArgumentParser:
    """All verbs; the run-config flags (dozens of them) are only built for ``verb`` train/runs (or when no verb
    is known), which keeps ``prepare`` — a process start users wait for — quick."""
    with_run_flags = verb in (None, "train", "runs", "estimate")
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

    train = verbs.add_parser(
        "train", help="train one run in the foreground (pretrain, sft, rm, rl, dpo)",
        description="Train one run into --output-dir: config.yaml, events.jsonl, checkpoint-*/, final/, "
                    "metrics.json. Flags are RunConfig fields with TRL's names; --config RUN.yaml loads a saved run "
                    "and flags override it. SIGTERM stops after the current step with a checkpoint.",
    )
    if with_run_flags:
        from rlhf.runs.cli_args import add_run_arguments

        add_run_arguments(train)
    train.set_defaults(handler=_train)

    estimate = verbs.add_parser(
        "estimate", help="print a run's memory plan as JSON (will it fit?) without training",
        description="Resolve a run as train would (same flags, or --config RUN.yaml) and print its estimated peak "
                    "memory as JSON: total_mb, parts (weights, gradients, optimizer, activations, reference, "
                    "value_head, overhead), device, available_mb, fits and, when it does not fit, suggestions.",
    )
    if with_run_flags:
        from rlhf.runs.cli_args import add_run_arguments

        add_run_arguments(estimate)
    estimate.set_defaults(handler=_estimate)

    from rlhf.models.presets import PRESETS

    build_model = verbs.add_parser(
        "build-model", help="write a random-init model with a real architecture's dimensions (offline)",
        description="Write a model with the real dimensions of a known small model and random weights, with the "
                    "starter's tokenizer (its vocabulary replaces the model's own), for speed, memory and "
                    "code-path tests where the Hub cannot be reached. Any command takes the folder as --model.",
    )
    build_model.add_argument("--preset", required=True, choices=tuple(PRESETS), help="the architecture")
    build_model.add_argument("--output", required=True, metavar="DIR", help="an empty or new folder")
    build_model.add_argument("--seed", type=int, default=0, help="seed of the random weights (default: 0)")
    build_model.add_argument("--dtype", default="float32", choices=("float32", "bfloat16", "float16"),
                             help="the stored weights' dtype (default: float32)")
    build_model.set_defaults(handler=_build_model)

    from rlhf.runs.commands import add_runs_parser

    add_runs_parser(verbs, with_run_flags)

    push = verbs.add_parser(
        "push", help="upload a finished run to the Hugging Face Hub with a model card",
        description="Create the Hub repo (private unless --public) and upload the run's final/ model, or its LoRA "
                    "adapter merged into full weights, with a model card as README.md (also written to "
                    "RUN_DIR/card.md). Prints the repo URL. The token is read from the environment "
                    "(--token-env, default HF_TOKEN), else from `hf auth login`; there is deliberately no --token "
                    "flag, since values on a command line leak into shell history and process lists (ps).",
    )
    push.add_argument("--run", required=True, metavar="RUN_DIR", help="a finished run folder (it has final/)")
    push.add_argument("--repo-id", required=True, metavar="OWNER/NAME", help="the model repo to create or update")
    push.add_argument("--public", action="store_true", help="create the repo public (default: private)")
    push.add_argument("--merge-adapter", action="store_true",
                      help="for a LoRA run, upload the adapter merged into its base model (full weights, loads "
                           "without peft and without the base model)")
    push.add_argument("--token-env", default="HF_TOKEN", metavar="NAME",
                      help="environment variable that holds the write token (default: HF_TOKEN)")
    push.add_argument("--commit-message", default=None, help="commit message (default: 'Upload rlhf run RUN_ID')")
    push.set_defaults(handler=_push)

    generate = verbs.add_parser(
        "generate", help="generate a completion with a model or a finished run",
        description="Complete --prompt with a model: 'starter', a Hub id, a local model folder, or a finished run "
                    "folder (its final/ model, a LoRA adapter merged on load). Prints the completion only; with "
                    "--template or --chat, the reply as the Chat tab shows it.",
    )
    generate.add_argument("--model", required=True, metavar="REF", help="'starter', a Hub id, a folder or a run")
    generate.add_argument("--prompt", required=True, metavar="TEXT",
                          help="the text to complete, used as is (with --template: the instruction)")
    formats = generate.add_mutually_exclusive_group()
    formats.add_argument("--template", action="store_true",
                         help="put --prompt (and --context) in the instruction template and print the answer only, "
                              "as the Chat tab does: it stops at the next template header")
    formats.add_argument("--chat", action="store_true",
                         help="send --prompt as a user message through the tokenizer's chat template")
    generate.add_argument("--context", default="", metavar="TEXT", help="the template's context (with --template)")
    generate.add_argument("--max-new-tokens", type=int, default=64, metavar="N", help="(default: 64)")
    generate.add_argument("--temperature", type=float, default=0.7, help="0 decodes greedily (default: 0.7)")
    generate.add_argument("--top-p", type=float, default=0.95, metavar="P", help="(default: 0.95)")
    generate.add_argument("--top-k", type=int, default=0, metavar="K", help="0 disables top-k (default: 0)")
    generate.add_argument("--repetition-penalty", type=float, default=1.0, metavar="R", help="(default: 1.0)")
    generate.add_argument("--seed", type=int, default=None, metavar="S", help="sampling seed, for repeatable output")
    generate.add_argument("--stream", action="store_true", help="print the completion as it is generated")
    generate.set_defaults(handler=_generate)

    score = verbs.add_parser(
        "score", help="score texts or chosen/rejected pairs with a reward model",
        description="Score each row of a JSONL file with a reward model (a finished rm run, a folder or a Hub "
                    "id). Rows hold 'text', or 'chosen' and 'rejected' (with an optional 'prompt' prepended to "
                    "both). Writes the rows plus 'score', or 'chosen_score' and 'rejected_score'; prints a summary "
                    "on stderr (for pairs, how often chosen scores above rejected).",
    )
    score.add_argument("--model", required=True, metavar="REF", help="the reward model")
    score.add_argument("--input", required=True, metavar="F.jsonl", help="rows to score")
    score.add_argument("--output", required=True, metavar="O.jsonl", help="where to write the scored rows")
    score.add_argument("--batch-size", type=int, default=16, help="texts per forward pass (default: 16)")
    score.set_defaults(handler=_score)

    export = verbs.add_parser(
        "export-script", help="print a standalone TRL script that reproduces a run",
        description="Write a Python script that reproduces a run with TRL, transformers, peft and datasets only "
                    "(no rlhf): the dataset, the formatting function inlined, the split, the resolved training "
                    "arguments and the trainer.",
    )
    export.add_argument("--config", required=True, metavar="RUN.yaml", help="a run's config.yaml")
    export.add_argument("--output", default=None, metavar="script.py", help="write here instead of stdout")
    export.set_defaults(handler=_export_script)

    tryout = verbs.add_parser(
        "try-code", help="run a formatting or reward function on a few records (the Format tab's Run)",
        description="Run a formatting function on the first records of a dataset, or a reward function (--task "
                    "reward) on five example completions, in the same sandbox as prepare and train. Prints one "
                    "JSON line per record (rows, drop reason or error); exits 3 if any record failed.",
    )
    tryout.add_argument("--task", required=True, choices=(*TASKS, "reward"))
    tryout.add_argument("--code", default=None, metavar="FILE.py",
                        help="the function's file (default: the template or plain columns)")
    tryout.add_argument("--function", default=None, metavar="NAME",
                        help="the function's name (default: formatting_func, or reward_func for --task reward)")
    tryout.add_argument("--dataset", default="sample", metavar="SRC", help="as for prepare (default: sample)")
    tryout.add_argument("--dataset-config", default=None, metavar="NAME", help="Hub dataset configuration")
    tryout.add_argument("--split", default="train", help="dataset split to read (default: train)")
    tryout.add_argument("--records", type=int, default=5, help="how many records (default: 5)")
    tryout.add_argument("--timeout", type=float, default=30.0, help="seconds for all of them (default: 30)")
    tryout.add_argument("--memory-limit-mb", type=int, default=2048, help="memory limit in MB (default: 2048)")
    tryout.set_defaults(handler=_try_code)
    return parser


def main(argv: list[str] | None = None) -> int:
    from rlhf.security import harden_process

    harden_process()  # this process may hold HF_TOKEN; user code it starts must not read it from /proc
    arguments = sys.argv[1:] if argv is None else argv
    verb = next((a for a in arguments if not a.startswith("-")), None)
    parser = build_parser(verb)
    args = parser.parse_args(arguments)
    handler: Handler = args.handler
    try:
        return handler(args)
    except RlhfError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
