"""Shared fixtures: tiny hand-written feedback records, writers for them, and a runner for the CLI.

Everything here is offline: the Hub is switched off for the whole test session (tests that exercise the Hub
path set up their own endpoint), and Gradio sends no analytics.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # one core per worker: two workers' trainers each spinning two OpenMP threads on two cores ran PPO ten
    # times slower than alone
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Iterable  # noqa: E402

import pytest  # noqa: E402

from rlhf.formatting.templates import TEMPLATE  # noqa: E402 (the seed page's prompt template)

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = REPO_ROOT / "rlhf"

QUESTIONS = ("new-instruction", "new-context", "new-response")


# -- Argilla 1.x records -------------------------------------------------------------------------------------

def dolly_record(external_id: str, instruction: str, context: str | None, response: str,
                 rewrites: Iterable[tuple[str, str, str, str, str]] = (), category: str = "open_qa") -> dict:
    """One record as Argilla 1.x's ``FeedbackDataset.format_as("datasets")`` lays it out.

    ``rewrites`` are annotator responses: ``(user_id, status, new_instruction, new_context, new_response)``.
    The original values are the suggestions, as in ``argilla/databricks-dolly-15k-curated-en``.
    """
    rewrites = list(rewrites)
    record: dict[str, Any] = {
        "original-instruction": instruction,
        "original-context": context,
        "original-response": response,
    }
    for position, (question, original) in enumerate(zip(QUESTIONS, (instruction, context, response)), start=2):
        record[question] = [{"user_id": r[0], "value": r[position], "status": r[1]} for r in rewrites]
        record[f"{question}-suggestion"] = original
        record[f"{question}-suggestion-metadata"] = {"type": None, "score": None, "agent": None}
    record["external_id"] = external_id
    record["metadata"] = json.dumps({"category": category})
    return record


# Six records, each with one thing to notice.
ANSWERED = dolly_record(  # 0: one annotator, rewrite differs from the original
    "dolly-0", "Name a primary colour.", "Red, green and blue are primary colours of light.", "Red.",
    [("annotator-1", "submitted", "Name one primary colour of light.",
      "Red, green and blue are primary colours of light.", "Red is a primary colour of light.")],
)
NO_CONTEXT = dolly_record(  # 1: the optional original-context field is absent (None)
    "dolly-1", "What is two plus two?", None, "4",
    [("annotator-1", "submitted", "What is two plus two?", "", "Two plus two is four.")],
)
UNANSWERED = dolly_record(  # 2: nobody responded: every question is []
    "dolly-2", "Who wrote Hamlet?", None, "Shakespeare.",
)
DISCARDED = dolly_record(  # 3: the only response was discarded
    "dolly-3", "Translate 'chat' to English.", "French", "cat",
    [("annotator-2", "discarded", "Translate 'chat' from French.", "French", "Cat.")],
)
TWO_ANNOTATORS = dolly_record(  # 4: two submitted rewrites
    "dolly-4", "Give a synonym for quick.", "", "fast",
    [("annotator-1", "submitted", "Give one synonym for 'quick'.", "", "Fast."),
     ("annotator-2", "submitted", "Give a synonym for the word quick.", "", "Rapid.")],
)
UNCHANGED = dolly_record(  # 5: the rewrite equals the original
    "dolly-5", "Name a planet.", "The Solar System has eight planets.", "Mars.",
    [("annotator-1", "submitted", "Name a planet.", "The Solar System has eight planets.", "Mars.")],
)
DOLLY_RECORDS = [ANSWERED, NO_CONTEXT, UNANSWERED, DISCARDED, TWO_ANNOTATORS, UNCHANGED]
# The same without the record nobody answered: the seed's SFT function (which uses `[0]`) runs on all of these.
ANSWERED_RECORDS = [r for r in DOLLY_RECORDS if r is not UNANSWERED]


def fill(instruction: Any, context: Any, response: Any) -> str:
    return TEMPLATE.format(instruction=instruction, context=context, response=response)


# -- writing datasets ----------------------------------------------------------------------------------------

def write_jsonl(path: Path, records: Iterable[dict]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def write_parquet(path: Path, records: Iterable[dict]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(list(records)), path)
    return path


WRITERS = {"jsonl": write_jsonl, "parquet": write_parquet}


def write_records(folder: Path, records: Iterable[dict], fmt: str = "jsonl", name: str = "records") -> Path:
    return WRITERS[fmt](Path(folder) / f"{name}.{fmt}", records)


def read_rows(path: Path) -> list[dict]:
    """The rows of a prepared output file, as dicts."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_function(folder: Path, source: str, name: str = "my_func.py") -> Path:
    path = Path(folder) / name
    path.write_text(source, encoding="utf-8")
    return path


@pytest.fixture(params=["jsonl", "parquet"])
def fmt(request) -> str:
    """Run a test once per input file type."""
    return request.param


@pytest.fixture
def dolly_file(tmp_path, fmt) -> Path:
    """All six dolly records, in the parametrised file type."""
    return write_records(tmp_path, DOLLY_RECORDS, fmt)


@pytest.fixture
def answered_file(tmp_path, fmt) -> Path:
    """The five records that have at least one response, in the parametrised file type."""
    return write_records(tmp_path, ANSWERED_RECORDS, fmt)


@pytest.fixture
def rlhf_cache(tmp_path, monkeypatch) -> Path:
    """Point rlhf's cache (prepared rows, starter model) at a fresh folder."""
    folder = tmp_path / "rlhf-cache"
    monkeypatch.setenv("RLHF_CACHE_DIR", str(folder))
    return folder


