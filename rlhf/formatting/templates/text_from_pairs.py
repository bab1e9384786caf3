"""Training text from preference pairs (``prompt``, ``chosen``, ``rejected`` columns): the prompt followed by its
chosen reply; the rejected reply is not used. The two are joined as they are, as the DPO trainer joins a prompt and
a completion, so SFT and DPO on the same pairs see the same text. Without a prompt column (pairs of whole
dialogues), the chosen text alone. Records without a chosen reply are dropped.
"""
from typing import Any, Dict, Optional


def formatting_func(sample: Dict[str, Any]) -> Optional[str]:
    prompt = sample.get("prompt", sample.get("query")) or ""  # Argilla's PPO output calls the prompt `query`
    chosen = sample["chosen"]
    if not chosen:
        return None  # nothing to learn from: drop the record
    return prompt + chosen
