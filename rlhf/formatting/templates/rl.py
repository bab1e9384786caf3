"""RL (PPO, GRPO, RLOO) prompts: the instruction template with an empty response for the policy to complete.

From Argilla's "Fine-tune an LLM" guide (its PPO section); records without a submitted instruction yield nothing.
"""
from typing import Any, Dict, Iterator

template = """\
### Instruction: {instruction}\n
### Context: {context}\n
### Response: {response}"""


def formatting_func(sample: Dict[str, Any]) -> Iterator[str]:
    for instruction, context in zip(sample["new-instruction"], sample["new-context"]):
        if instruction["status"] == "submitted":
            yield template.format(
                instruction=instruction["value"],
                context=context["value"][:500],
                response=""
            ).strip()
