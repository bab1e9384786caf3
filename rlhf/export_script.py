"""``python -m rlhf export-script``: a run config → one standalone Python script on TRL, transformers, peft, datasets.

The script is for users who leave the app: it must not import ``rlhf``, and it must train the same thing the
run trains. So it is written from the same decisions the engine makes, not from a parallel copy of them:

* data: the source comes from :func:`rlhf.data.sources.resolve_source` and the decision from
  :func:`rlhf.formatting.plan.choose_rows` (the user's function, a task template for dolly-style Argilla data,
  or plain columns), and the function's source is
  inlined with a small loop that applies Argilla's rules (``None`` drops, a list/generator flattens);
* training arguments: the run's plan (:func:`rlhf.tasks.plan.resolve`, what ``rlhf train`` builds its trainer
  from) is resolved once per hardware profile; an argument whose value depends on the hardware (batch size,
  bf16, ``use_cpu``) becomes a conditional expression evaluated where the script runs;
* PPO, which TRL no longer ships, inlines ``rlhf/tasks/ppo.py`` verbatim when it only needs torch,
  transformers and peft; otherwise the script says so and exits pointing to ``python -m rlhf train``.

Each part of the script comes from one template string below; :func:`export_script` fills and joins them.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime
import inspect
import re
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable

from rlhf.errors import ConfigError, HubUnreachableError
from rlhf.runs.config import RunConfig

DEFAULT_OUTPUT_DIR = "trl-output"
EXPORT_SUFFIX = "-export"  # an exported run's script writes to <run>-export, not to the run's folder
BUILDERS = {"jsonl": "json", "json": "json", "csv": "csv", "parquet": "parquet", "arrow": "arrow"}
# Modules an inlined PPO module may import besides the standard library: what the script needs anyway.
PPO_ALLOWED_IMPORTS = {"torch", "transformers", "peft", "safetensors", "__future__"}


class Code(str):
    """Python source to write as is (``repr`` is the text itself), where a value would be ``repr``-ed."""

    def __repr__(self) -> str:
        return str(self)


# -- templates, one per section of the script ------------------------------------------------------------------

HEADER = '''\
"""{title}

