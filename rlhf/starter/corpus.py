"""The text the starter model learns from: the bundled feedback sample.

Standard library only, because `starter_dir()` hashes this text to name the
cache folder and must stay cheap to call.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
from typing import Any, Iterable, Iterator

SAMPLE_FILE = pathlib.Path(__file__).resolve().parents[1] / "data" / "sample" / "records.jsonl"

def read_records(path: pathlib.Path | str | None = None) -> list[dict[str, Any]]:
    """Load the Argilla 1.x records; a missing sample is an error worth a clear message."""
    path = pathlib.Path(path or SAMPLE_FILE)
    if not path.is_file():
        raise FileNotFoundError(f"starter model: training sample not found at {path}")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _submitted(record: dict[str, Any], question: str) -> dict[str, str]:
    """Submitted answers to one question by annotator, so rewrites pair up by person.

    Zipping the three question lists would misalign them: Argilla only lists the
    responses that have a value for that question.
    """
    answers = {}
    for answer in record.get(question) or []:
        # An empty submitted value is a real answer (e.g. a context the annotator removed).
        if answer.get("status") == "submitted" and answer.get("value") is not None:
            answers.setdefault(answer.get("user_id"), str(answer["value"]))
    return answers


def record_texts(record: dict[str, Any]) -> Iterator[str]:
    """Plain prose from one record: the original and each annotator's rewrite as paragraphs, no template.

    The starter learns the language of the sample (and paragraph breaks) but not the instruction template on
    purpose: teaching the template is what SFT is for, so a tuned model visibly differs from its starter.
    """
    original = (record.get("original-instruction"), record.get("original-context"), record.get("original-response"))
    versions = [original]
    instructions = _submitted(record, "new-instruction")
    contexts = _submitted(record, "new-context")
    for user, new_response in _submitted(record, "new-response").items():
        versions.append((instructions.get(user, original[0]), contexts.get(user, original[1]), new_response))
    seen: set[str] = set()
    for parts in versions:
        text = "\n\n".join(p.strip() for p in parts if p and p.strip())
        if text and text not in seen:
            seen.add(text)
            yield text


def training_texts(records: Iterable[dict[str, Any]] | None = None) -> list[str]:
    """Every training document, in file order (order matters for determinism)."""
    if records is None:
        records = read_records()
    return [text for record in records for text in record_texts(record)]


def text_hash(texts: Iterable[str]) -> str:
    """Fingerprint of the corpus, so editing the sample rebuilds the starter."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()
