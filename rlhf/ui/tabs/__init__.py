"""One module per tab. Each has a dataclass of its components (``TrainTab``, …), ``build(ctx)``, which lays out
the tab and sets that dataclass on ``ctx`` (``ctx.train``), and ``wire(ctx)``, which connects events once every
tab exists (a dataset loaded in the Data tab updates the Format editor, a finished run appears in the Chat and
Hub tabs' model lists). Handlers that update several components return ``{component: update}`` for the ones
that change (the event's outputs given as a list): a component left out stays as it is.

Handlers call :class:`rlhf.ui.api.Api` and only translate between its plain values and components; UI events are
``api_visibility="private"`` because the scriptable versions are the named endpoints in
:mod:`rlhf.ui.endpoints`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr

from rlhf.ui.api import Api, Caller, caller_for, error_message

if TYPE_CHECKING:
    from rlhf.ui.tabs.chat import ChatTab
    from rlhf.ui.tabs.data import DataTab
    from rlhf.ui.tabs.format import FormatTab
    from rlhf.ui.tabs.hub import HubTab
    from rlhf.ui.tabs.preview import PreviewTab
    from rlhf.ui.tabs.train import TrainTab

PRIVATE = dict(api_visibility="private")


@dataclass
class Shared:
    """The page's state that several tabs read: who the browser is, the loaded dataset, the polling timer."""

    browser_id: gr.BrowserState
    data_state: gr.State  # the loaded dataset's description (Api.load_data, plus its config and split)
    previous_data: gr.State  # the one before, so untouched editors follow a new dataset
    timer: gr.Timer  # polls the runs and the model lists
    lists: gr.State  # the model lists last sent, so unchanged ones are skipped


@dataclass
class Ctx:
    """What every tab shares: the API object, the settings, the shared state, and each tab's components once
    its ``build`` has run."""

    api: Api
    initial_data: dict[str, Any]
    shared: Shared | None = None
    data: "DataTab | None" = None
    format: "FormatTab | None" = None
    preview: "PreviewTab | None" = None
    train: "TrainTab | None" = None
    chat: "ChatTab | None" = None
    hub: "HubTab | None" = None

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


def reports(outputs: "int | gr.components.Component" = 1):
    """For a handler whose first output is the message beside its control: any failure it raises becomes that
    message (one readable line, see :func:`rlhf.ui.api.error_message`) and its other outputs stay as they are.
    ``outputs`` is how many outputs a handler returning a tuple has, or, for a handler returning
    ``{component: update}``, the message's component. Handlers raise :class:`rlhf.errors.ConfigError` for a
    visitor's mistake instead of building the reply."""

    def fail(error: BaseException):
        if not isinstance(outputs, int):
            return {outputs: problem(error)}
        return problem(error) if outputs == 1 else (problem(error), *(gr.skip(),) * (outputs - 1))

    def wrap(handler):
        @functools.wraps(handler)  # Gradio reads the handler's signature (gr.Request, gr.Progress) through it
        def run(*args, **kwargs):
            try:
                return handler(*args, **kwargs)
            except Exception as error:
                return fail(error)

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
