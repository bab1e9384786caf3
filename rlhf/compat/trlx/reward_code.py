"""A TRLX ``reward_fn`` (a Python callable in the user's script) → the source of an rlhf reward function.

The run stores it as ``rl.reward_code`` and scores in its sandboxed reward process, as for a function written in
the app's editor. The callable travels the way rlhf.compat sends formatting functions (a cloudpickle by value,
carrying the globals and closure variables it reads), with one difference: transformers pipelines, models and
tokenizers are rebuilt from their saved folder (``name_or_path``) instead of carrying their weights, so the seed's
``classifier = pipeline(…, model=…)`` works. What cannot travel (an open file, a lock, a model that was never
saved) is an error naming the variable.
"""

from __future__ import annotations

import base64
import inspect
import io
import textwrap
import types
from pathlib import Path
from typing import Any, Callable

from rlhf.compat.arguments import CompatArgumentError

FUNCTION = "reward_func"
HEADER = "# rlhf.compat.trlx: "
MAX_PICKLE_MB = 20


def reward_source(reward_fn: Callable, tokenizer_path: str | None, hidden_prompt: str | None = None,
                  pickled: bytes | None = None) -> str:
    """Python source defining ``reward_func(completions, prompts=None, **kwargs)`` over ``reward_fn``;
    ``hidden_prompt`` (TRLX's default BOS prompt) reaches the function as ``""``, as TRLX decoded it."""
    blob = pickled if pickled is not None else pickle_reward_fn(reward_fn)
    name = getattr(reward_fn, "__name__", type(reward_fn).__name__)
    code = getattr(reward_fn, "__code__", None)
    origin = (f"{code.co_filename}, line {code.co_firstlineno}" if code is not None else "(no source file)")
    try:
        shown = textwrap.dedent(inspect.getsource(reward_fn)).rstrip()
    except (OSError, TypeError):
        shown = "(source not available)"
    encoded = base64.b64encode(blob).decode("ascii")
    chunks = "\n".join(f'    "{encoded[i:i + 100]}"' for i in range(0, len(encoded), 100))
    return (
        f"{HEADER}`{name}` from {origin}, given to trlx.train(reward_fn=…).\n"
        "# It travels as a cloudpickle (with the globals it reads; pipelines and models rebuild from their folders)\n"
        "# and is called as TRLX called it: reward_fn(samples=…, prompts=…, outputs=…, tokenizer=…).\n"
        "# Its source, for reading:\n#\n"
        + "\n".join(f"#     {line}".rstrip() for line in shown.splitlines())
        + "\n\nimport base64 as _base64\n\nimport cloudpickle as _cloudpickle\n\n"
        "from rlhf.compat.trlx.reward_call import call_trlx_reward as _call_trlx_reward\n\n"
        f"_reward_fn = _cloudpickle.loads(_base64.b64decode(\n{chunks}\n))\n\n\n"
        f"def {FUNCTION}(completions, prompts=None, **kwargs):\n"
        f"    return _call_trlx_reward(_reward_fn, prompts, completions, {tokenizer_path!r}, kwargs,\n"
        f"                             hidden_prompt={hidden_prompt!r})\n"
    )


def pickle_reward_fn(reward_fn: Callable) -> bytes:
    """The function as it travels, or an error naming what cannot travel."""
    import cloudpickle

    if not callable(reward_fn):
        raise CompatArgumentError(f"trlx.train: reward_fn must be a function, got {type(reward_fn).__name__}.")
    from rlhf.compat.tasks import _is_installed

    module = inspect.getmodule(reward_fn)
    by_value = module is not None and module.__name__ != "__main__" and not _is_installed(module)
    if by_value:
        cloudpickle.register_pickle_by_value(module)
    try:
        buffer = io.BytesIO()
        try:
            _Pickler(buffer).dump(reward_fn)
        except Exception as error:
            raise CompatArgumentError(_unsendable(reward_fn, error)) from None
    finally:
        if by_value:
            cloudpickle.unregister_pickle_by_value(module)
    blob = buffer.getvalue()
    if len(blob) > MAX_PICKLE_MB * 2**20:
        raise CompatArgumentError(
            f"trlx.train: reward_fn carries {len(blob) / 2**20:.0f} MB of objects to the run's sandboxed process "
            f"(more than {MAX_PICKLE_MB} MB): {_heaviest(reward_fn)}. Load big objects from a folder or file "
            "inside the function, or save the model and build the pipeline from its folder.")
    return blob


