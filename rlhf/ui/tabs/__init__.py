"""One module per tab. Each has ``build(ctx)``, which lays out the tab and registers the components other tabs
need in ``ctx.c``, and ``wire(ctx)``, which connects events once every tab exists (a dataset loaded in the Data
tab updates the Format editor, a finished run appears in the Chat and Hub tabs' model lists).

Handlers call :class:`rlhf.ui.api.Api` and only translate between its plain values and components; UI events are
``api_visibility="private"`` because the scriptable versions are the named endpoints in
:mod:`rlhf.ui.endpoints`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from rlhf.ui.api import Api, Caller, error_message
from rlhf.ui.state import new_browser_id, owner_key

PRIVATE = dict(api_visibility="private")


@dataclass
class Ctx:
    """What every tab shares: the API object, the settings, and components registered by name."""

    api: Api
    c: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self):
        return self.api.settings

    def caller(self, request: gr.Request | None, browser_id: str | None,
               profile: gr.OAuthProfile | None = None) -> Caller:
        username = (getattr(request, "username", None) if request is not None else None) or (
            profile.username if profile is not None else None)
        session = (browser_id or "").strip() or (getattr(request, "session_hash", None) if request else None)
        owner = owner_key(self.settings.single_user, username, session or new_browser_id())
        return Caller(owner, self.settings.can_run_code(bool(username)))


def problem(error: BaseException | str) -> str:
    """An error for the Markdown beside the control that caused it."""
    text = error if isinstance(error, str) else error_message(error)
    return f"<span class='rlhf-error'>⚠️ {text}</span>"


def read_only_banner(note: str) -> str:
    """The access note shown atop the Format and Train tabs (HTML: Markdown is not parsed inside a block)."""
    if not note:
        return ""
    note = re.sub(r"`([^`]+)`", r"<code>\1</code>", note)
    return f"<div class='rlhf-error'><b>Read-only.</b> {note}</div>"


def done(text: str) -> str:
    return f"<span class='rlhf-ok'>{text}</span>"


def code_for(task: str, codes: dict[str, str], editor_task: str, editor_value: str | None) -> str:
    """The latest code for a task: the editor's text if the editor shows that task, else the saved one."""
    if task == editor_task and editor_value is not None:
        return editor_value
    return (codes or {}).get(task, "")


def same_choices(old: list | None, new: list) -> bool:
    return [list(c) if isinstance(c, (list, tuple)) else c for c in (old or [])] == [
        list(c) if isinstance(c, (list, tuple)) else c for c in new]