Exported by `python -m rlhf export-script` from {origin} on {date}.
Needs only TRL, transformers, peft and datasets (no rlhf). It reproduces the run: the same rows (formatting
function, Argilla's flattening rules, train/test split), the same {config_cls} arguments rlhf resolves on the
hardware this script runs on, and the same trainer. Change the constants below to move things around.
{notes}"""
from __future__ import annotations

import json
import os
import types

import datasets
import torch
{imports}
'''

SETTINGS = '''
# -- settings ----------------------------------------------------------------------------------------------------
{model_comment}MODEL = {model!r}
OUTPUT_DIR = {output_dir!r}
FINAL_DIR = os.path.join(OUTPUT_DIR, "final")
# rlhf's hardware-dependent defaults (batch size, bf16, CPU training) are decided from these two.
CUDA = torch.cuda.is_available()
BF16 = CUDA and torch.cuda.is_bf16_supported()
'''

LOAD_HUB = '''
# -- records -----------------------------------------------------------------------------------------------------
records = datasets.load_dataset({dataset!r}, {dataset_config!r}, split={split!r})
'''

LOAD_FILES = '''
# -- records -----------------------------------------------------------------------------------------------------
records = datasets.load_dataset({builder!r}, data_files={files!r}, split="train")
'''

LOAD_SAMPLE = '''
# -- records -----------------------------------------------------------------------------------------------------
# The run used rlhf's bundled sample ('sample'): a few hundred feedback records in the Argilla 1.x layout, the
# file rlhf/data/sample/records.jsonl in the rlhf repository. Point this at your copy if it moved.
records = datasets.load_dataset("json", data_files={path!r}, split="train")
'''

ARGILLA_V2 = '''
# The dataset is an Argilla 2.x export; rlhf hands formatting functions Argilla 1.x records, converted like this.
{source}
ARGILLA_LAYOUT = types.SimpleNamespace(fields={fields!r}, questions={questions!r})
records = [v2_to_v1(row, ARGILLA_LAYOUT) for row in records]
'''

FORMATTING = '''
# -- formatting function: {label}
{source}

format_record = {function}
ROW_COLUMNS = {columns!r}  # what one returned row holds, for this task
ROW_TYPES = ({types})


def to_rows(records, func, columns):
    """Argilla's prepare_for_training rules: records in order; None drops a record; a list or generator
    flattens one level (its None entries dropped); anything else is one row of this task's type."""
    rows = []
    for index, record in enumerate(records):
        result = func(record)
        for value in result if isinstance(result, (list, types.GeneratorType, map, filter)) else [result]:
            if value is None:
                continue
            if len(columns) == 1 and isinstance(value, ROW_TYPES[0]):
                value = (value,)
            elif not (len(columns) > 1 and isinstance(value, tuple) and len(value) == len(columns)
                      and all(isinstance(v, t) for v, t in zip(value, ROW_TYPES))):
                raise SystemExit(f"record {{index}}: the formatting function returned {{value!r:.80}}; expected "
                                 f"{expected!r}.")
            rows.append(dict(zip(columns, value)))
    if not rows:
        raise SystemExit("the formatting function dropped every record: no rows to train on.")
    return datasets.Dataset.from_list(rows)


rows = to_rows(records, format_record, ROW_COLUMNS)
'''

PLAIN_COLUMNS = '''
# -- rows: the dataset already has the columns this task trains on, so there is no formatting function -------
# As rlhf does, records with an empty value in one of them are dropped.
rows = records.select_columns({source_columns!r}){rename}
rows = rows.filter(lambda row: all(row[c] is not None and row[c] != "" and row[c] != [] for c in {columns!r}))
'''

SPLIT = '''
# -- train/test split: datasets' train_test_split, as rlhf and Argilla do it -------------------------------------
split = rows.train_test_split(train_size={train_size!r}, seed={seed!r})
train_dataset, eval_dataset = split["train"], split["test"]
'''

NO_SPLIT = '''
# -- train/test split: train_size is 1, every row trains ---------------------------------------------------------
train_dataset, eval_dataset = rows, None
'''

TOKENIZER = '''
# -- model -------------------------------------------------------------------------------------------------------
DTYPE = {dtype!r}
tokenizer = AutoTokenizer.from_pretrained(MODEL)
if tokenizer.pad_token is None:
    tokenizer.pad_token = tokenizer.eos_token
'''

MODEL = '''{comment}set_seed({seed!r})  # before the model: a fresh head or fresh weights are drawn here, as in rlhf's run
model = {loader}
'''

REWARD_MODEL_PAD = '''model.config.pad_token_id = tokenizer.pad_token_id
'''

LORA = '''
# -- LoRA --------------------------------------------------------------------------------------------------------
peft_config = LoraConfig(r={r!r}, lora_alpha={alpha!r}, lora_dropout={dropout!r}, target_modules={targets!r},
                         task_type={task_type!r})
'''

NO_LORA = '''
peft_config = None  # full fine-tuning (use_peft is off)
'''

TRAINING_ARGS = '''
# -- training arguments: what rlhf resolved from the run config ---------------------------------------------------
args = {config_cls}(
{arguments}
)
'''

TRAINER = '''
# -- trainer -----------------------------------------------------------------------------------------------------
trainer = {trainer_cls}(model=model, args=args, train_dataset=train_dataset, eval_dataset=eval_dataset,
{indent}processing_class=tokenizer, peft_config=peft_config)
'''

REWARD_MODELS = '''
# -- rewards: reward models (finished rm runs) and/or a Python reward function; with several, rewards add up -------
REWARD_MODELS = {paths!r}
REWARD_NAMES = {names!r}  # what each model's rewards are logged as


def load_reward_model(path):
    """A one-score sequence classifier and its tokenizer; a LoRA adapter is merged into its base."""
    reward_tokenizer = AutoTokenizer.from_pretrained(path)
    if reward_tokenizer.pad_token is None:
        reward_tokenizer.pad_token = reward_tokenizer.eos_token
    if os.path.exists(os.path.join(path, "adapter_config.json")):
        from peft import AutoPeftModelForSequenceClassification

        reward_model = AutoPeftModelForSequenceClassification.from_pretrained(path, num_labels=1).merge_and_unload()
    else:
        reward_model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)
    reward_model.config.pad_token_id = reward_tokenizer.pad_token_id
    return reward_model.eval(), reward_tokenizer


