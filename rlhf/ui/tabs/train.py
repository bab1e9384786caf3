"""Train tab: settings with TRL's names, Start / Stop / Resume, the queue and run table, and the selected run's
log and live plots (a ``gr.Timer`` polls ``events.jsonl``). Runs go through :class:`rlhf.runs.manager.RunManager`:
one trains at a time, the others wait in the queue, and a run survives a restart of the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from rlhf.errors import ConfigError
from rlhf.export_script import export_dir
from rlhf.runs.status import RunStatus
from rlhf.services.memory import memory_text
from rlhf.tasks.spec import Plot
from rlhf.ui import tasks
from rlhf.ui.api import error_message
from rlhf.ui.plots import PLOT_TITLES, color_map, drawable, frame, lone_caption, not_recorded_caption, run_rows
from rlhf.ui.tabs import PRIVATE, Ctx, code_for, done, read_only_banner, reports
from rlhf.ui.tabs.data import short

# The key hyper-parameters, by their TRL / transformers names; defaults, types and help text come from the
# RunConfig fields (rlhf.runs.config), where an empty box means the engine's choice for the task and model.
NUMBERS = ("learning_rate", "num_train_epochs", "max_steps", "per_device_train_batch_size",
           "gradient_accumulation_steps", "max_length", "logging_steps", "save_steps", "warmup_ratio",
           "weight_decay", "seed", "beta", "eval_steps")
SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts", "polynomial")
RL_NUMBERS = ("num_generations", "max_completion_length", "temperature", "kl_coef", "min_new_tokens", "max_new_tokens")
LORA_NUMBERS = ("lora_r", "lora_alpha", "lora_dropout")
DEFAULT_OPTION = "default (TRL's)"
RUN_HEADERS = ["run", "task", "model", "status", "step", "loss / reward"]
EMPTY_RUNS = "*No runs yet — start one above.*"
LOG_LINES = 12  # the readable log shows this many lines, all of them, so its newest line is always in sight
RAW_LOG_LINES = 40
# Settings whose resolved default depends on the model's lineage besides the task's own starter_args
LINEAGE_SETTINGS = ("learning_rate",)
# A form setting → the trainer argument that holds its resolved value, in order of preference
ARG_NAMES = {"kl_coef": ("kl_coef", "beta"), "per_device_train_batch_size": ("per_device_train_batch_size",
                                                                              "batch_size")}
# Metrics in a readable log line, by the short name shown
LOG_METRICS = (("loss", "loss"), ("eval_loss", "eval_loss"), ("train_loss", "mean loss"), ("reward", "reward"),
               ("objective/kl", "kl"), ("accuracy", "accuracy"), ("eval_accuracy", "eval_accuracy"),
               ("rewards/accuracies", "accuracy"), ("margin", "margin"), ("rewards/margins", "margin"),
               ("eval_rewards/margins", "eval_margin"), ("learning_rate", "lr"),
               ("rollout/tokens_per_second", "rollout tok/s"))


def status_text(run: dict[str, Any]) -> str:
    status = run["status"]
    if status == RunStatus.QUEUED and run.get("queue_position"):
        return f"queued (#{run['queue_position']})"
    if status == RunStatus.STARTED:
        return "running"
    return status


def started_text(result: dict[str, Any]) -> str:
    """What Start or Resume did, in the words the run table uses."""
    if result.get("queue_position"):
        return f"is queued (#{result['queue_position']}): it starts when the run before it ends"
    if result.get("status") == RunStatus.QUEUED or result.get("status") == RunStatus.STARTING:
        return "is starting: its first log lines appear below in a few seconds"
    return f"is {status_text({'status': result.get('status')})}"


def stopped_text(status: str, step: int | None) -> str:
    """What Stop did: a queued run leaves the queue; a training one saves a checkpoint first (if it has trained
    a step, else there is nothing to save)."""
    if status == RunStatus.STOPPING:
        if not step:
            return "stopping before its first step (nothing to save)."
        return f"stopping: it saves a checkpoint at step {step}, then stops (Resume continues from there)."
    if status == RunStatus.STOPPED:
        return "stopped."
    return f"{status_text({'status': status})}; nothing to stop."


def live_text(run: dict[str, Any]) -> str:
    """The start message once the run is under way: where it is now (it replaces "starting" and "queued")."""
    status = run["status"]
    if status == RunStatus.FINISHED:
        return f"Run **{run['id']}** finished" + (f" at step {run['step']}" if run.get("step") else "") + \
            ": see it below, chat with it in **Chat & Score**."
    if status in (RunStatus.FAILED, RunStatus.INTERRUPTED, RunStatus.STOPPED):
        return f"Run **{run['id']}** {status}: see its log below."
    return f"Run **{run['id']}** is {status_text(run)}" + (f", step {run['step']}" if run.get("step") else "") + "."


def reward_sources(run: dict[str, Any]) -> str:
    """An RL run's reward: its reward models and function, summed."""
    sources = [*(run.get("reward_models") or []),
               *([f"{run['reward_function']}()"] if run.get("reward_function") else [])]
    return " + ".join(sources) or "none"