def _pickler_base():
    import cloudpickle

    return cloudpickle.Pickler


class _Pickler(_pickler_base()):  # type: ignore[misc]
    """cloudpickle, with transformers objects that have a folder rebuilt from it rather than pickled."""

    def reducer_override(self, obj: Any):
        rebuilt = _rebuild(obj)
        if rebuilt is not None:
            return rebuilt
        return super().reducer_override(obj)


def _rebuild(obj: Any):
    """(function, args) that rebuild a transformers pipeline, model or tokenizer from its saved folder, or None."""
    from rlhf.compat.trlx.reward_call import rebuild_pipeline, rebuild_pretrained

    cls = type(obj)
    if not cls.__module__.startswith("transformers"):
        return None
    names = {c.__name__ for c in cls.__mro__}
    if "Pipeline" in names:
        model = getattr(getattr(obj, "model", None), "name_or_path", None)
        return (rebuild_pipeline, (obj.task, _folder_or_id(model, "a pipeline's model"))) if model else None
    if names & {"PreTrainedModel", "PreTrainedTokenizerBase"}:
        path = getattr(obj, "name_or_path", None)
        if path:
            return rebuild_pretrained, (cls.__module__, cls.__name__, _folder_or_id(path, cls.__name__))
    return None


def _folder_or_id(path: str, what: str) -> str:
    local = Path(path).expanduser()
    return str(local.resolve()) if local.exists() else path


def _referenced(fn: Callable) -> dict[str, Any]:
    """The globals and closure variables a function reads (names a pickle failure can blame)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return {}
    names: set[str] = set()
    stack = [code]
    while stack:
        current = stack.pop()
        names.update(current.co_names)
        stack += [c for c in current.co_consts if isinstance(c, types.CodeType)]
    found = {n: fn.__globals__[n] for n in names if n in getattr(fn, "__globals__", {})}
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            found[name] = cell.cell_contents
        except ValueError:
            continue
    return found


def _unsendable(reward_fn: Callable, error: Exception) -> str:
    """Which variable the function reads cannot be pickled, found by pickling each one alone."""
    for name, value in _referenced(reward_fn).items():
        if isinstance(value, types.ModuleType):
            continue
        try:
            _Pickler(io.BytesIO()).dump(value)
        except Exception:
            if isinstance(value, types.FunctionType):
                return _unsendable(value, error)
            return (f"trlx.train: reward_fn cannot be sent to the run's sandboxed process: it uses `{name}` (a "
                    f"{type(value).__name__}), which cannot be pickled ({type(error).__name__}: {error}). Create it "
                    "inside the function, or from plain data at the top of your script (a model: save it and load "
                    "it from its folder).")
    return (f"trlx.train: reward_fn cannot be sent to the run's sandboxed process ({type(error).__name__}: "
            f"{error}). Define it with plain data and importable modules only.")


def _heaviest(reward_fn: Callable) -> str:
    sizes = []
    for name, value in _referenced(reward_fn).items():
        if isinstance(value, types.ModuleType):
            continue
        buffer = io.BytesIO()
        try:
            _Pickler(buffer).dump(value)
        except Exception:
            continue
        sizes.append((len(buffer.getvalue()), name, type(value).__name__))
    if not sizes:
        return "its own code"
    size, name, kind = max(sizes)
    return f"`{name}` (a {kind}) is {size / 2**20:.0f} MB"
