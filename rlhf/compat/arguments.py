"""Argument checks shared by the compat API: unknown keywords and frameworks are errors, never silent ignores."""

from __future__ import annotations

from typing import Any, Iterable

from rlhf.errors import ConfigError

SUPPORTED_FRAMEWORKS = ("trl",)


class CompatArgumentError(ConfigError, TypeError):
    """A keyword or value an Argilla 1.x call would take but rlhf.compat cannot honour.

    A ``ConfigError`` (so the CLI and the app treat it like any setting at fault) and a ``TypeError`` (what Python
    raises for an unexpected keyword argument, so ``except TypeError`` in existing scripts still works).
    """


def reject_unknown(where: str, given: dict[str, Any], accepted: Iterable[str]) -> None:
    """Raise for the first keyword in ``given``, naming it and listing what ``where`` accepts."""
    if given:
        name = next(iter(given))
        raise CompatArgumentError(
            f"{where}: unknown argument '{name}'; accepted: {', '.join(sorted(set(accepted)))}.")


def check_framework(framework: Any) -> str:
    """Argilla's ``Framework`` value (a string or an enum with ``.value``) → ``"trl"``, or a clear error."""
    name = getattr(framework, "value", framework)
    if isinstance(name, str) and name.strip().lower() in SUPPORTED_FRAMEWORKS:
        return name.strip().lower()
    supported = ", ".join(repr(f) for f in SUPPORTED_FRAMEWORKS)
    raise CompatArgumentError(
        f"framework={name!r} is not supported: rlhf.compat trains LLMs the way Argilla's TRL integration did, "
        f"so the supported framework is {supported}. (A TRLX script's `reward_fn` can become an rlhf reward "
        "function: `python -m rlhf train --task rl --reward-func FILE.py`.)")
