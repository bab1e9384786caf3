"""Starting points for the formatting function of each task, written for the dolly-style Argilla layout
(``original-*`` fields, ``new-*`` text questions) of the bundled sample and ``argilla/databricks-dolly-15k-curated-en``.
"""

from __future__ import annotations

from pathlib import Path

from rlhf.formatting.user_code import DEFAULT_FUNCTION, UserCode

TEMPLATE_DIR = Path(__file__).resolve().parent
DOLLY_COLUMNS = {"original-instruction", "original-response", "new-instruction", "new-context", "new-response"}


def template_path(task: str) -> Path:
    return TEMPLATE_DIR / f"{task}.py"


def template_source(task: str) -> str:
    return template_path(task).read_text(encoding="utf-8")


def template_code(task: str) -> UserCode:
    return UserCode(filename=f"{task}_template.py", function=DEFAULT_FUNCTION, source=template_source(task))


def fits_templates(columns: list[str]) -> bool:
    """The templates read dolly-style columns; other Argilla datasets need their own function."""
    return DOLLY_COLUMNS <= set(columns)
