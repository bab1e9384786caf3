"""``ArgillaTrainer``: Argilla 1.x's trainer for the TRL framework, run by rlhf's run machinery.

``train(output_dir)`` submits an ordinary rlhf run (``RunManager(runs_dir()).submit``), so it trains in its own
process, shows up in the app's Train tab with its events, and can be stopped there; meanwhile the script prints
the run's log lines and metrics as a trainer would. When the run finishes, its ``final/`` model is copied into
``output_dir``, where the page's snippets load it with ``from_pretrained(output_dir)``; ``generate_model_card`` and
``push_to_huggingface`` are the run's card and the app's push. Model, tokenizer and reward-pipeline objects are
saved for the run (:mod:`rlhf.compat.objects`).

Settings keep Argilla's names and defaults (seed 42, one epoch, ``logging_steps=1``, no split unless
``train_size`` is given; for PPO Argilla's length sampler and generation defaults, and every prompt used); what
the user does not set is left to rlhf's defaults for the model and hardware (the learning rate, batch sizes, the
PPO hyper-parameters of a ``PPOConfig`` left at ``None``).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
import time
from pathlib import Path
from typing import Any, Callable

from rlhf.compat.arguments import CompatArgumentError, check_framework, reject_unknown
from rlhf.compat.dataset import FeedbackDataset
from rlhf.compat.objects import is_model_object, is_tokenizer_object, reward_model_folder, save_model
from rlhf.compat.ppo_config import ppo_settings
from rlhf.compat.tasks import TrainingTaskForPPO, check_task
from rlhf.errors import ConfigError, RlhfError
from rlhf.runs.config import DataSettings, LoraSettings, RLSettings, RunConfig, TrainingSettings
from rlhf.runs.status import RunStatus

ARGILLA_DEFAULT_MODEL = "gpt2-medium"  # ArgillaTRLTrainer's default
ARGILLA_DEFAULT_SEED = 42
# ArgillaTRLTrainer.init_training_args for PPO.
ARGILLA_LENGTH_SAMPLER = {"min_value": 1, "max_value": 10}
ARGILLA_GENERATION_KWARGS = {"min_length": -1, "top_k": 0.0, "top_p": 1.0, "do_sample": True}

_TRAINING_FIELDS = [f.name for f in dataclasses.fields(TrainingSettings) if f.name != "extra"]
_LORA_FIELDS = [f.name for f in dataclasses.fields(LoraSettings)]
_PPO_ONLY = ("reward_model", "length_sampler_kwargs", "generation_kwargs", "config")
# Older transformers/TRL spellings → today's.
_RENAMED = {"evaluation_strategy": "eval_strategy", "max_seq_length": "max_length"}
# TRL config fields a run decides itself.
_RESERVED = {"output_dir": "pass it to trainer.train(output_dir=…)",
             "report_to": "runs log to their events.jsonl", "logging_dir": "runs log to their events.jsonl"}
# PEFT LoraConfig fields rlhf's LoRA does not set: a non-default value would be silently lost.
_LORA_UNSUPPORTED = ("bias", "modules_to_save", "use_rslora", "use_dora", "layers_to_transform",
                     "layers_pattern", "rank_pattern", "alpha_pattern", "fan_in_fan_out")


class PredictNotSupportedError(RlhfError, NotImplementedError):
    """``ArgillaTrainer.predict``: TRL-trained models make no label predictions (nor did they in Argilla 1.x)."""


class RunFailedError(RlhfError):
    """The run behind ``ArgillaTrainer.train`` failed, was stopped or was interrupted; the message says why."""

    def __init__(self, message: str, run_id: str, status: str):
        super().__init__(message)
        self.run_id, self.status = run_id, status


class ArgillaTrainer:
    """Argilla 1.x's ``ArgillaTrainer(dataset, task, framework="trl", …)``; see the module docstring."""

    def __init__(self, dataset: Any, task: Any, framework: Any, lang: Any = None, model: Any = None,
                 tokenizer: Any = None, train_size: float | None = None, seed: int | None = None,
                 gpu_id: int = -1, framework_kwargs: dict | None = None, fetch_records: Any = None,
                 **unknown: Any) -> None:
        reject_unknown("ArgillaTrainer", unknown,
                       ["dataset", "task", "framework", "lang", "model", "tokenizer", "train_size", "seed",
                        "gpu_id", "framework_kwargs", "fetch_records"])
        self._framework = check_framework(framework)
        self._task = check_task(task, "ArgillaTrainer")
        if not isinstance(dataset, FeedbackDataset):
            raise CompatArgumentError(f"ArgillaTrainer: dataset must be a FeedbackDataset (built in Python, or from "
                                      f"FeedbackDataset.from_huggingface(…)), got {type(dataset).__name__}.")
        if lang is not None:
            raise CompatArgumentError("ArgillaTrainer: lang is for spaCy; the 'trl' framework takes none.")
        if tokenizer is not None and not is_tokenizer_object(tokenizer):
            raise CompatArgumentError(f"ArgillaTrainer: tokenizer must be a transformers tokenizer object, got "
                                      f"{type(tokenizer).__name__} (the run loads the model's own tokenizer when "
                                      "none is given).")
        extra = {k: v for k, v in (framework_kwargs or {}).items() if k != "model_card_kwargs"}
        reject_unknown("ArgillaTrainer(framework_kwargs=…)", extra, ["model_card_kwargs"])
        if train_size is not None and not 0 < float(train_size) <= 1:
            raise CompatArgumentError(f"ArgillaTrainer: train_size must be in (0, 1], got {train_size}.")
        self._dataset = dataset
        model = ARGILLA_DEFAULT_MODEL if model is None else model
        self._model_object = model if is_model_object(model) else None
        self._model = None if self._model_object is not None else _model_reference(model)
        self._tokenizer_object = tokenizer
        self._saved_inputs: dict[str, Path] = {}  # what train() saved for the run: "model" → folder
        self._given: dict[str, Any] = {}  # update_config's objects as given: PPO's config and reward_model
        self._train_size = train_size
        self._seed = ARGILLA_DEFAULT_SEED if seed is None else int(seed)
        self._training: dict[str, Any] = {}
        self._extra: dict[str, Any] = {}
        self._lora: dict[str, Any] = {}
        self._ppo: dict[str, Any] = {}
        self.run_id: str | None = None
        self.run_dir: Path | None = None
        # As Argilla's constructor: the rows are prepared now, so a broken formatting function fails here.
        self._prepared_data = dataset.prepare_for_training(framework=self._framework, task=self._task,
                                                           train_size=train_size, seed=self._seed)

    @property
    def task(self):
        return self._task

    def __repr__(self) -> str:
        settings = {**self._training, **self._extra, **self._lora, **self._ppo}
        return (f"ArgillaTrainer(dataset={self._dataset!r}, task={type(self._task).__name__}, "
                f"framework={self._framework!r}, model={self._model!r}, train_size={self._train_size}, "
                f"seed={self._seed}, settings={settings})")

    # -- configuration ---------------------------------------------------------------------------------------

    def update_config(self, **kwargs: Any) -> None:
        """TRL training-argument names (``learning_rate``, ``num_train_epochs``, ``max_steps``,
        ``per_device_train_batch_size``, …, any field of the task's TRL config), ``peft_config=LoraConfig(…)``,
        and for PPO ``reward_model``, ``length_sampler_kwargs``, ``generation_kwargs`` and ``config``."""
        is_ppo = isinstance(self._task, TrainingTaskForPPO)
        trl_fields = self._trl_config_fields()
        accepted = [*_TRAINING_FIELDS, *_LORA_FIELDS, "peft_config", *trl_fields]
        accepted += [old for old, new in _RENAMED.items() if new in accepted]
        if is_ppo:
            accepted += _PPO_ONLY
        for name, value in kwargs.items():
            if name in _PPO_ONLY and not is_ppo:
                raise CompatArgumentError(f"update_config: {name} is for PPO "
                                          "(TrainingTask.for_proximal_policy_optimization) only.")
            if name in _RESERVED:
                raise CompatArgumentError(f"update_config: {name} is set by the run; {_RESERVED[name]}.")
            if name not in accepted:
                reject_unknown("update_config", {name: value}, accepted)
        for name, value in kwargs.items():
            name = _RENAMED.get(name, name)
            if name == "peft_config":
                self._lora.update(_lora_settings(value))
            elif name in _LORA_FIELDS:
                self._lora[name] = _plain("update_config", name, sorted(value) if isinstance(value, set) else value)
            elif name == "reward_model":
                self._ppo["reward_models"] = [_reward_model_reference(value)]
                self._given["reward_model"] = value
            elif name == "length_sampler_kwargs":
                self._ppo.update(_length_sampler(value))
            elif name == "generation_kwargs":
                self._ppo["generation_kwargs"] = _plain_dict("generation_kwargs", value)
            elif name == "config":
                self._given["config"] = value
                rl, training = ppo_settings(value)
                self._ppo.update(rl)
                self._ppo["_config_training"] = training
            elif name in _TRAINING_FIELDS:
                self._training[name] = _plain("update_config", name, value)
            else:
                self._extra[name] = _plain("update_config", name, value)

    def _trl_config_fields(self) -> list[str]:
        from rlhf.tasks.registry import spec

        task = spec(self._task.rlhf_task)
        if task.variant_field:  # RL: Argilla's PPO settings come through PPOConfig, not a TRL config
            return []
        config_cls, _ = task.trainers[""].classes()
        return [f.name for f in dataclasses.fields(config_cls)]

    def run_config(self, output_dir: str | Path | None = None) -> RunConfig:
        """The RunConfig ``train`` submits: Argilla's defaults, then ``update_config``'s settings."""
        task = self._task
        is_ppo = isinstance(task, TrainingTaskForPPO)
        # Argilla's PPO loop trained on every prompt (train and test together).
        train_size = 1.0 if is_ppo or self._train_size is None else float(self._train_size)
        code = task.user_code()
        data = DataSettings(dataset=self._dataset.spec, dataset_config=self._dataset.dataset_config,
                            split=self._dataset.split, formatting_code=task.run_source(), function=code.function,
                            train_size=train_size, split_seed=self._seed)
        training = TrainingSettings(num_train_epochs=1.0, logging_steps=1, seed=self._seed)
        rl = RLSettings()
        if is_ppo:
            rl = RLSettings(algorithm="ppo", generation_kwargs=dict(ARGILLA_GENERATION_KWARGS),
                            **_length_sampler(ARGILLA_LENGTH_SAMPLER))
            ppo = dict(self._ppo)
            config_training = ppo.pop("_config_training", {})
            for name, value in {**config_training, **self._training}.items():
                setattr(training, name, value)
            for name, value in ppo.items():
                setattr(rl, name, value)
        else:
            for name, value in self._training.items():
                setattr(training, name, value)
            training.extra = dict(self._extra)
        lora = LoraSettings(**{**dataclasses.asdict(LoraSettings()), **self._lora})
        run_name = Path(output_dir).name if output_dir else None
        return RunConfig(task=task.rlhf_task, model=self._model_for_run(), run_name=run_name, data=data,
                         training=training, lora=lora, rl=rl)

    def _model_for_run(self) -> str:
        """The model as a run config names it: a name or path, or the folder the model/tokenizer objects were
        saved to (once per trainer; see rlhf.compat.objects)."""
        if self._model_object is None and self._tokenizer_object is None:
            return self._model
        if "model" not in self._saved_inputs:
            self._saved_inputs["model"] = save_model(self._model_object, self._tokenizer_object, self._model,
                                                     single_output=self._task.rlhf_task == "rm")
        return str(self._saved_inputs["model"])

    @property
    def _trainer(self) -> "TrainerSettingsView":
        """What Argilla 1.x's framework trainer exposed, read-only: its training arguments and trainer keyword
        arguments as configured so far, and the model and tokenizer it trains."""
        return TrainerSettingsView(self)

    # -- training --------------------------------------------------------------------------------------------

    def train(self, output_dir: str | Path, **unknown: Any) -> None:
        """Train in an rlhf run, printing its progress; then copy its model into ``output_dir``."""
        from rlhf.paths import runs_dir
        from rlhf.runs.manager import RunManager

        reject_unknown("ArgillaTrainer.train", unknown, ["output_dir"])
        if not output_dir:
            raise CompatArgumentError("ArgillaTrainer.train: output_dir is required.")
        config = self.run_config(output_dir)
        if isinstance(self._task, TrainingTaskForPPO) and not config.rl.reward_models:
            raise ConfigError("To train with PPO, give a reward model first: trainer.update_config(reward_model="
                              "'path/to/reward_model' or a transformers pipeline).")
        manager = RunManager(runs_dir())
        self.run_id = manager.submit(config)
        self.run_dir = manager.runs_dir / self.run_id
        _say(f"rlhf run {self.run_id} in {self.run_dir} (follow it in the app's Train tab)")
        self._note_saved_inputs(config)
        try:
            info = follow_run(manager, self.run_id, _say)
        except KeyboardInterrupt:
            _say(f"stopping run {self.run_id} (it saves a checkpoint; resume it from the app)")
            manager.stop(self.run_id)
            manager.wait(self.run_id, timeout=120)
            raise
        if info["status"] != RunStatus.FINISHED:
            raise RunFailedError(
                f"run {self.run_id} {info['status']}: {info.get('error') or 'no reason recorded'} "
                f"(its log: {self.run_dir / 'stdout.log'})", self.run_id, info["status"])
        self.save(output_dir)

    def save(self, output_dir: str | Path) -> None:
        """Copy the finished run's model (``final/``: model or adapter, plus tokenizer) into ``output_dir``."""
        if self.run_dir is None or not (self.run_dir / "final").is_dir():
            raise ConfigError("ArgillaTrainer.save: nothing to save yet; call trainer.train(output_dir=…) first.")
        shutil.copytree(self.run_dir / "final", Path(output_dir), dirs_exist_ok=True)
        _say(f"saved the model to {output_dir}")

    def _note_saved_inputs(self, config: RunConfig) -> None:
        """The run's log says which of its inputs were Python objects, and where they were saved for it."""
        from rlhf.runs.events import append_event

        notes = []
        if "model" in self._saved_inputs:
            given = " and ".join(kind for kind, obj in (("model", self._model_object),
                                                         ("tokenizer", self._tokenizer_object)) if obj is not None)
            notes.append(f"model: the {given} object{'s' if ' and ' in given else ''} given to ArgillaTrainer, "
                         f"saved for this run to {self._saved_inputs['model']}")
        reward = self._given.get("reward_model")
        if reward is not None and not isinstance(reward, (str, Path)) and config.rl.reward_models:
            notes.append(f"reward_models: the {type(reward).__name__} object given to update_config, saved for "
                         f"this run to {config.rl.reward_models[0]} (its last label's score is the reward)")
        for note in notes:
            append_event(self.run_dir / "events.jsonl", {"note": note})  # follow_run prints it

    # -- the model, after training ---------------------------------------------------------------------------

    def generate_model_card(self, output_dir: str | Path | None = None) -> str:
        """The run's model card (rlhf's, as the app's push uploads it), also written to ``output_dir/README.md``;
        returns its Markdown."""
        from rlhf.hub.card import model_card

        run_dir = self._finished_run("generate_model_card")
        card = model_card(run_dir)
        if output_dir is not None:
            Path(output_dir).mkdir(parents=True, exist_ok=True)
            (Path(output_dir) / "README.md").write_text(card, encoding="utf-8")
        return card

    def push_to_huggingface(self, repo_id: str, generate_card: bool = True, token: str | None = None,
                            private: bool = True, merge_adapter: bool = False, **unknown: Any) -> str:
        """Upload the finished run's model with its card, as the app's Push does; returns the repo URL.

        The token: ``token``, else ``HF_TOKEN``, else the stored login (never printed or saved). Repos are created
        private unless ``private=False`` (Argilla's push left them public)."""
        from rlhf.hub.push import push_run

        reject_unknown("ArgillaTrainer.push_to_huggingface", unknown,
                       ["repo_id", "generate_card", "token", "private", "merge_adapter"])
        if not generate_card:
            raise CompatArgumentError("push_to_huggingface: generate_card=False is not supported; rlhf's push always "
                                      "uploads the run's card (its settings and results; never a token).")
        return push_run(self._finished_run("push_to_huggingface"), repo_id, token=token, private=private,
                        merge_adapter=merge_adapter, progress=_say)

    def _finished_run(self, what: str) -> Path:
        if self.run_dir is None or not (self.run_dir / "final").is_dir():
            raise ConfigError(f"ArgillaTrainer.{what}: no trained model yet; call trainer.train(output_dir=…) first.")
        return self.run_dir

    def predict(self, *args: Any, **kwargs: Any):
        raise PredictNotSupportedError(
            "ArgillaTrainer.predict: models trained with TRL cannot be used for label predictions (as in Argilla "
            "1.x); generate with rlhf.inference.generation.generate(output_dir, …) or score with "
            "rlhf.inference.scoring.RewardScorer(output_dir).")


