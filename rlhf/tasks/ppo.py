"""Proximal Policy Optimization for RLHF, on transformers + PEFT.

Current TRL ships no ``PPOTrainer``; this module is a compact re-implementation of the algorithm the Argilla
guide ran with it: a policy with a value head, a frozen reference model, a per-token KL penalty, the reward
model's score on the last response token, GAE, and clipped policy and value losses.

One PPO step, on ``batch_size`` prompts:

1. **Rollout.** Draw a length ``n`` like TRL's ``LengthSampler(min_value, max_value)`` (uniform over
   ``range(min_new_tokens, max_new_tokens)``: lower bound inclusive, upper bound exclusive; one draw per step,
   shared by the batch) and sample up to ``n`` new tokens per left-padded prompt from the current policy.
   Tokens after a response's first EOS are masked out everywhere below.
2. **Score.** ``reward_fn(prompts, completions)`` gives one scalar score ``s`` per rollout.
3. **Evaluate.** Without gradients: one forward of the policy (log-probs ``log π_old(a_t|s_t)`` of the
   generated tokens and values ``V(s_t)``) and one of the reference model (``log π_ref(a_t|s_t)``).
4. **Reward shaping** (Ziegler et al. 2019, "Fine-Tuning Language Models from Human Preferences", eq. 2;
   Stiennon et al. 2020, "Learning to summarize from human feedback", eq. 1)::

       r_t = -β · (log π_old(a_t|s_t) - log π_ref(a_t|s_t))  +  [t = T] · s          (β = kl_coef)

5. **Advantages**: GAE (Schulman et al. 2016, "High-Dimensional Continuous Control Using Generalized
   Advantage Estimation", eq. 16), with ``V(s_{T+1}) = 0`` since the episode ends with the response::

       δ_t = r_t + γ V(s_{t+1}) - V(s_t),     Â_t = Σ_l (γλ)^l δ_{t+l},     R_t = Â_t + V(s_t)

   then whitened over the batch's response tokens.
6. **Optimisation**: ``num_ppo_epochs`` passes over the rollouts in shuffled minibatches of ``mini_batch_size``,
   minimising ``L = L_clip + c_v · L_V`` (Schulman et al. 2017, "Proximal Policy Optimization Algorithms",
   eq. 7 and 9), with the gradient norm clipped at 1.0::

       ρ_t    = exp(log π_θ(a_t|s_t) - log π_old(a_t|s_t))
       L_clip = mean_t max(-Â_t ρ_t, -Â_t clip(ρ_t, 1-ε, 1+ε))                    (ε = cliprange)
       L_V    = ½ mean_t max((V_θ - R_t)², (V_old + clip(V_θ - V_old, ±ε_v) - R_t)²)  (ε_v = cliprange_value)

Choices, following "The N+ Implementation Details of RLHF with PPO" (Huang et al. 2024):

* The value function is a ``nn.Linear(hidden, 1)`` on the policy's last hidden state (TRL's
  ``AutoModelForCausalLMWithValueHead``), not a separate value model: a second copy of the network would double
  the memory. Value-loss gradients therefore also reach the shared backbone (or its LoRA adapters), scaled by
  ``vf_coef``.
* The reference model is the base model with the adapters switched off (``model.disable_adapter()``) when
  training LoRA adapters, otherwise a frozen deep copy of the initial policy.
* Dropout is off (the policy stays in ``eval()`` mode while training), so the log-probs of the rollout and of
  the update agree at the first minibatch (ratio exactly 1).
* Log-probs are taken from a separate forward pass (not from ``generate``'s scores), with the logits divided by
  the sampling ``temperature``, and position ids computed from the attention mask so that left padding does
  not shift positions.
* Adam with ``eps=1e-5`` and a constant learning rate, as TRL's former ``PPOTrainer``.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Optional

import torch
from torch import nn

__all__ = ["PPOSettings", "PPOTrainer", "compute_gae", "generation_settings", "masked_whiten",
           "response_mask", "sample_length"]

# Sampling with the model's full distribution, as in the seed's `generation_kwargs`.
SAMPLING_DEFAULTS = {"do_sample": True, "top_k": 0, "top_p": 1.0}
KEEP_CHECKPOINTS = 2


@dataclass
class PPOSettings:
    learning_rate: float = 1.41e-5
    batch_size: int = 16            # rollouts (prompts) per PPO step, as the seed's PPOConfig(batch_size=…)
    mini_batch_size: int = 4
    num_ppo_epochs: int = 4
    kl_coef: float = 0.05
    cliprange: float = 0.2
    cliprange_value: float = 0.2
    vf_coef: float = 0.1
    gamma: float = 1.0
    lam: float = 0.95
    whiten_rewards: bool = False
    # Bounds of the length sampler, as TRL's LengthSampler(min_value, max_value): the number of new tokens of a
    # step is drawn uniformly from range(min_new_tokens, max_new_tokens), i.e. min inclusive, max exclusive
    # (just min_new_tokens when that range is empty).
    min_new_tokens: int = 8
    max_new_tokens: int = 32
    generation_kwargs: dict = field(default_factory=dict)   # merged over SAMPLING_DEFAULTS
    max_steps: int = 10             # <= 0: as many steps as num_train_epochs passes over the prompts take
    num_train_epochs: float = 1.0
    seed: int = 42
    max_prompt_length: int = 256    # longer prompts keep their last tokens
    save_steps: int = 0             # 0: only at the end / on stop
    logging_steps: int = 1
    bf16: bool = False              # CUDA: bfloat16 autocast over float32 master weights (TF32 matmuls on)
    fp16: bool = False              # CUDA before Ampere: float16 autocast with a gradient scaler
    gradient_checkpointing: bool = False  # recompute each layer in the backward pass: less memory, more compute


# -- the maths, as small functions ----------------------------------------------------------------------------

def sample_length(rng: random.Random, min_value: int, max_value: int) -> int:
    """TRL's ``LengthSampler(min_value, max_value)()``: uniform over ``range(min_value, max_value)``."""
    if max_value <= min_value:
        return max(1, min_value)
    return max(1, rng.randrange(min_value, max_value))


