"""How a sandboxed formatting child says what went wrong, and which error the parent raises for it.

A failed child result is ``{"ok": false, "kind": …, "detail": …}`` (per-record failures add ``index``,
``external_id``, ``line`` and ``empty_questions``). ``kind`` is a :class:`FailureKind`, written to the JSON
result as its plain value; :func:`error_class` is the one place that maps a kind to an exception class.
"""

from __future__ import annotations

import enum

from rlhf.errors import ConfigError, DataError, FormattingError, RlhfError


class FailureKind(str, enum.Enum):
    # the whole job, before or outside any record
    DATA = "data"            # the dataset could not be read, or holds nothing usable
    CONFIG = "config"        # these settings cannot make rows (e.g. a layout that needs a function)
    CODE = "code"            # the user's function did not load (syntax error, missing, raised at import)
    # one record (the result names it)
    EXCEPTION = "exception"  # the user's function raised
    TYPE = "type"            # a row of the wrong type (from the function, or a plain column's value)
    TIMEOUT = "timeout"      # the wall-clock limit
    MEMORY = "memory"        # the memory limit

    __str__ = str.__str__
    __format__ = str.__format__

    @property
    def whole_job(self) -> bool:
        """A failure of the whole job (the child's ``detail`` is the message), not of one record."""
        return self in (FailureKind.DATA, FailureKind.CONFIG, FailureKind.CODE)

    @classmethod
    def of(cls, error: RlhfError) -> FailureKind:
        """The kind a child reports for one of our own errors that ended the whole job."""
        if isinstance(error, DataError):
            return cls.DATA
        if isinstance(error, ConfigError):
            return cls.CONFIG
        return cls.CODE


def error_class(kind: FailureKind | str, user_code: bool = True) -> type[RlhfError]:
    """The error the parent raises for a failure of ``kind``. ``user_code``: whether a user's function made the
    rows; without one, a value of the wrong type is the dataset's fault (a DataError, exit status 2)."""
    kind = FailureKind(kind)
    if kind is FailureKind.DATA or (kind is FailureKind.TYPE and not user_code):
        return DataError
    if kind is FailureKind.CONFIG:
        return ConfigError
    return FormattingError
