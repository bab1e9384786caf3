"""The memory plan: presets with real dimensions, the estimate's parts, its verdict and suggestions, and (slow)
the estimate against a real run's measured peak."""

from __future__ import annotations

import json
import os

import pytest

from rlhf.models.presets import PRESETS
from rlhf.runs.config import RunConfig
from rlhf.runs.memory import estimate, model_shape
from rlhf.tasks.plan import CPU, Hardware, resolve

# Parameters of the real models (their Hub model cards), for the presets built with their real vocabulary.
REAL_PARAMETERS = {"gpt2-124m": 124.4e6, "smollm2-135m": 134.5e6, "qwen2.5-0.5b": 494.0e6, "llama-3.2-1b": 1235.8e6}
GPU_24GB = Hardware("cuda", 1, True)


@pytest.mark.parametrize("name", sorted(REAL_PARAMETERS))
def test_a_preset_with_its_real_vocabulary_has_the_real_models_parameter_count(name):
    shape = model_shape(PRESETS[name].config())
    assert shape.parameters == pytest.approx(REAL_PARAMETERS[name], rel=0.01)


def test_smollm2_preset_has_its_published_dimensions():
    config = PRESETS["smollm2-135m"].config()
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads, config.num_key_value_heads,
            config.intermediate_size) == (576, 30, 9, 3, 1536)


def plan_for(task: str, preset: str = "smollm2-135m", hardware: Hardware = CPU, **training):
    config = RunConfig(task=task, model="preset", output_dir="out")
    for name, value in training.items():
        setattr(config.lora if name.startswith(("use_peft", "lora")) else config.training, name, value)
    if task == "rl":
        config.rl.reward_code = "def reward_func(completions, **kw):\n    return [0.0] * len(completions)\n"
    return resolve(config, hardware=hardware, model_path="preset", max_length_limit=1024)


def estimated(task: str, preset: str = "smollm2-135m", available: float | None = 1e6, **settings):
    return estimate(plan_for(task, preset, **settings), model_config=PRESETS[preset].config(), available=available)


def test_the_estimate_has_every_part_and_adds_them_up():
    answer = estimated("sft", max_length=64, per_device_train_batch_size=2).to_dict()
    assert set(answer) == {"total_mb", "parts", "device", "available_mb", "fits", "suggestions"}
    assert set(answer["parts"]) == {"weights", "gradients", "optimizer", "activations", "reference", "value_head",
                                    "overhead"}
    assert abs(answer["total_mb"] - sum(answer["parts"].values())) <= len(answer["parts"])
    assert answer["fits"] and answer["device"] == "cpu"


def test_dpo_holds_a_reference_copy_and_sft_none():
    assert estimated("sft").parts.reference == 0
    dpo = estimated("dpo")
    assert dpo.parts.reference == pytest.approx(dpo.parts.weights)


# What each registered trainer holds, by the names benchmarks/presets_all_tasks.py prints: (chosen and rejected in
# one forward, a reference copy of the weights, a value head). A trainer added to the registry must be listed here.
HOLDS = {"pretrain": (False, False, False), "sft": (False, False, False), "rm": (True, False, False),
         "dpo": (True, True, False), "kto": (False, True, False), "orpo": (True, False, False),
         "grpo": (False, False, False), "rloo": (False, True, False), "ppo": (False, True, True)}


def registered_trainers() -> list[tuple[str, str]]:
    from rlhf.tasks.registry import specs

    return [(spec.name, variant) for spec in specs() for variant in spec.trainers]


@pytest.mark.parametrize("task,variant", registered_trainers(), ids=[v or t for t, v in registered_trainers()])
def test_every_trainer_has_an_estimate_with_the_parts_it_holds(task, variant):
    from rlhf.runs.memory import workload

    pairs, reference, value_head = HOLDS[variant or task]
    config = RunConfig(task=task, model="preset", output_dir="out")
    config.training.per_device_train_batch_size = 2
    if variant:
        config.rl.algorithm = variant
        config.rl.reward_code = "def reward_func(completions, **kw):\n    return [0.0] * len(completions)\n"
    plan = resolve(config, hardware=CPU, model_path="preset", max_length_limit=1024)
    parts = estimate(plan, model_config=PRESETS["smollm2-135m"].config(), available=1e6).parts
    assert min(parts.weights, parts.gradients, parts.optimizer, parts.activations, parts.overhead) > 0
    assert parts.reference == (pytest.approx(parts.weights) if reference else 0)
    assert (parts.value_head > 0) == value_head
    assert (workload(plan).sequences == 4) == pairs


def test_lora_trains_a_small_adapter():
    full, lora = estimated("sft"), estimated("sft", use_peft=True)
    assert lora.parts.weights == full.parts.weights
    assert lora.parts.optimizer < full.parts.optimizer / 20


def test_a_run_that_cannot_fit_says_so_with_changes_that_lower_it():
    answer = estimated("sft", "llama-3.2-1b", available=4000, max_length=1024, per_device_train_batch_size=8)
    assert not answer.fits
    assert any(s.startswith("--use-peft") for s in answer.suggestions)
    assert any(s.startswith("--per-device-train-batch-size 4") for s in answer.suggestions)


def test_on_a_bf16_gpu_qlora_shrinks_the_weights():
    config = PRESETS["qwen2.5-0.5b"].config()
    lora = estimate(plan_for("sft", hardware=GPU_24GB, use_peft=True), model_config=config, available=24000)
    qlora = estimate(plan_for("sft", hardware=GPU_24GB, use_peft=True, load_in_4bit=True), model_config=config,
                     available=24000)
    assert qlora.parts.weights < lora.parts.weights / 2


