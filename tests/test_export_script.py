"""``export-script``: a standalone TRL script per run config that is valid Python, imports no rlhf, and trains
what the run trains (the SFT one is run end to end and its losses compared with ``python -m rlhf train``)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT, assert_clean_failure, cli_env, error_line, run_cli, write_jsonl
from test_inference import build_tiny_lm

from rlhf.errors import ConfigError
from rlhf.export_script import export_script
from rlhf.runs.config import RunConfig

REWARD_CODE = "def reward_func(completions, prompts=None, **kwargs):\n    return [len(c) / 100 for c in completions]\n"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("export")
    return {"lm": build_tiny_lm(root / "lm"), "rm": build_tiny_lm(root / "rm", classifier=True), "root": root}


def config(tiny, task: str, algorithm: str | None = None, **changes) -> RunConfig:
    data = {"dataset": "sample"}
    data.update(changes.pop("data", {}))
    raw = {"task": task, "model": str(tiny["lm"]), "output_dir": str(tiny["root"] / f"out-{task}"), "data": data,
           "training": {"max_steps": 2, **changes.pop("training", {})}, **changes}
    if algorithm:
        raw["rl"] = {"algorithm": algorithm, "reward_models": [str(tiny["rm"])], "reward_code": REWARD_CODE,
                     "num_generations": 2, "max_completion_length": 8}
    return RunConfig.from_dict(raw)


def imported_modules(script: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(script)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


STANDALONE = {"__future__", "datasets", "torch", "transformers", "trl", "peft", "safetensors", "typing", "json",
              "os", "types", "copy", "math", "random", "re", "shutil", "time", "dataclasses", "pathlib",
              "contextlib"}


@pytest.mark.parametrize("task, algorithm, trainer", [
    ("sft", None, "SFTTrainer("), ("pretrain", None, "SFTTrainer("), ("rm", None, "RewardTrainer("),
    ("dpo", None, "DPOTrainer("), ("rl", "grpo", "GRPOTrainer("), ("rl", "rloo", "RLOOTrainer("),
    ("rl", "ppo", "PPOTrainer("),
])
def test_every_task_exports_a_standalone_script(tiny, task, algorithm, trainer):
    script = export_script(config(tiny, task, algorithm))
    compile(script, f"{task}.py", "exec")
    assert trainer in script
    assert imported_modules(script) <= STANDALONE  # no rlhf, nothing else to install
    if task == "rm":
        assert "AutoModelForSequenceClassification.from_pretrained(MODEL, num_labels=1" in script
    if algorithm:
        assert f"REWARD_MODELS = [{str(tiny['rm'])!r}]" in script and "def reward_func(" in script


def test_sft_script_resolves_what_rlhf_resolves(tiny):
    script = export_script(config(tiny, "sft", training={"learning_rate": 3e-4, "extra": {"max_grad_norm": 0.5}}))
    assert "def formatting_func(sample" in script  # the sft template, inlined: the sample is dolly-style
    assert "load_dataset(\"json\", data_files=" in script and "records.jsonl" in script
    assert "train_test_split(train_size=0.9, seed=42)" in script
    for argument in ("learning_rate=0.0003,", "max_steps=2,", "max_grad_norm=0.5,", "max_length=256,",
                     "per_device_train_batch_size=8 if CUDA else 4,", "bf16=BF16,", "use_cpu=not CUDA,"):
        assert argument in script
    assert "peft_config = None" in script


def test_starter_model_is_written_as_its_folder(tiny, monkeypatch):
    import rlhf.starter

    monkeypatch.setattr(rlhf.starter, "resolve_model", lambda name: str(tiny["lm"]))
    script = export_script(config(tiny, "sft", model="starter"))
    assert f"MODEL = {str(tiny['lm'])!r}" in script
    assert "rlhf's tiny starter model" in script
    assert "learning_rate=0.001," in script  # rlhf's starter learning rate, not TRL's default


def test_lora_and_an_adapter_base(tiny):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter = tiny["root"] / "adapter"
    get_peft_model(AutoModelForCausalLM.from_pretrained(tiny["lm"]), LoraConfig(task_type="CAUSAL_LM")) \
        .save_pretrained(adapter)
    AutoTokenizer.from_pretrained(tiny["lm"]).save_pretrained(adapter)
    script = export_script(config(tiny, "dpo", model=str(adapter), lora={"use_peft": True, "lora_r": 4}))
    compile(script, "dpo.py", "exec")
    assert "AutoPeftModelForCausalLM.from_pretrained(MODEL, dtype=DTYPE).merge_and_unload()" in script
    assert "LoraConfig(r=4, lora_alpha=32, lora_dropout=0.05, target_modules='all-linear'" in script
    assert "task_type='CAUSAL_LM'" in script


def test_plain_columns_and_the_query_alias(tiny, tmp_path):
    data = write_jsonl(tmp_path / "prompts.jsonl", [{"query": "Say hi.", "other": 1}, {"query": "", "other": 2}])
    script = export_script(config(tiny, "rl", "grpo", data={"dataset": str(data), "train_size": 1.0}))
    assert "select_columns(['query']).rename_columns({'query': 'prompt'})" in script
    assert "train_dataset, eval_dataset = rows, None" in script
    namespace: dict = {}  # run the data part: the empty prompt is dropped, as rlhf drops it
    exec(compile(script[:script.index("# -- model")], "data.py", "exec"), namespace)
    assert namespace["train_dataset"].to_list() == [{"prompt": "Say hi."}]


def test_hub_dataset_offline_needs_a_formatting_function(tiny):
    with pytest.raises(ConfigError, match="Hub is unreachable"):
        export_script(config(tiny, "sft", data={"dataset": "someone/not-cached"}))
    script = export_script(config(tiny, "sft", data={"dataset": "someone/not-cached", "formatting_code":
                                                     "def formatting_func(r):\n    return r['text']\n"}))
    assert "datasets.load_dataset('someone/not-cached', None, split='train')" in script
    assert "format_record = formatting_func" in script and "were not checked" in script


def test_ppo_that_cannot_be_inlined_exits_with_a_pointer(tiny, monkeypatch):
    import rlhf.export_script as export

    monkeypatch.setattr(export, "_ppo_inline_problem", lambda path: "rlhf/tasks/ppo.py imports rlhf")
    script = export.export_script(config(tiny, "rl", "ppo"), origin="runs/x/config.yaml")
    compile(script, "ppo.py", "exec")
    assert "python -m rlhf train --config runs/x/config.yaml" in script
    assert "trainer.train()" not in script and "PPO: TRL has no PPOTrainer" in script


@pytest.mark.slow
def test_cli_prints_or_writes_the_script(tiny, tmp_path):
    path = config(tiny, "rm").save(tmp_path / "run.yaml")
    printed = run_cli("export-script", "--config", path)
    assert printed.returncode == 0, printed.stderr
    compile(printed.stdout, "rm.py", "exec")
    written = run_cli("export-script", "--config", path, "--output", tmp_path / "rm.py")
    assert written.returncode == 0 and (tmp_path / "rm.py").read_text() == printed.stdout
    missing = run_cli("export-script", "--config", tmp_path / "nope.yaml")
    assert_clean_failure(missing, 2)
    assert "nope.yaml" in error_line(missing)


@pytest.mark.training
def test_exported_sft_script_trains_like_rlhf(tiny, tmp_path):
    """The script (without rlhf importable) and ``rlhf train`` on one config log the same losses."""
    run_config = config(tiny, "sft", output_dir=str(tmp_path / "script-run"))
    script = tmp_path / "train_sft.py"
    script.write_text(export_script(run_config))
    run_config.save(tmp_path / "run.yaml")
    env = cli_env(RLHF_CACHE_DIR=str(tmp_path / "cache"))
    standalone_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    jobs = [
        subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=standalone_env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT),
        subprocess.Popen([sys.executable, "-m", "rlhf", "train", "--config", str(tmp_path / "run.yaml"),
                          "--output-dir", str(tmp_path / "rlhf-run")], cwd=REPO_ROOT, env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT),
    ]
    outputs = [job.communicate(timeout=600)[0] for job in jobs]
    for job, output in zip(jobs, outputs):
        assert job.returncode == 0, output
    assert (tmp_path / "script-run" / "final" / "model.safetensors").exists()

    script_losses = [float(ast.literal_eval(line)["loss"]) for line in outputs[0].splitlines()
                     if line.startswith("{'loss'")]
    events = [json.loads(line) for line in (tmp_path / "rlhf-run" / "events.jsonl").read_text().splitlines()]
    rlhf_losses = [e["loss"] for e in events if "loss" in e]
    assert len(script_losses) == len(rlhf_losses) == 2
    assert script_losses == pytest.approx(rlhf_losses, rel=1e-3)


@pytest.mark.parametrize("algorithm", ["grpo", "rloo"])
def test_a_trl_rl_script_scores_with_the_reward_model_as_rlhf_does(tiny, algorithm, monkeypatch):
    """GRPO's and RLOO's reward models are reward functions scoring prompt + completion ending in EOS (rlhf's
    RewardScorer), not the bare model TRL would feed the text without it."""
    import runpy

    from rlhf.inference.scoring import RewardScorer

    script = tiny["root"] / f"{algorithm}.py"
    script.write_text(export_script(config(tiny, "rl", algorithm)))
    monkeypatch.setattr(sys, "argv", [str(script)])
    namespace = runpy.run_path(str(script), run_name="exported")  # builds the trainer, trains nothing

    prompts, completions = ["Is a toad a frog?", "Name a colour."], [" Yes", " Red is a colour."]
    exported = namespace["trainer"].reward_funcs[0]
    assert not hasattr(exported, "parameters")  # a function, not the model
    scores = exported(prompts=prompts, completions=completions, completion_ids=[[1], [2]], trainer_state=None)
    assert scores == pytest.approx(RewardScorer(str(tiny["rm"]))(prompts, completions))
