"""Supervised fine-tuning: one training text per record, in the instruction template.

From Argilla's "Fine-tune an LLM" guide, made robust: it uses the first *submitted* annotator rewrite and skips
records nobody answered (the guide's `[0]` raises IndexError on them).
"""
from typing import Any, Dict, Optional

template = """\
### Instruction: {instruction}\n
### Context: {context}\n
### Response: {response}"""


def formatting_func(sample: Dict[str, Any]) -> Optional[str]:
    # What `sample` looks like depends on your FeedbackDataset fields and questions.
    for instruction, context, response in zip(sample["new-instruction"], sample["new-context"], sample["new-response"]):
        if response["status"] == "submitted":
            return template.format(
                instruction=instruction["value"],
                context=context["value"],
                response=response["value"],
            )
    return None  # no submitted response: drop the record
