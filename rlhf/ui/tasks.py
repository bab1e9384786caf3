"""The tasks as the app shows them: labels, editor entries, templates and what each tab does per task, all read
from the task registry (:mod:`rlhf.tasks.registry`), so a new task module appears in every tab without a UI file
naming it.

The one entry that is not a task is the RL reward function's editor (:data:`REWARD`): it has an editor and a
template in the Format tab, but no rows, no preview and no run of its own.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rlhf.errors import ConfigError
from rlhf.runs.config import field_default
from rlhf.tasks.registry import spec, specs, task_names
from rlhf.tasks.spec import Plot, TaskSpec

DEFAULT = "sft"  # the task the dropdowns start on
REWARD = "reward"  # the Format tab's editor for the RL reward function
REWARD_LABEL = "RL reward function"
REWARD_RETURNS = ("`reward_func(completions, prompts=None, **kwargs) -> list[float]`, TRL's signature: one reward "
                  "per completion, higher is better. *Run* tries it on five completions of the seed's toad/frog "
                  "prompt; select it in the Train tab for an RL run.")


def names() -> tuple[str, ...]:
    return task_names()


def known(name: str) -> TaskSpec | None:
    """The task's spec, or None for a name the registry does not know (a run of a task since removed)."""
    try:
        return spec(name)
    except ConfigError:
        return None


def check(name: str, reward: bool = False) -> TaskSpec | None:
    """A task name from a visitor → its spec (None for the reward entry where ``reward`` allows it)."""
    if reward and name == REWARD:
        return None
    found = known(name) if isinstance(name, str) else None
    if found is None:
        raise ConfigError(f"task: choose one of {', '.join(names())}" + (f" (or '{REWARD}')." if reward else "."))
    return found


def label(name: str) -> str:
    """The dropdowns' label; an experimental trainer (TRL's ``trl.experimental``) says so."""
    if name == REWARD:
        return REWARD_LABEL
    found = known(name)
    if found is None:
        return name
    text = found.label
    if found.experimental and "experimental" not in text.lower():
        text += " (experimental)"
    return text


def choices() -> list[tuple[str, str]]:
    """(label, name) for every task, in the registry's order."""
    return [(label(s.name), s.name) for s in specs()]


def code_entries() -> tuple[str, ...]:
    """The Format tab's editors: every task's formatting function, then the reward function."""
    return (*names(), REWARD)


def code_choices() -> list[tuple[str, str]]:
    return [(label(name), name) for name in code_entries()]


def template(name: str, data: dict[str, Any] | None = None) -> str:
    """The template file a task's editor starts from: the one the engine picked for the loaded dataset (``data``,
    the Data tab's description) where there is one, else the task's own (several tasks may share one: ORPO uses
    DPO's)."""
    if name == REWARD:
        return REWARD
    picked = defaults(name, data).template
    return picked or check(name).rows.template


def templates(name: str) -> tuple[str, ...]:
    """Every template the task's editor may start from, whatever the dataset (a visitor who may not run code may
    still run these unchanged)."""
    from rlhf.formatting.templates import templates_of

    if name == REWARD:
        return (REWARD,)
    own = check(name).rows.template
    return tuple(dict.fromkeys((own, *templates_of(own))))


def defaults(name: str, data: dict[str, Any] | None):
    """What the task uses on the loaded dataset without a function (:class:`rlhf.formatting.plan.DefaultRows`):
    plain columns, a template, or neither. Without a dataset described: the task's own template."""
    from rlhf.formatting.plan import DefaultRows

    described = (data or {}).get("defaults")
    if described is None or name not in described:
        return DefaultRows(template=None if name == REWARD else check(name).rows.template)
    return DefaultRows.from_dict(described[name])


def rows_note(name: str, data: dict[str, Any] | None, code: str | None) -> str:
    """The Format tab's word on which makes this task's rows with the editor holding ``code`` (the engine's
    choice, :meth:`rlhf.formatting.plan.DefaultRows.used_with`): the template, your function, or the dataset's
    plain columns."""
    from rlhf.formatting.plan import RowsSource
    from rlhf.formatting.templates import template_summary

    default = defaults(name, data)
    choice = default.used_with(code)
    columns = (data or {}).get("fields") or (data or {}).get("columns") or []
    if choice is RowsSource.FUNCTION:
        text = "**Used for training: your function** (the editor)."
        if default.needs_function:
            return text + (" No template reads this dataset's columns "
                           f"({', '.join(f'`{c}`' for c in columns[:8])}), so write it for them.")
        return text + f" Reset or clear the editor to use {default.describe()}."
    if choice is RowsSource.TEMPLATE:
        where = "as the editor shows it" if (code or "").strip() else "the editor is empty"
        return (f"**Used for training: the template `{default.template}`** ({where}): "
                f"{template_summary(default.template)}")
    if choice is RowsSource.PLAIN:
        plain = ", ".join(f"`{c}`" for c in default.plain_columns)
        return (f"**Used for training: the dataset's plain columns** ({plain} as they are; the editor is empty). "
                "Write a function to make other rows.")
    return ("**This dataset needs your function for this task:** no template reads its columns "
            f"({', '.join(f'`{c}`' for c in columns[:8])}) and they are not this task's plain columns.")


def returns(name: str) -> str:
    """What the function returns, for the Format tab's note."""
    return REWARD_RETURNS if name == REWARD else check(name).returns


def chat(name: str | None) -> bool:
    """A causal model to chat with (else a classifier to score texts with)."""
    found = known(name or "")
    return bool(found and found.chat)


def scores(name: str | None) -> bool:
    found = known(name or "")
    return bool(found and not found.chat)


def plots(name: str | None) -> frozenset[Plot]:
    found = known(name or "")
    return found.plots if found else frozenset()


def rewarded(name: str | None) -> bool:
    """The task trains from reward sources (reward models and/or the reward function, :attr:`TaskSpec.rewarded`):
    the Train tab's reward box and the reward function's editor go with it."""
    found = known(name or "")
    return bool(found and found.rewarded)


def option_names() -> tuple[str, ...]:
    """Run settings some task restricts to a fixed set of values (DPO's and KTO's ``loss_type``)."""
    return tuple(dict.fromkeys(name for s in specs() for name in s.options))


def options(name: str | None, option: str) -> tuple[str, ...]:
    found = known(name or "")
    return tuple(found.options.get(option, ())) if found else ()


def variants(name: str | None) -> tuple[str, ...]:
    """The task's trainer variants (RL's algorithms), empty for tasks with one trainer."""
    found = known(name or "")
    return tuple(found.trainers) if found and found.variant_field else ()


def setting_field(name: str) -> dataclasses.Field:
    """The RunConfig field of a run setting, by its (TRL) name: its default, type and help text."""
    from rlhf.runs.config import section_fields

    for _, f in section_fields():
        if f.name == name:
            return f
    raise KeyError(name)


def setting_default(name: str) -> Any:
    return field_default(setting_field(name))


def setting_help(name: str) -> str:
    return setting_field(name).metadata.get("help", "")


def setting_precision(name: str) -> int | None:
    """0 for a whole-number setting (a ``gr.Number``'s precision), None otherwise."""
    return 0 if str(setting_field(name).type).startswith("int") else None