# -- the CLI -------------------------------------------------------------------------------------------------

def cli_env(**changes: str | None) -> dict[str, str]:
    """The test process's environment, with rlhf importable; a value of None removes the variable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_cli(*args: Any, env: dict[str, str] | None = None, timeout: float = 120,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m rlhf ARGS…`` in a subprocess, capturing text output."""
    return subprocess.run(
        [sys.executable, "-m", "rlhf", *map(str, args)], capture_output=True, text=True,
        env=env if env is not None else cli_env(), timeout=timeout, cwd=cwd or REPO_ROOT,
    )


def error_line(result: subprocess.CompletedProcess) -> str:
    """The CLI's single error line (asserting there is exactly one line on stderr)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def assert_clean_failure(result: subprocess.CompletedProcess, code: int) -> None:
    """Non-zero exit with a message for a person: no traceback, nothing from inside the rlhf package."""
    assert result.returncode == code, f"exit {result.returncode}, stderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    assert str(PACKAGE_DIR) not in result.stderr
    assert "rlhf/formatting" not in result.stderr and "rlhf/data" not in result.stderr


def built_once(tmp_path_factory, name: str, build) -> Path:
    """A folder that ``build(folder)`` fills once per test session. Under pytest-xdist the workers share it (the
    first one builds it under a lock, the others wait and reuse it), so two cores do not build the same starter
    or train the same README run twice."""
    from filelock import FileLock

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        folder = tmp_path_factory.mktemp(name)
        build(folder)
        return folder
    root = tmp_path_factory.getbasetemp().parent  # shared by the workers of this session
    folder, done = root / name, root / f"{name}.done"
    with FileLock(str(root / f"{name}.lock")):
        if not done.exists():
            folder.mkdir(exist_ok=True)
            build(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def starter_cache(tmp_path_factory) -> Path:
    """A cache holding the starter model, built once per test session (about 20-30 s on 2 cores)."""
    return built_once(tmp_path_factory, "rlhf-cache", lambda cache: subprocess.run(
        [sys.executable, "-m", "rlhf.starter"], cwd=REPO_ROOT, check=True, capture_output=True,
        env=dict(os.environ, RLHF_CACHE_DIR=str(cache))))


@pytest.fixture(scope="session")
def readme_sft_run(starter_cache, tmp_path_factory) -> Path:
    """The README's SFT run with the app's defaults (only ``--max-steps 60``), trained once per test session."""
    from training_helpers import train

    return built_once(tmp_path_factory, "readme-sft", lambda folder: train(
        starter_cache, folder / "sft", "--task", "sft", "--model", "starter", "--dataset", "sample",
        "--max-steps", "60")) / "sft"


@pytest.fixture(scope="session")
def readme_rm_run(starter_cache, tmp_path_factory) -> Path:
    """The README's reward model with the app's defaults (only ``--max-steps 60``), trained once per test session."""
    from training_helpers import train

    return built_once(tmp_path_factory, "readme-rm", lambda folder: train(
        starter_cache, folder / "rm", "--task", "rm", "--model", "starter", "--dataset", "sample",
        "--max-steps", "60")) / "rm"


# The files that take longest (measured, slowest first; together over half of the suite). pytest-xdist's
# ``--dist loadfile`` hands out files in collection order, so these go first and two workers finish together,
# instead of one running the last long file while the other idles.
LONGEST_FIRST = ("test_training", "test_readme_flow", "test_ray_backend", "test_load", "test_bad_inputs",
                 "test_run_lifecycle", "test_browser", "test_learning_from_sft", "test_crash_restart",
                 "test_inference", "test_distributed", "test_preference_tasks", "test_compat", "test_app_api",
                 "test_compat_trlx")


def pytest_configure(config) -> None:
    """Keep that order: by default pytest-xdist reorders files by their number of tests, which puts the few long
    training and browser files last."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects
def pytest_collection_modifyitems(items) -> None:
    """Training and browser tests, and any test that needs the starter model built, are slow too: ``-m "not slow"``
    leaves them out without a second mark. The longest files run first (see LONGEST_FIRST)."""
    for item in items:
        if (item.get_closest_marker("training") or item.get_closest_marker("browser")
                or "starter_cache" in getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))  # stable: the rest keep their order


def _figures_dir(config) -> Path:
    """Where pytest-xdist workers leave their figures for the controller's summary."""
    return Path(str(config._tmp_path_factory.getbasetemp())).parent / "figures" \
        if hasattr(config, "workerinput") else Path(str(config._tmp_path_factory.getbasetemp())) / "figures"


def pytest_sessionfinish(session) -> None:
    """A pytest-xdist worker writes its figures to a file, as its terminal summary is not shown."""
    from figures import lines

    if hasattr(session.config, "workerinput") and lines():
        folder = _figures_dir(session.config)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{session.config.workerinput['workerid']}.txt").write_text("\n".join(lines()))


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the figures the hardening tests measured (see figures.py), even under ``-q``; under pytest-xdist,
    those the workers wrote as well."""
    from figures import lines

    found = lines()
    folder = _figures_dir(terminalreporter.config)
    if folder.is_dir():
        for path in sorted(folder.glob("*.txt")):
            found += path.read_text().splitlines()
    if found:
        terminalreporter.section("hardening figures")
        for line in found:
            terminalreporter.write_line(line)
