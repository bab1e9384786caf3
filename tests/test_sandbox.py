"""User code runs isolated: its failures are one readable message, its limits hold, and it sees no secrets."""

from __future__ import annotations

import pytest

from conftest import (DOLLY_RECORDS, assert_clean_failure, cli_env, error_line, read_rows, run_cli, write_function,
                      write_records)
from seed_functions import SEED_SFT, SEED_SFT_FAILING_LINE

SECRET = "hf_secretTOKENdoNotLeak1234567890"


def prepare(tmp_path, source, task="sft", records=DOLLY_RECORDS, *extra, env=None, fmt="jsonl"):
    dataset = write_records(tmp_path, records, fmt)
    function = write_function(tmp_path, source, "user_func.py")
    return run_cli("prepare", "--dataset", dataset, "--task", task, "--formatting-func", function,
                   "--output", tmp_path / "out" / "rows.jsonl", *extra, env=env)


def assert_nothing_written(tmp_path):
    out = tmp_path / "out"
    assert not (out / "rows.jsonl").exists()
    assert not list(out.glob(".rlhf-prepare-*")), "the staging folder was left behind"


# -- the seed's SFT function on a record nobody answered -----------------------------------------------------

@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_seed_sft_index_error_names_the_record_external_id_and_user_line(tmp_path, fmt):
    result = prepare(tmp_path, SEED_SFT, fmt=fmt)

    assert_clean_failure(result, 3)
    message = error_line(result)
    assert "IndexError" in message
    assert "record 2" in message and "'dolly-2'" in message
    assert f"user_func.py, line {SEED_SFT_FAILING_LINE}" in message
    assert 'instruction=sample["new-instruction"][0]["value"]' in message
    assert_nothing_written(tmp_path)


def test_an_index_error_on_a_record_without_responses_suggests_returning_none(tmp_path):
    result = prepare(tmp_path, SEED_SFT)

    assert "no annotator responses" in result.stderr and "return None" in result.stderr


# -- limits ---------------------------------------------------------------------------------------------------

def test_a_function_that_never_returns_is_stopped_by_the_timeout(tmp_path):
    source = "def formatting_func(sample):\n    while True:\n        pass\n"

    result = prepare(tmp_path, source, "sft", DOLLY_RECORDS, "--timeout", "2")

    assert_clean_failure(result, 3)
    message = error_line(result)
    assert "time limit of 2 s" in message
    assert "record 0" in message and "'dolly-0'" in message
    assert "user_func.py, line 2" in message or "user_func.py, line 3" in message
    assert "--timeout" in message
    assert_nothing_written(tmp_path)


def test_a_function_that_swallows_exceptions_is_still_stopped_by_the_timeout(tmp_path):
    source = ("def formatting_func(sample):\n"
              "    while True:\n"
              "        try:\n"
              "            sum(range(1000))\n"
              "        except Exception:\n"
              "            pass\n")

    result = prepare(tmp_path, source, "sft", DOLLY_RECORDS, "--timeout", "1")

    assert_clean_failure(result, 3)
    assert "time limit" in error_line(result)


def test_a_function_that_allocates_too_much_memory_is_stopped_by_the_memory_limit(tmp_path):
    source = "def formatting_func(sample):\n    buffer = bytearray(10 * 1024**3)\n    return 'never'\n"

    result = prepare(tmp_path, source)

    assert_clean_failure(result, 3)
    message = error_line(result)
    assert "memory limit" in message
    assert "record 0" in message and "user_func.py, line 2" in message
    assert_nothing_written(tmp_path)


def test_the_memory_limit_is_a_setting(tmp_path):
    source = "def formatting_func(sample):\n    buffer = bytearray(600 * 1024**2)\n    return 'fits'\n"

    result = prepare(tmp_path, source, "sft", DOLLY_RECORDS[:1], "--memory-limit-mb", "400")

    assert_clean_failure(result, 3)
    assert "memory limit of 400 MB" in error_line(result)


