"""The task registry: every module in :mod:`rlhf.tasks` with a ``SPEC`` is a task, found here and nowhere else.

Adding a task is adding a module (and its template): the CLI's ``--task`` choices, the run config's validation,
the app's dropdowns, preview, chat, the card and the exported script all come from :func:`specs`.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

from rlhf.errors import ConfigError
from rlhf.tasks.spec import TaskSpec


@functools.cache
def _modules() -> dict[str, ModuleType]:
    import rlhf.tasks as package

    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(package.__path__):
        path = Path(package.__path__[0]) / f"{info.name}.py"
        if info.ispkg or "\nSPEC = " not in path.read_text(encoding="utf-8"):
            continue  # a helper module (ppo, models, callbacks…): not imported just to look for a SPEC
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        spec = getattr(module, "SPEC", None)
        if isinstance(spec, TaskSpec):
            found[spec.name] = module
    return dict(sorted(found.items(), key=lambda item: item[1].SPEC.order))


def task_names() -> tuple[str, ...]:
    return tuple(_modules())


def specs() -> list[TaskSpec]:
    return [module.SPEC for module in _modules().values()]


def task_module(name: str) -> ModuleType:
    try:
        return _modules()[name]
    except KeyError:
        raise ConfigError(f"task: unknown task '{name}'; choose one of {', '.join(task_names())}.") from None


def spec(name: str) -> TaskSpec:
    return task_module(name).SPEC
