"""The memory plan of a run, before it starts, and its measured peak after: one module, both sides.

:func:`estimate` reads the resolved :class:`~rlhf.tasks.plan.TrainPlan` (the trainer's exact arguments) and the
model's ``config.json`` (never its weights) and adds up the parts a training process holds at its peak:

* ``weights``: every parameter in the training dtype (4-bit base weights under QLoRA);
* ``gradients`` and ``optimizer``: for the trainable parameters (LoRA adapters only, under PEFT); AdamW keeps
  two float32 moments per parameter;
* ``activations``: what the backward pass needs per token and layer (one layer's worth under gradient
  checkpointing) plus the logits over the vocabulary, for the sequences one step forwards at once;
* ``reference``: frozen models beside the policy (DPO's and PPO's reference copy, GRPO/RLOO's when beta > 0,
  RL's reward models);
* ``value_head``: PPO's value head;
* ``overhead``: the process itself (Python, torch, transformers, TRL, the tokenizer and rows) on CPU, the CUDA
  context and allocator slack on a GPU.

The CPU figures are calibrated against ``getrusage``'s max RSS of real runs (``tests/test_memory.py`` and
``benchmarks/scale.py`` measure the error); GPU figures follow the same arithmetic with the CUDA context as overhead.
"""

from __future__ import annotations

import json
import resource
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

MB = 1024 * 1024


def measured_peak_mb(device: str | None = None) -> float:
    """The process's peak memory so far: ``torch.cuda.max_memory_allocated`` on a GPU, max RSS on a CPU."""
    if device == "cuda":
        import torch

        return torch.cuda.max_memory_allocated() / MB
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux, bytes on macOS
    return peak / (MB if sys.platform == "darwin" else 1024)


CPU_PROCESS_MB = 560.0  # Python + torch + transformers + TRL + datasets imported, tokenizer and rows loaded (RSS)
CUDA_CONTEXT_MB = 600.0  # the CUDA context and cuBLAS workspaces: outside max_memory_allocated, inside the card
ALLOCATOR_SLACK = 0.08  # the caching allocator's fragmentation on a GPU
ADAM_BYTES = 8  # AdamW's two moments per trainable parameter, float32
DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
NF4_BYTES = 0.55  # 4-bit weights plus their block scales (bitsandbytes nf4, double quantisation off)


@dataclass(frozen=True)
class ModelShape:
    """What the estimate needs of a model, read from its config on the meta device (no weights)."""

    parameters: int
    linear_parameters: int  # in the transformer blocks' linear layers: what 4-bit quantisation shrinks
    lora_parameters: dict[int, int]  # LoRA rank → adapter parameters on every linear layer ("all-linear")
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    vocab_size: int

    def lora(self, rank: int) -> int:
        return self.lora_parameters.get(rank) or self.lora_parameters[1] * rank


@dataclass(frozen=True)
class Parts:
    weights: float
    gradients: float
    optimizer: float
    activations: float
    reference: float
    value_head: float
    overhead: float

    @property
    def total(self) -> float:
        return sum(asdict(self).values())


@dataclass
class MemoryEstimate:
    """``rlhf estimate``'s answer: the parts, their sum, what the device has, and what to change if it won't fit."""

    total_mb: float
    parts: Parts
    device: str
    available_mb: float | None
    fits: bool
    suggestions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"total_mb": round(self.total_mb), "parts": {k: round(v) for k, v in asdict(self.parts).items()},
                "device": self.device, "available_mb": None if self.available_mb is None else round(self.available_mb),
                "fits": self.fits, "suggestions": self.suggestions}

    def summary(self) -> str:
        """One line for the Train tab and the refusal message."""
        have = f" of {self.available_mb:,.0f} MB available" if self.available_mb else ""
        verdict = "fits" if self.fits else "does NOT fit"
        parts = ", ".join(f"{k} {v:,.0f}" for k, v in asdict(self.parts).items() if v >= 1)
        return f"about {self.total_mb:,.0f} MB on {self.device}{have}: {verdict} ({parts})"


_SHAPES: dict[tuple[str, bool], ModelShape] = {}


