"""Format tab: the formatting function of each task (and the RL reward function) in a Python editor, prefilled
from the templates, with a "Run on 5 records" button that shows every record's outcome. The code only ever runs
in the sandboxed worker process, never in the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from rlhf.ui import tasks
from rlhf.ui.tabs import PRIVATE, Ctx, done, problem, read_only_banner, reports

DEFAULT_TASK = tasks.DEFAULT
RULES = ("Argilla's rules: the function gets one record (a dict, shown in the Data tab) and returns one row, "
         "`None` to drop the record, or a list/generator of rows.")


def contract(task: str, data: dict[str, Any] | None, code: str | None = None) -> str:
    """What the function returns, Argilla's rules, and which will make the rows with the editor as it is."""
    text = f"**{tasks.label(task)}.** {tasks.returns(task)}"
    if task == tasks.REWARD:
        return text
    return text + " " + RULES + "\n\n" + tasks.rows_note(task, data, code)


def initial_codes(ctx: Ctx, data: dict[str, Any] | None) -> dict[str, str]:
    return {task: ctx.api.default_code(task, data) for task in tasks.code_entries()}


def outcomes(result: dict[str, Any]) -> str:
    """Each record's outcome as Markdown: its rows in text blocks (newlines kept), why it was dropped, or the
    error in red."""
    if result["task"] == tasks.REWARD:
        lines = ["Each completion follows this prompt:", "", _fenced(result["prompt"]), "",
                 "| completion | reward |", "|---|---|"]
        for item in result["records"]:
            completion, reward = item["rows"][0]
            shown = completion.strip().replace("|", "\\|") or "(empty)"
            value = item.get("note") or ("–" if reward is None else f"{reward:g}")  # NaN: what training makes of it
            lines.append(f"| {shown} | {value} |")
        return "\n".join(lines)
    blocks = []
    for item in result["records"]:
        title = f"**Record {item['index']}**" + (f" (`{item['external_id']}`)" if item.get("external_id") else "")
        if item["error"]:
            blocks.append(f"{title} → <span class='rlhf-error'>⚠️ {_escape(item['error'])}</span>")
        elif item["dropped"]:
            blocks.append(f"{title} → dropped: {item['dropped']}")
        else:
            rows = item["rows"]
            text = f"{title} → {len(rows)} row" + ("s" if len(rows) != 1 else "")
            for row in rows:
                text += "\n\n" + _fenced(_row_text(result["columns"], row))
            blocks.append(text)
    return "\n\n---\n\n".join(blocks) or "*The dataset has no records.*"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fenced(text: str) -> str:
    fence = "`" * max(3, _longest_backticks(text) + 1)
    return f"{fence}text\n{text}\n{fence}"


def _longest_backticks(text: str) -> int:
    longest = current = 0
    for char in text:
        current = current + 1 if char == "`" else 0
        longest = max(longest, current)
    return longest


def _row_text(columns: list[str], row: list[Any]) -> str:
    if len(row) == 1:
        return str(row[0])
    return "\n".join(f"[{name}]\n{value}" for name, value in zip(columns, row))


EMPTY_RESULTS = ("*No results yet: press **Run on 5 records** to see, record by record, what the function "
                 "returns (or why it fails).*")

@dataclass
class FormatTab:
    access: gr.Markdown
    task: gr.Dropdown
    terms: gr.Markdown
    editor: gr.Code
    run: gr.Button
    reset: gr.Button
    clear: gr.Button
    message: gr.Markdown
    results: gr.Markdown
    editor_task: gr.State  # the task the editor shows
    codes: gr.State  # every task's code, the editor's as of its last switch


def build(ctx: Ctx) -> FormatTab:
    settings = ctx.settings
    data = ctx.initial_data
    codes = initial_codes(ctx, data)
    note = settings.access_note()
    access = gr.Markdown(read_only_banner(note), visible=bool(note))
    gr.Markdown("Write how a record becomes training rows, per task. The editors start from the template written "
                "for the loaded dataset's kind (dolly-style Argilla data like the sample, or preference pairs), or "
                "empty where its plain columns already fit; functions written for Argilla's `ArgillaTrainer` run "
                "unchanged. The code runs in an isolated process with a time and memory limit.")
    with gr.Row(equal_height=True):
        task = gr.Dropdown(tasks.code_choices(), value=DEFAULT_TASK, label="Function for", scale=1, min_width=220)
        terms = gr.Markdown(contract(DEFAULT_TASK, data, codes[DEFAULT_TASK]), elem_classes="rlhf-note")
    editor = gr.Code(codes[DEFAULT_TASK], language="python", lines=22, max_lines=40, label="formatting_func (Python)",
                     interactive=settings.open_code, elem_id="format-editor")
    with gr.Row(elem_classes="rlhf-actions"):
        run = gr.Button("Run on 5 records", variant="primary", scale=0, min_width=180, size="md")
        reset = gr.Button("Reset to template", scale=0, min_width=180, size="md", interactive=settings.open_code)
        clear = gr.Button("Clear (plain columns / template)", scale=0, min_width=280, size="md",
                          interactive=settings.open_code)
        message = gr.Markdown("Runs the function on the first records of the dataset, in the sandbox.",
                              elem_classes="rlhf-note")
    results = gr.Markdown(EMPTY_RESULTS, container=True, padding=True, max_height=640, label="Result per record",
                          elem_id="format-results")
    editor_task = gr.State(DEFAULT_TASK)
    codes_state = gr.State(codes)
    ctx.format = FormatTab(access=access, task=task, terms=terms, editor=editor, run=run, reset=reset, clear=clear,
                           message=message, results=results, editor_task=editor_task, codes=codes_state)
    return ctx.format


