"""Errors a user can act on.

Every error that reaches the CLI or the UI is an ``RlhfError``: its message is one readable paragraph that names
the record, column, file or setting at fault, and the CLI turns it into an exit status without a traceback.
"""

from __future__ import annotations


class RlhfError(Exception):
    """Base class: a message for a person, plus the CLI exit status it maps to."""

    exit_code = 1


class DataError(RlhfError):
    """The dataset could not be read: malformed file, unknown extension, missing column."""

    exit_code = 2


class HubUnreachableError(DataError):
    """A Hub id was given but the Hub cannot be reached (offline machine, firewall, HF_HUB_OFFLINE)."""


class FormattingError(RlhfError, ValueError):
    """The user's formatting or reward function failed: raised, returned a wrong type, ran too long or too big.

    Also a ``ValueError``: what Argilla 1.x raised for a formatting function's wrong return, so a script's
    ``except ValueError`` still catches it.
    """

    exit_code = 3


class ConfigError(RlhfError):
    """A setting is invalid; raised before any expensive work starts."""

    exit_code = 2


def name_list(names: list[str], shown: int = 20) -> str:
    """Names for a message: all of a few, the first ``shown`` of many (a 100,000-column CSV stays one line)."""
    if not names:
        return "-"
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f", … ({more:,} more)" if more > 0 else "")
