"""Reward modelling: (chosen, rejected) pairs, the annotators' rewrites preferred over the originals.

From Argilla's "Fine-tune an LLM" guide; a record yields one pair per submitted rewrite that differs from the
original, and none when nobody answered. The Score tab places a response after its prompt in this same
template, as the pairs here are formatted.
"""
from typing import Any, Dict, Iterator, Tuple

template = """\
### Instruction: {instruction}\n
### Context: {context}\n
### Response: {response}"""


def formatting_func(sample: Dict[str, Any]) -> Iterator[Tuple[str, str]]:
    # Our annotators were asked to provide new responses, which we assume are better than the originals
    og_instruction = sample["original-instruction"]
    og_context = sample["original-context"] or ""
    og_response = sample["original-response"]
    rejected = template.format(instruction=og_instruction, context=og_context, response=og_response)

    for instruction, context, response in zip(sample["new-instruction"], sample["new-context"], sample["new-response"]):
        if response["status"] == "submitted":
            chosen = template.format(
                instruction=instruction["value"],
                context=context["value"],
                response=response["value"],
            )
            if chosen != rejected:
                yield chosen, rejected
