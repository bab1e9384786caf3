"""Pre-training: plain text for causal-LM training, no template.

Argilla's guide builds pre-training text from a record's fields; here the context and the accepted responses
of each record become one passage. Records with no text left are dropped.
"""
from typing import Any, Dict, Optional


def formatting_func(sample: Dict[str, Any]) -> Optional[str]:
    responses = [r["value"] for r in sample["new-response"] if r["status"] == "submitted"]
    passages = [sample["original-context"], *(responses or [sample["original-response"]])]
    text = "\n\n".join(p.strip() for p in passages if p and p.strip())
    return text or None