def model_shape(model_config, classifier: bool = False) -> ModelShape:
    """Parameter counts of ``model_config`` (a transformers config) built on the meta device: exact for any
    architecture, at no memory cost."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    key = (model_config.to_json_string(use_diff=False), classifier)
    if key in _SHAPES:
        return _SHAPES[key]
    with torch.device("meta"):
        if classifier:
            import copy

            model_config = copy.deepcopy(model_config)
            model_config.num_labels = 1
            model = AutoModelForSequenceClassification.from_config(model_config)
        else:
            model = AutoModelForCausalLM.from_config(model_config)
    text = model_config.get_text_config()
    heads = ("lm_head", "score", "classifier")
    linear = lora = 0
    for name, module in model.named_modules():
        if name.rsplit(".", 1)[-1] in heads or not hasattr(module, "weight") or module.weight is None:
            continue
        if isinstance(module, torch.nn.Linear):
            n_in, n_out = module.in_features, module.out_features
        elif type(module).__name__ == "Conv1D":  # GPT-2's linear layers
            n_in, n_out = module.weight.shape
        else:
            continue
        linear += module.weight.numel()
        lora += n_in + n_out
    hidden = getattr(text, "hidden_size", None) or getattr(text, "n_embd")
    shape = ModelShape(
        parameters=sum(p.numel() for p in model.parameters()), linear_parameters=linear, lora_parameters={1: lora},
        hidden_size=hidden,
        intermediate_size=getattr(text, "intermediate_size", None) or getattr(text, "n_inner", None) or 4 * hidden,
        num_layers=getattr(text, "num_hidden_layers", None) or getattr(text, "n_layer"),
        num_heads=getattr(text, "num_attention_heads", None) or getattr(text, "n_head"),
        vocab_size=text.vocab_size)
    _SHAPES[key] = shape
    return shape


@dataclass(frozen=True)
class Workload:
    """What one optimiser micro-step forwards and what the run holds, read off the plan."""

    sequences: int  # sequences in one forward with gradients
    length: int  # tokens per sequence
    frozen_copies: int  # reference models beside the policy (full copies of the weights)
    frozen_forward: bool  # whether a no-grad forward of the same batch runs too (reference log-probs)
    value_head: bool
    generation_tokens: int  # RL: tokens kept in the KV cache while sampling


def workload(plan) -> Workload:
    """The plan's batch shape in the terms above, from its trainer's :class:`~rlhf.tasks.spec.Footprint`."""
    from rlhf.tasks.spec import Batch, Reference

    args, footprint = plan.args, plan.trainer.footprint
    length = plan.max_length()
    batch = int(args.get("per_device_train_batch_size") or 1)
    peft = plan.lora is not None
    if footprint.batch is Batch.ROLLOUTS:
        sequence = args["max_prompt_length"] + args["max_new_tokens"]
        sequences, length, cache = args["mini_batch_size"], min(sequence, length), args["batch_size"] * sequence
    elif footprint.batch is Batch.GROUPS:
        length = min(length, 128) + int(args.get("max_completion_length") or 256)  # prompt + completion
        sequences, cache = batch, batch * length
    else:
        sequences, cache = batch * (2 if footprint.batch is Batch.PAIRS else 1), 0
    if footprint.reference is Reference.WITH_KL:  # TRL's beta: GRPO's default 0 drops it, RLOO's 0.05 keeps it
        copies = 1 if (float(trainer_setting(plan, "beta") or 0) > 0 and not peft) else 0
        forward = copies > 0
    else:
        forward = footprint.reference is Reference.ALWAYS
        copies = 1 if forward and not peft else 0
    return Workload(sequences, length, copies, forward, footprint.value_head, cache)


def trainer_setting(plan, name: str) -> Any:
    """What the trainer will use for ``name``: the plan's value, else its config class's default."""
    if plan.args.get(name) is not None:
        return plan.args[name]
    import dataclasses

    config_cls, _ = plan.trainer.classes()
    return next((f.default for f in dataclasses.fields(config_cls) if f.name == name), None)


def gradient_checkpointing(plan) -> bool:
    """What the trainer will do: the plan's value, else the config class's default (TRL's: on; our PPO's: off).
    transformers 5 calls it ``activation_checkpointing``; the older name is the fallback."""
    for name in ("activation_checkpointing", "gradient_checkpointing"):
        if plan.args.get(name) is not None:
            return bool(plan.args[name])
    return any(bool(trainer_setting(plan, name)) for name in ("activation_checkpointing", "gradient_checkpointing"))


def estimate_parts(plan, shape: ModelShape, checkpointing: bool, reward_shapes: list[ModelShape] = ()) -> Parts:
    """The arithmetic, in MB."""
    from rlhf.tasks.spec import ModelKind

    work = workload(plan)
    vocabulary = 1 if plan.spec.model_kind is ModelKind.CLASSIFIER else shape.vocab_size  # a score, or logits
    cuda = plan.hardware.device == "cuda"
    weight_bytes = DTYPE_BYTES.get(plan.dtype, 4)
    four_bit = plan.config.training.load_in_4bit and plan.lora is not None
    if four_bit:
        weights = shape.linear_parameters * NF4_BYTES + (shape.parameters - shape.linear_parameters) * weight_bytes
    else:
        weights = shape.parameters * weight_bytes
    trainable = shape.lora(int(plan.lora["r"])) if plan.lora is not None else shape.parameters
    trainable_bytes = 4 if plan.lora is not None else weight_bytes  # adapters train in float32
    gradients = trainable * trainable_bytes
    optimizer = trainable * ADAM_BYTES * (1 if trainable_bytes == 4 else 0.5)
    act_bytes = 2 if (cuda and (plan.args.get("bf16") or plan.args.get("fp16") or plan.dtype != "float32")) else 4
    tokens = work.sequences * work.length
    h, i, layers = shape.hidden_size, shape.intermediate_size, shape.num_layers
    attention = 2 * shape.num_heads * work.length  # scores and probabilities per token (eager/CPU SDPA)
    per_layer = (8 * h + 4 * i + attention) * act_bytes
    kept = tokens * (layers * h * act_bytes + per_layer) if checkpointing else tokens * layers * per_layer
    logits = tokens * vocabulary * 4 * 3  # float32 logits, their log-softmax and its gradient
    activations = kept + logits
    if work.frozen_forward:
        activations += tokens * vocabulary * 4
    cache = work.generation_tokens * layers * 2 * h * act_bytes
    activations = max(activations, cache + work.sequences * vocabulary * 4)
    reference = work.frozen_copies * shape.parameters * weight_bytes
    reference += sum(r.parameters * weight_bytes for r in reward_shapes)
    value_head = (h + 1) * 4 * 4 if work.value_head else 0.0  # weights, gradient, two moments
    if cuda:
        steady = weights + gradients + optimizer + activations + reference + value_head
        overhead = CUDA_CONTEXT_MB * MB + steady * ALLOCATOR_SLACK
    else:
        overhead = CPU_PROCESS_MB * MB
    return Parts(*(x / MB for x in (weights, gradients, optimizer, activations, reference, value_head, overhead)))


def available_mb(device: str) -> float | None:
    """Memory the run may use: the GPU's total, or the machine's available RAM."""
    try:
        if device == "cuda":
            import torch

            return torch.cuda.mem_get_info()[1] / MB
        import psutil

        return psutil.virtual_memory().available / MB
    except Exception:
        return None


def _model_config(path: str):
    """The model's transformers config (a LoRA adapter's: its base model's)."""
    from transformers import AutoConfig

    from rlhf.tasks.models import adapter_base

    return AutoConfig.from_pretrained(adapter_base(path) or path)


