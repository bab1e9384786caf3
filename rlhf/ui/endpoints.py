"""The named API endpoints (``gradio_client``): typed wrappers around :class:`rlhf.ui.api.Api`.

Each endpoint takes plain values and returns one JSON object: ``{"ok": true, …}`` on success, or
``{"ok": false, "error": "<a readable message>"}``, so a script can branch on ``ok`` and show ``error`` as is.
Gradio derives the API schema from these signatures (``gr.api``), so they are the documentation of record::

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    client.predict("sample", api_name="/load_data")
    client.predict("sft", "sample", "", api_name="/preview")
    client.predict("sft", "starter", "sample", "", {"max_steps": 3}, api_name="/start_run")

``session`` (optional everywhere runs are involved) groups an API caller's runs across connections; by default
each client connection is its own session. In single-user mode (localhost) every run is visible anyway.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import gradio as gr
from gradio.data_classes import FileData

from rlhf.ui.api import Api, Caller, caller_for as _caller_for, error_message


def caller_for(api: Api, request: gr.Request | None, session: str = "",
               profile: gr.OAuthProfile | None = None) -> Caller:
    """Who is calling: a signed-in user name (``--auth`` or Hugging Face OAuth), else the session."""
    return _caller_for(api.settings, request, session, profile)


def envelope(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return {"ok": True, **work()}
    except Exception as error:
        return {"ok": False, "error": error_message(error)}


def uploaded_path(file: Any) -> str:
    """The server-side path of a file sent with ``handle_file``; only Gradio's upload folder is accepted."""
    from gradio.utils import get_upload_folder, is_in_or_equal

    from rlhf.errors import DataError

    path = file.get("path") if isinstance(file, dict) else getattr(file, "path", None)
    if not path or not is_in_or_equal(path, get_upload_folder()) or not Path(path).is_file():
        raise DataError("file: send the file with gradio_client.handle_file(PATH).")
    return path


