import gc
import sys

from rlhf.cli import main

code = main()
if sys.argv[1:2] == ["train"]:
    # A training process ends with a large heap (torch, transformers, datasets) that the interpreter's final
    # garbage collection walks for seconds, while the run's queue slot stays taken. Every result is written and
    # closed by now, so exempt what exists from that collection (atexit handlers and flushing still run).
    gc.freeze()
sys.exit(code)