def task_text(run: dict[str, Any]) -> str:
    """The task as the run table shows it; an RL run with its algorithm and reward sources."""
    if not run.get("algorithm"):
        return run["task"]
    return f"{run['task']} · {run['algorithm']} · reward: {reward_sources(run)}"


def loss_of(run: dict[str, Any]) -> str:
    """The run's latest loss, or for RL (which logs rewards) its latest reward."""
    metrics = run.get("metrics") or {}
    for key in ("loss", "train_loss", "loss/policy", "eval_loss"):
        if isinstance(metrics.get(key), (int, float)):
            return f"{metrics[key]:.4g}"
    for key in ("reward", "objective/rlhf_reward"):
        if isinstance(metrics.get(key), (int, float)):
            return f"reward {metrics[key]:.4g}"
    return ""


def number_text(value: Any) -> str:
    """3 significant digits; small values as 4.1e-4."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if value and abs(value) < 0.01:
        mantissa, exponent = f"{value:.1e}".split("e")
        return f"{mantissa.removesuffix('.0')}e{int(exponent)}"
    return f"{value:.3g}"


def duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def progress_text(progress: dict[str, Any] | None, status: str) -> str:
    """``step 12/60`` with a bar and, while the run trains, the time left at its pace so far."""
    progress = progress or {}
    step, total = progress.get("step") or 0, progress.get("total")
    if not total:
        return f"step {step}" if step else ""
    text = f"<progress value='{min(step, total)}' max='{total}'></progress> step {step}/{total}"
    if status == RunStatus.STARTED and progress.get("eta_s") is not None:
        text += f" · about {duration(progress['eta_s'])} left"
    return text


def shortened(text: Any, limit: int = 60) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def sample_text(sample: dict[str, Any]) -> str:
    """An RL sample generation (see rlhf.tasks.rl_samples), in one line: the reward, what the model wrote, and
    to which instruction."""
    prompt = str(sample.get("prompt") or "")
    asked = prompt.split("### Instruction:", 1)[-1].split("###", 1)[0]
    reward = sample.get("reward")
    head = f"sample, reward {number_text(reward)}" if isinstance(reward, (int, float)) else "sample"
    return f"{head}: “{shortened(sample.get('completion'))}” ← {shortened(asked, 50)}"


def step_line(event: dict[str, Any], total: int | None = None) -> str:
    """One logged step, readable: ``step 12/60  loss 1.83  lr 4.1e-4``; an RL sample generation with its
    reward."""
    step = event.get("step")
    step = int(step) if isinstance(step, (int, float)) and float(step).is_integer() else step
    parts = [f"step {step}/{total}" if total else f"step {step}"]
    for key, name in LOG_METRICS:
        value = event.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parts.append(f"{name} {number_text(value)}")
    samples = event.get("sample") or event.get("samples")
    for sample in ([samples] if isinstance(samples, dict) else samples if isinstance(samples, list) else []):
        if isinstance(sample, dict):
            parts.append(sample_text(sample))
    return "  ".join(parts)


def event_line(event: dict[str, Any], total: int | None = None) -> str | None:
    """Any line of events.jsonl as the readable log shows it (None: not shown)."""
    if "status" in event:
        status = event["status"]
        if status == RunStatus.STARTED:
            return "training started" + (" (resumed from its checkpoint)" if event.get("resumed") else "")
        if status == RunStatus.QUEUED:
            return "queued" + (" again, to continue from its checkpoint" if event.get("resume_from") else "")
        detail = event.get("error") or event.get("reason")
        return str(status) + (f": {detail}" if detail else "")
    if "step" in event:
        return step_line(event, total)
    prepared = event.get("prepared")
    if isinstance(prepared, dict):
        splits = ", ".join(f"{k} {v:,}" for k, v in (prepared.get("splits") or {}).items())
        return (f"prepared {prepared.get('rows', 0):,} rows from {prepared.get('records', 0):,} records"
                + (f" ({splits})" if splits else ""))
    for key in ("warning", "message", "note"):
        if isinstance(event.get(key), str):
            return ("⚠ " if key == "warning" else "") + event[key]
    return None


def run_choices(runs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The "Selected run" dropdown's choices: each run with its status, by id."""
    return [(f"{run['id']} · {status_text(run)}", run["id"]) for run in runs]


