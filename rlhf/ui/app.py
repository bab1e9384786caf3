"""The Gradio Blocks app: a header with the app's status, six tabs, the named API endpoints, and launch.

``build_app(settings)`` lays everything out (see :mod:`rlhf.ui.tabs`); ``main()`` is what ``python app.py`` runs:
it parses flags, recovers interrupted runs, launches the server and then starts the slow background work (the
starter model build, the Hub probe) so the page serves within seconds.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import gradio as gr

from rlhf.ui import endpoints
from rlhf.ui.api import Api
from rlhf.ui.settings import AppSettings
from rlhf.ui.state import new_browser_id
from rlhf.ui.tabs import PRIVATE, Ctx, Shared, read_only_banner, same_choices
from rlhf.ui.tabs import chat, data, format as format_tab, hub, preview, train

log = logging.getLogger("rlhf.ui")

CSS = """
.rlhf-error { color: var(--error-text-color, #b91c1c); }
.rlhf-ok { color: var(--body-text-color-subdued); }
.rlhf-note { color: var(--body-text-color-subdued); }
#rlhf-status { font-size: 0.9em; color: var(--body-text-color-subdued); }
#format-results pre, #format-results pre code { white-space: pre-wrap; word-break: break-word; }
/* a button beside its message keeps its height when the message is a long error */
.rlhf-actions { align-items: flex-start !important; }
.rlhf-actions > button { align-self: flex-start; }
progress { vertical-align: middle; width: 12em; }
"""
TIMER_S = 2.0


def status_line(api: Api) -> str:
    return " · ".join([api.starter.describe(), api.hub.describe(), f"Mode: {api.settings.mode_note()}"])


def build_app(settings: AppSettings, api: Api | None = None) -> gr.Blocks:
    """The whole UI over one :class:`Api`; nothing slow happens here (the sample dataset is read, ~0.1 s)."""
    api = api or Api(settings)
    initial = dict(api.load_data("sample"), config="", split="train")
    ctx = Ctx(api, initial)
    with gr.Blocks(title="rlhf", analytics_enabled=False) as demo:
        ctx.shared = Shared(browser_id=gr.BrowserState("", storage_key="rlhf-browser-id",
                                                            secret=api.settings.browser_secret),
                            data_state=gr.State(initial), previous_data=gr.State(initial), timer=gr.Timer(TIMER_S),
                            lists=gr.State({}))
        with gr.Row(equal_height=True):
            gr.Markdown("## rlhf\nFrom a human-feedback dataset to a trained, tested, published model: "
                        "**Data → Format → Preview → Train → Chat & Score → Hub**.")
        status = gr.Markdown(lambda: status_line(api), elem_id="rlhf-status")
        status_timer = gr.Timer(TIMER_S)
        tabs: dict[str, gr.Tab] = {}
        with gr.Tabs():
            with gr.Tab("Data", id="data") as tabs["data"]:
                data.build(ctx)
            with gr.Tab("Format", id="format") as tabs["format"]:
                format_tab.build(ctx)
            with gr.Tab("Preview", id="preview") as tabs["preview"]:
                preview.build(ctx)
            with gr.Tab("Train", id="train") as tabs["train"]:
                train.build(ctx)
            with gr.Tab("Chat & Score", id="chat") as tabs["chat"]:
                chat.build(ctx)
            with gr.Tab("Hub", id="hub") as tabs["hub"]:
                hub.build(ctx)
        endpoints.register(api)  # first, so the public names are theirs (UI events get private, suffixed ones)
        for tab in (data, format_tab, preview, train, chat, hub):
            tab.wire(ctx)
        _wire_session(ctx, demo)
        train.wire_page(ctx, demo, tabs)
        _wire_model_lists(ctx)

        def refresh_status():
            text = status_line(api)
            settled = api.starter.state in ("ready", "failed") and api.hub.reachable is not None
            return text, gr.Timer(active=not settled)

        status_timer.tick(refresh_status, None, [status, status_timer], show_progress="hidden",
                          concurrency_limit=None, **PRIVATE)
    return demo


def _wire_session(ctx: Ctx, demo: gr.Blocks) -> None:
    """On page load: give a new browser its id; on a Space with sign-in, open the editor and Start to
    signed-in visitors."""
    settings, browser_id, editor, train = ctx.settings, ctx.shared.browser_id, ctx.format, ctx.train
    gated = [editor.editor, editor.reset, editor.clear, train.start]
    banners = [editor.access, train.access]

    def start(browser_id_value: str, profile: gr.OAuthProfile | None = None):
        allowed = settings.can_run_code(profile is not None)
        note = settings.access_note() if not allowed else ""
        banner = gr.update(value=read_only_banner(note), visible=bool(note))
        return {browser_id: browser_id_value or new_browser_id(),
                **{component: gr.update(interactive=allowed) for component in gated},
                **{component: banner for component in banners}}

    demo.load(start, browser_id, [browser_id, *gated, *banners], queue=False, **PRIVATE)


def _wire_model_lists(ctx: Ctx) -> None:
    """Finished runs show up in every model list (Preview's tokenizer, Train, Chat, Score, Hub) as they finish;
    a list is only sent when it changed, so an open dropdown is not disturbed."""
    api, shared = ctx.api, ctx.shared
    causal_lists = [ctx.preview.model, ctx.train.model, ctx.chat.model, ctx.chat.base_model]
    reward_lists = [ctx.train.reward_models]
    reward_model, push_run = ctx.chat.reward_model, ctx.hub.run

    def refresh(browser_id: str, lists: dict, push_value: str | None, reward_value: str | None,
                request: gr.Request):
        caller = ctx.caller(request, browser_id)
        try:
            causal = api.list_models(caller, "causal")
            reward = api.list_models(caller, "reward")
            finished = [(label, value) for label, value in causal + reward if value != "starter"]
        except Exception as error:
            log.warning("refreshing the model lists failed: %s", error)
            return gr.skip()
        new = {"causal": causal, "reward": reward, "finished": finished}
        out: dict[Any, Any] = {}
        for key, targets in (("causal", causal_lists), ("reward", reward_lists)):
            if not same_choices((lists or {}).get(key), new[key]):
                out.update({component: gr.update(choices=new[key]) for component in targets})
        # single-choice lists with nothing chosen yet pick the newest run, so the card / scorer are one click away
        for key, component, current in (("reward", reward_model, reward_value), ("finished", push_run, push_value)):
            change: dict[str, Any] = {}
            if not same_choices((lists or {}).get(key), new[key]):
                change["choices"] = new[key]
            if new[key] and not current:
                change["value"] = new[key][0][1]
            if change:
                out[component] = gr.update(**change)
        return {**out, shared.lists: {k: [list(x) for x in v] for k, v in new.items()}}

    outputs = [*causal_lists, *reward_lists, reward_model, push_run, shared.lists]
    shared.timer.tick(refresh, [shared.browser_id, shared.lists, push_run, reward_model], outputs,
                      show_progress="hidden", concurrency_limit=None, **PRIVATE)


def launch(settings: AppSettings) -> None:
    """Serve the app: recover runs interrupted by a restart, launch, then start the background work."""
    from rlhf.runs.manager import RunManager

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if settings.public and not settings.auth and not settings.oauth:
        log.warning("this deployment is public (%s) and has no --auth / RLHF_AUTH: visitors can look around, "
                    "but code editing and training stay off until you set one",
                    "share link" if settings.share else f"host {settings.host}" if not settings.space_id else "Space")
    manager = RunManager(settings.runs_dir)
    recovered = manager.recover()
    if recovered["interrupted"]:
        log.info("runs interrupted while the app was down (resume them in the Train tab): %s",
                 ", ".join(recovered["interrupted"]))
    api = Api(settings, manager=manager)
    demo = build_app(settings, api)
    demo.queue(default_concurrency_limit=4)
    try:
        demo.launch(server_name=settings.host, server_port=settings.port, share=settings.share,
                    auth=settings.auth or None,
                    auth_message="rlhf: sign in to edit code and train." if settings.auth else None,
                    prevent_thread_lock=True, show_error=False, css=CSS, footer_links=["api"],
                    max_file_size=f"{settings.max_upload_mb}mb",
                    run_history=False,  # it would keep every input, the Hub token box included, in the browser
                    theme=gr.themes.Soft())
        api.hub.refresh()
        if settings.build_starter:
            api.starter.start()
        else:
            api.starter.check()
        demo.block_thread()
    finally:
        api.starter.stop()


def main(argv: list[str] | None = None) -> int:
    from rlhf.security import harden_process

    harden_process()  # the app may hold HF_TOKEN; user code it starts must not read it from /proc
    settings = AppSettings.from_args(argv)
    launch(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
