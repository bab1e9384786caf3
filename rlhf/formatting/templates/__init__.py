"""Starting points for the formatting function of each task, written for the dolly-style Argilla layout
(``original-*`` fields, ``new-*`` text questions) of the bundled sample and ``argilla/databricks-dolly-15k-curated-en``.
"""

from __future__ import annotations

from pathlib import Path

from rlhf.formatting.user_code import DEFAULT_FUNCTION, UserCode

TEMPLATE_DIR = Path(__file__).resolve().parent
DOLLY_COLUMNS = {"original-instruction", "original-response", "new-instruction", "new-context", "new-response"}

# The seed page's prompt template, and its example: the Chat & Score tab's one-click example and the
# completions a reward function is tried on.
TEMPLATE = "### Instruction: {instruction}\n\n### Context: {context}\n\n### Response: {response}"
TOAD_PROMPT = "Is a toad a frog?"
TOAD_CONTEXT = ('Both frogs and toads are amphibians in the order Anura, which means "without a tail." Toads are a '
                "sub-classification of frogs, meaning that all toads are frogs, but not all frogs are toads.")
TOAD_GOOD = "Yes"
TOAD_BAD = 'Both frogs and toads are amphibians in the order Anura, which means "without a tail."'


def fill_template(instruction: str, context: str = "", response: str = "") -> str:
    return TEMPLATE.format(instruction=instruction, context=context or "", response=response)


def template_path(task: str) -> Path:
    return TEMPLATE_DIR / f"{task}.py"


def template_source(task: str) -> str:
    return template_path(task).read_text(encoding="utf-8")


def template_code(task: str) -> UserCode:
    return UserCode(filename=f"{task}_template.py", function=DEFAULT_FUNCTION, source=template_source(task))


def fits_templates(columns: list[str]) -> bool:
    """The templates read dolly-style columns; other Argilla datasets need their own function."""
    return DOLLY_COLUMNS <= set(columns)