def test_a_file_that_loops_while_loading_is_stopped_by_the_timeout(tmp_path):
    result = prepare(tmp_path, "while True:\n    pass\n", "sft", DOLLY_RECORDS, "--timeout", "1")

    assert_clean_failure(result, 3)
    assert "time limit of 1 s" in error_line(result) and "loading the function" in result.stderr


def test_a_function_that_calls_sys_exit_is_reported_like_a_raise(tmp_path):
    result = prepare(tmp_path, "import sys\n\ndef formatting_func(sample):\n    sys.exit(0)\n")

    assert_clean_failure(result, 3)
    message = error_line(result)
    assert "raised SystemExit" in message and "record 0" in message and "user_func.py, line 4" in message
    assert_nothing_written(tmp_path)


# -- wrong return types ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("task", "returned", "named"), [
    ("sft", "{'text': sample['external_id']}", "returned dict {'text': 'dolly-0'}"),
    ("rm", "'just one text'", "returned str 'just one text'"),
    ("rm", "('a', 'b', 'c')", "returned a tuple of 3 (str, str, str)"),
    ("dpo", "('prompt', 'chosen')", "returned a tuple of 2 (str, str)"),
    ("rl", "42", "returned int 42"),
    ("rm", "('chosen', None)", "returned a tuple of 2 (str, NoneType)"),
])
def test_a_wrong_return_type_is_named_with_the_task_and_record(tmp_path, task, returned, named):
    result = prepare(tmp_path, f"def formatting_func(sample):\n    return {returned}\n", task)

    assert_clean_failure(result, 3)
    message = error_line(result)
    assert named in message
    assert f"task '{task}' expects" in message
    assert "record 0" in message and "'dolly-0'" in message
    assert_nothing_written(tmp_path)


# -- loading the user's file ----------------------------------------------------------------------------------

def test_a_syntax_error_names_the_file_and_line(tmp_path):
    result = prepare(tmp_path, "def formatting_func(sample):\n    return (\n\nx = 1 +\n")

    assert_clean_failure(result, 3)
    assert "user_func.py, line" in error_line(result) and "syntax error" in result.stderr


def test_a_missing_function_lists_the_functions_the_file_defines(tmp_path):
    result = prepare(tmp_path, "def format_it(sample):\n    return 'x'\n")

    assert_clean_failure(result, 3)
    message = error_line(result)
    assert "no function named 'formatting_func'" in message and "format_it" in message


def test_an_error_while_importing_the_file_names_its_line(tmp_path):
    result = prepare(tmp_path, "import json\nraise RuntimeError('bad setup')\n")

    assert_clean_failure(result, 3)
    message = error_line(result)
    assert "user_func.py, line 2" in message and "RuntimeError: bad setup" in message


# -- secrets --------------------------------------------------------------------------------------------------

def test_user_code_does_not_see_the_hub_token(tmp_path):
    source = "import os\n\ndef formatting_func(sample):\n    return str(sorted(os.environ))\n"
    env = cli_env(HF_TOKEN=SECRET, HUGGING_FACE_HUB_TOKEN=SECRET, AWS_SECRET_ACCESS_KEY=SECRET)

    result = prepare(tmp_path, source, "sft", DOLLY_RECORDS[:1], env=env)

    assert result.returncode == 0, result.stderr
    [row] = read_rows(tmp_path / "out" / "rows.jsonl")
    assert "PATH" in row["text"]
    assert "HF_TOKEN" not in row["text"] and "AWS_SECRET_ACCESS_KEY" not in row["text"]
    assert SECRET not in (tmp_path / "out" / "rows.jsonl").read_text() + result.stderr + result.stdout


def test_user_code_that_looks_for_the_token_finds_none(tmp_path):
    source = ("import os\n\n"
              "def formatting_func(sample):\n"
              "    leaked = [k for k, v in os.environ.items() if v.startswith('hf_')]\n"
              "    if leaked:\n"
              "        raise RuntimeError(f'token visible in {leaked}')\n"
              "    return 'no token here'\n")

    result = prepare(tmp_path, source, "sft", DOLLY_RECORDS[:1], env=cli_env(HF_TOKEN=SECRET))

    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stderr + result.stdout


