"""Where a reply to the instruction template begins and ends, read off the template itself.

A model trained on the template answers after ``### Response:`` and, when it does not stop with its end token,
goes on with a new section (``### Instruction: …``): the answer ends there. Some models first repeat the header
(``"\\n\\n### Response: Yes."``); that is not the end of the answer but noise before it. The chat, ``rlhf
generate`` and the stop sequence during generation all use these functions, so they agree on what was said.
"""

from __future__ import annotations

import re

from rlhf.formatting.templates import TEMPLATE

# "### Instruction:", "### Context:", "### Response:" (the starter's tokenizer gives each one token).
TEMPLATE_HEADERS: tuple[str, ...] = tuple(re.findall(r"###[^:\n]*:", TEMPLATE))
RESPONSE_HEADER = TEMPLATE_HEADERS[-1]

_HEADER = re.compile("|".join(re.escape(header) for header in TEMPLATE_HEADERS))
_LEADING_HEADERS = re.compile(rf"(?:\s*(?:{_HEADER.pattern}))*\s*")
NOTHING_SHOWN_CHARS = 160


def split_answer(completion: str) -> tuple[str, bool]:
    """The answer in a completion of the template prompt, and whether a header after it ended it.

    Headers before any text are skipped (an answer never ends before it starts); the answer runs to the next
    header. A header only partly generated at the end (``"Yes.\\n\\n### Instr"``) is left out: while streaming,
    it is most likely the start of the next section.
    """
    body = completion[_LEADING_HEADERS.match(completion).end():]
    header = _HEADER.search(body)
    if header is not None:
        return body[:header.start()].strip(), True
    return _without_partial_header(body).strip(), False


def answer_text(completion: str) -> str:
    """What to show of a template completion: the first section with text in it."""
    return split_answer(completion)[0]


def answer_ended(completion: str) -> bool:
    """True once the model has answered and started a new section: generation can stop there."""
    return split_answer(completion)[1]


def nothing_said(emitted: str) -> str:
    """The note shown instead of an empty reply: what the model emitted (end-of-text tokens included)."""
    if not emitted:
        return "(no text: the model emitted no tokens)"
    shown = emitted if len(emitted) <= NOTHING_SHOWN_CHARS else emitted[:NOTHING_SHOWN_CHARS] + "…"
    return f"(no text: the model emitted only {shown!r})"


def _without_partial_header(text: str) -> str:
    start = text.rfind("#")
    while start > 0 and text[start - 1] == "#":
        start -= 1
    tail = text[start:] if start >= 0 else ""
    if len(tail) >= 3 and any(header.startswith(tail) for header in TEMPLATE_HEADERS):  # "###" at least
        return text[:start]
    return text
