"""One readable line for any failure, for every service and for the UI (:mod:`rlhf.ui.api` re-exports it)."""

from __future__ import annotations

import logging

from rlhf.errors import RlhfError

log = logging.getLogger("rlhf.ui")


def error_message(error: BaseException) -> str:
    """One readable line for any failure: our own errors as they are, anything else short (and logged)."""
    if isinstance(error, RlhfError):
        return str(error)
    log.error("unexpected error", exc_info=error)
    return (f"Something went wrong ({type(error).__name__}). The app is still running; the details are in the "
            "server log.")
