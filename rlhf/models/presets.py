"""Presets: the real dimensions of small open models, as typed data, and a builder that writes one with random
weights and the starter's tokenizer.

The Hub cannot be reached where this project is tested, so real weights cannot be loaded; real architectures can
be built. A preset model is for speed, memory and code-path checks only: its weights are random and its vocabulary
is the starter's (a few thousand tokens instead of the model's own), which the folder's ``config.json`` and
``README.md`` both say. The memory estimator reads the real vocabulary (:attr:`Preset.vocab_size`) for the README's
"what fits" table, and a built model's own ``config.json`` for a run.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlhf.errors import ConfigError

RANDOM_INIT_NOTE = ("random initialisation with the real dimensions of {hub_id}; vocabulary resized to the rlhf "
                    "starter's tokenizer ({vocab} tokens instead of {real_vocab}); for speed, memory and code-path "
                    "tests only, it generates noise")


class Family(str, enum.Enum):
    """The transformers architecture a preset is built with."""

    GPT2 = "gpt2"
    LLAMA = "llama"
    QWEN2 = "qwen2"


@dataclass(frozen=True)
class Preset:
    """One model's real dimensions (from its Hub ``config.json``)."""

    name: str
    hub_id: str
    family: Family
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    intermediate_size: int
    vocab_size: int  # the real model's, for estimates of the real model; a built preset uses the starter's
    max_positions: int
    tie_word_embeddings: bool = True
    extra: dict[str, Any] = field(default_factory=dict)  # family-specific config fields (rope, norm eps, bias)

    def config(self, vocab_size: int | None = None, **overrides: Any):
        """The transformers config of this preset, with ``vocab_size`` (default: the real one) and ``overrides``
        (token ids, notes)."""
        from transformers import AutoConfig

        vocab = vocab_size or self.vocab_size
        if self.family is Family.GPT2:
            values = dict(n_embd=self.hidden_size, n_layer=self.num_layers, n_head=self.num_heads,
                          n_inner=self.intermediate_size, n_positions=self.max_positions, vocab_size=vocab)
        else:
            values = dict(hidden_size=self.hidden_size, num_hidden_layers=self.num_layers,
                          num_attention_heads=self.num_heads, num_key_value_heads=self.num_kv_heads,
                          intermediate_size=self.intermediate_size, max_position_embeddings=self.max_positions,
                          vocab_size=vocab)
        values.update(tie_word_embeddings=self.tie_word_embeddings, **self.extra, **overrides)
        return AutoConfig.for_model(self.family.value, **values)


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("gpt2-124m", "openai-community/gpt2", Family.GPT2, hidden_size=768, num_layers=12, num_heads=12,
           num_kv_heads=12, intermediate_size=3072, vocab_size=50257, max_positions=1024,
           extra=dict(activation_function="gelu_new", layer_norm_epsilon=1e-5)),
    Preset("smollm2-135m", "HuggingFaceTB/SmolLM2-135M", Family.LLAMA, hidden_size=576, num_layers=30, num_heads=9,
           num_kv_heads=3, intermediate_size=1536, vocab_size=49152, max_positions=8192,
           extra=dict(hidden_act="silu", rms_norm_eps=1e-5, rope_theta=100000.0, head_dim=64,
                      attention_bias=False, mlp_bias=False)),
    Preset("qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B", Family.QWEN2, hidden_size=896, num_layers=24, num_heads=14,
           num_kv_heads=2, intermediate_size=4864, vocab_size=151936, max_positions=32768,
           extra=dict(hidden_act="silu", rms_norm_eps=1e-6, rope_theta=1000000.0, use_sliding_window=False)),
    Preset("llama-3.2-1b", "meta-llama/Llama-3.2-1B", Family.LLAMA, hidden_size=2048, num_layers=16, num_heads=32,
           num_kv_heads=8, intermediate_size=8192, vocab_size=128256, max_positions=131072,
           extra=dict(hidden_act="silu", rms_norm_eps=1e-5, rope_theta=500000.0, head_dim=64,
                      attention_bias=False, mlp_bias=False,
                      rope_scaling=dict(rope_type="llama3", factor=32.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                        original_max_position_embeddings=8192))),
)}


def preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"--preset: unknown preset '{name}'; choose one of {', '.join(PRESETS)}.") from None


def build_model(name: str, output: str | Path, seed: int = 0, dtype: str = "float32") -> Path:
    """Write ``name`` with random weights and the starter's tokenizer to ``output``; returns the folder."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed

    from rlhf.starter import ensure_starter

    chosen = preset(name)
    if dtype not in ("float32", "bfloat16", "float16"):
        raise ConfigError(f"--dtype: '{dtype}' is not float32, bfloat16 or float16.")
    out = Path(output)
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"--output: {out} exists and is not empty.")
    tokenizer = AutoTokenizer.from_pretrained(str(ensure_starter()))
    tokenizer.model_max_length = chosen.max_positions
    note = RANDOM_INIT_NOTE.format(hub_id=chosen.hub_id, vocab=len(tokenizer), real_vocab=chosen.vocab_size)
    config = chosen.config(vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                           eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                           rlhf_preset=chosen.name, rlhf_random_init=True, rlhf_note=note)
    set_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=getattr(torch, dtype))
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    parameters = sum(p.numel() for p in model.parameters())
    (out / "README.md").write_text(
        f"# {chosen.name} (random init)\n\nBuilt by `python -m rlhf build-model --preset {chosen.name}`: {note}.\n\n"
        f"- architecture: {type(model).__name__} ({chosen.family.value}), hidden {chosen.hidden_size}, "
        f"{chosen.num_layers} layers, {chosen.num_heads} heads ({chosen.num_kv_heads} key/value heads), "
        f"intermediate {chosen.intermediate_size}\n- parameters: {parameters:,} (the real model, with its "
        f"{chosen.vocab_size}-token vocabulary, has more)\n- weights: {dtype}, seed {seed}\n", encoding="utf-8")
    (out / "build.json").write_text(json.dumps({"preset": chosen.name, "seed": seed, "dtype": dtype,
                                                "parameters": parameters, "random_init": True}, indent=2))
    return out