def generation_settings(user_kwargs: Optional[dict]) -> dict:
    """``generate`` keyword arguments: the user's over ``SAMPLING_DEFAULTS``, with the seed's spellings accepted.

    ``top_k`` may be a float (the seed passes ``0.0``) and ``0`` disables top-k; ``min_length <= 0`` (the seed's
    ``-1``) means no minimum. The length sampler decides ``max_new_tokens``; a user ``max_new_tokens`` or
    ``max_length`` is ignored.
    """
    kwargs = {**SAMPLING_DEFAULTS, **(user_kwargs or {})}
    if kwargs.get("top_k") is not None:
        kwargs["top_k"] = int(kwargs["top_k"])
    if kwargs.get("min_length") is not None and kwargs["min_length"] <= 0:
        del kwargs["min_length"]
    for key in ("max_new_tokens", "max_length", "num_return_sequences", "return_dict_in_generate"):
        kwargs.pop(key, None)
    return kwargs


def response_mask(responses: torch.Tensor, eos_token_ids: list[int]) -> torch.Tensor:
    """True for each response token up to and including its first EOS; False after it (padding)."""
    if not eos_token_ids:
        return torch.ones_like(responses, dtype=torch.bool)
    is_eos = torch.isin(responses, torch.tensor(eos_token_ids, device=responses.device)).long()
    eos_before = is_eos.cumsum(1) - is_eos          # EOS tokens strictly before each position
    return eos_before == 0


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return torch.where(mask, x, 0.0).sum() / mask.sum().clamp(min=1)


