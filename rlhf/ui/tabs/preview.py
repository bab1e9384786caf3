"""Preview tab: the prepared rows of one task over the whole dataset, with the counts (records read, rows out,
dropped and why), the train/test split, and token lengths under the chosen model's tokenizer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from rlhf.ui import tasks
from rlhf.ui.plots import color_map, histogram
from rlhf.ui.tabs import PRIVATE, Ctx, code_for, done, reports
from rlhf.ui.tabs.data import short

EMPTY = ("*Nothing prepared yet for this task.* Press **Prepare preview** to run the task's formatting function "
         "over the whole dataset (in the sandbox; the result is cached, so training on the same rows later does not "
         "run it again): its rows, counts, drop reasons and token lengths appear here.")


def counts(result: dict[str, Any]) -> str:
    dropped = sum(result["dropped"].values())
    lines = [f"**{result['records']:,}** records read → **{result['rows']:,}** rows "
             f"({', '.join(f'{name} {n:,}' for name, n in result['splits'].items())}) · "
             f"**{dropped:,}** records dropped · function: `{result['function']}`"]
    for reason, n in sorted(result["dropped"].items(), key=lambda kv: -kv[1]):
        lines.append(f"- {n:,} × {reason}")
    lines += [f"- ⚠️ **{warning}**" for warning in result.get("warnings") or []]  # rows that will not train as meant
    lengths = result.get("token_lengths") or {}
    if lengths.get("note"):
        lines.append(f"\n*{lengths['note']}*")
    for column, stats in (lengths.get("stats") or {}).items():
        if stats.get("count"):
            limit = lengths.get("max_length")
            over = sum(1 for v in lengths["lengths"][column] if limit and v > limit)
            lines.append(f"- tokens in `{column}` ({lengths['model']}): min {stats['min']}, mean {stats['mean']}, "
                         f"p95 {stats['p95']}, max {stats['max']}"
                         + (f"; **{over} rows exceed the model's {limit} tokens** and would be truncated"
                            if over else ""))
    return "\n".join(lines)


@dataclass
class PreviewTab:
    label: gr.Markdown
    task: gr.Dropdown
    model: gr.Dropdown
    train_size: gr.Slider
    seed: gr.Number
    run: gr.Button
    message: gr.Markdown
    summary: gr.Markdown
    table: gr.Dataframe
    plot: gr.BarPlot


def build(ctx: Ctx) -> PreviewTab:
    data = ctx.initial_data
    label = gr.Markdown(short(data), elem_classes="rlhf-note")
    with gr.Row(equal_height=True):
        task = gr.Dropdown(tasks.choices(), value=tasks.DEFAULT, label="Task", min_width=200)
        model = gr.Dropdown(ctx.api.list_models(ctx.caller(None, "", None)) if ctx.settings.single_user else
                            [("starter (tiny offline model)", "starter")], value="starter",
                            label="Tokenizer of", allow_custom_value=True, min_width=220,
                            info="'starter', a finished run, or a Hub id")
        train_size = gr.Slider(0.5, 1.0, value=tasks.setting_default("train_size"), step=0.05, label="train_size",
                               min_width=200, info=tasks.setting_help("train_size"))
        seed = gr.Number(tasks.setting_default("split_seed"), label="seed (split)", precision=0, min_width=120)
    with gr.Row(elem_classes="rlhf-actions"):
        run = gr.Button("Prepare preview", variant="primary", scale=0, min_width=180, size="md")
        message = gr.Markdown()
    summary = gr.Markdown(EMPTY)
    # both appear with a preview, and go when the task or the dataset changes (they would show another task's
    # rows); shown afresh, the plot takes the new task's columns and axes
    table = gr.Dataframe(label="Prepared rows (train split, first 20)", interactive=False, wrap=True,
                         max_height=460, value=None, visible=False)
    plot = gr.BarPlot(None, x="tokens", y="rows", color="column", title="Token lengths (train split)",
                      x_title="tokens per row", y_title="rows", height=300, sort=None, x_label_angle=-45,
                      visible=False)
    ctx.preview = PreviewTab(label=label, task=task, model=model, train_size=train_size, seed=seed, run=run,
                             message=message, summary=summary, table=table, plot=plot)
    return ctx.preview


def wire(ctx: Ctx) -> None:
    api, t, shared, editor = ctx.api, ctx.preview, ctx.shared, ctx.format

    @reports(t.message)
    def prepare(task: str, model: str, train_size: float, seed: float, data: dict, codes: dict, editor_task: str,
                editor_value: str, browser_id: str, request: gr.Request, profile: gr.OAuthProfile | None = None,
                progress=gr.Progress()):
        caller = ctx.caller(request, browser_id, profile)
        data = data or {}
        total = data.get("records") or None

        def report(records: int, rows: int) -> None:
            progress((records, total), desc=f"formatting: {rows:,} rows so far", unit="records")

        progress(0, desc="Preparing rows in the sandbox")
        result = api.preview(task, data.get("dataset", "sample"), code_for(task, codes, editor_task, editor_value),
                             caller, model or "starter", train_size, int(seed if seed is not None else 42),
                             data.get("config", ""), data.get("split", "train"), progress=report)
        import pandas as pd

        rows = pd.DataFrame(result["sample_rows"], columns=result["columns"])
        text_columns = [c for c in result["columns"] if c != "id"]
        # shares of the table's width (a fixed px id column plus percentages would overflow it): a narrow id
        # column, if any, and the text columns split the rest
        id_share = 6 if "id" in result["columns"] else 0
        widths = [(f"{id_share}%" if c == "id" else f"{(100 - id_share) // max(1, len(text_columns))}%")
                  for c in result["columns"]]
        lengths = (result.get("token_lengths") or {}).get("lengths") or {}
        bars = histogram(lengths)
        # hidden since the last task or dataset change, the plot is drawn afresh: the new task's columns and bins
        plot = gr.update(value=bars, sort=list(dict.fromkeys(bars["tokens"])), color_map=color_map(bars, "column"),
                         visible=len(bars) > 0)
        return {t.message: done("Prepared."), t.summary: counts(result),
                t.table: gr.update(value=rows, column_widths=widths, visible=True), t.plot: plot}

    prepared = t.run.click(prepare, [t.task, t.model, t.train_size, t.seed, shared.data_state, editor.codes,
                                     editor.editor_task, editor.editor, shared.browser_id],
                           [t.message, t.summary, t.table, t.plot], concurrency_limit=2,
                           concurrency_id="preview", **PRIVATE)

    def forget() -> dict:
        return {t.summary: EMPTY, t.message: "", t.table: gr.update(value=None, visible=False),
                t.plot: gr.update(visible=False)}

    shared.data_state.change(lambda data: {t.label: short(data), **forget()}, shared.data_state,
                             [t.label, t.summary, t.message, t.table, t.plot], queue=False, **PRIVATE)
    # a preview still under way is of the task before: it is cancelled, so its rows never show under the new one
    t.task.change(forget, None, [t.summary, t.message, t.table, t.plot], queue=False, cancels=[prepared],
                  **PRIVATE)
