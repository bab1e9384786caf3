"""What the app can do, as plain Python: the tabs' handlers and the named API endpoints both call these.

No Gradio here, so every action is testable without a browser or a server. Each method takes plain values
(strings, numbers, lists, JSON-like dicts) and a :class:`Caller` (who asks, and whether they may run code), calls
the engine in :mod:`rlhf`, and returns plain values. Failures are :class:`rlhf.errors.RlhfError` with a message
for a person; :func:`error_message` turns any exception into one line.

Model and dataset references accepted from visitors:

- models: ``starter``; the id of one of the caller's runs; a Hub id (``owner/name``); in single-user mode on
  localhost also a local model folder;
- datasets: ``sample``; a Hub id; ``upload:<sha>/<name>`` for a file uploaded through the app (see
  :meth:`Api.store_upload`); on localhost also a local path. On a public deployment local paths are refused,
  so no visitor can read the server's files through the preview.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import re
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from rlhf.errors import ConfigError, DataError, RlhfError
from rlhf.formatting.templates import fill_template
from rlhf.services.inference import Inference, model_libraries, prompt_for
from rlhf.ui import tasks

log = logging.getLogger("rlhf.ui")

UPLOADS = ".uploads"
UPLOAD_PREFIX = "upload:"
RUNS_TTL_S = 1.0



@dataclass(frozen=True)
class Caller:
    """Who is asking: the owner key (see :mod:`rlhf.ui.state`) and whether they may run their own code."""

    owner: str
    may_run_code: bool = True


def caller_for(settings, request: Any = None, session: str | None = "", profile: Any = None) -> Caller:
    """Who is calling, for the page and the API alike: a signed-in user name (``--auth``'s ``request.username``
    or a Hugging Face sign-in's ``profile``), else the session (the browser's id, an API client's ``session``
    argument, else its connection). ``request`` and ``profile`` are Gradio's, read by attribute only."""
    from rlhf.ui.state import new_browser_id, owner_key

    username = (getattr(request, "username", None) if request is not None else None) or (
        getattr(profile, "username", None) if profile is not None else None)
    fallback = getattr(request, "session_hash", None) if request is not None else None
    owner = owner_key(settings.single_user, username, (session or "").strip() or fallback or new_browser_id())
    return Caller(owner, settings.can_run_code(bool(username)))


def error_message(error: BaseException) -> str:
    """One readable line for any failure: our own errors as they are, anything else short (and logged)."""
    if isinstance(error, RlhfError):
        return str(error)
    log.error("unexpected error", exc_info=error)
    return (f"Something went wrong ({type(error).__name__}). The app is still running; the details are in the "
            "server log.")


