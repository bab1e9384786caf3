"""``rlhf.compat``: the "Fine-tune an LLM" page's Argilla 1.x scripts run with only their imports changed.

The page's code blocks are copied below as text (their formatting functions joined in from seed_functions.py,
which keeps that text once) and run as one script per section (SFT, reward modelling, PPO), in a scratch working
folder, as a user would run them. The only edits: the imports (``import argilla as rg`` →
``import rlhf.compat as rg``, ``from argilla.feedback import …`` / ``from trl import PPOConfig`` → ``from
rlhf.compat import …``), the dataset id and the model names (the bundled ``sample`` and the ``starter`` model
instead of the Hub), and ``trainer.update_config(max_steps=…)`` lines (marked) that keep CI fast. Every training
run is a real rlhf run: it lands in ``RLHF_DATA_DIR/runs``, where the app lists it.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import types
from pathlib import Path

import pytest

import rlhf.compat as rg
from conftest import read_rows, run_cli, write_function, write_jsonl
from rlhf.compat import ArgillaTrainer, CompatArgumentError, PPOConfig, TrainingTask
from rlhf.errors import ConfigError, FormattingError, RlhfError
from rlhf.runs.config import RunConfig
from rlhf.runs.events import read_events
from rlhf.runs.manager import RunManager
from seed_functions import DPO, PPO_FUNCTION, RM_FUNCTION, SEED_PPO, SEED_RM, SEED_SFT, TEMPLATE_BLOCK

SAMPLE = Path(__file__).resolve().parent.parent / "rlhf" / "data" / "sample" / "records.jsonl"

# -- the page's code blocks, verbatim but for the marked edits ------------------------------------------------------
# The formatting functions (and the `template` they use) come from seed_functions.py, the page's text kept once.

# The page trains SFT on argilla/databricks-dolly-15k-curated-en, where every record has a response; its
# formatting function (`[0]`) needs one. The sample also holds records nobody answered (see
# test_the_page_sft_function_names_the_record_without_responses), so this script reads the sample's answered
# records, written to `answered.jsonl`.
PAGE_SFT = '''\
import rlhf.compat as rg
from datasets import Dataset

feedback_dataset = rg.FeedbackDataset.from_huggingface("answered.jsonl")

from rlhf.compat import TrainingTask
''' + SEED_SFT + '''
task = TrainingTask.for_supervised_fine_tuning(formatting_func=formatting_func)

dataset = feedback_dataset.prepare_for_training(
    framework="trl",
    task=task
)
"""
>>> dataset
Dataset({
    features: ['id', 'text'],
    num_rows: 15015
})
"""

from rlhf.compat import ArgillaTrainer

trainer = ArgillaTrainer(
    dataset=feedback_dataset,
    task=task,
    framework="trl",
    fetch_records=False,
    train_size=0.8,
    model="starter",
)
# e.g. using LoRA:
# from peft import LoraConfig
# trainer.update_config(peft_config=LoraConfig())
trainer.update_config(max_steps=3)  # added: keep CI fast
trainer.train(output_dir="sft_model")

from transformers import GenerationConfig, AutoTokenizer, GPT2LMHeadModel


def generate(model_id: str, instruction: str, context: str = "") -> str:
    model = GPT2LMHeadModel.from_pretrained(model_id)
    tokenizer = AutoTokenizer.from_pretrained(model_id)

    inputs = template.format(
        instruction=instruction,
        context=context,
        response="",
    ).strip()

    encoding = tokenizer([inputs], return_tensors="pt")
    outputs = model.generate(
        **encoding,
        generation_config=GenerationConfig(
            max_new_tokens=32,
            min_new_tokens=12,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        ),
    )
    return tokenizer.decode(outputs[0])
'''

# The SFT section's TRLX block builds its data by iterating the records (the `trlx` lines need TRLX itself).
PAGE_TRLX_DATA = '''\
import rlhf.compat as rg
from datasets import Dataset

feedback_dataset = rg.FeedbackDataset.from_huggingface("sample")

# Let's create a Dataset for convenience
data = {"instruction": [], "context": [], "response": []}
for entry in feedback_dataset:
    if entry.responses:
        res = entry.responses[0].values
        data["instruction"].append(res["new-instruction"].value)
        data["context"].append(res["new-context"].value)
        data["response"].append(res["new-response"].value)
dataset = Dataset.from_dict(data)

samples = [
    [
        f"### Instruction: {entry['instruction']} ### Context: {entry['context']}",
        f"### Response: {entry['response']}"
    ] for entry in dataset
]
'''

PAGE_RM = '''\
import rlhf.compat as rg

feedback_dataset = rg.FeedbackDataset.from_huggingface("sample")

from typing import Any, Dict, Iterator, Tuple
from rlhf.compat import TrainingTask

''' + TEMPLATE_BLOCK + '''
''' + RM_FUNCTION + '''
task = TrainingTask.for_reward_modelling(formatting_func=formatting_func)

dataset = feedback_dataset.prepare_for_training(framework="trl", task=task)
"""
>>> dataset
Dataset({
    features: ['chosen', 'rejected'],
    num_rows: 2872
})
"""

from rlhf.compat import ArgillaTrainer

trainer = ArgillaTrainer(
    dataset=feedback_dataset,
    task=task,
    framework="trl",
    model="starter",
)
trainer.update_config(max_steps=3)  # added: keep CI fast
trainer.train(output_dir="reward_model")

from transformers import AutoTokenizer, AutoModelForSequenceClassification
import torch

model = AutoModelForSequenceClassification.from_pretrained("reward_model")
tokenizer = AutoTokenizer.from_pretrained("reward_model")

def get_score(model, tokenizer, text):
    # Tokenize the input sequences
    inputs = tokenizer(text, truncation=True, padding="max_length", max_length=512, return_tensors="pt")

    # Perform forward pass
    with torch.no_grad():
        outputs = model(**inputs)

    # Extract the logits
    return outputs.logits[0, 0].item()

# Example usage
prompt = "Is a toad a frog?"
context = "Both frogs and toads are amphibians in the order Anura, which means \\"without a tail.\\" Toads are a sub-classification of frogs, meaning that all toads are frogs, but not all frogs are toads."
good_response = "Yes"
bad_response = "Both frogs and toads are amphibians in the order Anura, which means \\"without a tail.\\""
example_good = template.format(instruction=prompt, context=context, response=good_response)
example_bad = template.format(instruction=prompt, context=context, response=bad_response)

score = get_score(model, tokenizer, example_good)
print(score)
# >> 5.478324890136719

score = get_score(model, tokenizer, example_bad)
print(score)
# >> 2.2948970794677734
'''

# The PPO tab follows the reward-modelling tab on the page: `feedback_dataset` and `template` come from there.
PAGE_PPO = '''\
import rlhf.compat as rg

feedback_dataset = rg.FeedbackDataset.from_huggingface("sample")

''' + TEMPLATE_BLOCK + '''
from rlhf.compat import TrainingTask
from typing import Dict, Any, Iterator

''' + PPO_FUNCTION + '''
task = TrainingTask.for_proximal_policy_optimization(formatting_func=formatting_func)

dataset = feedback_dataset.prepare_for_training(framework="trl", task=task)
"""
>>> dataset
Dataset({
    features: ['id', 'query'],
    num_rows: 15015
})
>>> dataset[922]
{'id': 922, 'query': '### Instruction: Is beauty objective or subjective?\\n\\n### Context: \\n\\n### Response:'}
"""

from rlhf.compat import ArgillaTrainer
from transformers import pipeline
from rlhf.compat import PPOConfig

trainer = ArgillaTrainer(
    dataset=feedback_dataset,
    task=task,
    framework="trl",
    model="starter",
)
reward_model = pipeline("sentiment-analysis", model="reward_model")
trainer.update_config(
    reward_model=reward_model,
    length_sampler_kwargs={"min_value": 32, "max_value": 256},
    generation_kwargs={
        "min_length": -1,
        "top_k": 0.0,
        "top_p": 1.0,
        "do_sample": True,
    },
    config=PPOConfig(batch_size=16)
)
trainer.update_config(max_steps=1)  # added: keep CI fast
trainer.train(output_dir="ppo_model")

from transformers import AutoModelForCausalLM, AutoTokenizer

model = AutoModelForCausalLM.from_pretrained("ppo_model")
tokenizer = AutoTokenizer.from_pretrained("ppo_model")
tokenizer.pad_token = tokenizer.eos_token

inputs = template.format(
    instruction="Is a toad a frog?",
    context="Both frogs and toads are amphibians in the order Anura, which means \\"without a tail.\\" Toads are a sub-classification of frogs, meaning that all toads are frogs, but not all frogs are toads.",
    response=""
).strip()
encoding = tokenizer([inputs], return_tensors="pt")
outputs = model.generate(**encoding, max_new_tokens=30)
output_text = tokenizer.decode(outputs[0])
print(output_text)
'''

TOAD_PROMPT = ("### Instruction: Is a toad a frog?\n\n### Context: Both frogs and toads are amphibians in the order "
               "Anura")


def run_script(source: str, path: Path) -> dict:
    """Save the script to ``path`` and run it as ``python path`` would (its functions live in ``__main__``);
    returns its globals, with what it printed under ``"printed"``."""
    path.write_text(source, encoding="utf-8")
    namespace = {"__name__": "__main__", "__file__": str(path)}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, str(path), "exec"), namespace)
    namespace["printed"] = printed.getvalue()
    return namespace


def sample_records() -> list[dict]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


def answered_records() -> list[dict]:
    return [r for r in sample_records() if r["new-instruction"]]


@pytest.fixture(scope="module")
def page(starter_cache, tmp_path_factory):
    """A working folder for the page's scripts, with runs landing in its own RLHF_DATA_DIR."""
    root = tmp_path_factory.mktemp("page")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RLHF_CACHE_DIR", str(starter_cache))
        patch.setenv("RLHF_DATA_DIR", str(root / "data"))
        patch.setenv("TOKENIZERS_PARALLELISM", "false")
        patch.chdir(root)
        write_jsonl(root / "answered.jsonl", answered_records())
        yield root


