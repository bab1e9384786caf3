"""KTO from preference pairs (``prompt``, ``chosen``, ``rejected`` columns): each pair becomes two
(prompt, completion, label) rows, the chosen reply desirable and the rejected one not. A pair whose two replies are
the same teaches nothing and yields no rows.
"""
from typing import Any, Dict, Iterator, Tuple


def formatting_func(sample: Dict[str, Any]) -> Iterator[Tuple[str, str, bool]]:
    prompt = sample.get("prompt", sample.get("query")) or ""  # Argilla's PPO output calls the prompt `query`
    chosen, rejected = sample["chosen"], sample["rejected"]
    if chosen and rejected and chosen != rejected:
        yield prompt, chosen, True
        yield prompt, rejected, False
