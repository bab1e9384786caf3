"""rlhf: from a human-feedback dataset to a fine-tuned, aligned model.

The package is importable without torch, transformers or datasets: heavy imports happen inside the functions
that need them, so the CLI starts fast and user-code workers stay light.
"""

from __future__ import annotations

__version__ = "0.1.0"

TASKS = ("pretrain", "sft", "rm", "rl", "dpo")


def prepare(*args, **kwargs):
    """Prepare training rows; see :func:`rlhf.prepare_rows.prepare`."""
    from rlhf.prepare_rows import prepare as _prepare

    return _prepare(*args, **kwargs)


__all__ = ["TASKS", "__version__", "prepare"]
