"""Publishing a finished run: a model card that says what was trained and how to load it, and the push itself.

``model_card`` is pure (reads the run folder, writes ``card.md``); ``push_run`` talks to the Hub. Neither imports
huggingface_hub, torch or transformers at import time, so the CLI and the UI stay quick to start.
"""

from __future__ import annotations

from rlhf.hub.card import model_card
from rlhf.hub.push import push_run

__all__ = ["model_card", "push_run"]
