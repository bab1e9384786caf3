"""One resolved plan: the exported script builds exactly the trainer config that ``rlhf train`` built.

For every registered task (and LoRA, RL with a reward model and with a reward function, PPO), a real one-step
``rlhf train`` (its flags parsed by the CLI's own parser, run in this process to spare ten interpreter start-ups)
records the config object its trainer got (``plan.json``); the script ``export-script`` writes for that run is
then imported (it trains only when run as ``__main__``) and its ``args`` compared field by field.
"""

from __future__ import annotations

import dataclasses
import json
import runpy

import pytest

from rlhf.cli import build_parser
from rlhf.export_script import export_script_from_file
from rlhf.runs.cli_args import config_from_args
from rlhf.tasks.registry import task_names
from rlhf.train import run as train_run
from training_helpers import FAST

pytestmark = [pytest.mark.slow, pytest.mark.training]
REWARD_FUNC = "def reward_func(completions, prompts=None, **kwargs):\n    return [len(c) / 10 for c in completions]\n"


def rlhf_train(cache, out, *flags: str) -> None:
    """``python -m rlhf train --output-dir OUT FLAGS`` (one step on the starter), in this process."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RLHF_CACHE_DIR", str(cache))
        args = build_parser("train").parse_args(["train", "--output-dir", str(out), "--model", "starter",
                                                 "--dataset", "sample", "--max-steps", "1", *FAST, *flags])
        assert train_run(config_from_args(args)) == 0, (out / "events.jsonl").read_text()


@pytest.fixture(scope="module")
def reward_run(starter_cache, tmp_path_factory):
    run = tmp_path_factory.mktemp("rm") / "run"
    rlhf_train(starter_cache, run, "--task", "rm")
    return run


def _variants():
    for task in task_names():
        if task == "rl":
            yield pytest.param(task, ["--algorithm", "grpo", "--reward-func", "{reward_py}"], id="rl-grpo-function")
            yield pytest.param(task, ["--algorithm", "rloo", "--reward-model", "{reward_run}"], id="rl-rloo-model")
            yield pytest.param(task, ["--algorithm", "ppo", "--reward-model", "{reward_run}", "--reward-func",
                                      "{reward_py}"], id="rl-ppo-both")
        else:
            yield pytest.param(task, [], id=task)
    yield pytest.param("sft", ["--use-peft", "--lora-r", "4", "--gradient-checkpointing", "false",
                               "--attn-implementation", "eager"], id="sft-lora-eager-no-checkpointing")
    yield pytest.param("dpo", ["--use-peft", "--loss-type", "ipo", "--beta", "0.2"], id="dpo-lora-ipo")


def _plain(values: dict) -> dict:
    return json.loads(json.dumps(values, default=str))


@pytest.mark.parametrize("task, flags", list(_variants()))
def test_exported_script_builds_the_config_rlhf_train_built(task, flags, reward_run, starter_cache, tmp_path,
                                                           monkeypatch):
    reward_py = tmp_path / "reward.py"
    reward_py.write_text(REWARD_FUNC)
    flags = [f.format(reward_py=reward_py, reward_run=reward_run) for f in flags]
    run = tmp_path / "run"
    rlhf_train(starter_cache, run, "--task", task, *flags)
    built = json.loads((run / "plan.json").read_text())["trainer_config"]

    monkeypatch.setenv("RLHF_CACHE_DIR", str(starter_cache))
    script = tmp_path / "exported.py"
    # the script writes to <run>-export by default; given the run's own folder, every argument must match
    script.write_text(export_script_from_file(run / "config.yaml", output_dir=str(run)))
    for name, value in json.loads((run / "plan.json").read_text())["model_kwargs"].items():
        assert f"{name}={value!r}" in script.read_text(), name  # the model loads as in the run (attention kernel)
    args = runpy.run_path(str(script), run_name="exported")["args"]
    exported = args.to_dict() if hasattr(args, "to_dict") else dataclasses.asdict(args)

    assert _plain(exported) == built