# -- following a run -----------------------------------------------------------------------------------------------

def follow_run(manager, run_id: str, say: Callable[[str], None], poll_s: float = 0.25) -> dict[str, Any]:
    """Print the run's events as they come until it ends; returns its final status."""
    from rlhf.runs.status import TERMINAL

    events = manager.runs_dir / run_id / "events.jsonl"
    offset, pending = 0, b""
    while True:
        info = manager.status(run_id)  # also records "interrupted" should the processes vanish
        if events.exists():
            with open(events, "rb") as handle:
                handle.seek(offset)
                chunk = handle.read()
            offset += len(chunk)
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                try:
                    say(describe_event(json.loads(line)))
                except ValueError:
                    continue
        if info["status"] in TERMINAL and not pending:
            return manager.wait(run_id, timeout=120)
        time.sleep(poll_s)


def describe_event(event: dict[str, Any]) -> str:
    """One event as a log line: statuses in words, metrics as the dict a transformers Trainer prints."""
    event = {k: v for k, v in event.items() if k != "time"}
    for key in ("note", "warning"):
        if isinstance(event.get(key), str):
            return ("warning: " if key == "warning" else "") + event[key]
    status = event.pop("status", None)
    if status is not None:
        detail = ", ".join(f"{k}: {v}" for k, v in event.items() if v not in (None, False, ""))
        return status + (f" ({detail})" if detail else "")
    prepared = event.get("prepared")
    if isinstance(prepared, dict):
        splits = prepared.get("splits") or {}
        return (f"prepared {prepared.get('records')} records → {prepared.get('rows')} rows"
                + (f" ({', '.join(f'{k} {v}' for k, v in splits.items())})" if splits else ""))
    # Metrics first and step last, rounded to 4 significant digits: as a transformers Trainer prints its logs.
    order = [k for k in event if k not in ("step", "epoch")] + [k for k in ("epoch", "step") if k in event]
    return str({k: (float(f"{event[k]:.4g}") if isinstance(event[k], float) else event[k]) for k in order})


