"""Train tab: settings with TRL's names, Start / Stop / Resume, the queue and run table, and the selected run's
log and live plots (a ``gr.Timer`` polls ``events.jsonl``). Runs go through :class:`rlhf.runs.manager.RunManager`:
one trains at a time, the others wait in the queue, and a run survives a restart of the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from rlhf.errors import ConfigError
from rlhf.runs.status import RunStatus
from rlhf.tasks.spec import Plot
from rlhf.ui import tasks
from rlhf.ui.api import error_message
from rlhf.ui.plots import color_map, run_frames
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
    if status == RunStatus.QUEUED and run.get("queue_position"):
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
    if isinstance(metrics.get("eval_accuracy"), float):  # a reward model's evaluation: pairs it never trained on
        held_out = ((prepared or {}).get("splits") or {}).get("test") if isinstance(prepared, dict) else None
        parts.append(f"Held-out pair accuracy: chosen ranked above rejected in **{metrics['eval_accuracy']:.0%}**"
                     + (f" of {held_out:,} pairs" if held_out else " of the pairs") + " it never trained on.")
    if run.get("error"):
        parts.append(f"<div class='rlhf-error'>⚠️ {run['error']}</div>")
    elif run["status"] == RunStatus.FINISHED:
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


@dataclass
class TrainTab:
    label: gr.Markdown
    access: gr.Markdown
    task: gr.Dropdown
    model: gr.Dropdown
    use_peft: gr.Checkbox
    numbers: list  # one input per NUMBERS name
    scheduler: gr.Dropdown
    train_size: gr.Slider
    options: list  # one dropdown per tasks.option_names()
    lora_box: gr.Accordion
    lora: list  # one number per LORA_NUMBERS name
    rl_box: gr.Accordion
    algorithm: gr.Radio
    reward_models: gr.Dropdown
    use_reward_func: gr.Checkbox
    rl_numbers: list  # one input per RL_NUMBERS name
    plan: gr.Markdown  # the resolved plan of the form's settings
    start: gr.Button
    start_message: gr.Markdown
    empty: gr.Markdown
    table: gr.Dataframe
    details: gr.Column
    selected: gr.Dropdown
    stop: gr.Button
    resume: gr.Button
    export: gr.Button
    run_message: gr.Markdown
    info: gr.Markdown
    loss_plot: gr.LinePlot
    reward_plot: gr.LinePlot
    quality_plot: gr.LinePlot
    log: gr.Textbox
    script: gr.Code
    watch: gr.State  # what the last tick showed, so an unchanged tick sends nothing

    @property
    def form(self) -> list:
        """Every input of the settings form."""
        return [self.task, self.model, self.use_peft, *self.numbers, self.scheduler, self.train_size, *self.options,
                *self.lora, self.algorithm, self.reward_models, self.use_reward_func, *self.rl_numbers]

    def settings(self, form: dict) -> dict[str, Any]:
        """The form's values (``form`` maps each input to its value) → RunConfig settings, see :func:`collect`."""
        return collect(form[self.task], form[self.use_peft], [form[n] for n in self.numbers], form[self.scheduler],
                       form[self.train_size], [form[n] for n in self.lora], form[self.algorithm],
                       form[self.reward_models], [form[n] for n in self.rl_numbers],
                       [form[n] for n in self.options])


def task_updates(t: TrainTab, task: str) -> dict[Any, Any]:
    """What follows the chosen task: the reward box (RL), its variant choices, and each option's dropdown."""
    variants = tasks.variants(task)
    out: dict[Any, Any] = {t.rl_box: gr.update(visible=tasks.rewarded(task))}
    if variants:
        out[t.algorithm] = gr.update(choices=list(variants), value=variants[0])
    for name, dropdown in zip(tasks.option_names(), t.options):
        out[dropdown] = gr.update(visible=bool(tasks.options(task, name)), choices=option_choices(task, name),
                                  value="")
    return out


PLAN_SHOWN = ("learning_rate", "per_device_train_batch_size", "gradient_accumulation_steps", "max_steps",
              "num_train_epochs", "max_length", "max_completion_length", "num_generations", "beta", "loss_type",
              "lr_scheduler_type", "warmup_ratio", "bf16", "logging_steps", "save_steps", "eval_strategy")


def plan_text(answer: dict[str, Any], settings: dict[str, Any] | None = None) -> str:
    """:meth:`rlhf.ui.api.Api.resolve_plan`'s answer for the form: the key trainer arguments, marking the ones
    the form left to the task's default, and the whole plan as JSON in a fold; or the setting at fault."""
    import json

    if not answer.get("ok"):
        return f"<span class='rlhf-error'>⚠️ Not startable as set: {answer.get('error')}</span>"
    plan, given = answer["plan"], settings or {}
    args = plan.get("args") or {}
    shown = []
    for name in PLAN_SHOWN:
        if name in args and args[name] is not None:
            value = args[name]
            text = f"{value:.4g}" if isinstance(value, float) else str(value)
            shown.append(f"`{name}` {text}" + ("" if name in given else " *(default)*"))
    lora = plan.get("lora")
    where = f"{plan.get('config_class', '').rsplit('.', 1)[-1]} on {plan.get('device')}, {plan.get('dtype')}"
    return (f"**Resolved for this run** ({where}{', LoRA r=' + str(lora.get('r')) if lora else ''}): "
            + " · ".join(shown)
            + "\n\n<details><summary>Whole plan (JSON)</summary>\n\n```json\n"
            + json.dumps(plan, indent=1, default=str) + "\n```\n</details>")


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


