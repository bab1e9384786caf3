"""Train tab: settings with TRL's names, Start / Stop / Resume, the queue and run table, and the selected run's
log and live plots (a ``gr.Timer`` polls ``events.jsonl``). Runs go through :class:`rlhf.runs.manager.RunManager`:
one trains at a time, the others wait in the queue, and a run survives a restart of the app."""

from __future__ import annotations

from typing import Any

import gradio as gr

from rlhf.tasks.spec import Plot
from rlhf.ui import tasks
from rlhf.ui.plots import color_map, run_frames
from rlhf.errors import ConfigError
from rlhf.ui.tabs import PRIVATE, Ctx, code_for, done, read_only_banner, reports
from rlhf.ui.tabs.data import short

# The key hyper-parameters, by their TRL / transformers names; defaults, types and help text come from the
# RunConfig fields (rlhf.runs.config), where an empty box means the engine's choice for the task and model.
NUMBERS = ("learning_rate", "num_train_epochs", "max_steps", "per_device_train_batch_size",
           "gradient_accumulation_steps", "max_length", "logging_steps", "save_steps", "warmup_ratio",
           "weight_decay", "seed", "beta")
SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts", "polynomial")
RL_NUMBERS = ("num_generations", "max_completion_length", "temperature", "kl_coef")
LORA_NUMBERS = ("lora_r", "lora_alpha", "lora_dropout")
DEFAULT_OPTION = "default (TRL's)"
RUN_HEADERS = ["run", "task", "model", "status", "step", "loss"]
EMPTY_RUNS = "*No runs yet — start one above.*"


def status_text(run: dict[str, Any]) -> str:
    status = run["status"]
    if status == "queued" and run.get("queue_position"):
        return f"queued (#{run['queue_position']})"
    return status


def loss_of(run: dict[str, Any]) -> str:
    metrics = run.get("metrics") or {}
    for key in ("loss", "train_loss", "loss/policy", "eval_loss"):
        if isinstance(metrics.get(key), (int, float)):
            return f"{metrics[key]:.4g}"
    return ""


def run_details(detail: dict[str, Any]) -> str:
    run = detail["run"]
    parts = [f"**{run['id']}** · {tasks.label(run['task'])} on `{run['model']}` · "
             f"**{status_text(run)}**" + (f" · step {run['step']}" if run.get("step") else "")]
    metrics = detail.get("metrics") or {}
    shown = [f"{k} {v:.4g}" for k, v in metrics.items() if isinstance(v, float) and k in (
        "loss", "eval_loss", "reward", "accuracy", "eval_accuracy", "rewards/accuracies", "rewards/margins")]
    prepared = metrics.get("prepared")
    if isinstance(prepared, dict) and prepared.get("rows"):
        splits = ", ".join(f"{k} {v:,}" for k, v in (prepared.get("splits") or {}).items())
        shown.insert(0, f"{prepared['rows']:,} rows from {prepared.get('records', 0):,} records"
                        + (f" ({splits})" if splits else ""))
    if shown:
        parts.append(" · ".join(shown))
    if run.get("error"):
        parts.append(f"<div class='rlhf-error'>⚠️ {run['error']}</div>")
    elif run["status"] == "finished":
        use = "chat with it" if tasks.chat(run["task"]) else "score texts with it"
        parts.append(f"Finished: {use} in **Chat & Score**, or publish it in **Hub**.")
    return "\n\n".join(parts)


def number_input(name: str):
    """A run setting's number: one with a default as ``gr.Number``; one whose default is the engine's choice as a
    text box whose empty value means "default" (a Number cannot be left empty)."""
    default, precision, info = tasks.setting_default(name), tasks.setting_precision(name), tasks.setting_help(name)
    if default is None:
        return gr.Textbox("", label=name, info=info, placeholder="default", min_width=170)
    return gr.Number(default, label=name, precision=precision, info=info, min_width=170)