@pytest.fixture(scope="module")
def sft_page(page):
    return run_script(PAGE_SFT, page / "fine_tune_sft.py")


@pytest.fixture(scope="module")
def rm_page(page):
    return run_script(PAGE_RM, page / "fine_tune_rm.py")


def run_of(trainer: ArgillaTrainer) -> Path:
    return Path(os.environ["RLHF_DATA_DIR"]) / "runs" / trainer.run_id


# -- the page's scripts --------------------------------------------------------------------------------------------

@pytest.mark.training
def test_the_page_sft_script_trains_a_model_its_generate_helper_loads(sft_page, page):
    dataset = sft_page["dataset"]
    assert dataset.column_names == ["id", "text"] and len(dataset) == len(answered_records())
    assert dataset[0]["text"].startswith("### Instruction: Is a toad a frog?\n\n### Context: ")
    text = sft_page["generate"]("sft_model", "Is a toad a frog?")
    prompt = "### Instruction: Is a toad a frog?\n\n### Context: \n\n### Response:"
    assert text.startswith(prompt) and len(text) > len(prompt)
    config = RunConfig.load(run_of(sft_page["trainer"]) / "config.yaml")
    assert (config.task, config.model, config.data.train_size, config.data.split_seed) == ("sft", "starter", 0.8, 42)
    assert config.training.max_steps == 3 and config.training.logging_steps == 1


