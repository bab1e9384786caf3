"""Hub tab: push a finished run (adapter or merged weights) to a model repo with its generated model card,
private by default. The token comes from the password box, ``HF_TOKEN`` or the Space's sign-in, is used for the
one call, and is never stored or logged. Offline, the tab says the Hub is unreachable before anything else."""

from __future__ import annotations

import re

from dataclasses import dataclass

import gradio as gr

from rlhf.ui.tabs import PRIVATE, Ctx, done, problem, reports

EMPTY_CARD = "*Select a finished run to preview its model card.*"
PUSH = "Push to the Hub"
PUSH_OFFLINE = "Push to the Hub (unavailable offline)"


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


@dataclass
class HubTab:
    status: gr.Markdown
    run: gr.Dropdown  # finished runs
    repo_id: gr.Textbox
    private: gr.Checkbox
    merge: gr.Checkbox
    token: gr.Textbox
    push: gr.Button
    message: gr.Markdown
    card: gr.Markdown
    reachable: gr.State  # the Hub's reachability the push button last showed


def push_button(allowed: bool, reachable: bool | None) -> dict:
    """Push is off while the Hub cannot be reached, and says so on the button (the note above says why)."""
    offline = reachable is False
    return gr.update(interactive=allowed and not offline, value=PUSH_OFFLINE if offline else PUSH)


def build(ctx: Ctx) -> HubTab:
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
    with gr.Row(elem_classes="rlhf-actions"):
        push = gr.Button(PUSH, variant="primary", scale=0, min_width=180, size="md",
                         interactive=settings.open_code or settings.oauth)
        message = gr.Markdown()
    card = gr.Markdown(EMPTY_CARD, label="Model card preview", container=True, padding=True)
    ctx.hub = HubTab(status=status, run=run, repo_id=repo, private=private, merge=merge, token=token, push=push,
                     message=message, card=card, reachable=gr.State("unknown"))
    return ctx.hub


def wire(ctx: Ctx) -> None:
    api, t, browser_id = ctx.api, ctx.hub, ctx.shared.browser_id

    @reports()
    def preview(run_id: str, repo_id: str, merge: bool, browser_id: str, request: gr.Request):
        if not run_id:
            return EMPTY_CARD
        return render_card(api.model_card(run_id, ctx.caller(request, browser_id), repo_id, merge))

    for trigger in (t.run.change, t.merge.change, t.repo_id.blur):
        trigger(preview, [t.run, t.repo_id, t.merge, browser_id], t.card,
                concurrency_limit=4, concurrency_id="quick", **PRIVATE)

    def push(run_id: str, repo_id: str, token: str, private: bool, merge: bool, browser_id: str,
             request: gr.Request, profile: gr.OAuthProfile | None = None,
             oauth_token: gr.OAuthToken | None = None, progress=gr.Progress()):
        if not run_id:
            return {t.message: problem("Select a finished run first."), **({t.token: ""} if token else {})}
        caller = ctx.caller(request, browser_id, profile)
        token = (token or "").strip() or (oauth_token.token if oauth_token is not None else "")
        try:
            url = api.push(run_id, repo_id, caller, token, private, merge,
                           progress=lambda text: progress(None, desc=text))
        except Exception as error:
            return {t.message: problem(error), t.status: hub_note(api)}
        return {t.message: done(f"Pushed: [{url}]({url})"), t.status: hub_note(api), t.token: ""}

    t.push.click(push, [t.run, t.repo_id, t.token, t.private, t.merge, browser_id], [t.message, t.status, t.token],
                 concurrency_limit=2, concurrency_id="push", **PRIVATE)

    allowed = ctx.settings.open_code or ctx.settings.oauth

    def follow_hub(shown: bool | None | str):
        """The push button and the note follow the Hub's reachability (probed in the background)."""
        reachable = api.hub.reachable
        if reachable == shown:
            return gr.skip()
        return {t.push: push_button(allowed, reachable), t.status: hub_note(api), t.reachable: reachable}

    ctx.shared.timer.tick(follow_hub, t.reachable, [t.push, t.status, t.reachable], show_progress="hidden",
                          concurrency_limit=None, **PRIVATE)
