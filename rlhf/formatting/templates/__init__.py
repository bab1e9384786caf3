"""Starting points for the formatting function of each task, by the kind of dataset they read.

The templates named after a row contract (``sft.py``, ``rm.py``, …) are written for the dolly-style Argilla layout
(``original-*`` fields, ``new-*`` text questions) of the bundled sample and
``argilla/databricks-dolly-15k-curated-en``; :data:`FAMILIES` adds templates for plain preference pairs, for the
tasks whose rows plain columns cannot give. :func:`template_for` picks a task's template from a dataset's layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rlhf.data.layouts import COLUMN_ALIASES, Layout
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


def template_summary(task: str) -> str:
    """The first sentence of a template's docstring: what it makes of a record, for the Format tab."""
    import ast

    doc = ast.get_docstring(ast.parse(template_source(task))) or ""
    first = " ".join(doc.split("\n\n", 1)[0].split())
    return first.split(". ", 1)[0].rstrip(".") + "." if first else ""


def template_code(task: str) -> UserCode:
    return UserCode(filename=f"{task}_template.py", function=DEFAULT_FUNCTION, source=template_source(task))


def fits_templates(columns: list[str]) -> bool:
    """The templates read dolly-style columns; other Argilla datasets need their own function."""
    return DOLLY_COLUMNS <= set(columns)


@dataclass(frozen=True)
class TemplateFamily:
    """Templates written for one kind of dataset: which layouts they read, and the file for each row contract's
    template name (:attr:`rlhf.rows.RowContract.template`) they cover."""

    name: str
    fits: Callable[[Layout], bool]
    files: dict[str, str]


def _dolly(layout: Layout) -> bool:
    return layout.is_argilla and fits_templates(layout.fields + layout.questions)  # v2 columns are q.responses…


def _plain_with(*columns: str) -> Callable[[Layout], bool]:
    def fits(layout: Layout) -> bool:
        return not layout.is_argilla and set(columns) <= {COLUMN_ALIASES.get(c, c) for c in layout.columns}

    return fits


DOLLY = "dolly-style Argilla"
FAMILIES: tuple[TemplateFamily, ...] = (
    TemplateFamily(DOLLY, _dolly, {name: name for name in ("pretrain", "sft", "rm", "rl", "dpo", "kto")}),
    # SFT from a preference set trains on prompt + chosen; RM, RL and DPO take the plain columns as they are.
    TemplateFamily("preference pairs", _plain_with("prompt", "chosen", "rejected"),
                   {"pretrain": "text_from_pairs", "sft": "text_from_pairs", "kto": "kto_from_pairs"}),
    TemplateFamily("preference pairs without a prompt", _plain_with("chosen", "rejected"),
                   {"pretrain": "text_from_pairs", "sft": "text_from_pairs"}),
    # SFT from KTO's labelled completions trains on the desirable ones only (their prompt + completion)
    TemplateFamily("labelled completions", _plain_with("prompt", "completion", "label"),
                   {"pretrain": "text_from_labels", "sft": "text_from_labels"}),
)


def template_for(layout: Layout, template: str) -> str | None:
    """The template file (its stem) for a row contract's template name on this layout, or None when no template
    reads this kind of dataset."""
    for family in FAMILIES:
        if template in family.files and family.fits(layout):
            return family.files[template]
    return None


def templates_of(template: str) -> tuple[str, ...]:
    """Every template file written for a row contract's template name, whatever the dataset."""
    return tuple(dict.fromkeys(f.files[template] for f in FAMILIES if template in f.files))