def option_choices(task: str | None, name: str) -> list[tuple[str, str]]:
    """A fixed-choice setting's dropdown (DPO's loss_type): TRL's default (empty), then the task's values."""
    return [(DEFAULT_OPTION, "")] + [(value, value) for value in tasks.options(task, name)]


def task_updates(task: str) -> tuple[Any, ...]:
    """What follows the chosen task: the reward box (RL), its variant choices, and each option's dropdown."""
    variants = tasks.variants(task)
    algorithm = gr.update(choices=list(variants), value=variants[0]) if variants else gr.skip()
    options = [gr.update(visible=bool(tasks.options(task, name)), choices=option_choices(task, name), value="")
               for name in tasks.option_names()]
    return (gr.update(visible=tasks.rewarded(task)), algorithm, *options)


def parse_number(name: str, value: Any, precision: int | None) -> float | int | None:
    """A form value → a number, None for an empty box; a readable error for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected a number, got {value!r} (leave it empty for the default).") from None
    if precision == 0:
        if not number.is_integer():
            raise ConfigError(f"{name}: expected a whole number, got {value!r}.")
        return int(number)
    return number


def build(ctx: Ctx) -> None:
    settings = ctx.settings
    data = ctx.c["initial_data"]
    label = gr.Markdown(short(data), elem_classes="rlhf-note")
    note = settings.access_note()
    access = gr.Markdown(read_only_banner(note), visible=bool(note))
    with gr.Row(equal_height=True):
        task = gr.Dropdown(tasks.choices(), value=tasks.DEFAULT, label="Task", min_width=200)
        model = gr.Dropdown([("starter (tiny offline model)", "starter")], value="starter", label="Model",
                            allow_custom_value=True, min_width=280,
                            info="'starter', a finished run (to continue from it), or a Hub id")
        use_peft = gr.Checkbox(tasks.setting_default("use_peft"), label="LoRA (use_peft)",
                               info=tasks.setting_help("use_peft"))
    with gr.Accordion("Hyper-parameters (TRL names; empty means the default)", open=True):
        numbers = []
        for start in range(0, len(NUMBERS), 4):
            with gr.Row():
                numbers += [number_input(name) for name in NUMBERS[start:start + 4]]
        with gr.Row():
            scheduler = gr.Dropdown(list(SCHEDULERS), value=tasks.setting_default("lr_scheduler_type"),
                                    label="lr_scheduler_type", info=tasks.setting_help("lr_scheduler_type"),
                                    min_width=180)
            train_size = gr.Slider(0.5, 1.0, value=tasks.setting_default("train_size"), step=0.05,
                                   label="train_size", info=tasks.setting_help("train_size"), min_width=200)
            options = [gr.Dropdown(option_choices(tasks.DEFAULT, name), value="", label=name, min_width=200,
                                   info=tasks.setting_help(name), visible=bool(tasks.options(tasks.DEFAULT, name)))
                       for name in tasks.option_names()]
    with gr.Accordion("LoRA settings", open=False, visible=False) as lora_box:
        with gr.Row():
            lora = [gr.Number(tasks.setting_default(name), label=name, precision=tasks.setting_precision(name),
                              info=tasks.setting_help(name)) for name in LORA_NUMBERS]
    with gr.Accordion("RL: algorithm and reward", open=True, visible=False) as rl_box:
        with gr.Row(equal_height=True):
            variants = next((tasks.variants(name) for name in tasks.names() if tasks.rewarded(name)), ())
            algorithm = gr.Radio(list(variants), value=tasks.setting_default("algorithm"), label="algorithm",
                                 info=tasks.setting_help("algorithm"))
            reward_models = gr.Dropdown([], value=[], multiselect=True, allow_custom_value=True,
                                        label="reward_models", info="finished reward-model runs (or Hub ids)")
            use_reward_func = gr.Checkbox(False, label="Use the reward function from the Format tab",
                                          info="adds to the reward models' scores")
        with gr.Row():
            rl_numbers = [number_input(name) for name in RL_NUMBERS]
    with gr.Row(equal_height=True):
        start = gr.Button("Start training", variant="primary", scale=0, min_width=180, size="md",
                          interactive=settings.open_code)
        start_message = gr.Markdown()

    gr.Markdown("### Runs\nOne run trains at a time; the others wait in the queue. Runs keep going if the page "
                "is closed.")
    empty = gr.Markdown(EMPTY_RUNS)
    table = gr.Dataframe(headers=RUN_HEADERS, datatype="str", interactive=False, visible=False, max_height=260,
                         label="Runs (newest first)")
    with gr.Column(visible=False) as details:
        selected = gr.Dropdown([], value=None, label="Selected run", min_width=320)
        with gr.Row(equal_height=True):
            stop = gr.Button("Stop", variant="stop", scale=0, min_width=100, size="md")
            resume = gr.Button("Resume", scale=0, min_width=110, size="md")
            export = gr.Button("Export as TRL script", scale=0, min_width=200, size="md")
            run_message = gr.Markdown()
        info = gr.Markdown("*Select a run to follow its log and curves.*")
        with gr.Row():
            loss_plot = gr.LinePlot(None, x="step", y="value", color="series", title="Loss", height=260,
                                    x_title="step", y_title="loss")
            reward_plot = gr.LinePlot(None, x="step", y="value", color="series", title="Reward (RL)", height=260,
                                      visible=False, x_title="step", y_title="reward")
            quality_plot = gr.LinePlot(None, x="step", y="value", color="series", title="Accuracy and margins",
                                       height=260, visible=False, x_title="step", y_title="value")
        log = gr.Textbox(label="Log (last 40 lines of stdout.log)", lines=12, max_lines=12, interactive=False,
                         autoscroll=True, elem_id="run-log")
        script = gr.Code(language="python", label="Standalone TRL script for the selected run", visible=False,
                         interactive=False, buttons=["copy", "download"])
    watch = gr.State({})
    ctx.c.update(train_label=label, train_access=access, train_task=task, train_model=model, use_peft=use_peft,
                 train_numbers=numbers, scheduler=scheduler, train_size=train_size, lora_box=lora_box,
                 lora=lora, train_options=options, rl_box=rl_box, algorithm=algorithm,
                 reward_models=reward_models, use_reward_func=use_reward_func, rl_numbers=rl_numbers,
                 train_start=start, start_message=start_message, runs_empty=empty, runs_table=table,
                 selected_run=selected, stop=stop, resume=resume, export=export, run_message=run_message,
                 run_info=info, loss_plot=loss_plot, reward_plot=reward_plot, quality_plot=quality_plot,
                 run_log=log, script=script, watch=watch, run_details=details)


def _numbers(names: tuple[str, ...], values: list) -> dict[str, Any]:
    parsed = {name: parse_number(name, value, tasks.setting_precision(name)) for name, value in zip(names, values)}
    return {name: value for name, value in parsed.items() if value is not None}


def collect(task: str, use_peft: bool, numbers: list, scheduler: str, train_size: float, lora: list,
            algorithm: str, reward_models: list, rl_numbers: list, options: list | None = None) -> dict[str, Any]:
    """The form → RunConfig settings by TRL name (empty numbers and options left out: the engine fills in
    defaults). Only the settings the task reads are sent: its options (DPO's loss_type), RL's reward box."""
    settings: dict[str, Any] = _numbers(NUMBERS, numbers)
    settings.update(lr_scheduler_type=scheduler, train_size=float(train_size), use_peft=bool(use_peft))
    if use_peft:
        settings.update({name: value for name, value in zip(LORA_NUMBERS, lora) if value is not None})
    for name, value in zip(tasks.option_names(), options or []):
        if value and value in tasks.options(task, name):
            settings[name] = value
    if tasks.rewarded(task):
        if tasks.variants(task):
            settings["algorithm"] = algorithm
        settings["reward_models"] = list(reward_models or [])
        settings.update(_numbers(RL_NUMBERS, rl_numbers))
    return settings


def selected(run_id: str | None) -> str:
    if not run_id:
        raise ConfigError("Select a run first.")
    return run_id


def wire(ctx: Ctx) -> None:
    api, c = ctx.api, ctx.c
    numbers, lora, rl_numbers, options = c["train_numbers"], c["lora"], c["rl_numbers"], c["train_options"]

    c["train_task"].change(task_updates, c["train_task"], [c["rl_box"], c["algorithm"], *options], queue=False,
                           **PRIVATE)
    c["use_peft"].change(lambda on: gr.update(visible=bool(on), open=bool(on)), c["use_peft"], c["lora_box"],
                         queue=False, **PRIVATE)

    @reports(2)
    def start(form: dict, request: gr.Request, profile: gr.OAuthProfile | None = None):
        """``form`` maps each input component to its value (the inputs are given as a set)."""
        v = lambda name: form[c[name]]  # noqa: E731
        task, use_peft, use_reward_func = v("train_task"), v("use_peft"), v("use_reward_func")
        codes, editor_task, editor_value = v("codes"), v("editor_task"), v("format_editor")
        caller = ctx.caller(request, v("browser_id"), profile)
        settings = collect(task, use_peft, [form[n] for n in numbers], v("scheduler"), v("train_size"),
                           [form[n] for n in lora], v("algorithm"), v("reward_models"),
                           [form[n] for n in rl_numbers], [form[n] for n in options])
        data = v("data_state") or {}
        use_reward_func = use_reward_func and tasks.rewarded(task)
        reward_code = code_for(tasks.REWARD, codes, editor_task, editor_value) if use_reward_func else ""
        if use_reward_func and not reward_code.strip():
            raise ConfigError("The reward function editor (Format tab) is empty.")
        result = api.start_run(task, caller, v("train_model") or "starter", data.get("dataset", "sample"),
                               code_for(task, codes, editor_task, editor_value), settings, reward_code,
                               data.get("config", ""), data.get("split", "train"))
        where = (f"queued as #{result['queue_position']}" if result.get("queue_position")
                 else "starting (the first log lines appear in a few seconds)")
        return done(f"Run **{result['run_id']}** {where}."), gr.update(
            choices=[(result["run_id"], result["run_id"])], value=result["run_id"])

    start_inputs = {c[name] for name in ("train_task", "train_model", "use_peft", "scheduler", "train_size",
                                         "algorithm", "reward_models", "use_reward_func", "data_state", "codes",
                                         "editor_task", "format_editor", "browser_id")}
    start_inputs |= set(numbers) | set(lora) | set(rl_numbers) | set(options)
    c["train_start"].click(start, start_inputs, [c["start_message"], c["selected_run"]], concurrency_limit=4,
                           concurrency_id="quick", **PRIVATE)

    def act(action: str):
        @reports()
        def handler(run_id: str, browser_id: str, request: gr.Request, profile: gr.OAuthProfile | None = None):
            caller = ctx.caller(request, browser_id, profile)
            if action == "stop":
                result = api.stop_run(selected(run_id), caller)
                return done(f"Run {run_id}: {result['status']}"
                            + (" (it saves a checkpoint, then stops)." if result["status"] == "stopping" else "."))
            api.resume_run(selected(run_id), caller)
            return done(f"Run {run_id} queued again; it continues from its last checkpoint.")

        return handler

    c["stop"].click(act("stop"), [c["selected_run"], c["browser_id"]], c["run_message"], concurrency_limit=None,
                    **PRIVATE)
    c["resume"].click(act("resume"), [c["selected_run"], c["browser_id"]], c["run_message"],
                      concurrency_limit=4, concurrency_id="quick", **PRIVATE)

    @reports(2)
    def export(run_id: str, browser_id: str, request: gr.Request):
        script = api.export_script(selected(run_id), ctx.caller(request, browser_id))
        return done("The script needs only TRL, transformers, peft and datasets. Copy or download it below."), \
            gr.update(value=script, visible=True)

    c["export"].click(export, [c["selected_run"], c["browser_id"]], [c["run_message"], c["script"]],
                      concurrency_limit=4, concurrency_id="quick", **PRIVATE)
    c["selected_run"].change(lambda: (gr.update(visible=False), "", {}), None,
                             [c["script"], c["run_message"], c["watch"]], queue=False, **PRIVATE)

    def tick(selected: str | None, browser_id: str, watch: dict, request: gr.Request):
        """Refresh the run table and the selected run; unchanged parts are skipped so nothing flickers.

        A generator: when a plot's set of curves changes (another run selected, eval loss appearing), the plot
        is first cleared and then drawn again, because the plot only rebuilds its legend and colours when it is
        mounted afresh."""
        skip_all = (gr.skip(),) * 9
        caller = ctx.caller(request, browser_id)
        try:
            runs = api.run_status(caller)["runs"]
            ids = [run["id"] for run in runs]
            if selected not in ids:
                selected = ids[0] if ids else None
            detail = api.run_status(caller, selected, 40) if selected else None
        except Exception:  # a run folder removed meanwhile: the next tick sees the new state
            yield (*skip_all, watch)
            return
        listing = [(run["id"], status_text(run), run.get("step")) for run in runs]
        frames = run_frames(detail["history"], detail["run"]["task"]) if detail else {}
        curves = {name: sorted(set(frame["series"])) for name, frame in frames.items()}
        signature = {"listing": listing, "selected": selected, "curves": curves,
                     "events": len(detail["history"]) + len(detail["statuses"]) if detail else 0,
                     "log": detail["log"][-1:] if detail else None}
        if signature == watch:
            yield (*skip_all, watch)
            return
        redraw = [name for name in ("loss", "reward", "quality")
                  if curves.get(name) != (watch or {}).get("curves", {}).get(name)]
        if redraw:
            cleared = [None if name in redraw else gr.skip() for name in ("loss", "reward", "quality")]
            yield (*(gr.skip(),) * 5, *cleared, gr.skip(), watch)
        choices = [(f"{run['id']} · {status_text(run)}", run["id"]) for run in runs]
        table = [[run["id"], run["task"], run["model"], status_text(run), run.get("step") or "", loss_of(run)]
                 for run in runs]
        out: list[Any] = [
            gr.update(visible=bool(runs)), gr.update(value=table, visible=bool(runs)), gr.update(visible=not runs),
            gr.update(choices=choices, value=selected),
        ]
        if detail is None:
            out += ["*Select a run to follow its log and curves.*", None, gr.update(visible=False),
                    gr.update(visible=False), ""]
        else:
            shown = tasks.plots(detail["run"]["task"])
            out += [run_details(detail),
                    gr.update(value=frames["loss"], color_map=color_map(frames["loss"])),
                    gr.update(value=frames["reward"], color_map=color_map(frames["reward"]),
                              visible=Plot.REWARD in shown),
                    gr.update(value=frames["quality"], color_map=color_map(frames["quality"]),
                              visible=Plot.QUALITY in shown),
                    "\n".join(detail["log"]) or "(no output yet)"]
        yield (*out, signature)

    timer = c["timer"]
    outputs = [c["run_details"], c["runs_table"], c["runs_empty"], c["selected_run"], c["run_info"], c["loss_plot"],
               c["reward_plot"], c["quality_plot"], c["run_log"], c["watch"]]
    timer.tick(tick, [c["selected_run"], c["browser_id"], c["watch"]], outputs[:-1] + [c["watch"]],
               show_progress="hidden", concurrency_limit=None, **PRIVATE)
    c["data_state"].change(short, c["data_state"], c["train_label"], queue=False, **PRIVATE)