def wire(ctx: Ctx) -> None:
    api, t, shared = ctx.api, ctx.format, ctx.shared

    def switch(task: str, editor_value: str, codes: dict, editor_task: str, data: dict):
        codes = dict(codes or {}, **{editor_task: editor_value or ""})
        reward = task == tasks.REWARD
        label = "reward_func (Python)" if reward else "formatting_func (Python)"
        return {t.editor: gr.update(value=codes.get(task, ""), label=label), t.codes: codes, t.editor_task: task,
                t.terms: contract(task, data, codes.get(task, "")), t.results: EMPTY_RESULTS, t.message: "",
                t.clear: gr.update(visible=not reward),
                t.run: gr.update(value="Run on 5 examples" if reward else "Run on 5 records")}

    t.task.change(switch, [t.task, t.editor, t.codes, t.editor_task, shared.data_state],
                  [t.editor, t.codes, t.editor_task, t.terms, t.results, t.message, t.clear, t.run], queue=False,
                  **PRIVATE)

    def reset(task: str, data: dict):
        from rlhf.formatting.templates import template_source

        code = template_source(tasks.template(task, data))
        return {t.editor: code, t.terms: contract(task, data, code), t.message: done("Reset to the template.")}

    t.reset.click(reset, [t.task, shared.data_state], [t.editor, t.terms, t.message], queue=False, **PRIVATE)

    def clear(task: str, data: dict):
        return {t.editor: "", t.terms: contract(task, data, ""),
                t.message: done(f"Cleared: {tasks.defaults(task, data).describe()} will be used.")}

    t.clear.click(clear, [t.task, shared.data_state], [t.editor, t.terms, t.message], queue=False, **PRIVATE)
    # typing in the editor changes which makes the rows (the template, unchanged, or your function): say so
    t.editor.input(lambda task, code, data: contract(task, data, code), [t.task, t.editor, shared.data_state],
                   t.terms, queue=False, trigger_mode="always_last", show_progress="hidden", **PRIVATE)

    @reports(t.message)
    def run(task: str, code: str, data: dict, browser_id: str, request: gr.Request,
            profile: gr.OAuthProfile | None = None):
        caller = ctx.caller(request, browser_id, profile)
        result = api.probe_code(task, code, caller, (data or {}).get("dataset", "sample"),
                                (data or {}).get("config", ""), (data or {}).get("split", "train"))
        errors = sum(1 for r in result["records"] if r["error"])
        what = (f"Used the plain columns ({result['function'].split(': ', 1)[-1].rstrip(')')})"
                if result["function"].startswith("none") else f"Ran `{result['function']}`")
        summary = (f"{what} on {len(result['records'])} {'examples' if task == tasks.REWARD else 'records'}"
                   + (f": <b>{errors} raised an error</b> (see below)." if errors else "."))
        return {t.message: problem(summary) if errors else done(summary), t.results: outcomes(result)}

    t.run.click(run, [t.task, t.editor, shared.data_state, shared.browser_id], [t.message, t.results],
                concurrency_limit=2, concurrency_id="probe", **PRIVATE)

    def dataset_changed(data: dict, codes: dict, editor_task: str, editor_value: str, old: dict):
        """Editors the user has not touched follow the new dataset's defaults (template or plain columns)."""
        codes = dict(codes or {}, **{editor_task: editor_value or ""})
        before = {task: api.default_code(task, old) for task in tasks.code_entries()}
        for task in tasks.code_entries():
            if (codes.get(task) or "").strip() == before[task].strip():  # the editor may drop a final newline
                codes[task] = api.default_code(task, data)
        return {t.codes: codes, t.editor: codes.get(editor_task, ""),
                t.terms: contract(editor_task, data, codes.get(editor_task, "")),
                shared.previous_data: data}

    shared.data_state.change(dataset_changed, [shared.data_state, t.codes, t.editor_task, t.editor,
                                               shared.previous_data],
                             [t.codes, t.editor, t.terms, shared.previous_data], queue=False, **PRIVATE)
