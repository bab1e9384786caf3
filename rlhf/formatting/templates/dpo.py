"""Preference pairs: (prompt, chosen, rejected), the annotator's rewrite chosen over the original response.

The prompt is the instruction template up to "### Response:"; the trainer appends each completion to it.
"""
from typing import Any, Dict, Iterator, Tuple

template = """\
### Instruction: {instruction}\n
### Context: {context}\n
### Response: {response}"""


def formatting_func(sample: Dict[str, Any]) -> Iterator[Tuple[str, str, str]]:
    rejected = " " + sample["original-response"]
    for instruction, context, response in zip(sample["new-instruction"], sample["new-context"], sample["new-response"]):
        if response["status"] == "submitted":
            prompt = template.format(instruction=instruction["value"], context=context["value"], response="").strip()
            chosen = " " + response["value"]
            if chosen != rejected:
                yield prompt, chosen, rejected
