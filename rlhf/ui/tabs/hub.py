"""Hub tab: push a finished run (adapter or merged weights) to a model repo with its generated model card,
private by default. The token comes from the password box, ``HF_TOKEN`` or the Space's sign-in, is used for the
one call, and is never stored or logged. Offline, the tab says the Hub is unreachable before anything else."""

from __future__ import annotations

import re

import gradio as gr

from rlhf.ui.tabs import PRIVATE, Ctx, done, problem, reports

EMPTY_CARD = "*Select a finished run to preview its model card.*"


def render_card(card: str) -> str:
    """Show the YAML front matter as a code block (Markdown would render it as a rule and a heading), and name
    the training-curve picture instead of linking it (it is uploaded beside the card, not served from here)."""
    from rlhf.hub.card import CURVE_FILE

    card = re.sub(r"!\[([^\]]*)\]\(" + re.escape(CURVE_FILE) + r"\)",
                  lambda m: f"*[picture: {m.group(1)}, `{CURVE_FILE}`, uploaded with the card]*", card)
    match = re.match(r"^---\n(.*?)\n---\n", card, flags=re.S)
    if not match:
        return card
    return f"```yaml\n{match.group(1)}\n```\n\n{card[match.end():]}"


def hub_note(api) -> str:
    return api.hub.note("pushing needs a connection to the Hub. The model card preview below works offline.")


def build(ctx: Ctx) -> None:
    settings = ctx.settings
    status = gr.Markdown(lambda: hub_note(ctx.api), elem_classes="rlhf-note")
    if settings.oauth:
        gr.LoginButton()
    with gr.Row(equal_height=True):
        run = gr.Dropdown([], value=None, label="Finished run", min_width=320,
                          info="runs appear here when they finish")
        repo = gr.Textbox(label="Model repo id", placeholder="your-name/my-model", min_width=260)
    with gr.Row(equal_height=True):
        private = gr.Checkbox(True, label="Private repository", info="applies when the repo is created")
        merge = gr.Checkbox(False, label="Merge the LoRA adapter into full weights",
                            info="LoRA runs only: loads without peft")
        token = gr.Textbox(type="password", label="Hugging Face token (write access)", min_width=300,
                           placeholder="empty: HF_TOKEN" + (" or your sign-in" if settings.oauth else ""),
                           info="used for this push only; never stored")
    with gr.Row(equal_height=True):
        push = gr.Button("Push to the Hub", variant="primary", scale=0, min_width=180, size="md",
                         interactive=settings.open_code or settings.oauth)
        message = gr.Markdown()
    card = gr.Markdown(EMPTY_CARD, label="Model card preview", container=True, padding=True)
    ctx.c.update(hub_tab_status=status, push_run=run, repo_id=repo, private=private, merge=merge, token=token,
                 push=push, push_message=message, card=card)


def wire(ctx: Ctx) -> None:
    api, c = ctx.api, ctx.c

    @reports()
    def preview(run_id: str, repo_id: str, merge: bool, browser_id: str, request: gr.Request):
        if not run_id:
            return EMPTY_CARD
        return render_card(api.model_card(run_id, ctx.caller(request, browser_id), repo_id, merge))

    for trigger in (c["push_run"].change, c["merge"].change, c["repo_id"].blur):
        trigger(preview, [c["push_run"], c["repo_id"], c["merge"], c["browser_id"]], c["card"],
                concurrency_limit=4, concurrency_id="quick", **PRIVATE)

    def push(run_id: str, repo_id: str, token: str, private: bool, merge: bool, browser_id: str,
             request: gr.Request, profile: gr.OAuthProfile | None = None,
             oauth_token: gr.OAuthToken | None = None, progress=gr.Progress()):
        if not run_id:
            return problem("Select a finished run first."), gr.skip(), "" if token else gr.skip()
        caller = ctx.caller(request, browser_id, profile)
        token = (token or "").strip() or (oauth_token.token if oauth_token is not None else "")
        try:
            url = api.push(run_id, repo_id, caller, token, private, merge,
                           progress=lambda text: progress(None, desc=text))
        except Exception as error:
            return problem(error), hub_note(api), gr.skip()
        return done(f"Pushed: [{url}]({url})"), hub_note(api), ""

    c["push"].click(push, [c["push_run"], c["repo_id"], c["token"], c["private"], c["merge"], c["browser_id"]],
                    [c["push_message"], c["hub_tab_status"], c["token"]], concurrency_limit=2,
                    concurrency_id="push", **PRIVATE)