def estimate(plan, model_config=None, available: float | None = None, suggest: bool = True) -> MemoryEstimate:
    """The memory plan of ``plan``. ``model_config`` stands in for the model folder (the README's table uses the
    presets' real configs); ``available`` for the device's memory."""
    from rlhf.tasks.spec import ModelKind

    classifier = plan.spec.model_kind is ModelKind.CLASSIFIER
    shape = model_shape(model_config or _model_config(plan.model_path), classifier)
    rewards = []
    if plan.spec.rewarded:
        from rlhf.tasks.models import resolve_model_path

        for ref in plan.config.rl.reward_models:
            rewards.append(model_shape(_model_config(resolve_model_path(ref, "reward_models")), True))
    checkpointing = gradient_checkpointing(plan)
    parts = estimate_parts(plan, shape, checkpointing, rewards)
    if available is None:
        available = available_mb(plan.hardware.device)
    fits = available is None or parts.total <= available
    result = MemoryEstimate(parts.total, parts, plan.hardware.device, available, fits)
    if suggest and not fits:
        result.suggestions = suggestions(plan, shape, checkpointing, rewards, available)
    return result


def suggestions(plan, shape: ModelShape, checkpointing: bool, rewards: list[ModelShape],
                available: float | None) -> list[str]:
    """Each change that lowers the estimate, with the total it would give, smallest first."""
    from rlhf.tasks.plan import resolve
    from rlhf.tasks.spec import Batch

    config, t = plan.config, plan.config.training
    changes: list[tuple[str, Any]] = []
    if plan.lora is None:
        changes.append(("--use-peft (LoRA)", lambda c: setattr(c.lora, "use_peft", True)))
    if plan.hardware.device == "cuda" and not t.load_in_4bit:
        changes.append(("--use-peft --load-in-4bit (QLoRA)", lambda c: (setattr(c.lora, "use_peft", True),
                                                                         setattr(c.training, "load_in_4bit", True))))
    batch = int(plan.args.get("per_device_train_batch_size") or plan.args.get("batch_size") or 1)
    if batch > 1 and plan.trainer.footprint.batch is not Batch.GROUPS:  # there the batch is the group
        changes.append((f"--per-device-train-batch-size {max(1, batch // 2)}",
                        lambda c: setattr(c.training, "per_device_train_batch_size", max(1, batch // 2))))
    length = plan.max_length()
    if length > 128:
        changes.append((f"--max-length {length // 2}", lambda c: setattr(c.training, "max_length", length // 2)))
    if not checkpointing:
        changes.append(("--gradient-checkpointing", lambda c: setattr(c.training, "gradient_checkpointing", True)))
    generations = plan.args.get("num_generations")
    if generations and generations > 2:
        fewer = max(2, generations // 2)
        changes.append((f"--num-generations {fewer}", lambda c: (setattr(c.rl, "num_generations", fewer),
                                                                 setattr(c.training, "per_device_train_batch_size",
                                                                         None))))
    out: list[tuple[float, str]] = []
    for words, apply in changes:
        changed = _copy(config)
        apply(changed)
        try:
            other = resolve(changed, hardware=plan.hardware, model_path=plan.model_path,
                            max_length_limit=plan.model_max_length)
            total = estimate_parts(other, shape, gradient_checkpointing(other), rewards).total
        except Exception:  # a change this run cannot take (e.g. a setting the task rejects)
            continue
        fit = "" if available is None else (" (fits)" if total <= available else " (still too much)")
        out.append((total, f"{words}: about {total:,.0f} MB{fit}"))
    return [text for _, text in sorted(out)]


def _copy(config):
    from rlhf.runs.config import RunConfig

    return RunConfig.from_dict(json.loads(json.dumps(config.to_dict())))


def refusal(result: MemoryEstimate | None, insist: str) -> str | None:
    """Why a run that cannot fit is not started, with what would lower it and how to insist; None if it fits."""
    if result is None or result.fits:
        return None
    changes = "; ".join(result.suggestions) or "a smaller model"
    return f"memory: this run needs {result.summary()}. Would lower it: {changes}. To start it anyway, {insist}."


def estimate_config(config, hardware=None) -> MemoryEstimate:
    """``rlhf estimate``: the run config resolved (as ``train`` would, without data) and estimated."""
    from rlhf.tasks.models import resolve_model_path
    from rlhf.tasks.plan import model_max_length, resolve

    model_path = resolve_model_path(config.model, "model")
    plan = resolve(config, hardware=hardware, model_path=model_path, max_length_limit=model_max_length(model_path))
    return estimate(plan)