def masked_whiten(x: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True) -> torch.Tensor:
    """``(x - mean) / std`` over the masked entries; ``shift_mean=False`` keeps the mean (for rewards)."""
    mean = masked_mean(x, mask)
    whitened = (x - mean) * torch.rsqrt(masked_mean((x - mean) ** 2, mask) + 1e-8)
    return torch.where(mask, whitened if shift_mean else whitened + mean, 0.0)


def compute_gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float,
                lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and returns by GAE (Schulman et al. 2016, eq. 16), computed backwards over the tokens.

    ``rewards``, ``values``, ``mask``: ``(batch, response_length)``. Masked entries count as zero, so the value
    after a response's last token is 0 (the episode ends there) and padding adds nothing.
    """
    rewards, values = torch.where(mask, rewards, 0.0), torch.where(mask, values, 0.0)
    next_value = torch.zeros_like(values[:, 0])
    running = torch.zeros_like(values[:, 0])
    advantages = torch.zeros_like(values)
    for t in reversed(range(values.shape[1])):
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = delta + gamma * lam * running
        advantages[:, t] = running
        next_value = values[:, t]
    advantages = torch.where(mask, advantages, 0.0)
    return advantages, torch.where(mask, advantages + values, 0.0)


# -- the trainer ----------------------------------------------------------------------------------------------

class PPOTrainer:
    """PPO on a causal LM (full fine-tuning, or LoRA adapters when ``peft_config`` is given).

    ``reward_fn(prompts, completions) -> list[float]`` scores each rollout; ``on_log(metrics)`` is called every
    ``logging_steps`` steps; ``should_stop()`` is polled after each step and, when it returns True, a checkpoint
    is saved and ``train`` returns with ``"stopped": True``.
    """

    def __init__(self, model_path: str, tokenizer, prompts: list[str],
                 reward_fn: Callable[[list[str], list[str]], list[float]], settings: PPOSettings,
                 output_dir: str, peft_config=None, on_log: Optional[Callable[[dict], Any]] = None,
                 should_stop: Optional[Callable[[], bool]] = None, model_kwargs: Optional[dict] = None):
        from transformers import AutoModelForCausalLM, set_seed

        if not prompts:
            raise ValueError("PPO needs at least one prompt")
        if settings.max_steps <= 0:
            steps = max(1, int(len(prompts) * settings.num_train_epochs // settings.batch_size))
            settings = replace(settings, max_steps=steps)
        self.settings, self.tokenizer, self.reward_fn = settings, tokenizer, reward_fn
        self.prompts, self.output_dir = list(prompts), Path(output_dir)
        self.on_log, self.should_stop = on_log, should_stop
        self.is_peft = peft_config is not None
        set_seed(settings.seed)
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

        # Full fine-tuning keeps float32 master weights (bf16/fp16 autocast on CUDA); LoRA keeps the base in its
        # stored dtype (adapters are float32); model_kwargs: the attention kernel, QLoRA's 4-bit base.
        self.model_kwargs = dict(model_kwargs or {})
        half = torch.bfloat16 if settings.bf16 else torch.float16 if settings.fp16 else None
        self.autocast_dtype = half if self.device.type == "cuda" else None
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.autocast_dtype is torch.float16)
        if self.autocast_dtype is torch.bfloat16:
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        quantized = "quantization_config" in self.model_kwargs
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype="auto" if self.is_peft else torch.float32,
                                                     **self.model_kwargs)
        if self.is_peft:
            from peft import get_peft_model

            self.ref_model = None  # the same network with its adapters disabled
            if quantized:  # QLoRA: norms in float32, inputs that carry gradients to the adapters
                from peft import prepare_model_for_kbit_training

                model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
            model = get_peft_model(model, peft_config)
        else:
            self.ref_model = copy.deepcopy(model).requires_grad_(False).to(self.device).eval()
        self.model = (model if quantized else model.to(self.device)).eval()  # eval(): no dropout, also training
        if settings.gradient_checkpointing:
            self._checkpoint_layers()

        hidden = model.config.get_text_config().hidden_size
        self.value_head = nn.Linear(hidden, 1).to(self.device)
        nn.init.normal_(self.value_head.weight, std=1 / math.sqrt(hidden + 1))
        nn.init.zeros_(self.value_head.bias)
        self.trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.trainable += list(self.value_head.parameters())
        self.optimizer = torch.optim.Adam(self.trainable, lr=settings.learning_rate, eps=1e-5)

        # EOS: the tokenizer's, and any more the model's generation config stops at (a list for some chat models).
        config_eos = getattr(model.generation_config, "eos_token_id", None)
        eos = [tokenizer.eos_token_id, *(config_eos if isinstance(config_eos, (list, tuple)) else [config_eos])]
        self.eos_token_ids = sorted({e for e in eos if e is not None})
        pad = tokenizer.pad_token_id
        self.pad_token_id = pad if pad is not None else (self.eos_token_ids or [0])[0]
        self.generation_kwargs = generation_settings(settings.generation_kwargs)
        self.temperature = float(self.generation_kwargs.get("temperature") or 1.0)
        self.length_rng = random.Random(settings.seed)
        self.global_step = 0
        self.log_history: list[dict] = []
        self._orders: dict[int, list[int]] = {}

    def _checkpoint_layers(self) -> None:
        """Gradient checkpointing with dropout still off. transformers recomputes a layer in the backward pass only
        when that layer is in training mode (and gradients are on: never while sampling), so the policy stays in
        ``eval()`` and only its checkpointed layers are marked training; their attention and dropout are not."""
        from transformers.modeling_layers import GradientCheckpointingLayer

        base = self.model.get_base_model() if self.is_peft else self.model
        layers = [m for m in base.modules() if isinstance(m, GradientCheckpointingLayer)]
        if not getattr(base, "supports_gradient_checkpointing", False) or not layers:
            raise ValueError(f"gradient_checkpointing: {type(base).__name__} does not support it in PPO; "
                             f"leave gradient_checkpointing off for this model.")
        if hasattr(base, "activation_checkpointing_enable"):  # transformers 5's name
            base.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        for layer in layers:
            layer.training = True  # the layer itself, not its children (nn.Module.train would recurse)

    # -- data ----------------------------------------------------------------------------------------------

    def _prompts_for_step(self, step: int) -> list[str]:
        """Prompts ``step·B … step·B + B - 1`` of an endless sequence of seeded shuffles of the prompts."""
        n, size = len(self.prompts), self.settings.batch_size
        batch = []
        for k in range(step * size, (step + 1) * size):
            epoch = k // n
            if epoch not in self._orders:
                order = list(range(n))
                random.Random(self.settings.seed * 1_000_003 + epoch).shuffle(order)
                self._orders = {epoch: order}
            batch.append(self.prompts[self._orders[epoch][k % n]])
        return batch

    def _encode(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Left-padded prompt ids and attention mask (prompts longer than ``max_prompt_length`` keep their end)."""
        fallback = [t for t in (self.tokenizer.bos_token_id, self.pad_token_id) if t is not None][:1]
        rows = [self.tokenizer(p)["input_ids"][-self.settings.max_prompt_length:] or fallback for p in prompts]
        width = max(map(len, rows))
        ids = torch.full((len(rows), width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, width - len(row):] = torch.tensor(row, dtype=torch.long)
            mask[i, width - len(row):] = 1
        return ids.to(self.device), mask.to(self.device)

    # -- forward passes ------------------------------------------------------------------------------------

    def _forward(self, model, input_ids, attention_mask, context_length: int, with_values: bool = False):
        """Log-probs of the tokens after ``context_length`` (and the values of the states before them)."""
        position_ids = (attention_mask.cumsum(1) - 1).clamp(min=0)
        with self._autocast():
            out = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                        output_hidden_states=with_values, use_cache=False)
        logits = out.logits[:, context_length - 1:-1].float() / self.temperature
        logprobs = torch.log_softmax(logits, -1).gather(-1, input_ids[:, context_length:, None]).squeeze(-1)
        if not with_values:
            return logprobs, None
        hidden = out.hidden_states[-1][:, context_length - 1:-1].float()
        return logprobs, self.value_head(hidden).squeeze(-1)

    def _autocast(self):
        """Mixed precision on CUDA (the settings' bf16 or fp16); float32 elsewhere."""
        import contextlib

        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=self.autocast_dtype)

    def _reference_logprobs(self, input_ids, attention_mask, context_length: int) -> torch.Tensor:
        if self.ref_model is not None:
            return self._forward(self.ref_model, input_ids, attention_mask, context_length)[0]
        with self.model.disable_adapter():
            return self._forward(self.model, input_ids, attention_mask, context_length)[0]

    # -- one PPO step --------------------------------------------------------------------------------------

    @torch.no_grad()
    def _rollout(self, prompts: list[str]) -> dict:
        s = self.settings
        query, query_mask = self._encode(prompts)
        max_new_tokens = sample_length(self.length_rng, s.min_new_tokens, s.max_new_tokens)
        started = time.perf_counter()
        # One batched call over the left-padded prompts, reusing each step's keys and values (the KV cache, on
        # explicitly: a model saved with gradient checkpointing may carry use_cache=False in its config).
        sequences = self.model.generate(
            input_ids=query, attention_mask=query_mask, max_new_tokens=max_new_tokens,
            pad_token_id=self.pad_token_id, eos_token_id=self.eos_token_ids or None,
            **{"use_cache": True, **self.generation_kwargs})
        generation_s = time.perf_counter() - started
        context_length = query.shape[1]
        responses = sequences[:, context_length:]
        mask = response_mask(responses, self.eos_token_ids)
        ended = torch.isin(responses, torch.tensor(self.eos_token_ids or [-1], device=self.device)).any(1)
        completions = [self.tokenizer.decode(r[m], skip_special_tokens=True) for r, m in zip(responses, mask)]
        scores = [float(x) for x in self.reward_fn(list(prompts), completions)]
        if len(scores) != len(prompts):
            raise ValueError(f"reward_fn returned {len(scores)} scores for {len(prompts)} completions")
        scores = torch.tensor(scores, dtype=torch.float32, device=self.device)

        input_ids = torch.cat([query, responses], 1)
        attention_mask = torch.cat([query_mask, mask.long()], 1)
        logprobs, ref_logprobs, values = [], [], []
        for rows in torch.arange(len(prompts), device=self.device).split(s.mini_batch_size):
            lp, v = self._forward(self.model, input_ids[rows], attention_mask[rows], context_length, True)
            logprobs.append(lp)
            values.append(v)
            ref_logprobs.append(self._reference_logprobs(input_ids[rows], attention_mask[rows], context_length))
        logprobs, ref_logprobs, values = (torch.where(mask, torch.cat(x), 0.0)
                                          for x in (logprobs, ref_logprobs, values))

        # Ziegler et al. 2019: per-token KL penalty, plus the score on the last response token.
        kl = logprobs - ref_logprobs
        rewards = -s.kl_coef * kl
        last = mask.sum(1) - 1
        rewards[torch.arange(len(prompts), device=self.device), last] += scores
        if s.whiten_rewards:
            rewards = masked_whiten(rewards, mask, shift_mean=False)
        advantages, returns = compute_gae(rewards, values, mask, s.gamma, s.lam)
        advantages = masked_whiten(advantages, mask)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "context_length": context_length,
                "mask": mask, "logprobs": logprobs, "values": values, "advantages": advantages,
                "returns": returns, "scores": scores, "kl": kl, "ended": ended,
                "rollout_tokens_per_second": int(mask.sum()) / max(generation_s, 1e-9)}

    def _optimise(self, batch: dict) -> dict:
        """``num_ppo_epochs`` passes of clipped-surrogate + clipped-value updates over shuffled minibatches."""
        s = self.settings
        stats: dict[str, list[float]] = {k: [] for k in ("approxkl", "clipfrac", "pg", "vf", "vf_clipfrac",
                                                         "ratio")}
        for _ in range(s.num_ppo_epochs):
            for rows in torch.randperm(len(batch["scores"])).split(s.mini_batch_size):
                rows = rows.to(self.device)
                mask = batch["mask"][rows]
                logprobs, values = self._forward(self.model, batch["input_ids"][rows],
                                                 batch["attention_mask"][rows], batch["context_length"], True)
                old_values, returns = batch["values"][rows], batch["returns"][rows]
                advantages = batch["advantages"][rows]

                values = torch.where(mask, values, 0.0)
                clipped = old_values + (values - old_values).clamp(-s.cliprange_value, s.cliprange_value)
                vf_unclipped, vf_clipped = (values - returns) ** 2, (clipped - returns) ** 2
                vf_loss = 0.5 * masked_mean(torch.max(vf_unclipped, vf_clipped), mask)

                log_ratio = torch.where(mask, logprobs - batch["logprobs"][rows], 0.0)
                ratio = torch.exp(log_ratio)
                pg_unclipped = -advantages * ratio
                pg_clipped = -advantages * ratio.clamp(1 - s.cliprange, 1 + s.cliprange)
                pg_loss = masked_mean(torch.max(pg_unclipped, pg_clipped), mask)

                self.optimizer.zero_grad(set_to_none=True)
                self.scaler.scale(pg_loss + s.vf_coef * vf_loss).backward()
                self.scaler.unscale_(self.optimizer)  # fp16: unscaled before clipping; otherwise a no-op
                torch.nn.utils.clip_grad_norm_(self.trainable, 1.0)
                self.scaler.step(self.optimizer)
                self.scaler.update()

                with torch.no_grad():
                    stats["approxkl"].append(0.5 * masked_mean(log_ratio ** 2, mask).item())
                    stats["clipfrac"].append(masked_mean((pg_clipped > pg_unclipped).float(), mask).item())
                    stats["vf_clipfrac"].append(masked_mean((vf_clipped > vf_unclipped).float(), mask).item())
                    stats["pg"].append(pg_loss.item())
                    stats["vf"].append(vf_loss.item())
                    stats["ratio"].append(masked_mean(ratio, mask).item())
        return {k: sum(v) / len(v) for k, v in stats.items()}

    def _step(self) -> dict:
        s = self.settings
        with self._autocast():  # sampling in mixed precision too
            batch = self._rollout(self._prompts_for_step(self.global_step))
        stats = self._optimise(batch)
        self.global_step += 1
        kl = batch["kl"].sum(1)
        scores = batch["scores"]
        return {
            "step": self.global_step,
            "epoch": self.global_step * s.batch_size / len(self.prompts),
            "reward": scores.mean().item(),
            "objective/kl": kl.mean().item(),
            "objective/non_score_reward": (-s.kl_coef * kl).mean().item(),
            "objective/rlhf_reward": (scores - s.kl_coef * kl).mean().item(),
            "policy/approxkl": stats["approxkl"],
            "policy/clipfrac": stats["clipfrac"],
            "loss/policy": stats["pg"],
            "loss/value": stats["vf"],
            "val/clipfrac": stats["vf_clipfrac"],
            "val/ratio": stats["ratio"],
            "val/num_eos_tokens": int(batch["ended"].sum().item()),
            "learning_rate": self.optimizer.param_groups[0]["lr"],
            "response_length": batch["mask"].sum(1).float().mean().item(),
            "rollout/tokens_per_second": batch["rollout_tokens_per_second"],
        }

    # -- the loop ------------------------------------------------------------------------------------------

    def train(self, resume_from_checkpoint: str | None = None) -> dict:
        """Run PPO steps up to ``max_steps`` (from a checkpoint's step when resuming); return the last metrics."""
        s = self.settings
        if resume_from_checkpoint:
            self._load_checkpoint(Path(resume_from_checkpoint))
        started = time.time()
        metrics = dict(self.log_history[-1]) if self.log_history else {}
        stopped = False
        while self.global_step < s.max_steps:
            metrics = self._step()
            last = self.global_step >= s.max_steps
            if last or (s.logging_steps > 0 and self.global_step % s.logging_steps == 0):
                self.log_history.append(metrics)
                if self.on_log is not None:
                    self.on_log(dict(metrics))
            if last:
                break
            if self.should_stop is not None and self.should_stop():
                stopped = True
                break
            if s.save_steps > 0 and self.global_step % s.save_steps == 0:
                self.save_checkpoint()
        if not (self.output_dir / f"checkpoint-{self.global_step}" / "trainer_state.json").exists():
            self.save_checkpoint()
        return {**metrics, "global_step": self.global_step, "stopped": stopped,
                "train_runtime": time.time() - started}

    # -- saving and resuming -------------------------------------------------------------------------------

    def save_model(self, path: str) -> None:
        """The policy (full causal LM, or the LoRA adapter) and the tokenizer; no value head."""
        Path(path).mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)

    def save_checkpoint(self) -> Path:
        """``checkpoint-<step>/``: policy, value head, optimizer, RNG states; ``trainer_state.json`` last."""
        from safetensors.torch import save_file

        path = self.output_dir / f"checkpoint-{self.global_step}"
        if path.exists():
            shutil.rmtree(path)  # an incomplete one, left by a crash
        self.save_model(str(path))
        save_file(self.value_head.state_dict(), str(path / "value_head.safetensors"))
        torch.save(self.optimizer.state_dict(), path / "optimizer.pt")
        rng = {"python": random.getstate(), "length_sampler": self.length_rng.getstate(),
               "torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        torch.save(rng, path / "rng_state.pth")
        state = {"global_step": self.global_step, "max_steps": self.settings.max_steps,
                 "epoch": self.global_step * self.settings.batch_size / len(self.prompts),
                 "log_history": self.log_history, "settings": asdict(self.settings)}
        (path / "trainer_state.json").write_text(json.dumps(state, indent=2, default=str), encoding="utf-8")
        self._prune_checkpoints()
        return path

    def _prune_checkpoints(self) -> None:
        """Keep the last ``KEEP_CHECKPOINTS`` complete checkpoints (and always the one just written)."""
        found = {}
        for folder in self.output_dir.glob("checkpoint-*"):
            match = re.fullmatch(r"checkpoint-(\d+)", folder.name)
            if match and folder.is_dir():
                found[int(match.group(1))] = folder
        complete = sorted(step for step, folder in found.items() if (folder / "trainer_state.json").exists())
        keep = set(complete[-KEEP_CHECKPOINTS:]) | {self.global_step}
        for step, folder in found.items():
            if step not in keep:
                shutil.rmtree(folder, ignore_errors=True)

    def _load_checkpoint(self, path: Path) -> None:
        from safetensors.torch import load_file

        state = json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
        if self.is_peft:
            from peft import load_peft_weights, set_peft_model_state_dict

            set_peft_model_state_dict(self.model, load_peft_weights(str(path), device=str(self.device)))
        else:
            from transformers import AutoModelForCausalLM

            saved = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
            self.model.load_state_dict(saved.state_dict())
            del saved
        self.value_head.load_state_dict(load_file(str(path / "value_head.safetensors"), device=str(self.device)))
        self.optimizer.load_state_dict(torch.load(path / "optimizer.pt", map_location=self.device))
        rng = torch.load(path / "rng_state.pth", weights_only=False)  # written by save_checkpoint above
        random.setstate(rng["python"])
        self.length_rng.setstate(rng["length_sampler"])
        torch.set_rng_state(rng["torch"])
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        self.global_step = int(state["global_step"])
        self.log_history = list(state.get("log_history", []))
