"""KTO: (prompt, completion, label) rows, the annotator's rewrite desirable and the original response not.

A record yields both replies of its preference pair as two rows; a record nobody answered yields none. With an
Argilla ``LabelQuestion`` (thumbs up/down) yield one row per label instead. The prompt is the instruction template
up to "### Response:"; the trainer appends the completion to it.
"""
from typing import Any, Dict, Iterator, Tuple

template = """\
### Instruction: {instruction}\n
### Context: {context}\n
### Response: {response}"""


def formatting_func(sample: Dict[str, Any]) -> Iterator[Tuple[str, str, bool]]:
    original = " " + sample["original-response"]
    for instruction, context, response in zip(sample["new-instruction"], sample["new-context"], sample["new-response"]):
        if response["status"] == "submitted":
            prompt = template.format(instruction=instruction["value"], context=context["value"], response="").strip()
            rewrite = " " + response["value"]
            if rewrite != original:
                yield prompt, rewrite, True
                yield prompt, original, False