def register(api: Api) -> None:
    """Declare the endpoints inside the current ``gr.Blocks``."""
    settings = api.settings

    def load_data(dataset: str = "sample", file: FileData | None = None, config: str = "", split: str = "train",
                  examples: int = 3) -> dict[str, Any]:
        """Load a dataset ('sample', a Hub id, or an uploaded file) and describe it: layout, record count,
        fields, questions, and the first records as a formatting function receives them. The returned
        `dataset` is the reference to pass to preview and start_run."""

        def work():
            spec = api.store_upload(uploaded_path(file)) if file else dataset
            return api.load_data(spec, config, split, examples)

        return envelope(work)

    def preview(task: str = "sft", dataset: str = "sample", code: str = "", model: str = "starter",
                train_size: float = 0.8, seed: int = 42, rows: int = 20, config: str = "", split: str = "train",
                session: str = "", request: gr.Request = None) -> dict[str, Any]:
        """Prepare the task's rows (code: a formatting function's source; empty for plain columns or the
        template): counts, dropped records by reason, the split, sample rows and token lengths."""
        caller = caller_for(api, request, session)
        return envelope(lambda: api.preview(task, dataset, code, caller, model, train_size, seed, config, split,
                                            rows))

    def run_code(task: str = "sft", code: str = "", dataset: str = "sample", records: int = 5,
                 session: str = "", request: gr.Request = None) -> dict[str, Any]:
        """Run a formatting function (or, for task 'reward', a reward function) on the first records, in the
        sandbox; each record's rows, drop reason or error."""
        caller = caller_for(api, request, session)
        return envelope(lambda: api.probe_code(task, code, caller, dataset, limit=max(1, min(int(records), 20))))

    def start_run(task: str = "sft", model: str = "starter", dataset: str = "sample", code: str = "",
                  settings: dict[str, Any] | None = None, reward_code: str = "", config: str = "",
                  split: str = "train", session: str = "", request: gr.Request = None,
                  profile: gr.OAuthProfile | None = None) -> dict[str, Any]:
        """Queue a training run. settings: RunConfig fields by TRL name, e.g. {"max_steps": 3,
        "learning_rate": 0.001, "use_peft": true, "algorithm": "grpo", "reward_models": ["<rm run id>"]}.
        Returns run_id, status and queue_position."""
        caller = caller_for(api, request, session, profile)
        return envelope(lambda: api.start_run(task, caller, model, dataset, code, settings or {}, reward_code,
                                              config, split))

    def run_status(run_id: str = "", log_lines: int = 20, session: str = "",
                   request: gr.Request = None) -> dict[str, Any]:
        """Without run_id: your runs (id, task, model, status, step, queue_position, latest metrics). With it:
        that run, its metric history and the last log lines."""
        caller = caller_for(api, request, session)
        return envelope(lambda: api.run_status(caller, run_id, log_lines))

    def stop_run(run_id: str, session: str = "", request: gr.Request = None) -> dict[str, Any]:
        """Stop a run: a queued one leaves the queue, a running one saves a checkpoint and stops."""
        caller = caller_for(api, request, session)
        return envelope(lambda: api.stop_run(run_id, caller))

    def resume_run(run_id: str, session: str = "", request: gr.Request = None,
                   profile: gr.OAuthProfile | None = None) -> dict[str, Any]:
        """Queue a stopped, interrupted or failed run again from its last checkpoint."""
        caller = caller_for(api, request, session, profile)
        return envelope(lambda: api.resume_run(run_id, caller))

    def chat(model: str = "starter", message: str = "", context: str = "", history: list[dict] | None = None,
             prompt_format: str = "template", max_new_tokens: int = 64, temperature: float = 0.7,
             top_p: float = 0.95, top_k: int = 0, repetition_penalty: float = 1.0, seed: int = -1,
             session: str = "", request: gr.Request = None) -> dict[str, Any]:
        """Generate a reply with 'starter', a finished run (its id) or a Hub id. prompt_format: 'template'
        (the instruction template, with context), 'chat' (the tokenizer's chat template over history) or
        'raw'. Returns text."""
        caller = caller_for(api, request, session)
        return envelope(lambda: {"model": model, "text": api.chat(
            model, message, caller, context=context, history=history, prompt_format=prompt_format,
            max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, top_k=top_k,
            repetition_penalty=repetition_penalty, seed=seed)})

    def score(model: str, texts: list[str], prompt: str = "", context: str = "", session: str = "",
              request: gr.Request = None) -> dict[str, Any]:
        """Score texts with a reward model (a finished rm run's id, or a Hub id): one float per text, higher
        is preferred. With prompt, each text is a response placed in the instruction template."""
        caller = caller_for(api, request, session)
        return envelope(lambda: {"model": model, "scores": api.score(model, texts, caller, prompt, context)})

    def push(run_id: str, repo_id: str, token: str = "", private: bool = True, merge_adapter: bool = False,
             session: str = "", request: gr.Request = None, profile: gr.OAuthProfile | None = None,
             oauth_token: gr.OAuthToken | None = None) -> dict[str, Any]:
        """Push a finished run to a Hub model repo (private by default) with a generated model card. The token
        (else HF_TOKEN, else your Hugging Face sign-in) is used for this call only and never stored."""
        caller = caller_for(api, request, session, profile)
        token = (token or "").strip() or (oauth_token.token if oauth_token is not None else "")
        return envelope(lambda: {"url": api.push(run_id, repo_id, caller, token, private, merge_adapter)})

    def export_script(run_id: str, session: str = "", request: gr.Request = None) -> dict[str, Any]:
        """A standalone TRL script that reproduces the run."""
        caller = caller_for(api, request, session)
        return envelope(lambda: {"script": api.export_script(run_id, caller)})

    def health() -> dict[str, Any]:
        """Is the app serving? Its starter-model state, Hub reachability and run counts by status."""
        return envelope(api.health)

    quick = dict(concurrency_limit=4, concurrency_id="quick")
    gr.api(load_data, api_name="load_data", **quick)
    gr.api(preview, api_name="preview", concurrency_limit=2, concurrency_id="preview")
    gr.api(run_code, api_name="run_code", concurrency_limit=2, concurrency_id="probe")
    gr.api(start_run, api_name="start_run", **quick)
    gr.api(run_status, api_name="run_status", concurrency_limit=None)
    gr.api(stop_run, api_name="stop_run", concurrency_limit=None)
    gr.api(resume_run, api_name="resume_run", **quick)
    gr.api(chat, api_name="chat", concurrency_limit=settings.chat_concurrency, concurrency_id="chat")
    gr.api(score, api_name="score", concurrency_limit=settings.score_concurrency, concurrency_id="score")
    gr.api(push, api_name="push", concurrency_limit=2, concurrency_id="push")
    gr.api(export_script, api_name="export_script", **quick)
    gr.api(health, api_name="health", concurrency_limit=None)
