"""Chat & Score tab: stream a chat with a finished model (or the starter), optionally beside its base model to
see what training changed, and rate texts with a reward model. The seed's toad/frog example is one click away.

Generation and scoring load models into this process, so both events have their own concurrency limit
(``RLHF_CHAT_CONCURRENCY``); loaded models are cached (see :mod:`rlhf.inference.loading`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

import gradio as gr

from rlhf.formatting.templates import TOAD_BAD, TOAD_CONTEXT, TOAD_GOOD, TOAD_PROMPT
from rlhf.errors import ConfigError
from rlhf.ui.tabs import PRIVATE, Ctx, done, problem, reports

FORMATS = [("Instruction template (as trained)", "template"), ("Chat template", "chat"), ("Raw text", "raw")]


@dataclass
class ChatTab:
    model: gr.Dropdown
    compare: gr.Checkbox
    base_model: gr.Dropdown
    chatbot: gr.Chatbot
    base_chatbot: gr.Chatbot
    input: gr.Textbox
    context: gr.Textbox
    send: gr.Button
    stop: gr.Button
    clear: gr.Button
    example: gr.Button
    message: gr.Markdown
    prompt_format: gr.Radio
    generation: list  # max_new_tokens, temperature, top_p, top_k, repetition_penalty, seed
    reward_model: gr.Dropdown
    score_prompt: gr.Textbox
    score_context: gr.Textbox
    score_texts: gr.Textbox
    score: gr.Button
    score_example: gr.Button
    score_message: gr.Markdown
    scores: gr.Dataframe
    scores_empty: gr.Markdown  # what to do, until the first scores
    base_column: gr.Column  # the base model's chat, shown with Compare


def build(ctx: Ctx) -> ChatTab:
    starter = [("starter (tiny offline model)", "starter")]
    gr.Markdown("Talk to a finished run (or the starter). *Compare* shows the model it was trained from answering "
                "the same prompt beside it.")
    with gr.Row(equal_height=True):
        model = gr.Dropdown(starter, value="starter", label="Chat with", allow_custom_value=True, min_width=300,
                            info="'starter', a finished run, or a Hub id")
        compare = gr.Checkbox(False, label="Compare with the base model", min_width=200)
        base = gr.Dropdown(starter, value="starter", label="Base model", allow_custom_value=True, visible=False,
                           min_width=300)
    with gr.Row():  # labels above the chats, not over them (a chatbot's own label covers its first message)
        with gr.Column():
            gr.Markdown("**Model**")
            chatbot = gr.Chatbot(show_label=False, height=340, placeholder="Replies appear here.")
        with gr.Column(visible=False) as base_column:
            gr.Markdown("**Base model**, for comparison")
            base_chatbot = gr.Chatbot(show_label=False, height=340,
                                      placeholder="The base model's replies to the same messages appear here.")
    with gr.Row(equal_height=True):
        message = gr.Textbox(label="Instruction", placeholder="Ask something, e.g. Is a toad a frog?", lines=2,
                             scale=3)
        context = gr.Textbox(label="Context (optional)", lines=2, scale=2,
                             placeholder="Filled into '### Context:' of the instruction template")
    with gr.Row(elem_classes="rlhf-actions"):
        send = gr.Button("Send", variant="primary", scale=0, min_width=110, size="md")
        stop = gr.Button("Stop", variant="stop", scale=0, min_width=90, size="md")
        clear = gr.Button("Clear", scale=0, min_width=90, size="md")
        example = gr.Button("Example: Is a toad a frog?", scale=0, min_width=260, size="md")
        chat_message = gr.Markdown()
    with gr.Accordion("Generation settings", open=False):
        with gr.Row():
            prompt_format = gr.Radio(FORMATS, value="template", label="Prompt format",
                                     info="The runs here are trained on the instruction template")
            max_new_tokens = gr.Slider(1, 512, value=64, step=1, label="max_new_tokens")
            temperature = gr.Slider(0.0, 2.0, value=0.7, step=0.05, label="temperature", info="0: greedy")
        with gr.Row():
            top_p = gr.Slider(0.05, 1.0, value=0.95, step=0.05, label="top_p")
            top_k = gr.Number(0, label="top_k", precision=0, info="0: off")
            repetition_penalty = gr.Slider(1.0, 2.0, value=1.0, step=0.05, label="repetition_penalty")
            seed = gr.Number(-1, label="seed", precision=0, info="-1: random")

    gr.Markdown("### Score with a reward model\nHigher is preferred. With a prompt, each line is a response placed "
                "in the instruction template after it, as the reward model saw its training pairs; without one, "
                "each line is scored as raw text, which a reward model trained on templated pairs never saw.")
    with gr.Row(equal_height=True):
        reward_model = gr.Dropdown([], value=None, label="Reward model", allow_custom_value=True, min_width=300,
                                   scale=2, info="a finished reward-model run, or a Hub id")
        score_prompt = gr.Textbox(label="Prompt (optional)", scale=2)
        score_context = gr.Textbox(label="Context (optional)", scale=2)
    texts = gr.Textbox(label="Texts or responses, one per line", lines=4,
                       placeholder="Yes\nBoth frogs and toads are amphibians…")
    with gr.Row(elem_classes="rlhf-actions"):
        score = gr.Button("Score", variant="primary", scale=0, min_width=110, size="md")
        score_example = gr.Button("Example: a good and a bad answer", scale=0, min_width=300, size="md")
        score_message = gr.Markdown()
    scores_empty = gr.Markdown("*No scores yet: choose a reward model, type one text per line (or press the "
                               "example), then **Score**.*", elem_classes="rlhf-note")
    scores = gr.Dataframe(headers=["text", "score"], datatype=["str", "number"], interactive=False, wrap=True,
                          value=None, label="Scores", visible=False)
    ctx.chat = ChatTab(model=model, compare=compare, base_model=base, chatbot=chatbot, base_chatbot=base_chatbot,
                       input=message, context=context, send=send, stop=stop, clear=clear, example=example,
                       message=chat_message, prompt_format=prompt_format,
                       generation=[max_new_tokens, temperature, top_p, top_k, repetition_penalty, seed],
                       reward_model=reward_model, score_prompt=score_prompt, score_context=score_context,
                       score_texts=texts, score=score, score_example=score_example, score_message=score_message,
                       scores=scores, scores_empty=scores_empty, base_column=base_column)
    return ctx.chat


def wire(ctx: Ctx) -> None:
    api, t, settings, browser_id = ctx.api, ctx.chat, ctx.settings, ctx.shared.browser_id

    t.compare.change(lambda on: {t.base_model: gr.update(visible=on), t.base_column: gr.update(visible=on)},
                     t.compare, [t.base_model, t.base_column], queue=False, **PRIVATE)

    def pick(model: str, browser_id: str, request: gr.Request):
        """Choosing a run proposes the model it was trained from as the one to compare against."""
        try:
            return api.base_model(model, ctx.caller(request, browser_id))
        except Exception:
            return gr.skip()

    t.model.input(pick, [t.model, browser_id], t.base_model, **PRIVATE)
    t.example.click(lambda: {t.input: TOAD_PROMPT, t.context: TOAD_CONTEXT}, None, [t.input, t.context],
                    queue=False, **PRIVATE)
    t.clear.click(lambda: {t.chatbot: [], t.base_chatbot: [], t.message: ""}, None,
                  [t.chatbot, t.base_chatbot, t.message], queue=False, **PRIVATE)

    def shown(history: list, base_history: list, note: str) -> dict:
        return {t.chatbot: history, t.base_chatbot: base_history, t.message: note}

    def reply(model, base, compare, message, context, history, base_history, prompt_format, max_new_tokens,
              temperature, top_p, top_k, repetition_penalty, seed, browser_id, request: gr.Request):
        caller = ctx.caller(request, browser_id)
        if not (message or "").strip():
            yield {t.message: problem("Type an instruction first.")}
            return
        options = dict(context=context, prompt_format=prompt_format, max_new_tokens=max_new_tokens,
                       temperature=temperature, top_p=top_p, top_k=top_k or 0, repetition_penalty=repetition_penalty,
                       seed=None if seed is None or seed < 0 else int(seed))
        asked = message if not (context or "").strip() or prompt_format != "template" else \
            f"{message}\n\n*Context:* {context}"
        history, base_history = _messages(history), _messages(base_history)
        turn = [{"role": "user", "content": asked}]
        main = api.chat_stream(model, message, caller, history=_for_model(history), **options)
        other = api.chat_stream(base, message, caller, history=_for_model(base_history), **options) if compare \
            else iter(())
        text, base_text = "", ""
        try:
            yield shown(history + turn + [{"role": "assistant", "content": "…"}],
                   base_history + (turn + [{"role": "assistant", "content": "…"}] if compare else []), "")
            for a, b in zip_longest(main, other):
                text = a if a is not None else text
                base_text = b if b is not None else base_text
                yield shown(history + turn + [{"role": "assistant", "content": text or "…"}],
                       base_history + (turn + [{"role": "assistant", "content": base_text or "…"}] if compare
                                       else []), "")
        except Exception as error:
            yield shown(history + turn + [{"role": "assistant", "content": text}] if text else history,
                   base_history, problem(error))
            return
        finally:
            for stream in (main, other):
                close = getattr(stream, "close", None)
                if close:
                    close()
        ended = text or "(no text: the model gave no reply)"  # a reply that ends empty says what was emitted
        yield shown(history + turn + [{"role": "assistant", "content": ended}],
               base_history + (turn + [{"role": "assistant", "content": base_text or "(no text)"}] if compare else []),
               "")

    inputs = [t.model, t.base_model, t.compare, t.input, t.context, t.chatbot, t.base_chatbot, t.prompt_format,
              *t.generation, browser_id]
    outputs = [t.chatbot, t.base_chatbot, t.message]
    limit = dict(concurrency_limit=settings.chat_concurrency, concurrency_id="chat", show_progress="minimal")
    sent = t.send.click(reply, inputs, outputs, **limit, **PRIVATE)
    submitted = t.input.submit(reply, inputs, outputs, **limit, **PRIVATE)
    t.stop.click(None, None, None, cancels=[sent, submitted], **PRIVATE)

    t.score_example.click(lambda: {t.score_prompt: TOAD_PROMPT, t.score_context: TOAD_CONTEXT,
                                   t.score_texts: f"{TOAD_GOOD}\n{TOAD_BAD}"},
                          None, [t.score_prompt, t.score_context, t.score_texts], queue=False, **PRIVATE)

    @reports(t.score_message)
    def rate(model: str, prompt: str, context: str, texts: str, browser_id: str, request: gr.Request,
             progress=gr.Progress()):
        lines = [line for line in (texts or "").splitlines() if line.strip()]
        if not model:
            raise ConfigError("Choose a reward model: train one with a task that trains a reward model (a "
                              "classifier), or type a Hub id.")
        if not lines:
            raise ConfigError("Type one or more texts, one per line.")
        progress(0, desc="Loading the reward model")
        values = api.score(model, lines, ctx.caller(request, browser_id), prompt, context)
        best = max(range(len(values)), key=values.__getitem__)
        note = f"Scored {len(values)} text{'s' if len(values) != 1 else ''}" + (
            f"; preferred: line {best + 1}." if len(values) > 1 else ".") + (
            "" if (prompt or "").strip() else " No prompt: these are scores of raw text, not of responses in the "
                                              "template the reward model trained on.")
        return {t.score_message: done(note), t.scores_empty: gr.update(visible=False),
                t.scores: gr.update(value=[[line, value] for line, value in zip(lines, values)], visible=True)}

    t.score.click(rate, [t.reward_model, t.score_prompt, t.score_context, t.score_texts, browser_id],
                  [t.score_message, t.scores, t.scores_empty], concurrency_limit=settings.score_concurrency,
                  concurrency_id="score", **PRIVATE)


def _text(content: Any) -> str:
    """A chatbot message's content as text (Gradio hands back a list of typed parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_text(part) for part in content)
    if isinstance(content, dict) and content.get("type") == "text":
        return str(content.get("text", ""))
    return ""


def _messages(history: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    return [{"role": m["role"], "content": _text(m.get("content"))} for m in (history or [])
            if isinstance(m, dict) and m.get("role") in ("user", "assistant")]


def _for_model(history: list[dict[str, str]]) -> list[dict[str, str]]:
    """What the model sees of earlier turns: the text without our display markup."""
    return [{"role": m["role"], "content": m["content"].split("\n\n*Context:*")[0]} for m in history
            if m["content"] not in ("…",)]
