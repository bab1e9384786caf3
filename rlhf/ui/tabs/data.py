"""Data tab: pick the feedback dataset (bundled sample, Hub id, or upload) and see what the formatting function
will receive. The sample is loaded when the app starts, so the page is useful on first paint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from rlhf.ui import tasks
from rlhf.errors import ConfigError
from rlhf.ui.tabs import PRIVATE, Ctx, done, reports

SOURCES = ("Bundled sample", "Hugging Face Hub", "Upload a file")


def describe(info: dict[str, Any] | None) -> str:
    """The dataset summary shown under the Load button (and, shortened, atop the other tabs)."""
    if not info:
        return "No dataset loaded yet."
    name = "the bundled sample" if info["kind"] == "sample" else f"`{info['name']}`"
    lines = [f"**Current dataset:** {name} · **layout:** `{info['layout']}` · **records:** {info['records']:,}"]
    if info["fields"] or info["questions"]:
        lines.append(f"**Fields:** {', '.join(f'`{f}`' for f in info['fields']) or '–'}  \n"
                     f"**Questions:** {', '.join(f'`{q}`' for q in info['questions']) or '–'}")
    else:
        lines.append(f"**Columns:** {', '.join(f'`{c}`' for c in info['columns'])}")
    notes = []
    if info["plain_tasks"]:
        notes.append("plain columns, no function needed: " + ", ".join(tasks.label(t) for t in info["plain_tasks"]))
    if info["templates_fit"]:
        notes.append("dolly-style Argilla fields: every task starts from its template in the Format tab")
    elif info.get("template_tasks"):
        notes.append("a template written for this kind of data (Format tab): "
                     + ", ".join(tasks.label(t) for t in info["template_tasks"]))
    if info["needs_function"] and not info["templates_fit"]:
        notes.append("needs a formatting function (Format tab): " + ", ".join(tasks.label(t)
                                                                               for t in info["needs_function"]))
    if info["layout"] == "argilla-v2":
        notes.append("Argilla 2.x rows are converted to the 1.x record shape shown below, so 1.x functions run "
                     "unchanged")
    lines += [f"- {n}" for n in notes]
    return "\n\n".join(lines[:2]) + ("\n\n" + "\n".join(lines[2:]) if lines[2:] else "")


def hub_note(api) -> str:
    return api.hub.note("only datasets this app has already downloaded can be loaded from the Hub. To use another "
                        "one, download it on a computer that can reach the Hub (the dataset page's Files tab), then "
                        "choose “Upload a file” above.")  # HTML: no Markdown


def short(info: dict[str, Any] | None) -> str:
    if not info:
        return "*No dataset loaded: choose one in the Data tab.*"
    name = "the bundled sample" if info["kind"] == "sample" else f"`{info['name']}`"
    return f"Dataset: {name} (`{info['layout']}`, {info['records']:,} records) · change it in the Data tab."


@dataclass
class DataTab:
    source: gr.Radio
    hub_box: gr.Group
    hub_status: gr.Markdown
    hub_id: gr.Textbox
    hub_config: gr.Textbox
    hub_split: gr.Textbox
    upload_box: gr.Group
    upload: gr.File
    load: gr.Button
    message: gr.Markdown
    summary: gr.Markdown
    examples: gr.JSON


def build(ctx: Ctx) -> DataTab:
    api = ctx.api
    initial = ctx.initial_data
    gr.Markdown("Choose the feedback dataset to train on: the bundled sample (loaded), a dataset on the Hugging "
                "Face Hub, or a file exported from Argilla or elsewhere (`.jsonl`, `.json`, `.csv`, `.parquet`).")
    source = gr.Radio(list(SOURCES), value=SOURCES[0], label="Source", elem_id="data-source")
    with gr.Group(visible=False) as hub_box:
        hub_status = gr.Markdown(lambda: hub_note(api), elem_classes="rlhf-note")
        with gr.Row():
            hub_id = gr.Textbox(label="Dataset id", placeholder="argilla/databricks-dolly-15k-curated-en", scale=3)
            hub_config = gr.Textbox(label="Config (subset)", placeholder="default", scale=1)
            hub_split = gr.Textbox(value="train", label="Split", scale=1)
    with gr.Group(visible=False) as upload_box:
        upload = gr.File(label="Feedback file (.jsonl, .json, .csv, .parquet)",
                         file_types=[".jsonl", ".json", ".csv", ".parquet"], height=120)
    with gr.Row(equal_height=True):
        load = gr.Button("Load dataset", variant="primary", scale=0, min_width=160, size="md")
        message = gr.Markdown(done("Loaded the bundled sample."))
    summary = gr.Markdown(describe(initial))
    examples = gr.JSON(initial["examples"], label="The first records, exactly as your formatting function "
                                                  "receives them", open=True, max_height=520)
    ctx.data = DataTab(source=source, hub_box=hub_box, hub_status=hub_status, hub_id=hub_id, hub_config=hub_config,
                       hub_split=hub_split, upload_box=upload_box, upload=upload, load=load, message=message,
                       summary=summary, examples=examples)
    return ctx.data


def wire(ctx: Ctx) -> None:
    api, t, state = ctx.api, ctx.data, ctx.shared.data_state

    def choose(kind: str):
        return {t.hub_box: gr.update(visible=kind == SOURCES[1]), t.upload_box: gr.update(visible=kind == SOURCES[2]),
                t.hub_status: hub_note(api), t.message: ""}

    t.source.change(choose, t.source, [t.hub_box, t.upload_box, t.hub_status, t.message], queue=False, **PRIVATE)

    @reports(t.message)
    def load(kind: str, hub_id: str, config: str, split: str, upload, progress=gr.Progress()):
        if kind == SOURCES[1]:
            if not (hub_id or "").strip():
                raise ConfigError("Type a Hub dataset id, like owner/name.")
            progress(0.1, desc="Downloading from the Hub (or reading the local cache)")
            info = api.load_data(hub_id.strip(), config, split or "train")
        elif kind == SOURCES[2]:
            if not upload:
                raise ConfigError("Choose a file to upload first.")
            info = api.load_data(api.store_upload(upload), "", "train")
        else:
            info = api.load_data("sample")
        info = dict(info, config=config if kind == SOURCES[1] else "",
                    split=(split or "train") if kind == SOURCES[1] else "train")
        return {t.message: done(f"Loaded: {info['records']:,} records."), t.summary: describe(info),
                t.examples: info["examples"], state: info}

    inputs = [t.source, t.hub_id, t.hub_config, t.hub_split, t.upload]
    outputs = [t.message, t.summary, t.examples, state]
    for trigger in (t.load.click, t.upload.upload, t.hub_id.submit):
        trigger(load, inputs, outputs, concurrency_limit=4, concurrency_id="quick", **PRIVATE)