def _say(line: str) -> None:
    print(line, flush=True)


# -- translating Argilla/TRL/PEFT objects into RunConfig values ------------------------------------------------------

def _model_reference(model: Any) -> str:
    if not isinstance(model, (str, Path)):
        raise CompatArgumentError(f"ArgillaTrainer: model must be a name or a path ('starter', a Hub id, a local "
                                  f"folder) or a transformers model object, got {type(model).__name__}.")
    return _local_or_id(str(model))


def _local_or_id(ref: str) -> str:
    """Local folders become absolute (runs start elsewhere); Hub ids and 'starter' stay as they are."""
    path = Path(ref).expanduser()
    return str(path.resolve()) if path.exists() else ref


def _reward_model_reference(value: Any) -> str:
    """A path or a Hub id; a pipeline or classifier over a saved single-score model: its ``name_or_path``; any
    other pipeline or classifier (several labels, or not saved): saved for the run (rlhf.compat.objects)."""
    if isinstance(value, (str, Path)):
        return _local_or_id(str(value))
    model = value if is_model_object(value) else getattr(value, "model", None)
    labels = getattr(getattr(model, "config", None), "num_labels", 1) or 1
    name = getattr(model, "name_or_path", None)
    if labels == 1 and isinstance(name, str) and name and (Path(name).expanduser().is_dir()
                                                           or not is_model_object(model)):
        return _local_or_id(name)
    if is_model_object(model):
        return str(reward_model_folder(value))
    raise CompatArgumentError(f"update_config: reward_model must be a path, a Hub id, a transformers pipeline or a "
                              f"sequence classifier, got {type(value).__name__}.")


