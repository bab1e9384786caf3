"""One module per tab. Each has ``build(ctx)``, which lays out the tab and registers the components other tabs
need in ``ctx.c``, and ``wire(ctx)``, which connects events once every tab exists (a dataset loaded in the Data
tab updates the Format editor, a finished run appears in the Chat and Hub tabs' model lists).

Handlers call :class:`rlhf.ui.api.Api` and only translate between its plain values and components; UI events are
``api_visibility="private"`` because the scriptable versions are the named endpoints in
:mod:`rlhf.ui.endpoints`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from rlhf.ui.api import Api, Caller, caller_for, error_message

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
        """Who is asking: the page's browser id stands where an API client gives its session."""
        return caller_for(self.settings, request, browser_id, profile)


def problem(error: BaseException | str) -> str:
    """An error for the Markdown beside the control that caused it."""
    text = error if isinstance(error, str) else error_message(error)
    return f"<span class='rlhf-error'>⚠️ {text}</span>"


def reports(outputs: int = 1):
    """For a handler whose first output is the message beside its control: any failure it raises becomes that
    message (one readable line, see :func:`rlhf.ui.api.error_message`) and its other outputs stay as they are.
    Handlers raise :class:`rlhf.errors.ConfigError` for a visitor's mistake instead of building the reply."""

    def wrap(handler):
        @functools.wraps(handler)  # Gradio reads the handler's signature (gr.Request, gr.Progress) through it
        def run(*args, **kwargs):
            try:
                return handler(*args, **kwargs)
            except Exception as error:
                return problem(error) if outputs == 1 else (problem(error), *(gr.skip(),) * (outputs - 1))

        return run

    return wrap


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
