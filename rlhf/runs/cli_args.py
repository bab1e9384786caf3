"""RunConfig ⇄ command-line flags: one flag per config field, named as the field (``--learning-rate``).

Flags override a ``--config RUN.yaml`` only where given, so ``--config`` plus a couple of flags is a
variation of a saved run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from rlhf.errors import ConfigError
from rlhf.runs.config import RunConfig, section_fields

# Flag spellings from the CLI contract that differ from the field name.
FLAG_NAMES = {"reward_models": "--reward-model", "lora_target_modules": "--lora-target-modules"}


def choices() -> dict[str, tuple[str, ...]]:
    """Settings with a fixed set of values, from the task registry: the task, each task's variant (RL's
    algorithm) and options (DPO's and KTO's loss_type), merged over the tasks."""
    from rlhf.tasks.registry import specs

    found: dict[str, list[str]] = {"task": [s.name for s in specs()]}
    for spec in specs():
        named = dict(spec.options)
        if spec.variant_field:
            named[spec.variant_field.split(".")[-1]] = tuple(spec.trainers)
        for name, values in named.items():
            found.setdefault(name, []).extend(v for v in values if v not in found.get(name, []))
    return {name: tuple(values) for name, values in found.items()}


def _help(f) -> str:
    text = f.metadata.get("help", "")
    default = f.default if f.default is not dataclasses.MISSING else None
    if default not in (None, "", [], {}) and f.name != "task":
        text += f" (default: {default})"
    return text.replace("%", "%%")


def _flag(name: str) -> str:
    return FLAG_NAMES.get(name, "--" + name.replace("_", "-"))


def _json_dict(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"expected a JSON object, e.g. '{{\"top_k\": 0}}' ({error.msg})")
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return value


def _optional_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="RUN.yaml", help="a saved run config; other flags override it")
    groups: dict[str | None, Any] = {}
    fixed = choices()
    for section, f in section_fields():
        group = groups.setdefault(section, parser.add_argument_group(section or "run"))
        kind = str(f.type)
        options: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS, "help": _help(f)}
        if f.name in fixed:
            options["choices"] = fixed[f.name]
        if kind == "bool":
            options["action"] = "store_true"
        elif kind == "bool | None":
            options.update(type=_optional_bool, metavar="true|false", nargs="?", const=True)  # bare flag: true
        elif kind.startswith("list"):
            options.update(action="append" if f.name == "reward_models" else "store",
                           nargs=None if f.name == "reward_models" else "+")
        elif kind.startswith("dict"):
            options.update(type=_json_dict, metavar="JSON")
        elif kind.startswith("int"):
            options["type"] = int
        elif kind.startswith("float"):
            options["type"] = float
        group.add_argument(_flag(f.name), **options)


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The ``--config`` file (if any) with every given flag applied on top, as a validated RunConfig."""
    given = {k: v for k, v in vars(args).items() if k not in ("config", "handler", "verb")}
    if args.config:
        config = RunConfig.load(args.config)
    elif "task" in given:
        config = RunConfig(task=given["task"])
    else:
        raise ConfigError("task: give --task or --config RUN.yaml.")
    sections = {f.name: section for section, f in section_fields()}
    for name, value in given.items():
        section = sections.get(name)
        target = getattr(config, section) if section else config
        setattr(target, name, value)
    return config
