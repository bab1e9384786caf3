"""``python app.py``: the rlhf app (Hugging Face Spaces run this file). Flags: ``python app.py --help``.

Thin on purpose: the UI lives in :mod:`rlhf.ui`, the engine in :mod:`rlhf`.
"""

import sys

from rlhf.ui.app import main

if __name__ == "__main__":
    sys.exit(main())