def log_text(detail: dict[str, Any], count: int = LOG_LINES) -> str:
    """The run's story from its events, one readable line each, newest last; the raw log is one click away."""
    events = detail.get("events", [])  # the file's order: two events of one millisecond keep theirs
    total = (detail.get("progress") or {}).get("total")
    lines = [line for line in (event_line(e, total) for e in events) if line]
    return "\n".join(lines[-count:]) or "(nothing logged yet)"


def run_details(detail: dict[str, Any]) -> str:
    run = detail["run"]
    what = tasks.label(run["task"])
    if run.get("algorithm"):
        what = f"RL with {str(run['algorithm']).upper()}, reward: {reward_sources(run)},"
    where = progress_text(detail.get("progress"), run["status"]) or (f"step {run['step']}" if run.get("step") else "")
    parts = [f"**{run['id']}** · {what} on `{run['model']}`{placement_text(run.get('placement'))} · "
             f"**{status_text(run)}**" + (f" · {where}" if where else "")]
    metrics = detail.get("metrics") or {}
    shown = [f"{k} {v:.4g}" for k, v in metrics.items() if isinstance(v, float) and k in (
        "loss", "eval_loss", "reward", "objective/kl", "accuracy", "eval_accuracy", "rewards/accuracies",
        "rewards/margins")]
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
    if isinstance(metrics.get("eval_rewards/margins"), float):  # a preference run's implicit reward, held out
        accuracy = metrics.get("eval_rewards/accuracies")
        parts.append(f"Held-out preference margin: **{metrics['eval_rewards/margins']:.3g}** (implicit reward of "
                     "chosen minus rejected, on pairs it never trained on)"
                     + (f"; chosen ahead in **{accuracy:.0%}**." if isinstance(accuracy, float) else "."))
    if run.get("error"):
        parts.append(f"<div class='rlhf-error'>⚠️ {run['error']}</div>")
    elif run["status"] == RunStatus.FINISHED:
        use = "chat with it" if tasks.chat(run["task"]) else "score texts with it"
        parts.append(f"Finished: {use} in **Chat & Score**, or publish it in **Hub**.")
    return "\n\n".join(parts)


def placement_text(placement: dict[str, Any] | None) -> str:
    """`` · on the Ray cluster: 2 workers on 2 nodes`` or `` · 2 processes``; nothing for one local process."""
    if not placement:
        return ""
    workers = placement["world_size"]
    if placement["backend"] == "ray":
        nodes = placement.get("nodes") or 1
        return (f" · on the Ray cluster: {workers} worker{'s' * (workers != 1)} on {nodes} "
                f"node{'s' * (nodes != 1)}")
    return f" · {workers} processes"


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
    run_on: gr.Radio  # this machine or the Ray cluster (shown only with RLHF_RAY_ADDRESS set)
    num_workers: gr.Number  # Ray workers
    cluster: gr.Markdown  # the cluster's nodes and free CPUs/GPUs
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
    drawn: gr.State  # the plots shown so far on this page (they stay)
    plot_note: gr.Markdown
    log: gr.Textbox  # readable lines from events.jsonl
    raw_log: gr.Textbox  # the end of stdout.log, in a closed fold
    script: gr.Code
    watch: gr.State  # what the last tick showed, so an unchanged tick sends nothing
    shown: gr.State  # whether the Train tab is the selected one (plots are drawn only then)
    saved_form: gr.BrowserState  # the form's values, so a reload keeps them
    last_run: gr.BrowserState  # the run this browser started last, so its status line survives a reload
    show_plan: tuple = ()  # (handler, inputs, outputs) of the resolved plan, for the page's load (set by wire)
    gradient_checkpointing: Any = None  # gr.Checkbox: recompute activations (TRL's default: on)
    memory: Any = None  # gr.Markdown: the memory plan of the form's settings (rlhf.runs.memory)
    force: Any = None  # gr.Checkbox: start even where the estimate says the run will not fit
    gpus: tuple = ()  # (num_processes, distributed) inputs: shown only where several GPUs are visible

    @property
    def form(self) -> list:
        """Every input of the settings form."""
        return [self.task, self.model, self.use_peft, *self.numbers, self.scheduler, self.train_size, *self.options,
                *self.lora, self.algorithm, self.reward_models, self.use_reward_func, *self.rl_numbers,
                self.run_on, self.num_workers, *self.gpus]

    @property
    def form_names(self) -> list[str]:
        """The name of each input of :attr:`form`, in its order (the keys of the saved form)."""
        return ["task", "model", "use_peft", *NUMBERS, "lr_scheduler_type", "train_size", *tasks.option_names(),
                *LORA_NUMBERS, "algorithm", "reward_models", "use_reward_func", *RL_NUMBERS, "backend", "num_workers",
                *(["num_processes", "distributed"] if self.gpus else [])]

    def settings(self, form: dict) -> dict[str, Any]:
        """The form's values (``form`` maps each input to its value) → RunConfig settings, see :func:`collect`."""
        settings = collect(form[self.task], form[self.use_peft], [form[n] for n in self.numbers],
                           form[self.scheduler], form[self.train_size], [form[n] for n in self.lora],
                           form[self.algorithm], form[self.reward_models], [form[n] for n in self.rl_numbers],
                           [form[n] for n in self.options])
        if form[self.run_on] == "ray":
            settings.update(backend="ray", num_workers=int(form[self.num_workers] or 1))
        if self.gpus:  # several GPUs: how many processes, and how they share the model
            processes, distributed = (form[component] for component in self.gpus)
            if processes:
                settings["num_processes"] = int(processes)
            settings["distributed"] = distributed or "ddp"
        return settings


