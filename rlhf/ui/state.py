"""Who is asking: the owner key of a visitor, and which runs belong to whom.

Each run folder gets a small ``owner`` file naming who started it. It is not a secret and not a security
boundary on its own (authentication is, see :mod:`rlhf.ui.settings`); it keeps one visitor's run list, models
and code out of another's view on a shared deployment. Browser ids are stored hashed, so the file does not
hand out the id that a browser presents.

Owner keys:

- ``local``: single-user mode; every run is visible (including runs started from the CLI, which have no file);
- ``user:<name>``: a visitor signed in with ``--auth`` or Hugging Face OAuth; follows the person across browsers;
- ``browser:<sha256>``: an anonymous visitor, from the random id in the browser's localStorage (``gr.BrowserState``)
  or, for API clients, the ``session`` argument or else the client's connection.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

OWNER_FILE = "owner"
LOCAL = "local"


def new_browser_id() -> str:
    return secrets.token_urlsafe(18)


def owner_key(single_user: bool, username: str | None = None, session: str | None = None) -> str:
    """The owner key for a request; ``session`` is the browser id (UI) or the API caller's session."""
    if single_user:
        return LOCAL
    if username:
        return f"user:{username}"
    session = (session or "").strip()
    if not session:
        raise ValueError("no session id: cannot tell whose runs to show")
    return "browser:" + hashlib.sha256(session.encode("utf-8")).hexdigest()[:32]


def write_owner(run_dir: str | Path, owner: str) -> None:
    Path(run_dir, OWNER_FILE).write_text(owner + "\n", encoding="utf-8")


def read_owner(run_dir: str | Path) -> str | None:
    try:
        return Path(run_dir, OWNER_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def can_see(run_dir: str | Path, owner: str) -> bool:
    """Single-user sees everything; otherwise only the runs this owner started."""
    return owner == LOCAL or read_owner(run_dir) == owner
