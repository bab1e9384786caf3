"""User code as data: a source file (or text from the app's editor) plus the name of the function to call.

It travels to the worker process as source text (or, for a Python callable, as a cloudpickle), is compiled
there under the user's own file name so tracebacks and error messages point at the user's line.
"""

from __future__ import annotations

import base64
import linecache
import traceback
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rlhf.errors import ConfigError, FormattingError

DEFAULT_FUNCTION = "formatting_func"


@dataclass(frozen=True)
class UserCode:
    """Where a user's function comes from. Exactly one of ``source`` and ``pickled`` is set."""

    filename: str
    function: str = DEFAULT_FUNCTION
    source: str | None = None
    pickled: str | None = None  # base64 cloudpickle of a callable

    @classmethod
    def from_file(cls, path: str | Path, function: str = DEFAULT_FUNCTION) -> "UserCode":
        path = Path(path)
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"Cannot read the formatting function file {path}: {error}") from None
        return cls(filename=path.name, function=function, source=source)

    @classmethod
    def from_text(cls, source: str, function: str = DEFAULT_FUNCTION, filename: str = "formatting_func.py"):
        return cls(filename=filename, function=function, source=source)

    @classmethod
    def from_callable(cls, func: Callable) -> "UserCode":
        import cloudpickle

        name = getattr(func, "__name__", "formatting_func")
        filename = getattr(getattr(func, "__code__", None), "co_filename", "<callable>")
        return cls(filename=filename, function=name,
                   pickled=base64.b64encode(cloudpickle.dumps(func)).decode("ascii"))

    @classmethod
    def coerce(cls, value: Any, function: str | None = None) -> "UserCode | None":
        """Accept a UserCode, a callable, a path to a ``.py`` file, or source text."""
        if value is None or isinstance(value, UserCode):
            return value
        if callable(value):
            return cls.from_callable(value)
        text = str(value)
        if "\n" not in text and text.endswith(".py"):
            return cls.from_file(text, function or DEFAULT_FUNCTION)
        return cls.from_text(text, function or DEFAULT_FUNCTION)

    def to_dict(self) -> dict:
        return {"filename": self.filename, "function": self.function, "source": self.source,
                "pickled": self.pickled}

    def fingerprint(self) -> str:
        import hashlib

        return hashlib.sha256(f"{self.function}\0{self.source}\0{self.pickled}".encode()).hexdigest()[:16]

    # -- in the worker -------------------------------------------------------------------------------------

    def load(self) -> Callable:
        """Compile and return the function; errors name the user's file and line."""
        if self.pickled is not None:
            import cloudpickle

            func = cloudpickle.loads(base64.b64decode(self.pickled))
            code = getattr(func, "__code__", None)
            if code is not None and code.co_filename != self.filename:
                # cloudpickle 3 renames code pickled by value to "<dynamic-code>"; errors must name the user's file
                func.__code__ = _with_filename(code, self.filename)
            return func
        assert self.source is not None
        linecache.cache[self.filename] = (len(self.source), None, self.source.splitlines(True), self.filename)
        try:
            code = compile(self.source, self.filename, "exec")
        except SyntaxError as error:
            raise FormattingError(
                f"{self.filename}, line {error.lineno}: syntax error ({error.msg}): `{(error.text or '').strip()}`"
            ) from None
        module = types.ModuleType("rlhf_user_code")
        module.__file__ = self.filename
        try:
            exec(code, module.__dict__)
        except Exception as error:
            where = user_line(error.__traceback__, self.filename)
            raise FormattingError(f"{self.filename}{where}: running the file raised "
                                  f"{type(error).__name__}: {error}") from None
        func = getattr(module, self.function, None)
        if func is not None and not callable(func):
            raise FormattingError(f"{self.filename}: '{self.function}' is {type(func).__name__} {func!r:.60}, not a "
                                  "function; define it with `def`.")
        if not callable(func):
            defined = [n for n, v in vars(module).items() if isinstance(v, types.FunctionType)]
            raise FormattingError(
                f"{self.filename} has no function named '{self.function}'"
                + (f"; it defines: {', '.join(defined)}." if defined else ".")
            )
        return func


def _with_filename(code: types.CodeType, filename: str) -> types.CodeType:
    """The code object (and the ones nested in it) as compiled from ``filename``."""
    consts = tuple(_with_filename(c, filename) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def user_line(tb, filename: str) -> str:
    """``", line N: `code`"`` for the innermost frame in the user's file, or ``""`` when there is none."""
    frames = [f for f in traceback.extract_tb(tb) if f.filename == filename]
    if not frames:
        return ""
    frame = frames[-1]
    code = (frame.line or linecache.getline(filename, frame.lineno or 0)).strip()
    return f", line {frame.lineno}" + (f": `{code}`" if code else "")
