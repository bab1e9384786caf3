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
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from rlhf.errors import ConfigError, RlhfError
from rlhf.runs.status import RunStatus
from rlhf.services import preview as preview_service
from rlhf.services import runs as run_service
from rlhf.services.datasets import UPLOAD_PREFIX, UPLOADS, Datasets  # noqa: F401 (re-exported)
from rlhf.services.inference import Inference, model_libraries, prompt_for
from rlhf.services.memory import MemoryPlans
from rlhf.services.messages import error_message
from rlhf.services.runs import RUNS_TTL_S, tail_lines  # noqa: F401 (re-exported)
from rlhf.ui import tasks

log = logging.getLogger("rlhf.ui")

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
        self.datasets = Datasets(self.runs_dir / UPLOADS)
        self.runs = run_service.Runs(self.manager, self.runs_dir)
        self.plans = run_service.Plans()
        self.memory = MemoryPlans()

    def health(self) -> dict[str, Any]:
        """Is the app serving, and what state is it in: cheap, touches no model, for load balancers and tests."""
        from rlhf.runs.ray_backend import recent_cluster_info

        from rlhf.tasks.plan import optional_packages

        health = {"status": "serving", "starter": self.starter.state, "hub_reachable": self.hub.reachable,
                  "runs": self.runs.counts(), "queued": len(self.manager.queue()),
                  "optional_packages": optional_packages()}  # kernels found: bitsandbytes, liger, flash, vllm
        cluster = recent_cluster_info()  # only with RLHF_RAY_ADDRESS set; asked at most every few seconds
        if cluster is not None:
            health["ray_cluster"] = cluster.to_dict()
        return health

    # -- references ----------------------------------------------------------------------------------------

    @property
    def uploads_dir(self) -> Path:
        return self.datasets.uploads_dir

    def store_upload(self, path: str | Path) -> str:
        """Keep an uploaded file where runs can read it later, named by its content: ``upload:<sha>/<name>``."""
        return self.datasets.store_upload(path)

    def dataset_path(self, spec: str) -> str:
        """A dataset reference from a visitor → what :func:`rlhf.data.sources.resolve_source` takes; a public
        deployment reads no local path but uploads."""
        return self.datasets.resolve(spec, local_paths=not self.settings.public)

    def visible_runs(self, caller: Caller) -> list[dict[str, Any]]:
        """The caller's runs, newest first (the listing is shared for a second: every open page polls it)."""
        from rlhf.ui.state import can_see

        return [run for run in self.runs.all() if can_see(run["run_dir"], caller.owner)]

    def _run_dir(self, run_id: str, caller: Caller) -> Path:
        from rlhf.ui.state import can_see

        path = self.runs.folder(run_id)
        if path is None or not can_see(path, caller.owner):
            run_id = (run_id or "").strip()
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
            if run["status"] != RunStatus.FINISHED:
                continue
            if not (tasks.scores(run.get("task")) if kind == "reward" else tasks.chat(run.get("task"))):
                continue
            choices.append((f"{run['id']} ({run.get('task')}, step {run.get('step') or 0})", run["id"]))
        return choices

    def base_model(self, run_id: str, caller: Caller) -> str:
        """The model a run started from, as a reference the chat accepts (to compare against)."""
        config = self.runs.config(self._run_dir(run_id, caller).name)
        return self.run_ref(config.get("model")) or "starter"

    # -- data ----------------------------------------------------------------------------------------------

    def load_data(self, dataset: str = "sample", config: str = "", split: str = "train",
                  examples: int = 3) -> dict[str, Any]:
        """Resolve a dataset and describe it: layout, record count, fields and questions, the first records as
        a formatting function receives them, and which tasks need no function."""
        return self.datasets.describe(dataset, config, split, examples, local_paths=not self.settings.public)

    def default_code(self, task: str, data: dict[str, Any] | None = None) -> str:
        """What the editor starts with: the task's template, or nothing where plain columns already fit."""
        from rlhf.formatting.templates import template_source

        if data and task in data.get("plain_tasks", ()):
            return ""
        return template_source(tasks.template(task, data))

    def user_code(self, code: str | None, task: str, caller: Caller):
        """Editor text → a UserCode for the sandbox (None for empty: plain columns or the built-in template)."""
        from rlhf.formatting.templates import template_source
        from rlhf.formatting.user_code import UserCode

        code = (code or "").strip("\n")
        if not code.strip():
            return None
        if not caller.may_run_code and code.strip() not in {template_source(name).strip()
                                                             for name in tasks.templates(task)}:
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
        source = self.datasets.source(dataset, config, split, local_paths=not self.settings.public)
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
        caller = caller or Caller("local")
        tasks.check(task)
        prepared = preview_service.prepare(
            self.dataset_path(dataset), task, self.user_code(code, task, caller), split, config, train_size, seed,
            limits=self.code_limits(), rows=rows, progress=progress)
        return dict(prepared.result, token_lengths=self._token_lengths(model, prepared.train, task, caller))

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
        return preview_service.token_lengths(self.inference, path, rows, task, model)

    # -- runs ----------------------------------------------------------------------------------------------

    def _config(self, task: str, caller: Caller, model: str, dataset: str, code: str,
                settings: dict[str, Any] | None, reward_code: str, config: str, split: str):
        """The visitor's choices as a validated RunConfig: references resolved for this caller, code allowed."""
        tasks.check(task)
        user = self.user_code(code, task, caller)
        reward = self.user_code(reward_code, tasks.REWARD, caller) if tasks.rewarded(task) else None
        return run_service.run_config(
            task, self.model_path(model, caller), self.dataset_path(dataset), self.runs_dir, settings,
            formatting=user, reward=reward, dataset_config=config, split=split,
            reward_model=lambda ref: self.model_path(ref, caller, "reward_models"))

    def start_run(self, task: str, caller: Caller, model: str = "starter", dataset: str = "sample",
                  code: str = "", settings: dict[str, Any] | None = None, reward_code: str = "",
                  config: str = "", split: str = "train", merge_repeat: bool = False,
                  force: bool = False) -> dict[str, Any]:
        """Queue a training run; returns at once with its id and status (``queued``/``starting``).
        ``merge_repeat``: the page's Start button, whose double-click is one run (see ``Runs.submit``).
        A run whose memory estimate exceeds the device is refused with what would lower it, unless ``force``.

        ``settings`` holds RunConfig fields by their TRL names, flat (``max_steps``, ``learning_rate``,
        ``use_peft``, ``algorithm``, ``reward_models`` …); ``code`` is the formatting function for the task's
        rows (empty: plain columns or the template), ``reward_code`` the RL reward function (empty: none).
        """
        from rlhf.ui.state import write_owner

        if not caller.may_run_code:
            raise ConfigError(self.settings.access_note() or "Training is not allowed here.")
        run = self._config(task, caller, model, dataset, code, settings, reward_code, config, split)
        run_service.check_models(run)
        if not force:
            self.memory.check_fits(run)
        result = self.runs.submit(run, caller.owner, merge_repeat=merge_repeat)
        write_owner(self.runs_dir / result["run_id"], caller.owner)
        self.runs.forget()
        return result

    def resolve_plan(self, task: str, caller: Caller, model: str = "starter", dataset: str = "sample",
                     settings: dict[str, Any] | None = None, reward_function: bool = False, config: str = "",
                     split: str = "train") -> dict[str, Any]:
        """What a run with these choices would train with, before it starts: ``{"ok": True, "plan": {…}}`` with
        :meth:`rlhf.tasks.plan.TrainPlan.to_dict` (``plan["args"]`` are the trainer's exact arguments), or
        ``{"ok": False, "error": "…"}`` naming the setting at fault (early validation of the form). Runs no
        code, loads no model and asks no server; cached per config. The plan does not depend on the code, so
        none is taken: ``reward_function`` says an RL run would have one (it counts as a reward source)."""
        try:
            tasks.check(task)
            run = run_service.run_config(
                task, self.model_path(model, caller), self.dataset_path(dataset), self.runs_dir, settings,
                reward=run_service.PLACEHOLDER_REWARD if reward_function else None, dataset_config=config,
                split=split, reward_model=lambda ref: self.model_path(ref, caller, "reward_models"))
            plan = self.plans.resolve(run)
        except Exception as error:
            return {"ok": False, "error": error_message(error)}
        try:  # the memory plan beside it: None where it cannot be made (the model's config unreadable yet)
            memory = self.memory.estimate(run)
        except Exception:
            memory = None
        return {"ok": True, "plan": plan, "memory": memory.to_dict() if memory is not None else None}

    def run_status(self, caller: Caller, run_id: str = "", log_lines: int = 20) -> dict[str, Any]:
        """Without ``run_id``: every run the caller can see. With it: that run's status, its metric history
        and the end of its log."""
        if not (run_id or "").strip():
            return {"runs": [run_service.summary(run, self.run_ref) for run in self.visible_runs(caller)]}
        return self.runs.detail(self._run_dir(run_id, caller).name, log_lines, self.run_ref)

    def stop_run(self, run_id: str, caller: Caller) -> dict[str, Any]:
        return self.runs.stop(self._run_dir(run_id, caller).name)

    def resume_run(self, run_id: str, caller: Caller) -> dict[str, Any]:
        if not caller.may_run_code:
            raise ConfigError(self.settings.access_note() or "Training is not allowed here.")
        return self.runs.resume(self._run_dir(run_id, caller).name)

    def export_script(self, run_id: str, caller: Caller) -> str:
        from rlhf.export_script import export_dir, export_script_from_file

        script = export_script_from_file(self._run_dir(run_id, caller) / "config.yaml", export_dir(run_id))
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
        return self.inference.score(self.model_path(model, caller, "reward model"), texts, prompt or "", context or "")

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


# -- helpers ----------------------------------------------------------------------------------------------------

def _summary(run: dict[str, Any], ref: Callable[[str | None], str] = lambda x: x or "") -> dict[str, Any]:
    """The public part of a run's status: see :func:`rlhf.services.runs.summary`."""
    return run_service.summary(run, ref)