@pytest.mark.training
def test_the_trainer_streams_the_run_and_the_app_lists_it(sft_page, page):
    trainer = sft_page["trainer"]
    printed = sft_page["printed"]
    assert printed.startswith(f"rlhf run {trainer.run_id} in {run_of(trainer)}")
    assert "\nstarted (" in printed and "{'loss': " in printed and "\nfinished" in printed
    assert "saved the model to sft_model" in printed
    runs = RunManager(page / "data" / "runs").list_runs()
    listed = {run["id"]: run for run in runs}
    assert listed[trainer.run_id]["status"] == "finished" and listed[trainer.run_id]["task"] == "sft"
    events = read_events(run_of(trainer) / "events.jsonl")
    assert [e["status"] for e in events if "status" in e] == ["queued", "started", "finished"]
    assert sum(1 for e in events if "loss" in e and "step" in e) >= 3
    assert (page / "sft_model" / "config.json").exists() and (page / "sft_model" / "tokenizer.json").exists()


@pytest.mark.training
def test_the_runs_card_and_exported_script_carry_the_pages_function(sft_page, page):
    from rlhf.export_script import export_script_from_file
    from rlhf.hub.card import model_card

    run = run_of(sft_page["trainer"])
    card = model_card(run)
    assert "`formatting_func` from `fine_tune_sft.py`, a Python function given to rlhf.compat" in card
    script = export_script_from_file(run / "config.yaml")
    assert "# rlhf.compat: `formatting_func` from " in script and "#     def formatting_func(sample" in script