def task_updates(t: TrainTab, task: str, kept: dict[str, Any] | None = None,
                 current: dict[str, Any] | None = None) -> dict[Any, Any]:
    """What follows the chosen task: the reward box (RL), its variant choices, and each option's dropdown.
    ``kept`` holds values to set where the task allows them (a restored form); ``current`` the form's values,
    left alone where the task allows them (a restored form's task change must not reset what it restored)."""
    kept, current = kept or {}, current or {}
    variants = tasks.variants(task)
    out: dict[Any, Any] = {t.rl_box: gr.update(visible=tasks.rewarded(task))}

    def value(name: str, allowed, fallback) -> dict[str, Any]:
        if kept.get(name) in allowed:
            return {"value": kept[name]}
        return {} if current.get(name) in allowed else {"value": fallback}

    if variants:
        out[t.algorithm] = gr.update(choices=list(variants), **value("algorithm", variants, variants[0]))
    for name, dropdown in zip(tasks.option_names(), t.options):
        allowed = tasks.options(task, name)
        out[dropdown] = gr.update(visible=bool(allowed), choices=option_choices(task, name),
                                  **value(name, allowed, ""))
    return out


def restored_form(t: TrainTab, saved: dict[str, Any] | None) -> dict[Any, Any]:
    """A saved form (:attr:`TrainTab.saved_form`) back into the inputs; names or values this version does not
    know are skipped, so an old browser's state never breaks the page."""
    saved = saved if isinstance(saved, dict) else {}
    task = saved.get("task")
    if task not in tasks.names():
        return {}
    out: dict[Any, Any] = {}
    for name, component in zip(t.form_names, t.form):
        if name in saved and name not in ("algorithm", *tasks.option_names()):
            out[component] = saved[name]
    out.update(task_updates(t, task, saved))
    if saved.get("use_peft"):
        out[t.lora_box] = gr.update(visible=True)
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