# -- measured ------------------------------------------------------------------------------------------------

TOLERANCE = 0.25
# The full matrix (both presets × SFT, RM, DPO, GRPO: about 8 minutes on two cores) with RLHF_MEMORY_MATRIX=1;
# by default the one case that fits the suite's time budget: the cheaper preset, and the task with a reference.
MATRIX = [(p, t) for p in ("smollm2-135m", "gpt2-124m") for t in ("sft", "rm", "dpo", "rl")]
DEFAULT = {("gpt2-124m", "dpo")}
CASES = MATRIX if os.environ.get("RLHF_MEMORY_MATRIX") else [c for c in MATRIX if c in DEFAULT]
RUN_FLAGS = ("--dataset", "sample", "--max-steps", "1", "--train-size", "1.0", "--max-length", "64",
             "--per-device-train-batch-size", "2", "--save-steps", "1000")
RL_FLAGS = ("--num-generations", "2", "--max-completion-length", "16")


@pytest.fixture(scope="session")
def preset_models(tmp_path_factory, starter_cache):
    from rlhf.models.presets import build_model

    root = tmp_path_factory.mktemp("presets")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RLHF_CACHE_DIR", str(starter_cache))  # the session's starter tokenizer
        for name in sorted({p for p, _ in CASES}):
            build_model(name, root / name)
    return root


@pytest.mark.slow
@pytest.mark.training
@pytest.mark.parametrize("preset,task", CASES)
def test_the_estimate_is_within_a_quarter_of_the_measured_peak(preset, task, preset_models, starter_cache,
                                                               tmp_path):
    from rlhf.cli import build_parser
    from rlhf.runs.cli_args import config_from_args
    from rlhf.runs.memory import estimate_config
    from training_helpers import train

    model = str(preset_models / preset)
    flags = ("--task", task, "--model", model, *RUN_FLAGS)
    if task == "rl":
        reward = tmp_path / "reward.py"
        reward.write_text("def reward_func(completions, **kw):\n    return [len(c) / 10 for c in completions]\n")
        flags += (*RL_FLAGS, "--reward-func", str(reward))
    config = config_from_args(build_parser("estimate").parse_args(["estimate", *flags]))
    predicted = estimate_config(config.replace(output_dir=str(tmp_path / "run"))).total_mb
    train(starter_cache, tmp_path / "run", *flags)
    measured = json.loads((tmp_path / "run" / "metrics.json").read_text())["peak_memory_mb"]
    assert abs(predicted - measured) / measured <= TOLERANCE, (predicted, measured)


# -- the app: shown with the plan, refused at Start unless forced ---------------------------------------------

@pytest.fixture()
def small_model(tmp_path):
    """A model folder with just a config: all the memory plan reads (no weights are loaded)."""
    from transformers import GPT2Config

    GPT2Config(n_layer=2, n_embd=64, n_head=2, vocab_size=512).save_pretrained(tmp_path / "model")
    return str(tmp_path / "model")


@pytest.fixture()
def api(tmp_path):
    from rlhf.ui.api import Api, Caller
    from rlhf.ui.settings import AppSettings

    return Api(AppSettings(runs_dir=tmp_path / "runs")), Caller("local")


def test_the_train_tabs_plan_carries_the_memory_plan(api, small_model):
    app, local = api
    answer = app.resolve_plan("sft", local, small_model, settings={"max_steps": 1})
    assert answer["memory"]["parts"]["weights"] > 0 and answer["memory"]["fits"] in (True, False)


def test_start_refuses_a_run_that_cannot_fit_unless_forced(api, small_model, monkeypatch):
    app, local = api
    monkeypatch.setattr("rlhf.runs.memory.available_mb", lambda device: 100.0)  # a machine with 100 MB
    submitted = []
    monkeypatch.setattr(app.runs, "submit", lambda run, owner, merge_repeat: submitted.append(run) or
                        {"run_id": "r1", "status": "queued"})
    monkeypatch.setattr("rlhf.ui.state.write_owner", lambda *a: None)
    with pytest.raises(Exception, match="memory: .*does NOT fit.*--use-peft"):
        app.start_run("sft", local, small_model, settings={"max_steps": 1})
    assert not submitted
    app.start_run("sft", local, small_model, settings={"max_steps": 1}, force=True)
    assert len(submitted) == 1


def test_runs_submit_refuses_a_run_no_machine_here_holds(tmp_path, capsys):
    from rlhf.cli import main

    PRESETS["llama-3.2-1b"].config().save_pretrained(tmp_path / "llama")  # a config is all the estimate reads
    code = main(["runs", "--runs-dir", str(tmp_path / "runs"), "submit", "--task", "sft", "--model",
                 str(tmp_path / "llama"), "--max-length", "8192", "--per-device-train-batch-size", "64"])
    assert code == 2
    error = capsys.readouterr().err
    assert "memory: this run needs" in error and "--use-peft" in error and "add --force" in error
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_health_says_which_optional_kernel_packages_it_found(api):
    found = api[0].health()["optional_packages"]
    assert set(found) == {"bitsandbytes", "liger-kernel", "flash-attn", "vllm"}
    assert all(isinstance(value, bool) for value in found.values())


@pytest.mark.parametrize("flags, named", [(["--use-peft", "--load-in-4bit"], "load_in_4bit"),
                                          (["--attn-implementation", "flash_attention_2"], "attn_implementation")])
def test_a_cuda_kernel_on_a_machine_without_cuda_is_an_exit_2_naming_it(flags, named, small_model, capsys):
    import torch

    from rlhf.cli import main

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["estimate", "--task", "sft", "--model", small_model, *flags]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {named}:") and "CUDA" in error