# -- reward functions ---------------------------------------------------------------------------------------------

NAN_REWARD = ("def reward_func(completions, **kwargs):\n"
              "    return [float('nan') if 'bad' in c else 1.0 for c in completions]\n")


def test_nan_rewards_become_no_reward_and_a_counted_warning():
    from rlhf.formatting.reward_sandbox import RewardSandbox
    from rlhf.formatting.user_code import UserCode

    heard: list[str] = []
    sandbox = RewardSandbox(UserCode.from_text(NAN_REWARD, "reward_func"), timeout_s=10, on_warning=heard.append)
    try:
        rewards = [sandbox(prompts=["p"] * 3, completions=["good", "bad", "bad too"]) for _ in range(2)]
    finally:
        sandbox.close()

    assert rewards == [[1.0, None, None]] * 2
    assert (sandbox.not_finite, sandbox.scored) == (4, 6)
    assert heard == [  # the first time, then when the count has doubled: not a line per step
        "reward function `reward_func` returned NaN (or ±inf) for 2 of 3 completions so far (1 call); those get no "
        "reward from it (PPO counts 0.0, GRPO and RLOO leave a completion no source scored out). Make it return a "
        "number for every completion.",
        "reward function `reward_func` returned NaN (or ±inf) for 4 of 6 completions so far (2 calls); those get no "
        "reward from it (PPO counts 0.0, GRPO and RLOO leave a completion no source scored out). Make it return a "
        "number for every completion."]


def test_trying_a_reward_function_marks_its_nan_rewards():
    from rlhf.formatting.probe import NOT_A_NUMBER, probe_reward
    from rlhf.formatting.user_code import UserCode

    code = ("def reward_func(completions, **kwargs):\n"
            "    return [float('nan') if 'Instruction' in c else 1.0 for c in completions]\n")
    result = probe_reward(UserCode.from_text(code, "reward_func"))

    notes = [record["note"] for record in result["records"]]
    assert notes == [None, None, None, None, NOT_A_NUMBER]  # the fifth example runs on into the next instruction


def test_an_rl_runs_nan_rewards_are_warned_of_in_its_events(tmp_path):
    """The wiring a run uses (without training): the reward function's warnings land in the run's events."""
    from types import SimpleNamespace

    from rlhf.runs.config import DataSettings, RLSettings, RunConfig
    from rlhf.runs.events import read_events
    from rlhf.tasks.rl import reward_sources, total_reward

    config = RunConfig(task="rl", model="starter", data=DataSettings(dataset="sample"), output_dir=str(tmp_path),
                       rl=RLSettings(algorithm="ppo", reward_code=NAN_REWARD))
    sources = reward_sources(SimpleNamespace(config=config, plan=SimpleNamespace(max_length=lambda cap: cap)))
    try:
        totals = total_reward(sources)(["p", "p"], ["good", "bad"])
    finally:
        for source in sources:
            source.close()

    assert totals == [1.0, 0.0]
    warnings = [e["warning"] for e in read_events(tmp_path / "events.jsonl") if "warning" in e]
    assert len(warnings) == 1 and "returned NaN (or ±inf) for 1 of 2 completions so far (1 call)" in warnings[0]


def test_a_reward_sandbox_still_open_at_interpreter_exit_does_not_abort_python():
    """A trainer that exits holding its reward sandbox (the Ray worker's PPO did) exits 0: the sandbox's output
    drainer is a daemon thread, frozen at exit, and closing the pipe it reads used to abort Python (134)."""
    import subprocess
    import sys
    from pathlib import Path

    script = ("from rlhf.formatting.reward_sandbox import RewardSandbox\n"
              "from rlhf.formatting.user_code import UserCode\n"
              "KEPT = RewardSandbox(UserCode.from_text("
              "'def reward_func(completions, **kw):\\n    return [1.0 for c in completions]\\n', 'reward_func'), "
              "timeout_s=10)\n"
              "print(KEPT(prompts=['p'], completions=['c']))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[1])
    assert (done.returncode, done.stdout.strip()) == (0, "[1.0]"), done.stderr[-2000:]
