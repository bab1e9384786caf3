"""``TrainingTask.for_…(formatting_func=…)``: which rows a formatting function makes, as in Argilla 1.x.

The function stays a Python callable and runs in rlhf's sandboxed worker. It travels there as a cloudpickle made
*by value* (the function and the module globals it reads, such as the page's ``template``), so it also runs in
the separate training process of a run, which cannot import the user's script.
"""

from __future__ import annotations

import base64
import inspect
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rlhf.compat.arguments import CompatArgumentError, reject_unknown
from rlhf.formatting.user_code import UserCode

# The first line of a run's formatting_code written by rlhf.compat (see TrainingTaskForTRL.run_source).
HEADER = "# rlhf.compat: "
_HEADER_LINE = re.compile(r"^# rlhf\.compat: `(?P<name>\w+)` from (?P<file>.+?)(?:, line \d+)?, given to ")


@dataclass(frozen=True, repr=False)
class TrainingTaskForTRL:
    """A task for ``prepare_for_training(framework="trl")`` and ``ArgillaTrainer``."""

    formatting_func: Callable
    rlhf_task = ""        # rlhf's name for the task: sft, rm, rl, dpo
    argilla_method = ""   # the TrainingTask class method that builds it

    def __repr__(self) -> str:
        return f"{type(self).__name__}\n\t formatting_func={self.formatting_func}"

    def user_code(self) -> UserCode:
        """The function as rlhf's UserCode, pickled by value (see the module docstring)."""
        func = self.formatting_func
        return UserCode(filename=_filename(func), function=function_name(func),
                        pickled=base64.b64encode(pickle_by_value(func)).decode("ascii"))

    def run_source(self) -> str:
        """Python source that defines the function: what a run's ``config.yaml`` stores as ``formatting_code``.

        It unpickles the same cloudpickle, so the run formats exactly as ``prepare_for_training`` did; the
        comment says where the function came from and shows its source, for the app and the model card.
        """
        func, name = self.formatting_func, function_name(self.formatting_func)
        try:
            shown = textwrap.dedent(inspect.getsource(func)).rstrip()
        except (OSError, TypeError):
            shown = "(source not available)"
        line = getattr(getattr(func, "__code__", None), "co_firstlineno", None)
        origin = _filename(func) + (f", line {line}" if line else "")
        blob = base64.b64encode(pickle_by_value(func)).decode("ascii")
        chunks = "\n".join(f'    "{blob[i:i + 100]}"' for i in range(0, len(blob), 100))
        return (
            f"{HEADER}`{name}` from {origin}, given to {self.argilla_method}().\n"
            "# It travels as a cloudpickle, which carries the module globals it reads along with it.\n"
            "# Its source, for reading:\n#\n"
            + "\n".join(f"#     {source_line}".rstrip() for source_line in shown.splitlines())
            + "\n\nimport base64 as _base64\n\nimport cloudpickle as _cloudpickle\n\n"
            f"{name} = _cloudpickle.loads(_base64.b64decode(\n{chunks}\n))\n"
        )


def describe_run_source(code: str) -> str | None:
    """For a model card: where the function in a run's ``formatting_code`` came from, if rlhf.compat wrote it."""
    match = _HEADER_LINE.match(code or "")
    if match is None:
        return None
    return f"`{match['name']}` from `{Path(match['file']).name}`, a Python function given to rlhf.compat"


class TrainingTaskForSFT(TrainingTaskForTRL):
    """Supervised fine-tuning: the function returns the training text(s) of a record."""

    rlhf_task = "sft"
    argilla_method = "TrainingTask.for_supervised_fine_tuning"


class TrainingTaskForRM(TrainingTaskForTRL):
    """Reward modelling: the function returns (chosen, rejected) pairs."""

    rlhf_task = "rm"
    argilla_method = "TrainingTask.for_reward_modeling"


class TrainingTaskForPPO(TrainingTaskForTRL):
    """Proximal policy optimisation: the function returns prompts (Argilla's ``query`` column)."""

    rlhf_task = "rl"
    argilla_method = "TrainingTask.for_proximal_policy_optimization"


class TrainingTaskForDPO(TrainingTaskForTRL):
    """Direct preference optimisation: the function returns (prompt, chosen, rejected) triples."""

    rlhf_task = "dpo"
    argilla_method = "TrainingTask.for_direct_preference_optimization"