def build(ctx: Ctx) -> TrainTab:
    settings = ctx.settings
    data = ctx.initial_data
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
    plan = gr.Markdown("*Change a setting to see the exact trainer arguments this run would get.*",
                       elem_id="train-plan", elem_classes="rlhf-note")
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
    ctx.train = TrainTab(label=label, access=access, task=task, model=model, use_peft=use_peft, numbers=numbers,
                         scheduler=scheduler, train_size=train_size, options=options, lora_box=lora_box, lora=lora,
                         rl_box=rl_box, algorithm=algorithm, reward_models=reward_models,
                         use_reward_func=use_reward_func, rl_numbers=rl_numbers, plan=plan, start=start,
                         start_message=start_message, empty=empty, table=table, details=details,
                         selected=selected, stop=stop, resume=resume, export=export, run_message=run_message,
                         info=info, loss_plot=loss_plot, reward_plot=reward_plot, quality_plot=quality_plot,
                         log=log, script=script, watch=watch)
    return ctx.train


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
    api, t, shared, editor = ctx.api, ctx.train, ctx.shared, ctx.format
    browser_id = shared.browser_id

    t.task.change(lambda task: task_updates(t, task), t.task, [t.rl_box, t.algorithm, *t.options], queue=False,
                  **PRIVATE)
    t.use_peft.change(lambda on: gr.update(visible=bool(on), open=bool(on)), t.use_peft, t.lora_box, queue=False,
                      **PRIVATE)

    def plan(form: dict, request: gr.Request, profile: gr.OAuthProfile | None = None):
        """The plan of the form as it stands (off the event loop: resolving imports TRL the first time); a
        form that cannot start shows why instead, and no failure here touches the rest of the form."""
        try:
            task = form[t.task]
            settings = t.settings(form)
            data = form[shared.data_state] or {}
            answer = api.resolve_plan(task, ctx.caller(request, form[browser_id], profile),
                                      form[t.model] or "starter", data.get("dataset", "sample"), settings,
                                      bool(form[t.use_reward_func]) and tasks.rewarded(task),
                                      data.get("config", ""), data.get("split", "train"))
            return plan_text(answer, settings)
        except Exception as error:  # a form value that is not a number yet: say so, as Start would
            return plan_text({"ok": False, "error": error_message(error)})

    plan_inputs = {*t.form, shared.data_state, browser_id}
    for component in t.form:
        component.change(plan, plan_inputs, t.plan, show_progress="hidden", concurrency_limit=2,
                         concurrency_id="plan", trigger_mode="always_last", **PRIVATE)
    shared.data_state.change(plan, plan_inputs, t.plan, show_progress="hidden", concurrency_limit=2,
                             concurrency_id="plan", trigger_mode="always_last", **PRIVATE)

    @reports(t.start_message)
    def start(form: dict, request: gr.Request, profile: gr.OAuthProfile | None = None):
        """``form`` maps each input component to its value (the inputs are given as a set)."""
        task, use_reward_func = form[t.task], form[t.use_reward_func]
        codes, editor_task, editor_value = form[editor.codes], form[editor.editor_task], form[editor.editor]
        caller = ctx.caller(request, form[browser_id], profile)
        settings = t.settings(form)
        data = form[shared.data_state] or {}
        use_reward_func = use_reward_func and tasks.rewarded(task)
        reward_code = code_for(tasks.REWARD, codes, editor_task, editor_value) if use_reward_func else ""
        if use_reward_func and not reward_code.strip():
            raise ConfigError("The reward function editor (Format tab) is empty.")
        result = api.start_run(task, caller, form[t.model] or "starter", data.get("dataset", "sample"),
                               code_for(task, codes, editor_task, editor_value), settings, reward_code,
                               data.get("config", ""), data.get("split", "train"))
        where = (f"queued as #{result['queue_position']}" if result.get("queue_position")
                 else "starting (the first log lines appear in a few seconds)")
        return {t.start_message: done(f"Run **{result['run_id']}** {where}."),
                t.selected: gr.update(choices=[(result["run_id"], result["run_id"])], value=result["run_id"])}

    start_inputs = {*t.form, shared.data_state, editor.codes, editor.editor_task, editor.editor, browser_id}
    t.start.click(start, start_inputs, [t.start_message, t.selected], concurrency_limit=4, concurrency_id="quick",
                  **PRIVATE)

    def act(action: str):
        @reports()
        def handler(run_id: str, browser_id: str, request: gr.Request, profile: gr.OAuthProfile | None = None):
            caller = ctx.caller(request, browser_id, profile)
            if action == "stop":
                result = api.stop_run(selected(run_id), caller)
                return done(f"Run {run_id}: {result['status']}"
                            + (" (it saves a checkpoint, then stops)." if result["status"] == RunStatus.STOPPING else "."))
            api.resume_run(selected(run_id), caller)
            return done(f"Run {run_id} queued again; it continues from its last checkpoint.")

        return handler

    t.stop.click(act("stop"), [t.selected, browser_id], t.run_message, concurrency_limit=None, **PRIVATE)
    t.resume.click(act("resume"), [t.selected, browser_id], t.run_message, concurrency_limit=4,
                   concurrency_id="quick", **PRIVATE)

    @reports(t.run_message)
    def export(run_id: str, browser_id: str, request: gr.Request):
        script = api.export_script(selected(run_id), ctx.caller(request, browser_id))
        return {t.run_message: done("The script needs only TRL, transformers, peft and datasets. Copy or download "
                                    "it below."),
                t.script: gr.update(value=script, visible=True)}

    t.export.click(export, [t.selected, browser_id], [t.run_message, t.script], concurrency_limit=4,
                   concurrency_id="quick", **PRIVATE)
    t.selected.change(lambda: {t.script: gr.update(visible=False), t.run_message: "", t.watch: {}}, None,
                      [t.script, t.run_message, t.watch], queue=False, **PRIVATE)

    plots = {"loss": t.loss_plot, "reward": t.reward_plot, "quality": t.quality_plot}

    def tick(selected: str | None, browser_id: str, watch: dict, request: gr.Request):
        """Refresh the run table and the selected run; unchanged parts are not sent, so nothing flickers.

        A generator: when a plot's set of curves changes (another run selected, eval loss appearing), the plot
        is first cleared and then drawn again, because the plot only rebuilds its legend and colours when it is
        mounted afresh."""
        caller = ctx.caller(request, browser_id)
        try:
            runs = api.run_status(caller)["runs"]
            ids = [run["id"] for run in runs]
            if selected not in ids:
                selected = ids[0] if ids else None
            detail = api.run_status(caller, selected, 40) if selected else None
        except Exception:  # a run folder removed meanwhile: the next tick sees the new state
            yield gr.skip()  # nothing to update
            return
        listing = [(run["id"], status_text(run), run.get("step")) for run in runs]
        frames = run_frames(detail["history"], detail["run"]["task"]) if detail else {}
        curves = {name: sorted(set(frame["series"])) for name, frame in frames.items()}
        signature = {"listing": listing, "selected": selected, "curves": curves,
                     "events": len(detail["history"]) + len(detail["statuses"]) if detail else 0,
                     "log": detail["log"][-1:] if detail else None}
        if signature == watch:
            yield gr.skip()  # nothing to update
            return
        redraw = [name for name in plots if curves.get(name) != (watch or {}).get("curves", {}).get(name)]
        if redraw:
            yield {plots[name]: None for name in redraw}
        choices = [(f"{run['id']} · {status_text(run)}", run["id"]) for run in runs]
        table = [[run["id"], run["task"], run["model"], status_text(run), run.get("step") or "", loss_of(run)]
                 for run in runs]
        out: dict[Any, Any] = {
            t.details: gr.update(visible=bool(runs)), t.table: gr.update(value=table, visible=bool(runs)),
            t.empty: gr.update(visible=not runs), t.selected: gr.update(choices=choices, value=selected),
        }
        if detail is None:
            out.update({t.info: "*Select a run to follow its log and curves.*", t.loss_plot: None,
                        t.reward_plot: gr.update(visible=False), t.quality_plot: gr.update(visible=False),
                        t.log: ""})
        else:
            shown = tasks.plots(detail["run"]["task"])
            out.update({
                t.info: run_details(detail),
                t.loss_plot: gr.update(value=frames["loss"], color_map=color_map(frames["loss"])),
                t.reward_plot: gr.update(value=frames["reward"], color_map=color_map(frames["reward"]),
                                         visible=Plot.REWARD in shown),
                t.quality_plot: gr.update(value=frames["quality"], color_map=color_map(frames["quality"]),
                                          visible=Plot.QUALITY in shown),
                t.log: "\n".join(detail["log"]) or "(no output yet)"})
        yield {**out, t.watch: signature}

    outputs = [t.details, t.table, t.empty, t.selected, t.info, t.loss_plot, t.reward_plot, t.quality_plot, t.log,
               t.watch]
    shared.timer.tick(tick, [t.selected, browser_id, t.watch], outputs, show_progress="hidden",
                      concurrency_limit=None, **PRIVATE)
    shared.data_state.change(short, shared.data_state, t.label, queue=False, **PRIVATE)
