"""`python -m rlhf.starter [--rebuild] [--print-path]`: build (or find) the starter model.

Progress goes to stderr so `--print-path` leaves only the folder on stdout for scripts
(e.g. the Docker image build).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from rlhf.starter import ensure_starter

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # our own progress lines say enough


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rlhf.starter", description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="build again even if a cached copy exists")
    parser.add_argument("--print-path", action="store_true", help="print only the model folder on stdout")
    args = parser.parse_args(argv)

    def progress(fraction: float, message: str) -> None:
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)

    start = time.perf_counter()
    path = ensure_starter(progress=progress, rebuild=args.rebuild)
    seconds = time.perf_counter() - start
    if args.print_path:
        print(path)
    else:
        print(f"starter model: {path} ({seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