def default_hints(answer: dict[str, Any], task: str) -> dict[str, str]:
    """Each empty-means-default box's resolved value, for its placeholder: "default: 0.001, tuned for the
    starter" (the model is the starter or descends from it) or "default: 1e-6 (TRL)"; "not used by this run"
    where the trainer takes no such argument."""
    from rlhf.tasks.registry import spec

    if not answer.get("ok"):
        return {name: "default" for name in (*NUMBERS, *RL_NUMBERS) if tasks.setting_default(name) is None}
    plan = answer["plan"]
    args, whose = plan.get("args") or {}, plan.get("defaults_for")
    lineage = {*LINEAGE_SETTINGS, *spec(task).starter_args}
    hints = {}
    for name in (*NUMBERS, *RL_NUMBERS):
        if tasks.setting_default(name) is not None:
            continue  # a gr.Number: it shows its default itself
        key = next((key for key in ARG_NAMES.get(name, (name,)) if key in args), None)
        if key is None:
            hints[name] = "not used by this run"
            continue
        value = args[key]
        text = f"default: {number_text(value) if value is not None else 'none'}"
        if name in lineage and value is not None and whose:
            text += ", tuned for the starter" if whose == "starter" else " (TRL)"
        hints[name] = text
    return hints


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
        checkpointing = gr.Checkbox(True, label="gradient_checkpointing", elem_id="train-checkpointing",
                                    info="recompute activations in the backward pass: less memory, ~20% slower "
                                         "(TRL's default: on; PPO: off)")
    with gr.Accordion("Hyper-parameters (TRL names; empty means the default)", open=True):
        numbers = []
        for start in range(0, 12, 4):
            with gr.Row():
                numbers += [number_input(name) for name in NUMBERS[start:start + 4]]
        with gr.Row():
            numbers += [number_input(name) for name in NUMBERS[12:]]
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
    memory = gr.Markdown("", elem_id="train-memory", elem_classes="rlhf-note")
    run_on, num_workers, cluster = cluster_inputs()
    gpus = gpu_inputs()
    with gr.Row(elem_classes="rlhf-actions"):
        start = gr.Button("Start training", variant="primary", scale=0, min_width=180, size="md",
                          interactive=settings.open_code)
        force = gr.Checkbox(False, label="Start even if it may not fit", elem_id="train-force", scale=0,
                            min_width=220, info="the memory estimate can be wrong; a run that runs out fails")
        start_message = gr.Markdown()

    gr.Markdown("### Runs\nOne run trains at a time; the others wait in the queue. Runs keep going if the page "
                "is closed.")
    empty = gr.Markdown(EMPTY_RUNS)
    table = gr.Dataframe(headers=RUN_HEADERS, datatype="str", interactive=False, visible=False, max_height=260,
                         label="Runs (newest first)")
    with gr.Column(visible=False) as details:
        selected = gr.Dropdown([], value=None, label="Selected run", min_width=320)
        with gr.Row(elem_classes="rlhf-actions"):
            stop = gr.Button("Stop", variant="stop", scale=0, min_width=100, size="md")
            resume = gr.Button("Resume", scale=0, min_width=110, size="md")
            export = gr.Button("Export as TRL script", scale=0, min_width=200, size="md")
            run_message = gr.Markdown()
        script = gr.Code(language="python", label="Standalone TRL script for the selected run", visible=False,
                         interactive=False, buttons=["copy", "download"], max_lines=24)
        info = gr.Markdown("*Select a run to follow its log and curves.*")
        with gr.Row():
            loss_plot = gr.LinePlot(None, x="step", y="value", color="series", title=PLOT_TITLES["loss"], height=260,
                                    x_title="step", y_title="loss")
            # shown with the first run that has them, then kept: a plot hidden after drawing keeps watching its
            # size and throws in the browser ("reading 'offsetWidth'") at the next resize (Gradio 6.31)
            reward_plot = gr.LinePlot(None, x="step", y="value", color="series", title=PLOT_TITLES["reward"],
                                      height=260, visible=False, x_title="step", y_title="reward")
            quality_plot = gr.LinePlot(None, x="step", y="value", color="series", title=PLOT_TITLES["quality"],
                                       height=260, visible=False, x_title="step", y_title="value")
        plot_note = gr.Markdown("", elem_classes="rlhf-note")  # series with one point: a line plot draws none
        log = gr.Textbox(label=f"Log (the last {LOG_LINES} events, newest last)", lines=LOG_LINES,
                         max_lines=LOG_LINES, interactive=False, elem_id="run-log")
        with gr.Accordion(f"Raw log (the last {RAW_LOG_LINES} lines of stdout.log)", open=False):
            raw_log = gr.Textbox(show_label=False, lines=16, max_lines=16, interactive=False, autoscroll=True,
                                 elem_id="run-raw-log")
    watch = gr.State({})
    shown = gr.State(False)
    # rendered at the page's top level by wire_page: inside a tab they would be mounted (and read from the
    # browser's storage) only once the tab is opened, after the page's load event wanted them
    secret = ctx.api.settings.browser_secret  # the same key after a restart, so the saved values still read
    saved_form = gr.BrowserState({}, storage_key="rlhf-train-form", render=False, secret=secret)
    last_run = gr.BrowserState("", storage_key="rlhf-last-run", render=False, secret=secret)
    ctx.train = TrainTab(label=label, access=access, task=task, model=model, use_peft=use_peft, numbers=numbers,
                         scheduler=scheduler, train_size=train_size, options=options, lora_box=lora_box, lora=lora,
                         rl_box=rl_box, algorithm=algorithm, reward_models=reward_models,
                         use_reward_func=use_reward_func, rl_numbers=rl_numbers, plan=plan, run_on=run_on,
                         num_workers=num_workers, cluster=cluster, start=start,
                         start_message=start_message, empty=empty, table=table, details=details,
                         selected=selected, stop=stop, resume=resume, export=export, run_message=run_message,
                         info=info, loss_plot=loss_plot, reward_plot=reward_plot, quality_plot=quality_plot,
                         drawn=gr.State([]),
                         plot_note=plot_note, log=log, raw_log=raw_log, script=script, watch=watch, shown=shown,
                         saved_form=saved_form, last_run=last_run, gradient_checkpointing=checkpointing,
                         memory=memory, force=force, gpus=gpus)
    return ctx.train


def gpu_inputs() -> tuple:
    """``num_processes`` and ``distributed``, offered only where more than one GPU is visible (one GPU or a CPU
    trains in one process, so a page there looks as before)."""
    from rlhf.runs.launch import Distributed, visible_gpus

    gpus = visible_gpus()
    if gpus < 2:
        return ()
    with gr.Row():
        processes = gr.Number(gpus, precision=0, minimum=1, maximum=gpus, label=f"num_processes (of {gpus} GPUs)",
                              info=tasks.setting_help("num_processes"), min_width=200)
        distributed = gr.Dropdown([d.value for d in Distributed], value=Distributed.DDP.value, label="distributed",
                                  info=tasks.setting_help("distributed"), min_width=200)
    return processes, distributed


