"""How long do the things the tests check take? Wall-clock figures, measured and printed, never asserted.

The tests check behaviour (the app serves before it builds the starter, a Hub id fails with a helpful message,
user code is stopped by its time limit, ``submit`` does not wait for the run, every chat is answered under load);
how fast that happens depends on the machine and on what else it runs, so the figures live here, each beside
the target it should meet:

- startup: ``python app.py`` with an empty starter cache, to its first HTTP 200 (target < 10 s);
- a Hub id with ``HF_HUB_OFFLINE=1``, and against an endpoint that refuses connections: ``python -m rlhf prepare``
  to its error (target < 10 s each);
- ``push_run`` offline, and against an endpoint that refuses connections, to ``HubUnreachableError`` (< 5 s);
- user code that never returns (``--timeout 2``), that swallows exceptions (``--timeout 1``) and that loops while
  its file loads (``--timeout 1``): ``python -m rlhf prepare`` to its error (target < 8 s each);
- ``RunManager.submit`` of a run, to its return (target < 2 s);
- with ``--load``: the chat latency of ten sessions while their ten runs train (``tests/test_load.py``'s scenario;
  builds the starter model first; minutes): median, p95 (target < 30 s) and max.

Each figure is the median of ``--repeat`` runs. The scenarios reuse the tests' helpers (``tests/``), so they
measure exactly what the tests exercise.

    python benchmarks/timings.py [--repeat 3] [--load]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from app_helpers import free_port, start_app, stop_app, wait_until_serving  # noqa: E402
from conftest import DOLLY_RECORDS, cli_env, run_cli, write_function, write_records  # noqa: E402

CLOSED_ENDPOINT = "http://127.0.0.1:9"  # the discard port: nothing listens there
LOOPS = {  # user code that never finishes on its own: (what it does, source, --timeout)
    "never returns": ("def formatting_func(sample):\n    while True:\n        pass\n", 2),
    "swallows exceptions": ("def formatting_func(sample):\n    while True:\n        try:\n"
                            "            sum(range(1000))\n        except Exception:\n            pass\n", 1),
    "loops while its file loads": ("while True:\n    pass\n", 1),
}


def timed(action: Callable[[], object]) -> float:
    began = time.monotonic()
    action()
    return time.monotonic() - began


def show(what: str, seconds: list[float], target: float | None = None) -> None:
    figure = f"{statistics.median(seconds):7.2f} s"
    runs = ", ".join(f"{s:.2f}" for s in seconds)
    goal = f"target < {target:g} s; " if target is not None else ""
    print(f"{what:<62}{figure}   ({goal}runs: {runs})", flush=True)


def failing(result: subprocess.CompletedProcess) -> None:
    """The CLI must have failed, as the tests expect; else the time measured is not of the failure."""
    if result.returncode == 0:
        raise SystemExit(f"expected a failure, got exit 0:\n{result.stdout[-2000:]}")


# -- the scenarios ---------------------------------------------------------------------------------------------

def startup(folder: Path) -> float:
    cache, log, port = folder / "empty-cache", folder / "app.log", free_port()
    began = time.monotonic()
    proc = start_app(port, folder / "runs", cache, log)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/", proc, log, timeout=120)
        return time.monotonic() - began
    finally:
        stop_app(proc)


def prepare_hub_id(folder: Path, dataset: str, **env: str | None) -> float:
    environ = cli_env(HF_HOME=str(folder / "hf-home"), HF_DATASETS_CACHE=None, HF_HUB_CACHE=None, **env)
    return timed(lambda: failing(run_cli("prepare", "--dataset", dataset, "--task", "sft",
                                         "--output", folder / "rows.jsonl", env=environ)))


def push_unreachable(folder: Path, offline: bool) -> float:
    """``push_run`` of a finished run folder (config.yaml, a non-empty final/) where the Hub cannot be reached."""
    import huggingface_hub.constants

    from rlhf.errors import HubUnreachableError
    from rlhf.hub import push_run
    from rlhf.runs.config import RunConfig

    run = folder / "sft-1"
    RunConfig(task="sft", model="starter", output_dir=str(run)).save(run / "config.yaml")
    (run / "final").mkdir()
    (run / "final" / "config.json").write_text("{}")
    saved = os.environ.get("HF_HUB_OFFLINE"), huggingface_hub.constants.HF_HUB_OFFLINE
    os.environ["HF_TOKEN"] = "hf_benchmark_not_a_token"
    if offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
    else:
        os.environ.pop("HF_HUB_OFFLINE", None)
        huggingface_hub.constants.HF_HUB_OFFLINE = False
    began = time.monotonic()
    try:
        push_run(run, "alice/tiny-sft", endpoint=None if offline else CLOSED_ENDPOINT)
    except HubUnreachableError:
        return time.monotonic() - began
    finally:
        os.environ.pop("HF_TOKEN")
        if saved[0] is not None:
            os.environ["HF_HUB_OFFLINE"] = saved[0]
        huggingface_hub.constants.HF_HUB_OFFLINE = saved[1]
    raise SystemExit("push_run did not raise HubUnreachableError")


def user_code_limit(folder: Path, source: str, timeout_s: int) -> float:
    dataset = write_records(folder, DOLLY_RECORDS)
    function = write_function(folder, source, "user_func.py")
    return timed(lambda: failing(run_cli("prepare", "--dataset", dataset, "--task", "sft", "--formatting-func",
                                         function, "--output", folder / "out" / "rows.jsonl",
                                         "--timeout", str(timeout_s))))


def submit(folder: Path) -> float:
    """``RunManager.submit`` with ``tests/test_runs_manager.py``'s stand-in trainer; the run is waited for after."""
    from rlhf.runs.config import RunConfig, TrainingSettings
    from rlhf.runs.manager import CONFIG, RunManager
    from test_runs_manager import FAKE_TRAINER

    script = folder / "fake_trainer.py"
    script.write_text(FAKE_TRAINER)
    manager = RunManager(folder / "runs", max_concurrent=1, command=[sys.executable, str(script), "--config", CONFIG])
    config = RunConfig(task="sft", model="starter", training=TrainingSettings(max_steps=5, extra={"step_s": 0.02}))
    began = time.monotonic()
    run_id = manager.submit(config)
    seconds = time.monotonic() - began
    manager.wait(run_id, timeout=60)
    return seconds