SUPPORTED_METHODS = ("for_supervised_fine_tuning", "for_reward_modeling", "for_reward_modelling",
                     "for_proximal_policy_optimization", "for_direct_preference_optimization")


class _TrainingTaskMeta(type):
    def __getattr__(cls, name: str):
        if name.startswith("for_"):
            raise CompatArgumentError(
                f"TrainingTask.{name} is not supported: rlhf.compat covers Argilla's LLM tasks for TRL; "
                f"use one of TrainingTask.{', TrainingTask.'.join(SUPPORTED_METHODS)}.")
        raise AttributeError(name)


class TrainingTask(metaclass=_TrainingTaskMeta):
    """Argilla 1.x's task factory, for the tasks the TRL framework trained."""

    @classmethod
    def for_supervised_fine_tuning(cls, formatting_func: Callable, **unknown: Any) -> TrainingTaskForSFT:
        return _make(TrainingTaskForSFT, "for_supervised_fine_tuning", formatting_func, unknown)

    @classmethod
    def for_reward_modeling(cls, formatting_func: Callable, **unknown: Any) -> TrainingTaskForRM:
        return _make(TrainingTaskForRM, "for_reward_modeling", formatting_func, unknown)

    @classmethod
    def for_reward_modelling(cls, formatting_func: Callable, **unknown: Any) -> TrainingTaskForRM:
        """The spelling the "Fine-tune an LLM" page uses."""
        return _make(TrainingTaskForRM, "for_reward_modelling", formatting_func, unknown)

    @classmethod
    def for_proximal_policy_optimization(cls, formatting_func: Callable, **unknown: Any) -> TrainingTaskForPPO:
        return _make(TrainingTaskForPPO, "for_proximal_policy_optimization", formatting_func, unknown)

    @classmethod
    def for_direct_preference_optimization(cls, formatting_func: Callable,
                                           **unknown: Any) -> TrainingTaskForDPO:
        return _make(TrainingTaskForDPO, "for_direct_preference_optimization", formatting_func, unknown)


def deprecated_alias(name: str):
    """Argilla 1.x's deprecated names, which warned on use: ``TrainingTaskMapping`` → ``TrainingTask``."""
    if name == "TrainingTaskMapping":
        import warnings

        warnings.warn("`TrainingTaskMapping` is deprecated and will be removed in a future release; use "
                      "`TrainingTask` instead.", DeprecationWarning, stacklevel=3)
        return TrainingTask
    raise AttributeError(name)


def _make(task_cls: type, method: str, formatting_func: Any, unknown: dict[str, Any]):
    reject_unknown(f"TrainingTask.{method}", unknown, ["formatting_func"])
    if not callable(formatting_func):
        raise CompatArgumentError(f"TrainingTask.{method}: formatting_func must be a Python function, got "
                                  f"{type(formatting_func).__name__}.")
    return task_cls(formatting_func)


def check_task(task: Any, where: str) -> TrainingTaskForTRL:
    if isinstance(task, TrainingTaskForTRL):
        return task
    raise CompatArgumentError(f"{where}: task must come from TrainingTask.{', TrainingTask.'.join(SUPPORTED_METHODS)}"
                              f"(formatting_func=…), got {type(task).__name__}.")


# -- pickling ----------------------------------------------------------------------------------------------------

def function_name(func: Callable) -> str:
    name = getattr(func, "__name__", "")
    return name if name.isidentifier() else "formatting_func"


def _filename(func: Callable) -> str:
    return getattr(getattr(func, "__code__", None), "co_filename", None) or "<callable>"


def pickle_by_value(func: Callable) -> bytes:
    """cloudpickle pickles functions of importable modules by reference; a run's processes cannot import the
    user's script or test module, so the function's own module is pickled by value. Installed libraries
    (and rlhf itself) stay by reference: every process can import them."""
    import cloudpickle

    module = sys.modules.get(getattr(func, "__module__", None) or "")
    by_value = module is not None and module.__name__ != "__main__" and not _is_installed(module)
    if by_value:
        cloudpickle.register_pickle_by_value(module)
    try:
        return cloudpickle.dumps(func)
    finally:
        if by_value:
            cloudpickle.unregister_pickle_by_value(module)


def _is_installed(module) -> bool:
    name = module.__name__
    path = getattr(module, "__file__", None) or ""
    return name == "rlhf" or name.startswith("rlhf.") or "site-packages" in path or "dist-packages" in path \
        or not path


def __getattr__(name: str):
    return deprecated_alias(name)