def _length_sampler(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise CompatArgumentError("update_config: length_sampler_kwargs must be a dict "
                                  "{'min_value': …, 'max_value': …}.")
    reject_unknown("update_config(length_sampler_kwargs=…)",
                   {k: v for k, v in value.items() if k not in ("min_value", "max_value")},
                   ["min_value", "max_value"])
    settings = {}
    if value.get("min_value") is not None:
        settings["min_new_tokens"] = int(value["min_value"])
    if value.get("max_value") is not None:
        settings["max_new_tokens"] = int(value["max_value"])
    return settings


def _lora_settings(peft_config: Any) -> dict[str, Any]:
    """A ``peft.LoraConfig`` → rlhf's LoRA settings (r, lora_alpha, lora_dropout, target_modules)."""
    if peft_config is None:
        return {"use_peft": False}
    if not all(hasattr(peft_config, name) for name in ("r", "lora_alpha", "lora_dropout")):
        raise CompatArgumentError(f"update_config: peft_config must be a peft.LoraConfig, got "
                                  f"{type(peft_config).__name__}.")
    try:
        from peft import LoraConfig

        defaults = LoraConfig()
    except ImportError:  # peft is a dependency of rlhf; stay usable with a look-alike object
        defaults = None
    for name in _LORA_UNSUPPORTED:
        if defaults is not None and hasattr(peft_config, name) and \
                getattr(peft_config, name) != getattr(defaults, name, None):
            raise CompatArgumentError(f"update_config: peft_config.{name}={getattr(peft_config, name)!r} is not "
                                      "supported; rlhf's LoRA takes r, lora_alpha, lora_dropout and target_modules.")
    targets = getattr(peft_config, "target_modules", None)
    if isinstance(targets, str):
        targets = None if targets == "all-linear" else [targets]
    elif targets is not None:
        targets = sorted(targets)
    return {"use_peft": True, "lora_r": int(peft_config.r), "lora_alpha": int(peft_config.lora_alpha),
            "lora_dropout": float(peft_config.lora_dropout), "lora_target_modules": targets}


def _plain(where: str, name: str, value: Any) -> Any:
    """Run configs are YAML: values must be plain data (numbers, strings, lists, dicts)."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise CompatArgumentError(f"{where}: {name} must be plain data (numbers, strings, lists, dicts) to be saved "
                                  f"with the run, got {type(value).__name__}.") from None
    return value


def _plain_dict(name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CompatArgumentError(f"update_config: {name} must be a dict, got {type(value).__name__}.")
    return _plain("update_config", name, dict(value))


# -- Argilla's ``trainer._trainer`` --------------------------------------------------------------------------------

class TrainerSettingsView:
    """Argilla 1.x's framework trainer as scripts and its tests read it (``trainer._trainer``), read-only:
    ``training_args_kwargs`` (the training arguments set: Argilla's defaults, then ``update_config``'s; for PPO also
    ``generation_kwargs`` and ``length_sampler_kwargs``), ``trainer_kwargs`` (PPO: ``config`` and
    ``reward_model`` as given; LoRA: ``peft_config``), ``trainer_model`` and ``trainer_tokenizer`` (the objects
    given, else the model's name or path and None). Change settings with ``trainer.update_config(…)``."""

    def __init__(self, trainer: "ArgillaTrainer") -> None:
        self._of = trainer

    @property
    def training_args_kwargs(self):
        from types import MappingProxyType

        trainer = self._of
        settings: dict[str, Any] = {"num_train_epochs": 1, "logging_steps": 1, "seed": trainer._seed}
        settings.update(trainer._ppo.get("_config_training", {}))
        settings.update(trainer._training)
        settings.update(trainer._extra)
        if isinstance(trainer._task, TrainingTaskForPPO):
            settings["generation_kwargs"] = dict(trainer._ppo.get("generation_kwargs", ARGILLA_GENERATION_KWARGS))
            settings["length_sampler_kwargs"] = {
                "min_value": trainer._ppo.get("min_new_tokens", ARGILLA_LENGTH_SAMPLER["min_value"]),
                "max_value": trainer._ppo.get("max_new_tokens", ARGILLA_LENGTH_SAMPLER["max_value"])}
        return MappingProxyType(copy.deepcopy(settings))

    @property
    def trainer_kwargs(self):
        from types import MappingProxyType

        kwargs = dict(self._of._given)
        if self._of._lora.get("use_peft"):
            kwargs["peft_config"] = dict(self._of._lora)
        return MappingProxyType(kwargs)

    @property
    def trainer_model(self):
        return self._of._model_object if self._of._model_object is not None else self._of._model

    @property
    def trainer_tokenizer(self):
        return self._of._tokenizer_object


__all__ = ["ArgillaTrainer", "PredictNotSupportedError", "RunFailedError", "TrainerSettingsView", "describe_event",
           "follow_run"]