@pytest.mark.training
def test_the_page_reward_model_script_scores_with_its_get_score(rm_page, page):
    assert rm_page["dataset"].column_names == ["chosen", "rejected"]
    good = rm_page["get_score"](rm_page["model"], rm_page["tokenizer"], rm_page["example_good"])
    bad = rm_page["get_score"](rm_page["model"], rm_page["tokenizer"], rm_page["example_bad"])
    assert math.isfinite(good) and math.isfinite(bad) and good != bad
    config = RunConfig.load(run_of(rm_page["trainer"]) / "config.yaml")
    assert config.task == "rm" and config.data.train_size == 1.0  # no train_size: no split, as in Argilla


def output_text_tail(namespace: dict) -> str:
    return namespace["output_text"].rstrip()[-20:]


@pytest.mark.training
def test_the_page_ppo_script_trains_with_the_reward_model_and_generates(rm_page, page):
    ppo_page = run_script(PAGE_PPO, page / "fine_tune_ppo.py")
    printed = ppo_page["printed"]
    assert ppo_page["dataset"].column_names == ["id", "query"]
    assert ppo_page["output_text"].startswith(TOAD_PROMPT)
    assert ppo_page["output_text"] in printed
    config = RunConfig.load(run_of(ppo_page["trainer"]) / "config.yaml")
    rl = config.rl
    assert (config.task, rl.algorithm, rl.reward_models) == ("rl", "ppo", [str(page / "reward_model")])
    assert (rl.min_new_tokens, rl.max_new_tokens, rl.batch_size) == (32, 256, 16)
    assert rl.generation_kwargs == {"min_length": -1, "top_k": 0.0, "top_p": 1.0, "do_sample": True}
    assert rl.mini_batch_size is None and config.training.learning_rate is None  # not given: rlhf's defaults
    events = read_events(run_of(ppo_page["trainer"]) / "events.jsonl")
    assert any("reward" in e for e in events) and events[-1]["status"] == "finished"
    assert f"rlhf run {ppo_page['trainer'].run_id}" in printed and "'reward': " in printed
    assert "\nfinished" in printed and printed.rstrip().endswith(output_text_tail(ppo_page))


