"""The tiny offline starter model: a GPT-2 and BPE tokenizer built locally from the bundled sample.

There is no Hub access where the app runs, so `"starter"` stands in for a model id
anywhere one is accepted. Importing this package is cheap: torch and transformers
load only when a build actually runs.
"""

from __future__ import annotations

from rlhf.starter.cache import ensure_starter, starter_dir
from rlhf.starter.recipe import BUILD_VERSION, RECIPE, Recipe

STARTER_NAME = "starter"


def is_starter(name) -> bool:
    """True for the reserved model name, in any letter case."""
    return isinstance(name, str) and name.strip().lower() == STARTER_NAME


def resolve_model(name_or_path: str) -> str:
    """Map `"starter"` to its built folder, so callers can pass it to `from_pretrained` as is."""
    return str(ensure_starter()) if is_starter(name_or_path) else name_or_path


def build_starter(out_dir, seed: int = 0, progress=None, steps=None):
    """Build the starter into `out_dir` (see `rlhf.starter.build.build_starter`)."""
    from rlhf.starter.build import build_starter as _build

    return _build(out_dir, seed=seed, progress=progress, steps=steps)


__all__ = [
    "BUILD_VERSION",
    "RECIPE",
    "Recipe",
    "STARTER_NAME",
    "build_starter",
    "ensure_starter",
    "is_starter",
    "resolve_model",
    "starter_dir",
]