def cluster_inputs() -> tuple[gr.Radio, gr.Number, gr.Markdown]:
    """"Run on: this machine | Ray cluster", the workers and the cluster's state; shown only when a cluster is
    configured (RLHF_RAY_ADDRESS), so a page without one looks as before."""
    from rlhf.runs.ray_backend import recent_cluster_info

    info = recent_cluster_info()
    with gr.Row(equal_height=True, visible=info is not None):
        run_on = gr.Radio([("this machine", "local"), ("Ray cluster", "ray")], value="local", label="Run on",
                          min_width=200)
        num_workers = gr.Number(tasks.setting_default("num_workers"), precision=0, minimum=1, label="num_workers",
                                info=tasks.setting_help("num_workers"), min_width=160)
        cluster = gr.Markdown(cluster_text(info), elem_classes="rlhf-note")
    run_on.change(lambda: cluster_text(recent_cluster_info()), None, cluster, queue=False, show_progress="hidden")
    return run_on, num_workers, cluster


def cluster_text(info) -> str:
    """The cluster in a line and its nodes, for the Train tab."""
    if info is None:
        return ""
    lines = [info.summary()]
    lines += [f"- {node.id[:12]} ({node.ip}{', head' if node.head else ''}): {node.cpus:g} CPUs, {node.gpus:g} GPUs"
              for node in info.nodes]
    return "\n".join(lines)


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

    def follow_task(task: str, algorithm: str, *options: str):
        return task_updates(t, task, current={"algorithm": algorithm, **dict(zip(tasks.option_names(), options))})

    t.task.change(follow_task, [t.task, t.algorithm, *t.options], [t.rl_box, t.algorithm, *t.options],
                  queue=False, **PRIVATE)
    t.use_peft.change(lambda on: gr.update(visible=bool(on), open=bool(on)), t.use_peft, t.lora_box, queue=False,
                      **PRIVATE)

    hinted = {name: box for name, box in zip((*NUMBERS, *RL_NUMBERS), (*t.numbers, *t.rl_numbers))
              if tasks.setting_default(name) is None}

    def plan(form: dict, request: gr.Request, profile: gr.OAuthProfile | None = None):
        """The plan of the form as it stands (off the event loop: resolving imports TRL the first time), and
        each empty box's resolved value as its placeholder; a form that cannot start shows why instead, and no
        failure here touches the rest of the form."""
        try:
            task = form[t.task]
            settings = {**t.settings(form), "gradient_checkpointing": bool(form[t.gradient_checkpointing])}
            data = form[shared.data_state] or {}
            answer = api.resolve_plan(task, ctx.caller(request, form[browser_id], profile),
                                      form[t.model] or "starter", data.get("dataset", "sample"), settings,
                                      bool(form[t.use_reward_func]) and tasks.rewarded(task),
                                      data.get("config", ""), data.get("split", "train"))
            hints = default_hints(answer, task)
            return {t.plan: plan_text(answer, settings),
                    t.memory: memory_text(answer.get("memory")) if answer.get("ok") else "",
                    **{box: gr.update(placeholder=hints[name]) for name, box in hinted.items() if name in hints}}
        except Exception as error:  # a form value that is not a number yet: say so, as Start would
            return {t.plan: plan_text({"ok": False, "error": error_message(error)}), t.memory: ""}

    plan_inputs = {*t.form, t.gradient_checkpointing, shared.data_state, browser_id}
    plan_outputs = [t.plan, t.memory, *hinted.values()]
    t.show_plan = (plan, plan_inputs, plan_outputs)
    for component in t.form:
        component.change(plan, plan_inputs, plan_outputs, show_progress="hidden", concurrency_limit=2,
                         concurrency_id="plan", trigger_mode="always_last", **PRIVATE)
        component.change(lambda *values: dict(zip(t.form_names, values)), t.form, t.saved_form, queue=False,
                         show_progress="hidden", **PRIVATE)
    shared.data_state.change(plan, plan_inputs, plan_outputs, show_progress="hidden", concurrency_limit=2,
                             concurrency_id="plan", trigger_mode="always_last", **PRIVATE)
    t.gradient_checkpointing.change(plan, plan_inputs, plan_outputs, show_progress="hidden", concurrency_limit=2,
                                    concurrency_id="plan", trigger_mode="always_last", **PRIVATE)

    @reports(t.start_message)
    def start(form: dict, request: gr.Request, profile: gr.OAuthProfile | None = None):
        """``form`` maps each input component to its value (the inputs are given as a set)."""
        task, use_reward_func = form[t.task], form[t.use_reward_func]
        codes, editor_task, editor_value = form[editor.codes], form[editor.editor_task], form[editor.editor]
        caller = ctx.caller(request, form[browser_id], profile)
        settings = {**t.settings(form), "gradient_checkpointing": bool(form[t.gradient_checkpointing])}
        data = form[shared.data_state] or {}
        use_reward_func = use_reward_func and tasks.rewarded(task)
        reward_code = code_for(tasks.REWARD, codes, editor_task, editor_value) if use_reward_func else ""
        if use_reward_func and not reward_code.strip():
            raise ConfigError("The reward function editor (Format tab) is empty.")
        result = api.start_run(task, caller, form[t.model] or "starter", data.get("dataset", "sample"),
                               code_for(task, codes, editor_task, editor_value), settings, reward_code,
                               data.get("config", ""), data.get("split", "train"), merge_repeat=True,
                               force=bool(form[t.force]))
        # every run the caller sees stays a choice: a refresh that left before this answer still sends the
        # previously selected run, and a dropdown refuses a value outside its choices
        runs = api.run_status(caller)["runs"]
        return {t.start_message: done(f"Run **{result['run_id']}** {started_text(result)}."),
                t.selected: gr.update(choices=run_choices(runs), value=result["run_id"]),
                t.last_run: result["run_id"]}

    start_inputs = {*t.form, t.gradient_checkpointing, t.force, shared.data_state, editor.codes, editor.editor_task,
                    editor.editor, browser_id}
    # the button is off while a start is under way, so a double-click cannot make two runs (the server also
    # takes the same settings twice within two seconds as one run: see rlhf.services.runs.Runs.submit)
    t.start.click(lambda: gr.update(interactive=False), None, t.start, queue=False, **PRIVATE).then(
        start, start_inputs, [t.start_message, t.selected, t.last_run], concurrency_limit=4, concurrency_id="quick",
        **PRIVATE).then(lambda: gr.update(interactive=True), None, t.start, queue=False, **PRIVATE)

    def act(action: str):
        @reports()
        def handler(run_id: str, browser_id: str, request: gr.Request, profile: gr.OAuthProfile | None = None):
            caller = ctx.caller(request, browser_id, profile)
            if action == "stop":
                step = api.run_status(caller, selected(run_id), 0)["run"].get("step")
                result = api.stop_run(run_id, caller)
                return done(f"Run {run_id}: {stopped_text(result['status'], step)}")
            result = api.resume_run(selected(run_id), caller)
            return done(f"Run {run_id} {started_text(result)}; it continues from its last checkpoint.")

        return handler

    t.stop.click(act("stop"), [t.selected, browser_id], t.run_message, concurrency_limit=None, **PRIVATE)
    t.resume.click(act("resume"), [t.selected, browser_id], t.run_message, concurrency_limit=4,
                   concurrency_id="quick", **PRIVATE)

    @reports(t.run_message)
    def export(run_id: str, browser_id: str, request: gr.Request):
        script = api.export_script(selected(run_id), ctx.caller(request, browser_id))
        return {t.run_message: done(f"The script below needs only TRL, transformers, peft and datasets; it writes "
                                    f"to a new folder, `{export_dir(run_id)}` (OUTPUT_DIR), not to this run."),
                t.script: gr.update(value=script, visible=True)}

    t.export.click(export, [t.selected, browser_id], [t.run_message, t.script], concurrency_limit=4,
                   concurrency_id="quick", **PRIVATE)
    t.selected.change(lambda: {t.script: gr.update(visible=False), t.run_message: "", t.watch: {}}, None,
                      [t.script, t.run_message, t.watch], queue=False, **PRIVATE)

    plots = {"loss": t.loss_plot, "reward": t.reward_plot, "quality": t.quality_plot}

    def tick(selected: str | None, browser_id: str, watch: dict, shown: bool, last_run: str, drawn: list,
             request: gr.Request):
        """Refresh the run table, the selected run and the start message; unchanged parts are not sent, so
        nothing flickers. Plots are drawn only while the Train tab is selected (a plot updated while hidden
        measures a missing element and throws in the browser); selecting the tab redraws them.

        A generator: a plot whose set of curves changes (another run selected, eval loss appearing) gets its
        data first and its colours after. The plot rebuilds its legend and colour scale only when ``color_map``
        changes, from the data it holds then; sent together, the rebuild may read the old data and draw nothing
        (the previous run's axes, no lines)."""
        caller = ctx.caller(request, browser_id)
        try:
            runs = api.run_status(caller)["runs"]
            ids = [run["id"] for run in runs]
            # the value is sent only when this tick had to pick one: a tick that left before the user chose
            # another run carries the old choice, and sending it back would undo the user's pick
            replaced = selected not in ids
            if replaced:
                selected = ids[0] if ids else None
            detail = api.run_status(caller, selected, RAW_LOG_LINES) if selected else None
        except Exception:  # a run folder removed meanwhile: the next tick sees the new state
            yield gr.skip()  # nothing to update
            return
        watch = watch or {}
        listing = [(run["id"], status_text(run), run.get("step"), loss_of(run)) for run in runs]
        split = {name: drawable(rows) for name, rows in run_rows(detail["history"], detail["run"]["task"]).items()} \
            if detail else {}
        last = next((run for run in runs if run["id"] == last_run), None)
        curves = {name: sorted({row["series"] for row in rows}) for name, (rows, _) in split.items()}
        signature = {"listing": listing, "selected": selected, "shown": bool(shown),
                     "curves": curves if shown else (watch.get("curves") or {}),
                     "status": detail["run"]["status"] if detail else None,
                     "events": len(detail["events"]) if detail else 0,
                     "log": detail["log"][-1:] if detail else None, "last": live_text(last) if last else None}
        if signature == watch:
            yield gr.skip()  # nothing to update
            return
        choices = run_choices(runs)
        table = [[run["id"], task_text(run), run["model"], status_text(run), run.get("step") or "", loss_of(run)]
                 for run in runs]
        out: dict[Any, Any] = {
            t.details: gr.update(visible=bool(runs)), t.table: gr.update(value=table, visible=bool(runs)),
            t.empty: gr.update(visible=not runs), t.selected: gr.update(choices=choices, **({"value": selected} if replaced else {})),
        }
        if signature["last"] and signature["last"] != watch.get("last"):
            out[t.start_message] = done(signature["last"])
        if watch.get("selected") == selected and watch.get("status") != signature["status"]:
            out[t.run_message] = ""  # "stopping…", "queued again" said what happened then; the status says now
        if detail is None:
            out.update({t.info: "*Select a run to follow its log and curves.*", t.log: "", t.raw_log: ""})
            if shown:
                out[t.loss_plot] = frame([])
        else:
            out.update({t.info: run_details(detail), t.log: log_text(detail),
                        t.raw_log: "\n".join(detail["log"]) or "(no output yet)"})
            if shown:
                task_plots = tasks.plots(detail["run"]["task"])
                wanted = {"loss", *(name for name, plot in (("reward", Plot.REWARD), ("quality", Plot.QUALITY))
                                    if plot in task_plots)}
                drawn = sorted(wanted | set(drawn or []))
                for name, (rows, _) in split.items():
                    out[plots[name]] = gr.update(value=frame(rows), visible=name in drawn)
                out[t.drawn] = drawn
                notes = (lone_caption([row for _, lone in split.values() for row in lone]),
                         not_recorded_caption([name for name in drawn if name not in wanted]))
                out[t.plot_note] = " · ".join(note for note in notes if note)
        yield {**out, t.watch: signature}
        recoloured = {plots[name]: gr.update(color_map=color_map(frame(split[name][0]))) for name in plots
                      if detail is not None and shown and curves[name] != (watch.get("curves") or {}).get(name)}
        if recoloured:
            yield recoloured

    outputs = [t.details, t.table, t.empty, t.selected, t.info, t.loss_plot, t.reward_plot, t.quality_plot,
               t.drawn, t.plot_note, t.log, t.raw_log, t.start_message, t.run_message, t.watch]
    shared.timer.tick(tick, [t.selected, browser_id, t.watch, t.shown, t.last_run, t.drawn], outputs,
                      show_progress="hidden", concurrency_limit=None, **PRIVATE)
    shared.data_state.change(short, shared.data_state, t.label, queue=False, **PRIVATE)


def wire_page(ctx: Ctx, demo: gr.Blocks, tabs: dict[str, gr.Tab]) -> None:
    """What needs the page and its tabs: the saved form and the last run come back on load, and the plots know
    whether the Train tab is the one shown."""
    t = ctx.train
    t.saved_form.render()
    t.last_run.render()
    demo.load(lambda saved: restored_form(t, saved) or gr.skip(), t.saved_form, [*t.form, t.rl_box, t.lora_box],
              queue=False, **PRIVATE)
    # the resolved plan and each empty box's default from the first paint, not from the first change
    plan, inputs, outputs = t.show_plan
    demo.load(plan, inputs, outputs, show_progress="hidden", concurrency_limit=2, concurrency_id="plan", **PRIVATE)
    for name, tab in tabs.items():
        shown = name == "train"
        tab.select(lambda shown=shown: {t.shown: shown, t.watch: {}} if shown else {t.shown: False}, None,
                   [t.shown, t.watch], queue=False, **PRIVATE)