def test_the_page_trlx_data_loop_reads_responses_from_the_records(rlhf_cache, tmp_path):
    namespace = run_script(PAGE_TRLX_DATA, tmp_path / "fine_tune_trlx.py")
    assert len(namespace["feedback_dataset"]) == 400
    assert len(namespace["dataset"]) == len(answered_records())
    assert namespace["samples"][0] == [
        "### Instruction: Is a toad a frog? ### Context: Both frogs and toads are amphibians in the order Anura, "
        "which means \"without a tail.\" Toads are a sub-classification of frogs, meaning that all toads are frogs, "
        "but not all frogs are toads.",
        "### Response: Yes. All toads are frogs, but not all frogs are toads."]


def test_the_page_sft_function_names_the_record_without_responses(rlhf_cache, tmp_path):
    source = PAGE_SFT.replace('"answered.jsonl"', '"sample"')
    failing = 'instruction=sample["new-instruction"][0]["value"],'
    line = next(n for n, text in enumerate(source.splitlines(), 1) if text.strip() == failing)
    with pytest.raises(FormattingError) as raised:  # at prepare_for_training, before any training
        run_script(source, tmp_path / "fine_tune_sft.py")
    message = str(raised.value)
    assert message.startswith("`formatting_func` raised IndexError: list index out of range on record 9 "
                              f"(external_id 'sample-0010') at {tmp_path / 'fine_tune_sft.py'}, line {line}: "
                              f"`{failing}`.")
    assert "no annotator responses" in message and "return None for such records" in message


# -- prepare_for_training is `python -m rlhf prepare` ----------------------------------------------------------------

def python_function(source: str):
    namespace = {"__name__": "__main__"}
    exec(compile(source, "<script>", "exec"), namespace)
    return namespace["formatting_func"]


TASKS = {"sft": (SEED_SFT, TrainingTask.for_supervised_fine_tuning),
         "rm": (SEED_RM, TrainingTask.for_reward_modeling),
         "rl": (SEED_PPO, TrainingTask.for_proximal_policy_optimization),
         "dpo": (DPO, TrainingTask.for_direct_preference_optimization)}


@pytest.mark.parametrize("task", list(TASKS))
def test_prepare_for_training_returns_the_rows_of_rlhf_prepare(task, tmp_path, rlhf_cache):
    source, make_task = TASKS[task]
    dataset = write_jsonl(tmp_path / "answered.jsonl", answered_records()) if task == "sft" else "sample"
    done = run_cli("prepare", "--dataset", dataset, "--task", task, "--formatting-func",
                   write_function(tmp_path, source), "--output", tmp_path / "rows.jsonl")
    assert done.returncode == 0, done.stderr
    expected = read_rows(tmp_path / "rows.jsonl")
    if task == "rl":  # Argilla's name for the prompt column
        expected = [{"id": row["id"], "query": row["prompt"]} for row in expected]
    rows = rg.FeedbackDataset.from_huggingface(str(dataset)).prepare_for_training(
        framework="trl", task=make_task(formatting_func=python_function(source)))
    assert rows.column_names == list(expected[0])
    assert [dict(row) for row in rows] == expected


def test_prepare_for_training_splits_as_rlhf_prepare(tmp_path, rlhf_cache):
    done = run_cli("prepare", "--dataset", "sample", "--task", "rm", "--formatting-func",
                   write_function(tmp_path, SEED_RM), "--train-size", "0.8", "--seed", "7",
                   "--output", tmp_path / "rows.jsonl")
    assert done.returncode == 0, done.stderr
    rows = rg.FeedbackDataset.from_huggingface("sample").prepare_for_training(
        framework="trl", task=TrainingTask.for_reward_modeling(formatting_func=python_function(SEED_RM)),
        train_size=0.8, seed=7)
    assert list(rows) == ["train", "test"]
    for split in ("train", "test"):
        assert [dict(row) for row in rows[split]] == read_rows(tmp_path / f"rows.{split}.jsonl")


# -- errors that name what is wrong ----------------------------------------------------------------------------------

