"""What the policy writes and what it earns, in the run's log every few RL steps.

A reward curve alone does not say whether the model learns the task or games the reward; one generation with its
reward beside the step's mean does. Each sample is printed as one readable line (``stdout.log``, the Train tab's
log) and recorded in ``events.jsonl`` as ``{"step": …, "sample": {"prompt", "completion", "reward"}}``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from collections.abc import Sequence

SAMPLE_EVERY = 5  # steps between samples; the first and the last step always show one
PROMPT_TAIL = 48  # characters of the prompt shown: its end, where the completion starts
COMPLETION_SHOWN = 120


@dataclass(frozen=True)
class Sample:
    prompt: str
    completion: str
    reward: float


def due(step: int, max_steps: int, every: int = SAMPLE_EVERY) -> bool:
    return step == 1 or step >= max_steps > 0 or (every > 0 and step % every == 0)


def pick(prompts: Sequence[str], completions: Sequence[str], rewards: Sequence[float]) -> Sample | None:
    """The step's first rollout (rollouts come in shuffled order, so any one is a fair sample)."""
    if not prompts or not completions or not rewards:
        return None
    return Sample(str(prompts[0]), str(completions[0]), float(rewards[0]))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def line(step: int, max_steps: int, mean_reward: float | None, sample: Sample) -> str:
    """``step 5/20  reward 0.41  sample: "…### Response:" → "Yes, a toad is a frog." (reward 0.52)``"""
    prompt = _one_line(sample.prompt)
    prompt = prompt if len(prompt) <= PROMPT_TAIL else "…" + prompt[-PROMPT_TAIL:]
    completion = _one_line(sample.completion)
    completion = completion if len(completion) <= COMPLETION_SHOWN else completion[:COMPLETION_SHOWN] + "…"
    mean = "" if mean_reward is None else f"  reward {mean_reward:.3g}"
    of = f"/{max_steps}" if max_steps > 0 else ""
    return f'step {step}{of}{mean}  sample: "{prompt}" → "{completion}" (reward {sample.reward:.3g})'


def step_line(step: int, max_steps: int, metrics: dict) -> str:
    """A step without a sample: ``step 3/20  reward 0.412  kl 0.0031  rollout tok/s 812``."""
    of = f"/{max_steps}" if max_steps > 0 else ""
    shown = [(name, metrics.get(key)) for name, key in (("reward", "reward"), ("kl", "objective/kl"),
                                                        ("rollout tok/s", "rollout/tokens_per_second"))]
    return f"step {step}{of}" + "".join(f"  {name} {value:.3g}" for name, value in shown
                                        if isinstance(value, (int, float)))


def report(events_path: str | Path | None, step: int, max_steps: int, mean_reward: float | None,
           sample: Sample) -> None:
    """Print the sample's line and record it as an event."""
    from rlhf.runs.events import append_event

    print(line(step, max_steps, mean_reward, sample), flush=True)
    if events_path is not None:
        append_event(events_path, {"step": step, "sample": asdict(sample)})


def sample_callback(trainer, events_path: str | Path, every: int = SAMPLE_EVERY):
    """For TRL's GRPO and RLOO trainers: on each logged step that is due, the last generation they keep for
    their own completion logs (``trainer._logs``), its rewards summed over the reward sources."""
    from transformers import TrainerCallback

    class SampleCallback(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or "reward" not in logs or not state.is_world_process_zero:
                return
            if not due(state.global_step, state.max_steps, every):
                return
            kept = getattr(trainer, "_logs", None) or {}
            prompts, completions = list(kept.get("prompt", ())), list(kept.get("completion", ()))
            by_source = [list(v) for v in (kept.get("rewards") or {}).values()]
            rewards = [sum(values) for values in zip(*by_source)] if by_source else []
            sample = pick(prompts[-1:], completions[-1:], rewards[-1:])
            if sample is not None:
                report(events_path, state.global_step, state.max_steps, logs.get("reward"), sample)

    return SampleCallback()
