"""Training text from labelled completions (``prompt``, ``completion``, ``label`` columns, KTO's layout): the prompt
followed by its completion, for the desirable ones only (``label`` true); the undesirable ones are dropped, since
supervised training would teach them too.
"""
from typing import Any, Dict, Optional


def formatting_func(sample: Dict[str, Any]) -> Optional[str]:
    label = sample["label"]
    desirable = label is True or str(label).strip().lower() in ("true", "1", "yes")  # CSV holds text
    if not desirable or not sample["completion"]:
        return None  # an undesirable (or empty) completion: not something to imitate
    prompt = sample.get("prompt", sample.get("query")) or ""  # Argilla's PPO output calls the prompt `query`
    return prompt + sample["completion"]
