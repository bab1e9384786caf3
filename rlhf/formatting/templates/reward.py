"""RL reward function, with TRL's signature: one float per completion, higher is better.

A hand-written stand-in for (or addition to) a learned reward model: it prefers complete, short answers that
stop where the response should end. Select "use the reward function from the Format tab" in the Train tab to
use it for an RL run; with reward models as well, the rewards add up.
"""
from typing import List, Optional


def reward_func(completions: List[str], prompts: Optional[List[str]] = None, **kwargs) -> List[float]:
    rewards = []
    for completion in completions:
        text = completion.strip()
        words = len(text.split())
        reward = 0.0
        if 1 <= words <= 40:  # an answer, not an essay
            reward += 1.0
        if text.endswith((".", "!", "?")):  # a finished sentence
            reward += 0.5
        if "###" in text:  # ran on into the next section of the template
            reward -= 1.0
        rewards.append(reward)
    return rewards