def first_response(sample):
    return sample["new-response"][0]["value"] if sample["new-response"] else None


@pytest.fixture
def sample_task(rlhf_cache):
    return rg.FeedbackDataset.from_huggingface("sample"), TrainingTask.for_supervised_fine_tuning(
        formatting_func=first_response)


@pytest.mark.parametrize("call, name, accepted", [
    (lambda ds, task: ArgillaTrainer(dataset=ds, task=task, framework="trl", epochs=3), "epochs", "train_size"),
    (lambda ds, task: ArgillaTrainer(ds, task, "trl").update_config(learnin_rate=1e-4), "learnin_rate",
     "learning_rate"),
    (lambda ds, task: ds.prepare_for_training(framework="trl", task=task, trainsize=0.8), "trainsize", "train_size"),
    (lambda ds, task: TrainingTask.for_supervised_fine_tuning(formatting_func=first_response, text="x"), "text",
     "formatting_func"),
    (lambda ds, task: rg.FeedbackDataset.from_huggingface("sample", splt="train"), "splt", "split"),
    (lambda ds, task: PPOConfig(batch_size=16, adap_kl_ctrl=False), "adap_kl_ctrl", "init_kl_coef"),
    (lambda ds, task: ArgillaTrainer(ds, task, "trl").train(output_dir="x", resume=True), "resume", "output_dir"),
])
def test_unknown_keyword_arguments_are_errors_naming_them(call, name, accepted, sample_task):
    with pytest.raises(CompatArgumentError) as raised:
        call(*sample_task)
    assert f"unknown argument '{name}'" in str(raised.value) and accepted in str(raised.value)
    assert isinstance(raised.value, TypeError) and isinstance(raised.value, ConfigError)


def test_ppo_settings_on_other_tasks_are_errors(sample_task):
    trainer = ArgillaTrainer(*sample_task, "trl")
    with pytest.raises(CompatArgumentError, match="length_sampler_kwargs is for PPO"):
        trainer.update_config(length_sampler_kwargs={"min_value": 1, "max_value": 4})


def test_other_frameworks_are_errors_listing_the_supported_one(sample_task):
    dataset, task = sample_task
    for call in (lambda: dataset.prepare_for_training(framework="trlx", task=task),
                 lambda: ArgillaTrainer(dataset=dataset, task=task, framework="trlx")):
        with pytest.raises(CompatArgumentError, match="framework='trlx' is not supported.*'trl'"):
            call()
    with pytest.raises(CompatArgumentError, match="for_text_classification is not supported"):
        TrainingTask.for_text_classification(formatting_func=first_response)