def function_name(code: str, default: str) -> str:
    """The function the editor's code defines: ``default`` when present, else the only top-level function.

    Parsing is not running: this reads the code's structure without executing any of it.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return default  # the sandbox reports the syntax error with its line
    names = [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if default in names or len(names) != 1:
        return default
    return names[0]


class Api:
    """The app's actions over one runs folder. One instance serves every visitor; methods are thread-safe."""

    def __init__(self, settings, manager=None, starter=None, hub=None) -> None:
        from rlhf.runs.manager import RunManager
        from rlhf.ui.background import HubStatus, StarterStatus

        self.settings = settings
        self.runs_dir = Path(settings.runs_dir)
        self.manager = manager or RunManager(self.runs_dir)
        self.starter = starter or StarterStatus()
        self.hub = hub or HubStatus()
        self.inference = Inference()  # the loaded tokenizers and reward models, shared by every visitor
        self._runs: tuple[float, list[dict[str, Any]]] = (0.0, [])
        self._lock = threading.Lock()  # short critical sections only (the run listing)

    def health(self) -> dict[str, Any]:
        """Is the app serving, and what state is it in: cheap, touches no model, for load balancers and tests."""
        counts: dict[str, int] = {}
        for run in self._all_runs():
            counts[run["status"]] = counts.get(run["status"], 0) + 1
        return {"status": "serving", "starter": self.starter.state, "hub_reachable": self.hub.reachable,
                "runs": counts, "queued": len(self.manager.queue())}

    # -- references ----------------------------------------------------------------------------------------

    @property
    def uploads_dir(self) -> Path:
        return self.runs_dir / UPLOADS

    def store_upload(self, path: str | Path) -> str:
        """Keep an uploaded file where runs can read it later, named by its content: ``upload:<sha>/<name>``."""
        path = Path(path)
        if not path.is_file():
            raise DataError(f"The uploaded file {path.name} is missing; upload it again.")
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        name = re.sub(r"[^\w.-]", "_", path.name) or "upload.jsonl"
        sha = digest.hexdigest()[:16]
        target = self.uploads_dir / sha / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{name}.tmp")
            shutil.copyfile(path, tmp)
            tmp.replace(target)
        return f"{UPLOAD_PREFIX}{sha}/{name}"

    def dataset_path(self, spec: str) -> str:
        """A dataset reference from a visitor → what :func:`rlhf.data.sources.resolve_source` takes."""
        from rlhf.data.sources import HUB_ID, SAMPLE

        spec = (spec or "").strip()
        if not spec or spec.lower() == SAMPLE:
            return SAMPLE
        if spec.startswith(UPLOAD_PREFIX):
            relative = spec[len(UPLOAD_PREFIX):]
            parts = relative.split("/")
            path = self.uploads_dir.joinpath(*parts)
            if len(parts) != 2 or ".." in parts or not path.is_file():
                raise DataError(f"Dataset '{spec}': no such upload here; upload the file again.")
            return str(path)
        if not self.settings.public and Path(spec).expanduser().exists():
            return str(Path(spec).expanduser().resolve())
        if HUB_ID.match(spec) and not Path(spec).suffix.lower() in (".jsonl", ".json", ".csv", ".parquet"):
            return spec
        if self.settings.public:
            raise DataError(f"Dataset '{spec}': give 'sample', a Hub id like owner/name, or upload a file "
                            "(local paths on the server are not readable from a public deployment).")
        raise DataError(f"Dataset '{spec}' not found: it is not a local file or folder, nor a Hub id like "
                        "'owner/name'. Use a .jsonl/.json/.csv/.parquet path, a Hub id, an upload, or 'sample'.")

    def _data_ref(self, spec: str) -> str:
        """:meth:`dataset_path`, with the model libraries imported first where ``datasets`` will read it."""
        from rlhf.data.sources import HUB_ID

        path = self.dataset_path(spec)
        if HUB_ID.match(path):
            model_libraries()
        return path

    def visible_runs(self, caller: Caller) -> list[dict[str, Any]]:
        """The caller's runs, newest first. Every open page polls this, so the listing is shared for a second."""
        from rlhf.ui.state import can_see

        return [run for run in self._all_runs() if can_see(run["run_dir"], caller.owner)]

    def _all_runs(self) -> list[dict[str, Any]]:
        with self._lock:
            listed_at, runs = self._runs
        if time.monotonic() - listed_at > RUNS_TTL_S:
            runs = self.manager.list_runs()
            with self._lock:
                self._runs = (time.monotonic(), runs)
        return runs

    def _forget_runs(self) -> None:
        with self._lock:
            self._runs = (0.0, [])

    def _run_dir(self, run_id: str, caller: Caller) -> Path:
        from rlhf.ui.state import can_see

        run_id = (run_id or "").strip()
        path = self.runs_dir / run_id
        if not run_id or "/" in run_id or run_id.startswith(".") or not (path / "config.yaml").is_file() \
                or not can_see(path, caller.owner):
            raise ConfigError(f"No run '{run_id}' " + ("here." if caller.owner == "local" else "among your runs."))
        return path

    def model_path(self, ref: str, caller: Caller, field: str = "model") -> str:
        """A model reference → what the engine loads: ``starter``, a run folder, a Hub id or a local folder."""
        from rlhf.data.sources import HUB_ID
        from rlhf.starter import is_starter

        ref = (ref or "").strip()
        if not ref:
            raise ConfigError(f"{field}: choose a model ('starter', one of your runs, or a Hub id).")
        if is_starter(ref):
            return "starter"
        if "/" not in ref and (self.runs_dir / ref / "config.yaml").is_file():
            return str(self._run_dir(ref, caller))
        if self.settings.single_user and not self.settings.public and Path(ref).expanduser().is_dir():
            return str(Path(ref).expanduser().resolve())  # a model folder on this machine, for its owner only
        if HUB_ID.match(ref) or re.fullmatch(r"[\w.-]+", ref):
            return ref
        raise ConfigError(f"{field}: '{ref}' is not 'starter', one of your runs, or a Hub id (owner/name).")

    def run_ref(self, path_or_ref: str | None) -> str:
        """The reverse of :meth:`model_path` for display: a run folder inside the runs folder → its id."""
        if not path_or_ref:
            return ""
        path = Path(path_or_ref)
        if path.is_absolute():
            if path.parent == self.runs_dir.resolve():
                return path.name
            return path.name if self.settings.public else str(path)  # no server paths on a public page
        return str(path_or_ref)

    def list_models(self, caller: Caller, kind: str = "causal") -> list[tuple[str, str]]:
        """(label, value) choices: ``starter`` and finished runs of the right kind (``causal`` or ``reward``)."""
        choices = [] if kind == "reward" else [("starter (tiny offline model)", "starter")]
        for run in self.visible_runs(caller):
            if run["status"] != "finished":
                continue
            if not (tasks.scores(run.get("task")) if kind == "reward" else tasks.chat(run.get("task"))):
                continue
            choices.append((f"{run['id']} ({run.get('task')}, step {run.get('step') or 0})", run["id"]))
        return choices

    def base_model(self, run_id: str, caller: Caller) -> str:
        """The model a run started from, as a reference the chat accepts (to compare against)."""
        from rlhf.runs.manager import _read_yaml

        config = _read_yaml(self._run_dir(run_id, caller) / "config.yaml")
        return self.run_ref(config.get("model")) or "starter"

    # -- data ----------------------------------------------------------------------------------------------

    def load_data(self, dataset: str = "sample", config: str = "", split: str = "train",
                  examples: int = 3) -> dict[str, Any]:
        """Resolve a dataset and describe it: layout, record count, fields and questions, the first records as
        a formatting function receives them, and which tasks need no function."""
        from rlhf.data.layouts import plain_layout_for
        from rlhf.data.sources import resolve_source
        from rlhf.formatting.templates import fits_templates
        from rlhf.tasks.registry import specs

        spec = (dataset or "sample").strip()
        source = resolve_source(self._data_ref(spec), split=split or "train", config=config or None)
        layout = source.layout()
        records = _count_records(source)
        first = _first_records(source, layout, max(0, min(int(examples), 20)))
        plain = [s.name for s in specs() if plain_layout_for(s.rows.plain_layouts, layout) is not None]
        templates = layout.is_argilla and fits_templates(layout.fields + layout.questions)
        return {
            "dataset": spec if source.kind != "sample" else "sample",
            "kind": source.kind,
            "name": Path(spec).name if source.kind == "file" else spec,
            "layout": layout.name,
            "description": layout.describe(),
            "records": records,
            "columns": layout.columns,
            "fields": layout.fields,
            "questions": layout.questions,
            "examples": first,
            "plain_tasks": plain,
            "templates_fit": templates,
            "needs_function": [t for t in tasks.names() if t not in plain and not templates],
        }

    def default_code(self, task: str, data: dict[str, Any] | None = None) -> str:
        """What the editor starts with: the task's template, or nothing where plain columns already fit."""
        from rlhf.formatting.templates import template_source

        if data and task in data.get("plain_tasks", ()):
            return ""
        return template_source(tasks.template(task))

    def user_code(self, code: str | None, task: str, caller: Caller):
        """Editor text → a UserCode for the sandbox (None for empty: plain columns or the built-in template)."""
        from rlhf.formatting.templates import template_source
        from rlhf.formatting.user_code import UserCode

        code = (code or "").strip("\n")
        if not code.strip():
            return None
        if not caller.may_run_code and code.strip() != template_source(tasks.template(task)).strip():
            raise ConfigError(self.settings.access_note() or "Running your own code is not allowed here.")
        default = "reward_func" if task == tasks.REWARD else "formatting_func"
        filename = "reward_func.py" if task == tasks.REWARD else "formatting_func.py"
        return UserCode.from_text(code + "\n", function_name(code, default), filename=filename)

    def probe_code(self, task: str, code: str, caller: Caller, dataset: str = "sample", config: str = "",
                   split: str = "train", limit: int = 5) -> dict[str, Any]:
        """Run the editor's function on the first ``limit`` records (a reward function: on five example
        completions), in the sandbox; each record's rows, drop reason or error."""
        from rlhf.formatting.probe import probe_records

        spec = tasks.check(task, reward=True)
        if spec is None:
            return self._probe_reward(code, caller)
        from rlhf.data.sources import resolve_source

        source = resolve_source(self._data_ref(dataset), split=split or "train", config=config or None)
        result = probe_records(source, spec.rows, self.user_code(code, task, caller), limit=limit,
                               limits=self.code_limits(probe=True))
        return {"task": task, "layout": result["layout"], "function": result["function"],
                "columns": result["columns"], "records": result["records"]}

    def code_limits(self, probe: bool = False):
        """The sandbox's limits for a preview (the whole dataset) or a probe (a few records: tighter)."""
        from rlhf.formatting.sandbox import Limits

        timeout, memory = self.settings.code_timeout_s, self.settings.code_memory_mb
        return Limits(timeout_s=float(min(timeout, 30) if probe else timeout),
                      memory_limit_mb=min(memory, 2048) if probe else memory)

    def _probe_reward(self, code: str, caller: Caller) -> dict[str, Any]:
        from rlhf.formatting.probe import probe_reward

        return probe_reward(self.user_code(code, tasks.REWARD, caller), self.code_limits(probe=True))

    def preview(self, task: str = "sft", dataset: str = "sample", code: str = "", caller: Caller | None = None,
                model: str = "starter", train_size: float = 0.8, seed: int = 42, config: str = "",
                split: str = "train", rows: int = 20,
                progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Prepare the rows for ``task`` through the sandbox (cached), split them, and measure token lengths."""
        from rlhf.prepare_rows import prepare_dataset

        caller = caller or Caller("local")
        tasks.check(task)
        user = self.user_code(code, task, caller)
        model_libraries()
        prepared, summary = prepare_dataset(
            self.dataset_path(dataset), task, formatting_func=user, split=split or "train",
            dataset_config=config or None, train_size=float(train_size), seed=int(seed),
            limits=self.code_limits(), progress=progress)
        train = prepared["train"] if hasattr(prepared, "keys") else prepared
        shown = train.select(range(min(int(rows), len(train)))).to_list()
        result: dict[str, Any] = {
            "task": task, "layout": summary.layout, "function": summary.function, "records": summary.records,
            "rows": summary.rows, "dropped": summary.dropped,
            "splits": summary.splits or {"train": summary.rows}, "columns": train.column_names,
            "sample_rows": shown,
        }
        result["token_lengths"] = self._token_lengths(model, train, task, caller)
        return result

    def _token_lengths(self, model: str, rows, task: str, caller: Caller) -> dict[str, Any]:
        """Token counts of the training text(s) of each row, for the histogram; a note when no tokenizer."""
        from rlhf.starter import is_starter

        try:
            path = self.model_path(model, caller)
        except RlhfError as error:
            return {"model": model, "note": str(error)}
        if is_starter(path) and not self.starter.ready:
            return {"model": model, "note": "Token lengths appear once the starter model is built (see the status "
                                            "line at the top); press Prepare again then."}
        try:
            lengths = self.inference.token_lengths(path, rows, tasks.check(task).sequences)
        except Exception as error:  # offline Hub id, a folder without a tokenizer…
            return {"model": model, "note": f"No tokenizer for '{model}': {error_message(error)}"}
        return {"model": model, **lengths}

    # -- runs ----------------------------------------------------------------------------------------------

    def start_run(self, task: str, caller: Caller, model: str = "starter", dataset: str = "sample",
                  code: str = "", settings: dict[str, Any] | None = None, reward_code: str = "",
                  config: str = "", split: str = "train") -> dict[str, Any]:
        """Queue a training run; returns at once with its id and status (``queued``/``starting``).

        ``settings`` holds RunConfig fields by their TRL names, flat (``max_steps``, ``learning_rate``,
        ``use_peft``, ``algorithm``, ``reward_models`` …); ``code`` is the formatting function for the task's
        rows (empty: plain columns or the template), ``reward_code`` the RL reward function (empty: none).
        """
        from rlhf.runs.config import DataSettings, RunConfig, section_fields
        from rlhf.ui.state import write_owner

        if not caller.may_run_code:
            raise ConfigError(self.settings.access_note() or "Training is not allowed here.")
        tasks.check(task)
        user = self.user_code(code, task, caller)
        run = RunConfig(task=task, model=self.model_path(model, caller),
                        data=DataSettings(dataset=self.dataset_path(dataset), dataset_config=config or None,
                                          split=split or "train",
                                          formatting_code=user.source if user else None,
                                          function=user.function if user else "formatting_func"))
        sections = {f.name: (section, f) for section, f in section_fields()}
        for name, value in (settings or {}).items():
            if name not in sections or name in ("task", "model", "output_dir", "formatting_func",
                                                "formatting_code", "function", "reward_func", "reward_code",
                                                "reward_function", "dataset", "dataset_config", "split"):
                accepted = sorted(n for n in sections if n not in ("task", "model", "output_dir"))
                raise ConfigError(f"settings.{name}: unknown or not settable here; accepted: {', '.join(accepted)}.")
            section, f = sections[name]
            if name == "reward_models":
                value = [self._reward_model(ref, caller) for ref in ([value] if isinstance(value, str) else
                                                                      value or [])]
            else:
                value = _coerce(name, str(f.type), value)
            target = getattr(run, section) if section else run
            setattr(target, name, value)
        rewarded = tasks.rewarded(task)
        reward = self.user_code(reward_code, tasks.REWARD, caller) if rewarded else None
        if reward is not None:
            run.rl.reward_code, run.rl.reward_function = reward.source, reward.function
        run.replace(output_dir=str(self.runs_dir)).validate()  # the settings first: they cost nothing to check
        from rlhf.tasks.models import check_models

        if rewarded and run.rl.reward_models:
            model_libraries()  # their configs are read with transformers
        check_models(run.model, run.rl.reward_models if rewarded else [])
        run_id = self.manager.submit(run)
        write_owner(self.runs_dir / run_id, caller.owner)
        self._forget_runs()
        status = self.manager.status(run_id)
        return {"run_id": run_id, "status": status["status"], "queue_position": status.get("queue_position")}

    def _reward_model(self, ref: str, caller: Caller) -> str:
        path = self.model_path(ref, caller, "reward_models")
        return path

    def run_status(self, caller: Caller, run_id: str = "", log_lines: int = 20) -> dict[str, Any]:
        """Without ``run_id``: every run the caller can see. With it: that run's status, its metric history
        and the end of its log."""
        from rlhf.runs.events import read_events

        if not (run_id or "").strip():
            return {"runs": [_summary(run, self.run_ref) for run in self.visible_runs(caller)]}
        path = self._run_dir(run_id, caller)
        status = self.manager.status(run_id)
        events = read_events(path / "events.jsonl")
        return {"run": _summary(status, self.run_ref), "metrics": status.get("metrics") or {},
                "history": [e for e in events if "status" not in e and "step" in e],
                "statuses": [e for e in events if "status" in e],
                "log": tail_lines(path / "stdout.log", log_lines)}

    def stop_run(self, run_id: str, caller: Caller) -> dict[str, Any]:
        self._run_dir(run_id, caller)
        status = self.manager.stop(run_id)
        self._forget_runs()
        return {"run_id": run_id, "status": status["status"]}

    def resume_run(self, run_id: str, caller: Caller) -> dict[str, Any]:
        if not caller.may_run_code:
            raise ConfigError(self.settings.access_note() or "Training is not allowed here.")
        self._run_dir(run_id, caller)
        self.manager.resume(run_id)
        self._forget_runs()
        status = self.manager.status(run_id)
        return {"run_id": run_id, "status": status["status"], "queue_position": status.get("queue_position")}

    def export_script(self, run_id: str, caller: Caller) -> str:
        from rlhf.export_script import export_script_from_file

        script = export_script_from_file(self._run_dir(run_id, caller) / "config.yaml")
        if self.settings.public:  # no server paths on a public page
            script = script.replace(str(self.runs_dir.resolve()), "runs")
        return script

    # -- chat and score ------------------------------------------------------------------------------------

    def _starter_ready(self, path: str) -> None:
        """Waiting a minute for the background build inside a chat would look like a hang: say so instead."""
        from rlhf.starter import is_starter

        if is_starter(path) and self.starter.state == "building" and not self.starter.check():
            raise ConfigError(f"The starter model is still being built ({self.starter.fraction:.0%}); try again when "
                              "the status line at the top says it is ready.")

    def prompt_for(self, message: str, context: str = "", history: list[dict] | None = None,
                   prompt_format: str = "template"):
        """What the model is given: see :func:`rlhf.services.inference.prompt_for`."""
        return prompt_for(message, context, history, prompt_format)

    def chat_stream(self, model: str, message: str, caller: Caller, context: str = "",
                    history: list[dict] | None = None, prompt_format: str = "template",
                    max_new_tokens: int = 64, temperature: float = 0.7, top_p: float = 0.95, top_k: int = 0,
                    repetition_penalty: float = 1.0, seed: int | None = None) -> Iterator[str]:
        """The reply so far, growing as tokens arrive."""
        if not (message or "").strip():
            raise ConfigError("message: type a prompt first.")
        path = self.model_path(model, caller)
        self._starter_ready(path)
        prompt = prompt_for(message, context, history, prompt_format)
        yield from self.inference.generate(path, prompt, prompt_format, max_new_tokens=max_new_tokens,
                                           temperature=temperature, top_p=top_p, top_k=top_k,
                                           repetition_penalty=repetition_penalty, seed=seed)

    def chat(self, model: str, message: str, caller: Caller, **options: Any) -> str:
        reply = ""
        for reply in self.chat_stream(model, message, caller, **options):
            pass
        return reply

    def score(self, model: str, texts: list[str], caller: Caller, prompt: str = "",
              context: str = "") -> list[float]:
        """One reward per text (higher is preferred). With ``prompt``, each text is a response placed in the
        instruction template after it, as the reward model saw its training pairs."""
        texts = [t for t in (texts or []) if isinstance(t, str) and t.strip()]
        if not texts:
            raise ConfigError("texts: give at least one text to score.")
        if (prompt or "").strip():
            texts = [fill_template(prompt.strip(), context, t.strip()) for t in texts]
        return self.inference.score(self.model_path(model, caller, "reward model"), texts)

    # -- hub -----------------------------------------------------------------------------------------------

    def model_card(self, run_id: str, caller: Caller, repo_id: str = "", merge_adapter: bool = False) -> str:
        from rlhf.hub.card import model_card
        from rlhf.hub.push import finished_run

        path = self._run_dir(run_id, caller)
        finished_run(path)
        return model_card(path, (repo_id or "").strip() or None, merged=bool(merge_adapter))

    def push(self, run_id: str, repo_id: str, caller: Caller, token: str = "", private: bool = True,
             merge_adapter: bool = False, progress: Callable[[str], None] | None = None) -> str:
        """Upload a finished run; the Hub's reachability is checked before anything else (a token, the run)
        so an offline app says so at once. The token is used for this call only."""
        from rlhf.data.sources import hub_endpoint
        from rlhf.hub.push import check_reachable, push_run

        if not caller.may_run_code:
            raise ConfigError(self.settings.access_note() or "Pushing is not allowed here.")
        check_reachable(hub_endpoint())
        path = self._run_dir(run_id, caller)
        if merge_adapter:
            model_libraries()  # the merge loads the model
        return push_run(path, repo_id, token=(token or "").strip() or None, private=bool(private),
                        merge_adapter=bool(merge_adapter), progress=progress)


# -- helpers -----------------------------------------------------------------------------------------------------

def tail_lines(path: Path, count: int) -> list[str]:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    return lines[-max(0, int(count)):] if count else []


def _coerce(name: str, kind: str, value: Any) -> Any:
    """A JSON value → the field's type (JSON has one number type; a UI may send 3.0 for an int)."""
    if value is None or value == "":
        if "None" in kind:
            return None
        raise ConfigError(f"settings.{name}: a value is required.")
    try:
        if kind.startswith("bool"):
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                    raise ValueError(value)
                return value.lower() in ("true", "1", "yes", "on")
            return bool(value)
        if kind.startswith("int"):
            number = float(value)
            if not number.is_integer():
                raise ValueError(value)
            return int(number)
        if kind.startswith("float"):
            return float(value)
        if kind.startswith("dict") and not isinstance(value, dict):
            raise ValueError(value)
        if kind.startswith("list") and not isinstance(value, list):
            return [value]
    except (TypeError, ValueError):
        raise ConfigError(f"settings.{name}: expected {kind.replace(' | None', '')}, got {value!r}.") from None
    return value


def _summary(run: dict[str, Any], ref: Callable[[str | None], str] = lambda x: x or "") -> dict[str, Any]:
    """The public part of a run's status (no local paths, no pids)."""
    metrics = run.get("metrics") or {}
    keep = ("loss", "train_loss", "eval_loss", "reward", "accuracy", "eval_accuracy", "rewards/accuracies",
            "rewards/margins", "margin", "learning_rate", "epoch")
    return {"id": run["id"], "task": run.get("task"), "model": ref(run.get("model")) or None,
            "status": run["status"], "step": run.get("step"), "queue_position": run.get("queue_position"),
            "error": run.get("error"), "created": run.get("created"), "started": run.get("started"),
            "ended": run.get("ended"), "metrics": {k: metrics[k] for k in keep if k in metrics}}


def _count_records(source) -> int:
    """Records in a source without converting them: Arrow/Parquet metadata, else one pass over the rows."""
    total = 0
    for path, fmt in source.files:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            try:
                total += pq.ParquetFile(path).metadata.num_rows
                continue
            except Exception:
                pass
        elif fmt == "arrow":
            import pyarrow as pa

            try:
                with pa.memory_map(str(path)) as handle:
                    total += sum(batch.num_rows for batch in pa.ipc.open_stream(handle))
                continue
            except Exception:
                pass
        from rlhf.data.readers import iter_batches

        total += sum(len(batch) for batch in iter_batches(path, fmt))
    return total


def _first_records(source, layout, count: int) -> list[dict[str, Any]]:
    """The first records exactly as a formatting function receives them (Argilla 2.x converted to 1.x)."""
    from rlhf.formatting.worker import records

    out = []
    if count <= 0:
        return out
    for record in records(source, layout):
        out.append(_jsonable(record))
        if len(out) >= count:
            break
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
