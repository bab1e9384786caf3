"""rlhf: from a human-feedback dataset to a fine-tuned, aligned model.

The package is importable without torch, transformers or datasets: heavy imports happen inside the functions
that need them, so the CLI starts fast and user-code workers stay light.
"""

from __future__ import annotations

__version__ = "0.1.0"



def __getattr__(name: str):
    if name == "TASKS":  # the task names, from the registry (rlhf.tasks.registry), in the app's order
        from rlhf.tasks.registry import task_names

        return task_names()
    raise AttributeError(f"module 'rlhf' has no attribute {name!r}")


def prepare(*args, **kwargs):
    """Prepare training rows; see :func:`rlhf.prepare_rows.prepare`."""
    from rlhf.prepare_rows import prepare as _prepare

    return _prepare(*args, **kwargs)


__all__ = ["TASKS", "__version__", "prepare"]