def test_ppo_without_a_reward_model_fails_before_a_run_starts(rlhf_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("RLHF_DATA_DIR", str(tmp_path))
    trainer = ArgillaTrainer(rg.FeedbackDataset.from_huggingface("sample"),
                             TrainingTask.for_proximal_policy_optimization(formatting_func=python_function(SEED_PPO)),
                             "trl", model="starter")
    with pytest.raises(ConfigError, match="reward_model"):
        trainer.train(output_dir="ppo_model")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.training
def test_a_failed_run_raises_with_the_runs_error(starter_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("RLHF_CACHE_DIR", str(starter_cache))
    monkeypatch.setenv("RLHF_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    trainer = ArgillaTrainer(rg.FeedbackDataset.from_huggingface("sample"),
                             TrainingTask.for_supervised_fine_tuning(formatting_func=first_response), "trl",
                             model="gpt2")  # the page's model: not on this offline machine
    unreachable = r"run .* failed: model: 'gpt2' is not a local folder and the Hugging Face Hub is unreachable"
    with pytest.raises(rg.RunFailedError, match=unreachable) as raised:
        trainer.train(output_dir="sft_model")
    assert isinstance(raised.value, RlhfError) and raised.value.status == "failed"
    assert not (tmp_path / "sft_model").exists()
    assert RunManager(tmp_path / "runs").status(trainer.run_id)["status"] == "failed"


# -- settings: Argilla's and TRL's names onto a RunConfig --------------------------------------------------------------

def test_update_config_maps_trl_and_peft_names_onto_the_run_config(sample_task, tmp_path):
    from peft import LoraConfig

    dataset, task = sample_task
    trainer = ArgillaTrainer(dataset, task, "trl", model="starter")
    trainer.update_config(learning_rate=3e-4, num_train_epochs=2, per_device_train_batch_size=4, max_steps=7,
                          warmup_steps=2, evaluation_strategy="no",
                          peft_config=LoraConfig(r=4, lora_alpha=16, lora_dropout=0.1, target_modules=["c_attn"]))
    config = trainer.run_config("out")
    t, lora = config.training, config.lora
    assert (t.learning_rate, t.num_train_epochs, t.per_device_train_batch_size, t.max_steps) == (3e-4, 2, 4, 7)
    assert t.extra == {"warmup_steps": 2, "eval_strategy": "no"} and (t.seed, t.logging_steps) == (42, 1)
    assert (lora.use_peft, lora.lora_r, lora.lora_alpha, lora.lora_dropout, lora.lora_target_modules) == \
        (True, 4, 16, 0.1, ["c_attn"])
    assert config.data.train_size == 1.0 and config.data.function == "first_response"
    config.output_dir = str(tmp_path / "run")
    assert RunConfig.load(config.validate().save(tmp_path / "config.yaml")) == config  # saves as plain YAML
    with pytest.raises(CompatArgumentError, match="peft_config.bias='all' is not supported"):
        trainer.update_config(peft_config=LoraConfig(bias="all"))
    with pytest.raises(CompatArgumentError, match="output_dir is set by the run"):
        trainer.update_config(output_dir="x")


def test_a_ppo_config_object_or_look_alike_maps_onto_rl_settings(rlhf_cache, tmp_path):
    (tmp_path / "rm").mkdir()
    trainer = ArgillaTrainer(rg.FeedbackDataset.from_huggingface("sample"),
                             TrainingTask.for_proximal_policy_optimization(formatting_func=python_function(SEED_PPO)),
                             "trl", model="starter", train_size=0.5)
    defaults = trainer.run_config()  # Argilla's length sampler (1-10) and generation settings; rlhf's PPO defaults
    assert (defaults.rl.algorithm, defaults.rl.min_new_tokens, defaults.rl.max_new_tokens) == ("ppo", 1, 10)
    assert defaults.rl.generation_kwargs == {"min_length": -1, "top_k": 0.0, "top_p": 1.0, "do_sample": True}
    assert (defaults.rl.batch_size, defaults.rl.mini_batch_size, defaults.training.learning_rate) == (None, None, None)
    assert defaults.data.train_size == 1.0  # Argilla's PPO loop used every prompt
    old_trl = types.SimpleNamespace(batch_size=4, mini_batch_size=2, ppo_epochs=2, kl_coef=0.1, learning_rate=1e-4,
                                    steps=40, adap_kl_ctrl=True)
    pipeline = types.SimpleNamespace(model=types.SimpleNamespace(name_or_path=str(tmp_path / "rm")))
    trainer.update_config(config=old_trl, reward_model=pipeline)
    config = trainer.run_config()
    rl = config.rl
    assert (rl.batch_size, rl.mini_batch_size, rl.num_ppo_epochs, rl.kl_coef) == (4, 2, 2, 0.1)
    assert (config.training.learning_rate, config.training.max_steps) == (1e-4, 10)  # ceil(40 / 4) PPO steps
    assert rl.reward_models == [str(tmp_path / "rm")]
    trainer.update_config(max_steps=2, learning_rate=5e-4)  # explicit training arguments win
    assert (trainer.run_config().training.max_steps, trainer.run_config().training.learning_rate) == (2, 5e-4)
