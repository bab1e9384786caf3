"""Several processes: ``rlhf train --num-processes N`` relaunches itself under ``accelerate launch``.

On this CPU machine the workers train over gloo (accelerate's multi-GPU launcher is torch.distributed.run); the
training tests run two processes on the starter for a few steps each. The settings checks are fast.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import yaml

from rlhf.errors import ConfigError
from rlhf.runs import launch
from rlhf.runs.config import DataSettings, RLSettings, RunConfig, TrainingSettings
from training_helpers import FAST, REPO_ROOT, env_with_cache, events, mean, series, statuses, train, wait_for

TWO = ["--num-processes", "2"]


def rl_config(algorithm: str, **training) -> RunConfig:
    return RunConfig(task="rl", model="starter", output_dir="/tmp/unused", data=DataSettings(dataset="sample"),
                     training=TrainingSettings(**training),
                     rl=RLSettings(algorithm=algorithm, reward_code="def reward_func(completions, **kw):\n"
                                                                    "    return [0.0] * len(completions)\n"))


# -- settings (fast) ---------------------------------------------------------------------------------------------

def test_ppo_refuses_several_processes_naming_the_setting():
    with pytest.raises(ConfigError, match="num_processes: PPO") as error:
        rl_config("ppo", num_processes=2).validate()
    assert error.value.exit_code == 2


def test_ppo_trains_in_one_process_on_a_several_gpu_machine():
    assert launch.requested_processes(rl_config("ppo"), gpus=4) == 1
    assert launch.requested_processes(rl_config("grpo"), gpus=4) == 4  # unset: every visible GPU
    assert launch.requested_processes(rl_config("grpo"), gpus=0) == 1
    assert launch.requested_processes(rl_config("grpo", num_processes=2), gpus=0) == 2


def test_unknown_distributed_strategy_names_the_choices():
    with pytest.raises(ConfigError, match="distributed: 'zero9'.*ddp, fsdp, deepspeed-zero2, deepspeed-zero3"):
        rl_config("grpo", distributed="zero9").validate()


def test_vllm_is_for_grpo_and_rloo_only():
    with pytest.raises(ConfigError, match="use_vllm: .*GRPO and RLOO"):
        rl_config("ppo", use_vllm=True).validate()
    rl_config("rloo", use_vllm=True).validate()


@pytest.mark.parametrize("kind, expected", [("ddp", "MULTI_GPU"), ("fsdp", "FSDP"), ("deepspeed-zero3", "DEEPSPEED")])
def test_accelerate_config_per_strategy_on_cuda(kind, expected, monkeypatch):
    monkeypatch.setattr(launch, "_installed", lambda module: True)
    data = launch.accelerate_config(rl_config("grpo", distributed=kind), processes=4, cuda=True)
    assert data["distributed_type"] == expected and data["num_processes"] == 4
    assert data["mixed_precision"] == "bf16"
    if kind == "deepspeed-zero3":
        assert data["deepspeed_config"]["zero_stage"] == 3


def test_deepspeed_without_its_package_says_so(monkeypatch):
    monkeypatch.setattr(launch, "_installed", lambda module: False)
    with pytest.raises(ConfigError, match="deepspeed-zero2 needs the deepspeed package"):
        launch.accelerate_config(rl_config("grpo", distributed="deepspeed-zero2"), processes=2, cuda=True)


def test_fsdp_and_deepspeed_refuse_a_machine_without_cuda():
    with pytest.raises(ConfigError, match="distributed: fsdp needs CUDA"):
        launch.accelerate_config(rl_config("grpo", distributed="fsdp"), processes=2, cuda=False)
    assert launch.accelerate_config(rl_config("grpo"), processes=2, cuda=False)["mixed_precision"] == "no"


def test_exported_script_says_how_to_launch_several_processes():
    note = launch.script_launch_note(rl_config("grpo", num_processes=2))
    assert "accelerate launch --num_processes 2" in note and launch.ACCELERATE_CONFIG in note
    assert "run this script with python" in launch.script_launch_note(rl_config("ppo"))


def test_rlhf_train_refuses_ppo_with_two_processes_with_exit_2(tmp_path):
    done = subprocess.run([sys.executable, "-m", "rlhf", "train", "--task", "rl", "--algorithm", "ppo",
                           "--reward-func", str(tmp_path / "r.py"), "--output-dir", str(tmp_path / "run"), *TWO],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    assert done.returncode == 2, done.stderr
    assert "num_processes: PPO" in done.stderr


def test_train_tab_offers_processes_only_with_several_gpus(monkeypatch):
    import gradio as gr

    from rlhf.ui.tabs import train as train_tab

    with gr.Blocks():
        monkeypatch.setattr(launch, "visible_gpus", lambda: 1)
        assert train_tab.gpu_inputs() == ()
        monkeypatch.setattr(launch, "visible_gpus", lambda: 4)
        processes, distributed = train_tab.gpu_inputs()
    assert processes.value == 4 and distributed.value == "ddp"
    assert distributed.choices[-1][0] == "deepspeed-zero3"


def test_an_rl_step_line_shows_the_rollout_speed():
    from rlhf.tasks.rl_samples import step_line
    from rlhf.ui.tabs.train import step_line as tab_line

    metrics = {"step": 3, "reward": 0.5, "rollout/tokens_per_second": 812.4}
    assert step_line(3, 20, metrics).endswith("rollout tok/s 812")
    assert "rollout tok/s 812" in tab_line(metrics, 20)


# -- two processes on CPU (gloo) ---------------------------------------------------------------------------------

def _world_sizes(run) -> list[int]:
    return [e.get("world_size") for e in events(run) if e.get("status") == "started"]


@pytest.mark.slow
@pytest.mark.training
def test_sft_with_two_processes_learns_stops_and_resumes_with_one(starter_cache, tmp_path):
    run = tmp_path / "sft"
    command = [sys.executable, "-m", "rlhf", "train", "--output-dir", str(run), "--task", "sft", "--model", "starter",
               "--dataset", "sample", "--max-steps", "20", "--logging-steps", "1", "--learning-rate", "2e-3",
               "--train-size", "1", *FAST, *TWO]
    trainer = subprocess.Popen(command, cwd=REPO_ROOT, env=env_with_cache(starter_cache),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: len(series(run, "loss")) >= 6 if (run / "events.jsonl").exists() else False,
                 timeout=120, poll=0.1, what="six logged steps")
        trainer.send_signal(signal.SIGTERM)
        assert trainer.wait(timeout=120) == 0
    finally:
        if trainer.poll() is None:
            trainer.kill()
    stopped = [e for e in events(run) if e.get("status") == "stopped"]
    assert len(stopped) == 1 and stopped[0]["checkpoint"], events(run)[-3:]
    assert (run / "accelerate.yaml").exists()
    steps = [e["step"] for e in events(run) if "loss" in e]
    assert steps == list(range(1, len(steps) + 1))  # one line a step: rank 0 alone writes events

    train(starter_cache, run, "--config", str(run / "config.yaml"), "--resume-from-checkpoint",
          "--num-processes", "1")
    assert _world_sizes(run) == [2, 1]
    assert statuses(run)[-1] == "finished"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["global_step"] == 20 and metrics["world_size"] == 1
    resumed_from = stopped[0]["step"]
    assert [e["step"] for e in events(run) if "loss" in e][-1] == 20 and resumed_from < 20
    losses = series(run, "loss")
    assert mean(losses[-5:]) < mean(losses[:5]), losses  # learnt, across the stop and the change of world size


@pytest.mark.slow
@pytest.mark.training
def test_dpo_with_two_processes_grows_the_margin(starter_cache, tmp_path):
    run = tmp_path / "dpo"
    train(starter_cache, run, "--task", "dpo", "--model", "starter", "--dataset", "sample", "--max-steps", "10",
          "--logging-steps", "1", "--train-size", "1", *FAST, *TWO)
    assert _world_sizes(run) == [2]
    assert json.loads((run / "metrics.json").read_text())["world_size"] == 2
    margins = series(run, "rewards/margins")
    assert len(margins) == 10
    assert mean(margins[-3:]) > mean(margins[:3]), margins


@pytest.mark.slow
@pytest.mark.training
def test_grpo_with_two_processes_records_reward_and_rollout_speed(starter_cache, tmp_path):
    reward = tmp_path / "reward.py"
    reward.write_text("def reward_func(completions, **kwargs):\n"
                      "    return [c.lower().split().count('the') / max(1, len(c.split())) for c in completions]\n")
    run = tmp_path / "grpo"
    train(starter_cache, run, "--task", "rl", "--algorithm", "grpo", "--model", "starter", "--dataset", "sample",
          "--reward-func", str(reward), "--max-steps", "4", "--logging-steps", "1", "--max-completion-length", "16",
          "--per-device-train-batch-size", "8", "--train-size", "1", *TWO)
    assert _world_sizes(run) == [2]
    assert len(series(run, "reward")) == 4
    assert all(v > 0 for v in series(run, "rollout/tokens_per_second"))
    plan = yaml.safe_load((run / "accelerate.yaml").read_text())
    assert plan["num_processes"] == 2