reward_models = [load_reward_model(path) for path in REWARD_MODELS]


def score_texts(reward_model, reward_tokenizer, texts, batch_size=16):
    """One float per text from a reward model: rlhf.inference.scoring.RewardScorer's scoring. Each text ends in
    the EOS token, as RewardTrainer trained on it."""
    device = next(reward_model.parameters()).device
    eos = reward_tokenizer.eos_token or ""
    texts = [t if t.endswith(eos) else t + eos for t in texts]
    scores = []
    for start in range(0, len(texts), batch_size):
        batch = reward_tokenizer(list(texts[start:start + batch_size]), padding=True, truncation=True,
                                 max_length={reward_max_length!r}, return_tensors="pt").to(device)
        with torch.no_grad():
            scores += reward_model(**batch).logits[:, 0].float().cpu().tolist()
    return scores
'''

REWARD_FUNCTION = '''
# -- reward function: {label}
{source}

reward_function = {function}
'''

TRL_RL_TRAINER = '''
# -- trainer -----------------------------------------------------------------------------------------------------
def reward_model_func(reward_model, reward_tokenizer, name):
    """A TRL reward function scoring prompt + completion with score_texts (ending in EOS, as the reward model
    trained and as rlhf scores), not the bare model TRL would feed without EOS."""
    def reward(prompts, completions, **kwargs):
        return score_texts(reward_model, reward_tokenizer, [p + c for p, c in zip(prompts, completions)])

    reward.__name__ = name
    return reward


for reward_model, _ in reward_models:
    reward_model.to("cuda" if CUDA else "cpu")
reward_funcs = [reward_model_func(m, t, name) for (m, t), name in zip(reward_models, REWARD_NAMES)]{plus_function}
trainer = {trainer_cls}(model=model, reward_funcs=reward_funcs, args=args, train_dataset=train_dataset,
{indent}processing_class=tokenizer, peft_config=peft_config)
'''

PPO_MODULE = '''
# -- PPO: rlhf/tasks/ppo.py, inlined verbatim (TRL no longer ships a PPOTrainer) ----------------------------------
{source}
'''

PPO_TRAINER = '''
# -- rewards and trainer -----------------------------------------------------------------------------------------
def reward_fn(prompts, completions):
    """The run's reward: the reward models' scores of prompt + completion, plus the reward function's."""
    totals = [0.0] * len(completions)
    for reward_model, reward_tokenizer in reward_models:
        scores = score_texts(reward_model, reward_tokenizer, [p + c for p, c in zip(prompts, completions)])
        totals = [t + s for t, s in zip(totals, scores)]{add_function}
    return totals


for reward_model, _ in reward_models:
    reward_model.to("cuda" if CUDA else "cpu")
args = PPOSettings(
{arguments}
)
trainer = PPOTrainer(model_path=MODEL, tokenizer=tokenizer, prompts=list(train_dataset["prompt"]),
                     reward_fn=reward_fn, settings=args, output_dir=OUTPUT_DIR, peft_config=peft_config,
                     on_log=print)
'''

PPO_ADD_FUNCTION = '''
    values = reward_function(prompts=prompts, completions=completions)
    totals = [t + (0.0 if v is None else float(v)) for t, v in zip(totals, values)]'''

PPO_UNAVAILABLE = '''
# -- PPO ---------------------------------------------------------------------------------------------------------
raise SystemExit("This run uses PPO, which TRL no longer ships and which this script could not inline "
                 "({reason}). Train it with rlhf instead: python -m rlhf train --config {config_path}")
