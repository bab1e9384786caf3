"""The formatting functions of the seed page (Argilla's "Fine-tune an LLM" guide), as source text.

Copied verbatim from the page's code blocks; only the ``argilla`` imports and ``TrainingTask`` lines are left
out (Argilla is not installed), and the PPO block, which uses the ``template`` defined in the SFT block, gets
that definition in front of it. A DPO function in the same style completes the set (the page has none).

The text lives here once: the pieces (``TEMPLATE_BLOCK``, ``SFT_FUNCTION``, ``RM_FUNCTION``, ``PPO_FUNCTION``) are
the page's lines to the letter, and ``SEED_*`` join them with the blocks' ``typing`` imports. test_compat.py builds
the page's whole scripts from the same pieces, and benchmarks/prepare_speed.py times ``SEED_SFT`` and ``SEED_RM``.
"""

TEMPLATE_BLOCK = '''\
template = """\\
### Instruction: {instruction}\\n
### Context: {context}\\n
### Response: {response}"""
'''

SFT_FUNCTION = '''\
def formatting_func(sample: Dict[str, Any]) -> str:
    # What `sample` looks like depends a lot on your FeedbackDataset fields and questions
    return template.format(
        instruction=sample["new-instruction"][0]["value"],
        context=sample["new-context"][0]["value"],
        response=sample["new-response"][0]["value"],
    )
'''

RM_FUNCTION = '''\
def formatting_func(sample: Dict[str, Any]) -> Iterator[Tuple[str, str]]:
    # Our annotators were asked to provide new responses, which we assume are better than the originals
    og_instruction = sample["original-instruction"]
    og_context = sample["original-context"]
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
'''

PPO_FUNCTION = '''\
def formatting_func(sample: Dict[str, Any]) -> Iterator[str]:
    for instruction, context in zip(sample["new-instruction"], sample["new-context"]):
        if instruction["status"] == "submitted":
            yield template.format(
                instruction=instruction["value"],
                context=context["value"][:500],
                response=""
            ).strip()
'''

# Each section's block as a user's formatting-function file holds it (the page's lines, in the page's order).
SEED_SFT = "from typing import Dict, Any\n\n" + TEMPLATE_BLOCK + "\n" + SFT_FUNCTION
# The line of SEED_SFT that raises IndexError on a record with no responses.
SEED_SFT_FAILING_LINE = 11

SEED_RM = "from typing import Any, Dict, Iterator, Tuple\n\n" + TEMPLATE_BLOCK + "\n" + RM_FUNCTION

SEED_PPO = TEMPLATE_BLOCK + "\nfrom typing import Dict, Any, Iterator\n\n" + PPO_FUNCTION

DPO = TEMPLATE_BLOCK + '''
from typing import Any, Dict, Iterator, Tuple

def formatting_func(sample: Dict[str, Any]) -> Iterator[Tuple[str, str, str]]:
    rejected = sample["original-response"]
    for instruction, context, response in zip(sample["new-instruction"], sample["new-context"], sample["new-response"]):
        if response["status"] == "submitted" and response["value"] != rejected:
            prompt = template.format(instruction=instruction["value"], context=context["value"], response="").strip()
            yield prompt, response["value"], rejected
'''
