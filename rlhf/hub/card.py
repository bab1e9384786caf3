"""The model card of a finished run: Hugging Face front matter, then what the model is, how it was trained, how
it did, and how to load it.

Everything comes from the run folder (``config.yaml``, ``events.jsonl``, ``metrics.json``, ``final/``), never
from the environment, so no token or machine setting can reach a public page; known secrets are redacted anyway
as a last guard. Local paths appear by their last component only: on the Hub they mean nothing, and they can
name the user's home folder.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from rlhf import __version__
from rlhf.errors import ConfigError
from rlhf.runs.config import RunConfig
from rlhf.runs.folder import RunFolder
from rlhf.runs.lineage import is_starter_ref, lineage, root, run_folder_of

# The project's home page, linked from every card. Empty: the card names rlhf without a link.
PROJECT_URL = ""  # set when the project has a public home
HUB_URL = "https://huggingface.co"  # fixed, not HF_ENDPOINT: a card shows no environment value
CARD_FILE = "card.md"
CURVE_FILE = "loss.png"

# The training table's settings, in this order, where the run's trainer has them.
SETTINGS_SHOWN = ("learning_rate", "per_device_train_batch_size", "gradient_accumulation_steps", "max_steps",
                  "num_train_epochs", "max_length", "lr_scheduler_type", "warmup_ratio", "seed", "packing", "beta",
                  "loss_type", "num_generations", "max_completion_length", "temperature", "kl_coef", "cliprange",
                  "cliprange_value", "vf_coef", "gamma", "lam", "num_ppo_epochs", "batch_size", "mini_batch_size",
                  "min_new_tokens", "max_new_tokens")
PPO_KNOBS = ("kl_coef", "cliprange", "cliprange_value", "vf_coef", "gamma", "lam", "num_ppo_epochs", "batch_size",
             "mini_batch_size", "min_new_tokens", "max_new_tokens")
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|CREDENTIAL", re.IGNORECASE)
SECRET_KEY = re.compile(r"token|secret|password|key|credential|auth", re.IGNORECASE)
SPARK = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Artifact:
    """What the pushed weights are; decides ``library_name``, the tags and the load snippet."""

    adapter: bool  # a LoRA adapter (peft) rather than full weights
    classifier: bool  # a reward model (sequence classifier, one output) rather than a causal LM

    @classmethod
    def of(cls, final: Path, task: str, merged: bool = False) -> "Artifact":
        adapter_config = final / "adapter_config.json"
        from rlhf.tasks.registry import spec
        from rlhf.tasks.spec import ModelKind

        classifier = spec(task).model_kind is ModelKind.CLASSIFIER
        if adapter_config.exists():
            try:
                task_type = json.loads(adapter_config.read_text(encoding="utf-8")).get("task_type")
            except (OSError, ValueError):
                task_type = None
            if task_type:
                classifier = task_type == "SEQ_CLS"
        return cls(adapter=adapter_config.exists() and not merged, classifier=classifier)


# -- the card ------------------------------------------------------------------------------------------------

def model_card(run_dir: str | Path, repo_id: str | None = None, merged: bool = False,
               secrets: Iterable[str] = ()) -> str:
    """The card as Markdown; also written to ``run_dir/card.md`` (and the curve to ``run_dir/loss.png``).

    ``repo_id`` goes into the load snippets (else the local ``final/`` path); ``merged`` describes a LoRA run
    pushed as full weights; ``secrets`` are strings that must not appear (the push passes its token).
    """
    folder = RunFolder.of(run_dir)
    if not folder.config.exists():
        raise ConfigError(f"{folder.path}: not a run folder (no config.yaml).")
    config = RunConfig.load(folder.config)
    artifact = Artifact.of(folder.final, config.task, merged)
    events = folder.read_events()
    title = repo_id.split("/")[-1] if repo_id else (config.run_name or folder.id)
    where = repo_id or f"{folder.id}/final"
    parts = [
        _front_matter(config, artifact),
        f"# {title}\n",
        _about(config, artifact, events, folder),
        _training_table(config, folder),
        _results(folder, events, config.task),
        _how_to_load(where, artifact, config, merged, local=repo_id is None),
        _footer(),
    ]
    card = _redact("\n".join(p for p in parts if p), secrets)
    folder.path.joinpath(CARD_FILE).write_text(card, encoding="utf-8")
    return card


def _front_matter(config: RunConfig, artifact: Artifact) -> str:
    import yaml

    meta: dict[str, Any] = {"library_name": "peft" if artifact.adapter else "transformers"}
    base = _base_model_id(config, artifact)
    if base:
        meta["base_model"] = base
    from rlhf.tasks.registry import spec

    task_tag = spec(config.task).card_tag(config)
    meta["tags"] = ["rlhf", "trl", task_tag] + (["lora"] if artifact.adapter or config.lora.use_peft else [])
    if _is_hub_id(config.data.dataset):
        meta["datasets"] = [config.data.dataset]
    meta["pipeline_tag"] = "text-classification" if artifact.classifier else "text-generation"
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n"


def _base_model_id(config: RunConfig, artifact: Artifact) -> str | None:
    """The Hub id the weights derive from: the root of the run chain; for an adapter, its direct base only
    (the adapter's deltas apply to that model and no other); none for the starter or a from-scratch run."""
    if config.from_scratch:
        return None
    base = config.model if artifact.adapter else root(config.model)
    return base if _is_hub_id(base) else None


def _about(config: RunConfig, artifact: Artifact, events: list[dict], folder: RunFolder) -> str:
    from rlhf.tasks.registry import spec

    task = spec(config.task)
    what = task.card_description(config)
    if artifact.adapter:
        what += ", stored as a LoRA adapter (load it with `peft`)"
    elif config.lora.use_peft:
        what += "; trained with LoRA and merged into full weights"
    lines = ["## What it is\n", f"This model is {what}.\n",
             f"- **Task:** `{config.task}`" + (f" ({task.variant(config)})" if task.variant(config) else ""),
             f"- **Base model:** " + (f"none: trained from scratch with the architecture of "
                                      f"{_describe_lineage(config.model)}" if config.from_scratch
                                      else _describe_lineage(config.model)),
             f"- **Dataset:** {_describe_dataset(config)}",
             f"- **Formatting function:** {_describe_formatting(config)}"]
    prepared = next((e["prepared"] for e in reversed(events) if isinstance(e.get("prepared"), dict)), None)
    if prepared and prepared.get("rows") is not None:
        lines.append(f"- **Training rows:** {prepared['rows']} rows from {prepared.get('records', '?')} records")
    if task.rewarded:
        lines.append(f"- **Rewards:** {_describe_rewards(config)}")
    if is_starter_ref(root(config.model)):
        lines.append("\nThe starter model is a tiny network meant to check a pipeline end to end, not to give "
                     "useful answers.")
    return "\n".join(lines) + "\n"


def _training_table(config: RunConfig, folder: RunFolder) -> str:
    """The settings the run trained with: its resolved plan (``plan.json``) where it has one, else the config's
    values ("task default" where it left one empty)."""
    t, lora = config.training, config.lora
    resolved = _resolved_args(folder)
    if resolved is not None:
        rows = [(name, resolved[name]) for name in SETTINGS_SHOWN if name in resolved
                and not (name == "num_train_epochs" and resolved.get("max_steps", -1) > 0)
                and not (name == "max_steps" and resolved[name] <= 0)]
    else:
        rows = _configured_settings(config)
    if lora.use_peft:
        rows += [("lora_r", lora.lora_r), ("lora_alpha", lora.lora_alpha), ("lora_dropout", lora.lora_dropout),
                 ("lora_target_modules", ", ".join(lora.lora_target_modules) if lora.lora_target_modules
                  else "all linear layers")]
    rows += [(key, value) for key, value in sorted(t.extra.items())
             if not SECRET_KEY.search(str(key)) and isinstance(value, (int, float, str, bool))]
    body = "\n".join(f"| `{name}` | {_cell(value)} |" for name, value in rows)
    return "## Training configuration\n\n| setting | value |\n|---|---|\n" + body + "\n"


def _resolved_args(folder: RunFolder) -> dict[str, Any] | None:
    args = folder.read_plan().get("args")
    return args if isinstance(args, dict) else None


def _configured_settings(config: RunConfig) -> list[tuple[str, Any]]:
    """For a run without ``plan.json``: what its config says."""
    from rlhf.tasks.registry import spec

    t, rl, task = config.training, config.rl, spec(config.task)
    rows: list[tuple[str, Any]] = [
        ("learning_rate", t.learning_rate),
        ("per_device_train_batch_size", t.per_device_train_batch_size),
        ("gradient_accumulation_steps", t.gradient_accumulation_steps),
        ("max_steps", t.max_steps) if t.max_steps > 0 else ("num_train_epochs", t.num_train_epochs),
        ("max_length", t.max_length),
        ("lr_scheduler_type", t.lr_scheduler_type),
        ("warmup_ratio", t.warmup_ratio),
        ("seed", t.seed),
    ]
    rows += [(name, getattr(t, name)) for name in ("packing", "beta", "loss_type") if getattr(t, name) is not None]
    if task.rewarded:
        rows += [("algorithm", rl.algorithm), ("num_generations", rl.num_generations),
                 ("max_completion_length", rl.max_completion_length), ("temperature", rl.temperature)]
        if task.trainer(config).config == "PPOSettings":
            rows += [(name, getattr(rl, name)) for name in PPO_KNOBS]
    return rows


def _results(folder: RunFolder, events: list[dict], task: str) -> str:
    metrics = {k: v for k, v in folder.read_metrics().items() if k not in ("task", "model")}
    lines = ["## Results\n"]
    if metrics:
        lines += ["| metric | value |", "|---|---|"]
        lines += [f"| `{k}` | {_cell(v)} |" for k, v in metrics.items() if isinstance(v, (int, float, str, bool))]
        lines.append("")
    name, steps, values = training_curve(events, task)
    if values:
        if draw_curve(steps, values, name, folder.path / CURVE_FILE):
            lines.append(f"![{name} during training]({CURVE_FILE})\n")
        else:
            (folder.path / CURVE_FILE).unlink(missing_ok=True)  # a stale picture from an earlier card
            lines.append(f"`{name}` during training ({len(values)} logged steps, {_cell(values[0])} → "
                         f"{_cell(values[-1])}, min {_cell(min(values))}):\n\n```text\n{sparkline(values)}\n```\n")
    if len(lines) == 1:
        lines.append("No metrics were recorded.\n")
    return "\n".join(lines)


def _how_to_load(where: str, artifact: Artifact, config: RunConfig, merged: bool, local: bool) -> str:
    repo = json.dumps(where)
    intro = ("Load it from the run folder (push it to the Hub to load it by repo id):" if local
             else "Load it with `transformers`:" if not artifact.adapter else "Load it with `peft`:")
    if artifact.classifier:
        code = _classifier_snippet(repo, artifact.adapter)
    else:
        code = _causal_snippet(repo, artifact.adapter)
    lines = ["## How to load it\n", intro, "", "```python", code, "```", ""]
    if artifact.adapter:
        base = config.model  # the adapter applies to this exact model, not to the root of its run chain
        if not _is_hub_id(base):
            lines.append(f"The adapter's base model ({_describe_ref(base)}) is not on the Hub: `peft` loads it from "
                         "the path saved in `adapter_config.json`, which exists only where the run was trained. "
                         "Push with `--merge-adapter` for a self-contained model.\n")
        else:
            lines.append(f"`peft` downloads the base model `{base}` and applies the adapter. Call "
                         "`model.merge_and_unload()` for a plain `transformers` model.\n")
    elif merged:
        lines.append("The LoRA adapter was merged into the base weights before upload, so no `peft` is needed.\n")
    return "\n".join(lines)


def _causal_snippet(repo: str, adapter: bool) -> str:
    if adapter:
        head = ("from peft import AutoPeftModelForCausalLM\nfrom transformers import AutoTokenizer\n\n"
                f"tokenizer = AutoTokenizer.from_pretrained({repo})\n"
                f"model = AutoPeftModelForCausalLM.from_pretrained({repo})")
    else:
        head = ("from transformers import AutoModelForCausalLM, AutoTokenizer\n\n"
                f"tokenizer = AutoTokenizer.from_pretrained({repo})\n"
                f"model = AutoModelForCausalLM.from_pretrained({repo})")
    return head + (
        "\n\nprompt = \"Name a primary colour.\"  # lay it out like the training text\n"
        "inputs = tokenizer(prompt, return_tensors=\"pt\")\n"
        "output = model.generate(**inputs, max_new_tokens=64, do_sample=True, top_p=0.9,\n"
        "                        pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)\n"
        "print(tokenizer.decode(output[0][inputs[\"input_ids\"].shape[1]:], skip_special_tokens=True))"
    )


def _classifier_snippet(repo: str, adapter: bool) -> str:
    if adapter:
        head = ("import torch\nfrom peft import AutoPeftModelForSequenceClassification\n"
                "from transformers import AutoTokenizer\n\n"
                f"tokenizer = AutoTokenizer.from_pretrained({repo})\n"
                f"model = AutoPeftModelForSequenceClassification.from_pretrained({repo}, num_labels=1).eval()")
    else:
        head = ("import torch\nfrom transformers import AutoModelForSequenceClassification, AutoTokenizer\n\n"
                f"tokenizer = AutoTokenizer.from_pretrained({repo})\n"
                f"model = AutoModelForSequenceClassification.from_pretrained({repo}).eval()")
    return head + (
        "\n\n\ndef score(text: str) -> float:\n"
        "    \"\"\"One reward per text (prompt and response together): higher is preferred. The text ends in the\n"
        "    EOS token, as TRL's RewardTrainer trained on it.\"\"\"\n"
        "    inputs = tokenizer(text + (tokenizer.eos_token or \"\"), return_tensors=\"pt\", truncation=True)\n"
        "    with torch.no_grad():\n"
        "        return model(**inputs).logits[0, 0].item()\n\n\n"
        "prompt = \"Name a primary colour.\\n\"\n"
        "print(score(prompt + \"Red is a primary colour of light.\") > score(prompt + \"Banana.\"))"
    )


def _footer() -> str:
    name = f"[rlhf]({PROJECT_URL})" if PROJECT_URL else "rlhf"
    return (f"---\n\nGenerated by {name} {__version__}: from a human-feedback dataset to a fine-tuned, aligned "
            "model.\n")


# -- describing references without leaking local paths ------------------------------------------------------

def _is_hub_id(ref: str | None) -> bool:
    """``owner/name`` or a canonical ``name`` that is not a local path and not the starter."""
    if not ref or ref.strip().lower() in ("starter", "sample") or Path(ref).expanduser().exists():
        return False
    return bool(re.fullmatch(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?", ref)) and not ref.endswith((".jsonl", ".json",
                                                                                           ".csv", ".parquet"))


def _describe_ref(ref: str) -> str:
    if is_starter_ref(ref):
        return "the rlhf starter model (a tiny GPT-2 built offline from rlhf's bundled sample; not on the Hub)"
    if _is_hub_id(ref):
        return f"[{ref}]({HUB_URL}/{ref})"
    run = run_folder_of(ref)
    if run is not None:
        return f"the rlhf run `{run.name}`"
    return f"a local model (`{Path(ref).name}`)"


def _describe_lineage(ref: str) -> str:
    chain = lineage(ref)
    text = _describe_ref(chain[0])
    for parent in chain[1:]:
        text += f", itself trained from {_describe_ref(parent)}"
    return text


def _describe_dataset(config: RunConfig) -> str:
    data = config.data
    split = f" (split `{data.split}`)" if data.split != "train" else ""
    if data.dataset.strip().lower() == "sample":
        return "rlhf's bundled sample: a few hundred feedback records in the Argilla v1 layout"
    if _is_hub_id(data.dataset):
        subset = f", subset `{data.dataset_config}`" if data.dataset_config else ""
        return f"[{data.dataset}]({HUB_URL}/datasets/{data.dataset}){subset}{split}"
    return f"a local dataset (`{Path(data.dataset).name}`){split}"


def _describe_formatting(config: RunConfig) -> str:
    data = config.data
    if data.formatting_code:
        from rlhf.compat.tasks import describe_run_source

        return (describe_run_source(data.formatting_code) or _from_template(data.function, data.formatting_code)
                or f"`{data.function}`, written in the app's editor")
    if data.formatting_func:
        return f"`{data.function}` from `{Path(data.formatting_func).name}`"
    return "none given: plain columns were used as they are, or the task's template for dolly-style Argilla data"


def _from_template(function: str, code: str, kind: str = "") -> str | None:
    """The app's editors start from rlhf's templates: code left as the template is said to be the template
    (``None`` for code that was changed)."""
    from rlhf.formatting.templates import TEMPLATE_DIR

    for path in sorted(TEMPLATE_DIR.glob("*.py")):
        if not path.name.startswith("_") and path.read_text(encoding="utf-8").strip() == (code or "").strip():
            return f"{kind}`{function}` from rlhf's template `{path.name}`, unchanged"
    return None


def _describe_rewards(config: RunConfig) -> str:
    rl = config.rl
    sources = [f"reward model {_describe_lineage(m)}" for m in rl.reward_models]
    if rl.reward_code:
        sources.append(_from_template(rl.reward_function, rl.reward_code, "reward function ")
                       or f"reward function `{rl.reward_function}`, written in the app's editor")
    elif rl.reward_func:
        sources.append(f"reward function `{rl.reward_function}` from `{Path(rl.reward_func).name}`")
    return "; ".join(sources) + ("; summed" if len(sources) > 1 else "")


# -- the training curve --------------------------------------------------------------------------------------

def training_curve(events: list[dict], task: str) -> tuple[str, list[int], list[float]]:
    """The curve that says most about the run (loss; the reward for RL) as (name, steps, values)."""
    from rlhf.tasks.registry import spec
    from rlhf.tasks.spec import Plot

    rewarded = Plot.REWARD in spec(task).plots
    keys = ("reward", "loss", "loss/policy") if rewarded else ("loss", "loss/policy", "reward")
    for key in keys:
        logged = [e for e in events if isinstance(e.get(key), (int, float)) and not isinstance(e.get(key), bool)
                  and math.isfinite(e[key])]
        if logged:
            steps = [int(e["step"]) if isinstance(e.get("step"), int) else i for i, e in enumerate(logged, 1)]
            return key, steps, [float(e[key]) for e in logged]
    return "loss", [], []


def sparkline(values: list[float], width: int = 60) -> str:
    """One line of block characters: the shape of the curve where no plotting library is installed."""
    if len(values) > width:  # average into `width` buckets
        size = len(values) / width
        values = [sum(b) / len(b) for b in
                  (values[int(i * size):max(int((i + 1) * size), int(i * size) + 1)] for i in range(width))]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(SPARK[min(len(SPARK) - 1, int((v - low) / span * len(SPARK)))] for v in values)


def draw_curve(steps: list[int], values: list[float], name: str, path: Path) -> bool:
    """A small PNG with matplotlib's object API (no pyplot: the app's global backend stays untouched)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    figure = Figure(figsize=(5, 2.5), dpi=100)
    axes = figure.subplots()
    axes.plot(steps, values, linewidth=1.5)
    axes.set_xlabel("step")
    axes.set_ylabel(name)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, format="png")
    return True


# -- small helpers -------------------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    if value is None:
        return "task default"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def _redact(text: str, secrets: Iterable[str]) -> str:
    """The given secrets and any secret-looking environment value become ``***`` (a last guard)."""
    values = {s for s in secrets if s and len(s) >= 4}
    values |= {v for k, v in os.environ.items() if SECRET_NAME.search(k) and len(v) >= 8}
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, "***")
    return text