'''

TRAIN = '''
# -- train and save (run as a script; imported, it stops here with `trainer` built) ------------------------------
if __name__ == "__main__":
    trainer.train()
    trainer.save_model(FINAL_DIR)
    tokenizer.save_pretrained(FINAL_DIR)
    print(f"saved the model to {FINAL_DIR}")
'''


# -- public API ---------------------------------------------------------------------------------------------------

def export_dir(run_id: str) -> str:
    """Where an exported run's script writes: a new folder beside where it is run, never the run's own folder
    (running the script there would overwrite the run the app shows)."""
    return f"{Path(run_id).name}{EXPORT_SUFFIX}"


def export_script_from_file(config_path: str | Path, output_dir: str | None = None) -> str:
    """The script for a saved ``config.yaml`` (a run folder's, or one written by hand). A run folder's config
    names that folder as its output: the script writes to ``output_dir``, by default ``<run>-export``."""
    config = RunConfig.load(config_path)
    folder = Path(config_path).resolve().parent
    if output_dir is None and config.output_dir and Path(config.output_dir).resolve() == folder:
        output_dir = export_dir(folder.name)
    if output_dir is not None:
        config = dataclasses.replace(config, output_dir=output_dir)
    return export_script(config, origin=str(config_path))


def export_script(config: RunConfig, origin: str = "a run config") -> str:
    """A standalone Python script that reproduces ``config``'s run; always valid Python (checked here)."""
    config = dataclasses.replace(config, output_dir=config.output_dir or DEFAULT_OUTPUT_DIR)
    config.validate()
    writer = _ScriptWriter(config, origin)
    script = writer.write()
    compile(script, "exported_script.py", "exec")  # a bug here must never hand the user broken code
    return script


# -- the writer ---------------------------------------------------------------------------------------------------

class _ScriptWriter:
    def __init__(self, config: RunConfig, origin: str):
        from rlhf.tasks.registry import spec

        self.config, self.origin = config, origin
        self.spec = spec(config.task)
        self.model_path = _model_path(config.model)
        self.limit = _model_max_length(self.model_path)
        self.plan = self._plan()  # on this machine's CPU profile; _by_hardware resolves the others
        self.trainer = self.plan.trainer
        self.is_ppo = self.trainer.config == "PPOSettings"
        self.notes: list[str] = []
        self.imports: dict[str, set[str]] = {"transformers": {"AutoTokenizer"}}
        self.stops_early = False  # PPO that cannot be inlined: the script explains and exits

    def write(self) -> str:
        body = [self._settings(), *self._rows(), self._model(), self._lora(), *self._trainer()]
        from rlhf.runs.launch import script_launch_note

        self.notes.append(script_launch_note(self.config))  # the run config is where the world size is set
        if not self.stops_early:
            body.append(TRAIN)
        return self._header() + "".join(body)  # the header last: sections add notes and imports

    # -- sections -----------------------------------------------------------------------------------------------

    def _header(self) -> str:
        c = self.config
        what = self.spec.title + (f" ({self.spec.variant(c).upper()})" if self.spec.variant(c) else "")
        title = f"{what[0].upper() + what[1:]} of {c.model} on {c.data.dataset}, reproducing rlhf run " \
                f"'{c.run_name or Path(c.output_dir).name.removesuffix(EXPORT_SUFFIX)}'."
        notes = "".join("\n" + textwrap.fill(n, 110) + "\n" for n in self.notes)
        return HEADER.format(title=title, origin=self.origin, date=datetime.date.today().isoformat(),
                             config_cls=self.trainer.config, notes=notes,
                             imports="\n".join(f"from {module} import {', '.join(sorted(names))}"
                                               for module, names in sorted(self.imports.items())))

    def _import(self, module: str, name: str) -> None:
        self.imports.setdefault(module, set()).add(name)

    def _settings(self) -> str:
        from rlhf.starter import is_starter

        comment = ""
        if is_starter(self.config.model):  # the folder below is the starter's own build
            comment = ("# The run's model is rlhf's tiny starter model ('starter'): this is the folder\n"
                       "# rlhf.starter.resolve_model built it into on the machine that exported this script.\n"
                       "# Elsewhere, build it with `python -m rlhf.starter --print-path`, or use any causal LM.\n")
        return SETTINGS.format(model_comment=comment, model=self.model_path, output_dir=self.config.output_dir)

    def _rows(self) -> list[str]:
        from rlhf.data.layouts import ARGILLA_V2, source_column
        from rlhf.formatting.user_code import UserCode

        data = self.config.data
        code = UserCode.coerce(data.formatting_code or data.formatting_func, data.function)
        source, layout, choice = self._choice(code)
        sections = [self._load_records(source)]
        if choice.code is not None:
            if layout is not None and layout.name == ARGILLA_V2:
                from rlhf.data.layouts import v2_to_v1

                sections.append(ARGILLA_V2.format(source=_inline(inspect.getsource(v2_to_v1)),
                                                  fields=layout.fields, questions=layout.questions))
            rows = self.spec.rows
            sections.append(FORMATTING.format(label=choice.label, source=_inline(choice.code.source),
                                              function=_identifier(choice.code.function, "function"),
                                              columns=rows.columns, types="".join(f"{t}, " for t in rows.types),
                                              expected=rows.expected))
        else:
            columns = choice.plain_columns
            stored = [source_column(layout, c) for c in columns]
            renames = {s: c for s, c in zip(stored, columns) if s != c}
            sections.append(PLAIN_COLUMNS.format(source_columns=stored, columns=columns,
                                                 rename=f".rename_columns({renames!r})" if renames else ""))
        sections.append(SPLIT.format(train_size=data.train_size, seed=data.split_seed) if data.train_size < 1
                        else NO_SPLIT)
        return sections

    def _choice(self, code):
        """rlhf's own decision (function, plain columns or template) from the dataset's columns.

        When the Hub cannot be reached to look at them, a given function is used as is: (None, None, choice).
        """
        from rlhf.data.sources import resolve_source
        from rlhf.formatting.plan import RowsChoice, choose_rows

        data = self.config.data
        try:
            source = resolve_source(data.dataset, split=data.split, config=data.dataset_config)
        except HubUnreachableError:
            if code is None:
                raise ConfigError(f"data.dataset: '{data.dataset}' cannot be read (the Hub is unreachable and it is "
                                  "not cached), so its columns cannot decide between plain columns and a template. "
                                  "Set data.formatting_func, or export where the Hub is reachable.") from None
            self.notes.append(f"The Hub was unreachable when exporting, so the columns of {data.dataset} were not "
                              "checked: the formatting function is assumed to receive Argilla 1.x records or plain "
                              "rows as they are.")
            return None, None, RowsChoice(code, None, f"{code.filename}:{code.function}")
        layout = source.layout()
        return source, layout, choose_rows(layout, self.spec.rows, code)

    def _load_records(self, source) -> str:
        data = self.config.data
        if source is None or source.kind == "hub":
            return LOAD_HUB.format(dataset=data.dataset, dataset_config=data.dataset_config, split=data.split)
        if source.kind == "sample":
            return LOAD_SAMPLE.format(path=str(source.files[0][0]))
        files = [str(path) for path, _ in source.files]
        return LOAD_FILES.format(builder=BUILDERS[source.files[0][1]], files=files[0] if len(files) == 1 else files)

    def _model(self) -> str:
        from rlhf.tasks.models import adapter_base
        from rlhf.tasks.spec import ModelKind

        adapter = adapter_base(self.model_path) if Path(self.model_path).is_dir() else None
        dtype = self._by_hardware(lambda plan: Code(f"torch.{plan.dtype}"))
        section = TOKENIZER.format(dtype=dtype)
        if self.is_ppo:
            return section  # the PPO trainer loads the policy itself
        classifier = self.spec.model_kind is ModelKind.CLASSIFIER
        comment = (f"# MODEL is a LoRA adapter on {adapter}: merged into its base first, as rlhf does.\n"
                   if adapter else "")
        extra = "".join(f", {k}={v!r}" for k, v in self._by_hardware(lambda plan: plan.model_kwargs).items())
        if classifier:
            cls = "AutoPeftModelForSequenceClassification" if adapter else "AutoModelForSequenceClassification"
            loader = f"{cls}.from_pretrained(MODEL, num_labels=1, dtype=DTYPE{extra})"
        elif self.plan.from_scratch:
            self._import("transformers", "AutoConfig")
            cls = "AutoModelForCausalLM"
            loader = f"AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(MODEL), dtype=DTYPE{extra})"
            comment = "# from_scratch: the model's architecture with fresh weights.\n"
            adapter = None
        else:
            cls = "AutoPeftModelForCausalLM" if adapter else "AutoModelForCausalLM"
            loader = f"{cls}.from_pretrained(MODEL, dtype=DTYPE{extra})"
        self._import("peft" if adapter else "transformers", cls)
        self._import("transformers", "set_seed")
        if adapter:
            loader += ".merge_and_unload()"
        section += MODEL.format(comment=comment, loader=loader, seed=self.config.training.seed)
        if classifier:
            section += REWARD_MODEL_PAD
        return section

    def _lora(self) -> str:
        lora = self.plan.lora
        if lora is None:
            return NO_LORA
        self._import("peft", "LoraConfig")
        return LORA.format(r=lora["r"], alpha=lora["lora_alpha"], dropout=lora["lora_dropout"],
                           targets=lora["target_modules"], task_type=lora["task_type"])

    def _trainer(self) -> list[str]:
        if self.is_ppo:
            return self._ppo()
        config_cls, trainer_cls = self.trainer.config, self.trainer.trainer
        self._import(self.trainer.module, config_cls)
        self._import(self.trainer.module, trainer_cls)
        if self.trainer.experimental:
            self.notes.append(f"{trainer_cls} is experimental in TRL ({self.trainer.module}): its API may change "
                              "between TRL releases.")
        arguments = _arguments(self._by_hardware(self._trl_arguments))
        sections = [TRAINING_ARGS.format(config_cls=config_cls, arguments=arguments)]
        indent = " " * (len(trainer_cls) + len("trainer = ") + 1)
        if not self.spec.variant_field:
            return sections + [TRAINER.format(trainer_cls=trainer_cls, indent=indent)]
        has_function = self._reward_sections(sections)
        sections.append(TRL_RL_TRAINER.format(
            trainer_cls=trainer_cls, indent=indent, plus_function=" + [reward_function]" if has_function else ""))
        return sections

    def _reward_sections(self, sections: list[str]) -> bool:
        """Reward models, then the reward function's source; True when there is a function."""
        from rlhf.tasks.rl import reward_code

        self._import("transformers", "AutoModelForSequenceClassification")
        from rlhf.inference.scoring import reward_name

        paths = [_model_path(ref) for ref in self.config.rl.reward_models]
        sections.append(REWARD_MODELS.format(paths=paths, names=[reward_name(path) for path in paths],
                                             reward_max_length=self.plan.max_length(512)))
        code = reward_code(self.config)
        if code is None:
            return False
        label = f"{code.filename}:{code.function}"
        sections.append(REWARD_FUNCTION.format(label=label, source=_inline(code.source),
                                               function=_identifier(code.function, "reward_function")))
        return True

    def _ppo(self) -> list[str]:
        from rlhf.tasks import ppo

        path = Path(ppo.__file__)
        reason = _ppo_inline_problem(path)
        if reason:
            self.notes.append("PPO: TRL has no PPOTrainer and rlhf's could not be inlined here, so this script "
                              "stops with a message; train the run with `python -m rlhf train`.")
            self.stops_early = True
            return [PPO_UNAVAILABLE.format(reason=reason, config_path=self.origin)]
        self.notes.append("PPO: TRL no longer ships a PPOTrainer, so rlhf's own (rlhf/tasks/ppo.py, torch + "
                          "transformers + peft only) is inlined below verbatim.")
        sections = [PPO_MODULE.format(source=_inline(path.read_text(encoding="utf-8")))]
        has_function = self._reward_sections(sections)
        sections.append(PPO_TRAINER.format(add_function=PPO_ADD_FUNCTION if has_function else "",
                                           arguments=_arguments(self._by_hardware(lambda plan: dict(plan.args)))))
        return sections

    # -- resolved settings: the run's plan, per hardware profile ------------------------------------------------

    def _plan(self, hardware=None):
        from rlhf.tasks.plan import CPU, resolve

        return resolve(self.config, hardware or CPU, model_path=self.model_path, max_length_limit=self.limit)

    def _by_hardware(self, pick: Callable[[Any], Any]) -> Any:
        """``pick(plan)`` on CPU, on a GPU without and with bf16, merged into one value or expression."""
        from rlhf.tasks.plan import Hardware

        profiles = (Hardware("cpu", 0, False), Hardware("cuda", 1, False), Hardware("cuda", 1, True))
        cpu, gpu, bf16 = (pick(self._plan(hw)) for hw in profiles)
        if isinstance(cpu, dict):
            return {k: self._merge(cpu.get(k), gpu.get(k), bf16.get(k)) for k in {**cpu, **gpu, **bf16}}
        return self._merge(cpu, gpu, bf16)

    @staticmethod
    def _merge(cpu: Any, gpu: Any, bf16: Any) -> Any:
        if cpu == gpu == bf16:
            return cpu
        if all(isinstance(v, bool) for v in (cpu, gpu, bf16)) and (gpu == bf16 or cpu == gpu):
            flag = "CUDA" if gpu == bf16 else "BF16"
            return Code(flag if bf16 else f"not {flag}")
        on_gpu = repr(bf16) if gpu == bf16 else f"{bf16!r} if BF16 else {gpu!r}"
        if cpu == gpu:  # only bf16 support matters (BF16 implies CUDA)
            return Code(f"{bf16!r} if BF16 else {cpu!r}")
        return Code(f"{on_gpu} if CUDA else {cpu!r}" if gpu == bf16 else f"({on_gpu}) if CUDA else {cpu!r}")

    @staticmethod
    def _trl_arguments(plan) -> dict[str, Any]:
        """The plan's trainer arguments, with the output folder as the script's constant."""
        return {**plan.args, "output_dir": Code("OUTPUT_DIR")}


# -- helpers ------------------------------------------------------------------------------------------------------

def _arguments(values: dict[str, Any]) -> str:
    return "\n".join(f"    {name}={value!r}," for name, value in values.items())


def _model_path(ref: str) -> str:
    """What ``from_pretrained`` should read: the starter's folder, a run's ``final/``, a folder, or a Hub id.

    Unlike ``resolve_model_path`` this never needs the Hub: a Hub id is written as is.
    """
    from rlhf import starter
    from rlhf.tasks.models import resolve_model_path

    if starter.is_starter(ref):
        return str(starter.resolve_model(ref))
    if Path(ref).expanduser().is_dir():
        return resolve_model_path(ref)
    return ref


def _model_max_length(path: str) -> int | None:
    """The tokenizer's limit, for ``max_length``'s default; a model that cannot be read counts as unlimited."""
    try:
        from rlhf.tasks.models import load_tokenizer

        return load_tokenizer(path).model_max_length
    except Exception:
        return None


_FUTURE = re.compile(r"^from __future__ import [^\n]*\n?", re.MULTILINE)


def _inline(source: str) -> str:
    """Source text to paste mid-script: its ``from __future__`` lines go (the script starts with one)."""
    return _FUTURE.sub("", textwrap.dedent(source)).strip("\n")


def _identifier(name: str, field: str) -> str:
    if not name.isidentifier():
        raise ConfigError(f"{field}: '{name}' is not a Python function name.")
    return name


def _ppo_inline_problem(path: Path) -> str | None:
    """Why rlhf's PPO module cannot be pasted into a standalone script, or None when it can."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError) as error:
        return f"rlhf/tasks/ppo.py cannot be read ({error})"
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = ["." if node.level else (node.module or "")]
        for name in names:
            root = name.split(".")[0]
            if root not in PPO_ALLOWED_IMPORTS and root not in sys.stdlib_module_names:
                return f"rlhf/tasks/ppo.py imports {name or 'a relative module'}"
    return None