def chat_under_load(folder: Path) -> list[float]:
    """The chats' seconds in ``tests/test_load.py``'s scenario, with a starter model built for it first."""
    from test_load import run_load

    cache = folder / "rlhf-cache"
    subprocess.run([sys.executable, "-m", "rlhf.starter"], cwd=ROOT, check=True, capture_output=True,
                   env=dict(os.environ, RLHF_CACHE_DIR=str(cache)))
    (folder / "load").mkdir()
    load = run_load(folder / "load", cache)
    return [t for session in load["sessions"] for t in session.chat_seconds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--load", action="store_true", help="also chat latency under load (minutes)")
    args = parser.parse_args()

    scenarios: list[tuple[str, float, Callable[[Path], float]]] = [
        ("startup, empty starter cache: first HTTP 200", 10, startup),
        ("prepare a Hub id, HF_HUB_OFFLINE=1: error", 10,
         lambda f: prepare_hub_id(f, "argilla/databricks-dolly-15k-curated-en", HF_HUB_OFFLINE="1")),
        ("prepare a Hub id, endpoint refuses connections: error", 10,
         lambda f: prepare_hub_id(f, "owner/dolly", HF_HUB_OFFLINE=None, HF_ENDPOINT=CLOSED_ENDPOINT)),
        ("push_run, HF_HUB_OFFLINE=1: HubUnreachableError", 5, lambda f: push_unreachable(f, offline=True)),
        ("push_run, endpoint refuses connections: HubUnreachableError", 5,
         lambda f: push_unreachable(f, offline=False)),
        *[(f"user code that {what} (--timeout {limit}): error", 8,
           lambda f, source=source, limit=limit: user_code_limit(f, source, limit))
          for what, (source, limit) in LOOPS.items()],
        ("RunManager.submit: returns", 2, submit),
    ]
    print(f"{os.cpu_count()} CPUs; median of {args.repeat}", flush=True)
    for what, target, scenario in scenarios:
        seconds = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="rlhf-timings-") as folder:
                seconds.append(scenario(Path(folder)))
        show(what, seconds, target)
    if args.load:
        with tempfile.TemporaryDirectory(prefix="rlhf-timings-") as folder:
            chats = chat_under_load(Path(folder))
        if not chats:
            raise SystemExit("no chat was answered under load")
        from test_load import percentile

        print(f"{'chat under load (ten sessions, ten runs training)':<62}median {statistics.median(chats):.2f} s, "
              f"p95 {percentile(chats, 0.95):.2f} s, max {max(chats):.2f} s   (target: p95 < 30 s; {len(chats)} chats)")


if __name__ == "__main__":
    main()
