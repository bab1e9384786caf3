"""``rlhf.compat.trlx``: the "Fine-tune an LLM" page's three TRLX blocks run with only their imports changed.

The page's blocks are copied below as text and run as scripts in a scratch folder, as a user would run them. The
edits: the imports (``import trlx`` → ``import rlhf.compat.trlx as trlx``, ``from trlx.data…`` → ``from
rlhf.compat.trlx.data…``, ``import argilla as rg`` → ``import rlhf.compat as rg``), ``'gpt2'`` → ``'starter'``,
the dataset id (the bundled ``sample``), and the PPO block's classifier: the page's ``pipeline("argilla/roberta-…")``
names a Hub model (and no task, which transformers rejects), so it reads the README's reward model from its folder.
The page leaves ``dataset = ...`` and ``config = ...`` to the reader; they are the blocks above them (marked).
The page's configs keep TRLX's long defaults (10,000 PPO steps over 128-rollout iterations, 1000 SFT steps):
``RLHF_TRLX_MAX_STEPS=1``, a documented environment variable of rlhf.compat.trlx, caps ``total_steps`` at one
optimiser step (PPO: one minibatch of 16 fresh rollouts, as TRLX's ``total_steps=1``), so the code stays the page's.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

import rlhf.compat.trlx as trlx
from rlhf.compat import CompatArgumentError
from rlhf.compat.trlx.data.default_configs import (
    default_ilql_config,
    default_ppo_config,
    default_sft_config,
)
from rlhf.compat.trlx.mapping import MAX_STEPS_ENV, Method, run_config
from rlhf.compat.trlx.reward_code import reward_source
from rlhf.formatting.reward_sandbox import RewardSandbox
from rlhf.formatting.user_code import UserCode
from rlhf.runs.config import RunConfig
from rlhf.runs.manager import RunManager

# -- the page's blocks ---------------------------------------------------------------------------------------------

# SFT section, "TRLX": its data loop reads the records (the page's `feedback_dataset` of the section's start).
PAGE_SFT = '''\
import rlhf.compat as rg
from datasets import Dataset

feedback_dataset = rg.FeedbackDataset.from_huggingface("sample")

import rlhf.compat.trlx as trlx

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

trainer = trlx.train('starter', samples=samples)
'''

# RLHF section, "TRLX": the config block, shared by both tabs.
PAGE_CONFIG = '''\
from rlhf.compat.trlx.data.default_configs import default_ppo_config

config = default_ppo_config()
config.model.model_path = 'starter'
config.train.batch_size = 16
'''

# The "reward function" tab; `config = ...` is the block above. The classifier reads REWARD_MODEL (see above).
PAGE_REWARD_FN = PAGE_CONFIG + '''
from transformers import pipeline
import rlhf.compat.trlx as trlx

classifier = pipeline("sentiment-analysis", model=REWARD_MODEL)  # the page: pipeline("argilla/roberta-…")

def my_reward_function(entry):
    return classifier(entry)[0].get("score")

trainer = trlx.train(
    config=config,
    reward_fn=lambda samples, **kwargs: [my_reward_function(sample) for sample in samples]
)
'''

# The "reward-labeled dataset" tab; `config = ...` is the block above, and `dataset = ...` the page's pairs of a
# poorer (original) and a better (annotator's) response, here from the sample's answered records.
PAGE_REWARDED = PAGE_CONFIG + '''
import json
records = [json.loads(line) for line in open(SAMPLE, encoding="utf-8")]
dataset = [{"poorer_response": r["original-response"], "better_response": r["new-response"][0]["value"]}
           for r in records if r["new-response"] and r["new-response"][0]["value"] != r["original-response"]]

import rlhf.compat.trlx as trlx

samples, rewards = [], []
for entry in dataset:
    samples.append(entry["poorer_response"])
    rewards.append(1)
    samples.append(entry["better_response"])
    rewards.append(2)

trainer = trlx.train(config=config, samples=samples, rewards=rewards)
'''

SAMPLE = Path(__file__).resolve().parent.parent / "rlhf" / "data" / "sample" / "records.jsonl"


def run_script(source: str, path: Path, **names) -> dict:
    """Run the script as ``python path`` would; returns its globals, with what it printed under ``"printed"``."""
    path.write_text(source, encoding="utf-8")
    namespace = {"__name__": "__main__", "__file__": str(path), **names}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, str(path), "exec"), namespace)
    namespace["printed"] = printed.getvalue()
    return namespace


@pytest.fixture(scope="module")
def page(starter_cache, tmp_path_factory):
    """A working folder for the page's scripts, runs in its own RLHF_DATA_DIR, each capped at one step."""
    root = tmp_path_factory.mktemp("trlx-page")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RLHF_CACHE_DIR", str(starter_cache))
        patch.setenv("RLHF_DATA_DIR", str(root / "data"))
        patch.setenv("TOKENIZERS_PARALLELISM", "false")
        patch.setenv(MAX_STEPS_ENV, "1")
        patch.chdir(root)
        yield root


def listed(page: Path, run_id: str) -> dict:
    return {run["id"]: run for run in RunManager(page / "data" / "runs").list_runs()}[run_id]


# -- the page's blocks, run ------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.training
def test_the_page_sft_block_trains_on_completions_in_a_listed_run(page):
    with pytest.warns(UserWarning, match="config"):  # TRLX's own warning for a call without config
        script = run_script(PAGE_SFT, page / "trlx_sft.py")
    trainer = script["trainer"]
    assert listed(page, trainer.run_id)["status"] == "finished" and listed(page, trainer.run_id)["task"] == "sft"
    config = RunConfig.load(trainer.run_dir / "config.yaml")
    rows = [json.loads(line) for line in Path(config.data.dataset).read_text().splitlines()]
    assert rows[0].keys() == {"prompt", "completion"} and rows[0]["completion"].startswith("### Response: ")
    assert len(rows) == len(script["samples"]) and config.training.max_steps == 1
    trainer.save_pretrained(page / "sft_out")
    assert (page / "sft_out" / "config.json").exists() and (page / "sft_out" / "tokenizer.json").exists()
    assert (page / "ckpts" / "best_checkpoint" / "hf_model" / "config.json").exists()  # where TRLX saved it


@pytest.mark.slow
@pytest.mark.training
def test_the_page_reward_function_block_trains_ppo_scoring_in_the_sandbox(page, readme_rm_run):
    script = run_script(PAGE_REWARD_FN, page / "trlx_ppo.py", REWARD_MODEL=str(readme_rm_run / "final"))
    trainer = script["trainer"]
    assert listed(page, trainer.run_id)["status"] == "finished"
    config = RunConfig.load(trainer.run_dir / "config.yaml")
    # one optimiser step (RLHF_TRLX_MAX_STEPS=1) on one minibatch of config.train.batch_size fresh rollouts
    assert (config.task, config.rl.algorithm, config.rl.batch_size, config.rl.mini_batch_size) == ("rl", "ppo",
                                                                                                   16, 16)
    assert "`<lambda>` from" in config.rl.reward_code and "my_reward_function" in config.rl.reward_code
    assert len(config.rl.reward_code) < 50_000  # the classifier travels as its folder, not its weights
    rewards = [e["reward"] for e in map(json.loads, (trainer.run_dir / "events.jsonl").read_text().splitlines())
               if "reward" in e]
    assert rewards and all(0.0 < r < 1.0 for r in rewards)  # the classifier's score, a probability


@pytest.mark.slow
@pytest.mark.training
def test_the_page_reward_labelled_block_trains_kto_on_the_better_half(page):
    script = run_script(PAGE_REWARDED, page / "trlx_offline.py", SAMPLE=str(SAMPLE))
    trainer = script["trainer"]
    assert listed(page, trainer.run_id)["status"] == "finished" and listed(page, trainer.run_id)["task"] == "kto"
    rows = [json.loads(line)
            for line in Path(RunConfig.load(trainer.run_dir / "config.yaml").data.dataset).read_text().splitlines()]
    assert [r["label"] for r in rows[:4]] == [False, True, False, True]  # rewards 1, 2, 1, 2: median 1.5
    assert rows[0]["prompt"] == trainer.tokenizer.bos_token  # TRLX's shorthand for a string sample
    half = len(rows) // 2
    assert f"{half} of {len(rows)} samples have a reward above the median 1.5" in script["printed"]


# -- configs ---------------------------------------------------------------------------------------------------------

def test_default_configs_keep_trlx_field_names_and_values():
    ppo, sft, ilql = default_ppo_config(), default_sft_config(), default_ilql_config()
    assert (ppo.model.model_path, ppo.tokenizer.tokenizer_path, ppo.train.batch_size, ppo.train.total_steps,
            ppo.train.seq_length, ppo.train.epochs, ppo.train.checkpoint_dir) == ("lvwerra/gpt2-imdb", "gpt2", 32,
                                                                                 10000, 1024, 100, "ckpts")
    assert (ppo.method.num_rollouts, ppo.method.chunk_size, ppo.method.ppo_epochs, ppo.method.init_kl_coef,
            ppo.method.cliprange, ppo.method.cliprange_value, ppo.method.vf_coef, ppo.method.gamma,
            ppo.method.lam) == (128, 128, 4, 0.001, 0.2, 0.2, 1, 1, 0.95)
    assert ppo.method.gen_kwargs["max_new_tokens"] == 40 and sft.train.batch_size == 8 and ilql.method.tau == 0.7
    assert ppo.evolve(method=dict(gamma=0.99)).method.gamma == 0.99


def test_a_ppo_config_maps_onto_rlhf_ppo_with_trlx_step_counts(monkeypatch):
    monkeypatch.delenv(MAX_STEPS_ENV, raising=False)
    config = default_ppo_config()
    config.model.model_path, config.train.batch_size, config.method.cliprange = "starter", 16, 0.1
    run = run_config(config, Method.PPO, Path("prompts.jsonl"), 16, reward_code="def reward_func(): ...")
    # 4 PPO epochs over 128 rollouts in batches of 16: 32 optimiser steps an iteration; 100 iterations (epochs) cap
    assert (run.rl.batch_size, run.rl.mini_batch_size, run.rl.num_ppo_epochs, run.training.max_steps) == (128, 16,
                                                                                                          4, 100)
    assert (run.rl.kl_coef, run.rl.cliprange, run.rl.max_new_tokens, run.training.learning_rate) == (0.001, 0.1,
                                                                                                    40, 3e-5)
    config.train.total_steps = 64
    assert run_config(config, Method.PPO, Path("p.jsonl"), 16, "x").training.max_steps == 2


def test_fewer_ppo_steps_than_an_iteration_train_on_the_rollouts_trlx_would_train_on(monkeypatch):
    monkeypatch.delenv(MAX_STEPS_ENV, raising=False)
    config = default_ppo_config()
    config.train.batch_size, config.train.total_steps = 16, 1  # TRLX: one optimiser step on one minibatch
    one = run_config(config, Method.PPO, Path("p.jsonl"), 16, "x")
    assert (one.training.max_steps, one.rl.batch_size, one.rl.mini_batch_size, one.rl.num_ppo_epochs) == (1, 16,
                                                                                                          16, 1)
    config.train.total_steps = 20  # two passes and a half over 8 minibatches
    part = run_config(config, Method.PPO, Path("p.jsonl"), 16, "x")
    assert (part.training.max_steps, part.rl.batch_size, part.rl.num_ppo_epochs) == (1, 128, 3)


def test_sft_steps_stop_at_total_steps_or_epochs_whichever_comes_first(monkeypatch):
    monkeypatch.delenv(MAX_STEPS_ENV, raising=False)
    config = default_sft_config()
    assert run_config(config, Method.SFT, Path("s.jsonl"), 20).training.max_steps == 300  # 100 epochs × 3 batches
    config.train.total_steps = 50
    assert run_config(config, Method.SFT, Path("s.jsonl"), 20).training.max_steps == 50
    monkeypatch.setenv(MAX_STEPS_ENV, "2")
    assert run_config(config, Method.SFT, Path("s.jsonl"), 20).training.max_steps == 2


@pytest.mark.parametrize("change, named", [
    (lambda c: setattr(c.method, "target", 6.0), "config.method.target=6.0"),
    (lambda c: setattr(c.method, "cliprange_reward", 5), "config.method.cliprange_reward=5"),
    (lambda c: setattr(c.model, "num_layers_unfrozen", 4), "config.model.num_layers_unfrozen=4"),
    (lambda c: setattr(c.tokenizer, "tokenizer_path", "other-tokenizer"), "config.tokenizer.tokenizer_path"),
    (lambda c: setattr(c.train, "trainer", "AccelerateRFTTrainer"), "config.train.trainer"),
    (lambda c: setattr(c.scheduler, "kwargs", {"T_max": 100, "eta_min": 0}), "config.scheduler"),
])
def test_a_changed_field_rlhf_cannot_honour_is_an_error_naming_it(change, named):
    config = default_ppo_config()
    change(config)
    with pytest.raises(CompatArgumentError, match=named.replace(".", r"\.")):
        run_config(config, Method.PPO, Path("p.jsonl"), 4, "x")


@pytest.mark.parametrize("kwargs, named", [
    (dict(metric_fn=lambda samples, **kw: {}), "metric_fn"),
    (dict(eval_prompts=["a"]), "eval_prompts"),
    (dict(stop_sequences=["###"]), "stop_sequences"),
])
def test_arguments_rlhf_cannot_honour_are_errors_naming_them(kwargs, named, tmp_path, monkeypatch):
    monkeypatch.setenv("RLHF_DATA_DIR", str(tmp_path))
    with pytest.raises(CompatArgumentError, match=named):
        trlx.train("starter", samples=["a", "b"], config=default_sft_config(), **kwargs)
    assert not (tmp_path / "runs").exists()


def test_samples_and_rewards_of_different_lengths_are_trlx_value_error(tmp_path, monkeypatch):
    monkeypatch.setenv("RLHF_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="Number of samples 2 should match the number of rewards 1"):
        trlx.train("starter", samples=["a", "b"], rewards=[1.0], config=default_ilql_config())


def test_equal_rewards_and_mixed_samples_are_errors_naming_the_problem(tmp_path, monkeypatch):
    monkeypatch.setenv("RLHF_DATA_DIR", str(tmp_path))
    with pytest.raises(CompatArgumentError, match="every reward is 1"):
        trlx.train("starter", samples=["a", "b"], rewards=[1, 1], config=default_ilql_config())
    with pytest.raises(CompatArgumentError, match=r"samples\[1\] is a string"):
        trlx.train("starter", samples=[["q", "a"], "b"], config=default_sft_config())
    with pytest.raises(CompatArgumentError, match=r"samples\[0\] has 4 parts"):
        trlx.train("starter", samples=[["q", "a", "q2", "a2"]], config=default_sft_config())


# -- reward functions --------------------------------------------------------------------------------------------

def test_a_reward_fn_over_an_unpicklable_object_is_an_error_naming_it(tmp_path, monkeypatch):
    import threading

    monkeypatch.setenv("RLHF_DATA_DIR", str(tmp_path))
    lock = threading.Lock()
    with pytest.raises(CompatArgumentError, match="it uses `lock` \\(a lock\\), which cannot be pickled"):
        trlx.train(reward_fn=lambda samples, **kwargs: [float(lock.locked()) for _ in samples],
                   config=default_ppo_config())
    assert not (tmp_path / "runs").exists()


def sandboxed(reward_fn, hidden_prompt: str | None = None) -> RewardSandbox:
    """The reward function as a run scores with it: its source in the sandboxed reward process."""
    source = reward_source(reward_fn, None, hidden_prompt=hidden_prompt)
    return RewardSandbox(UserCode.from_text(source, "reward_func", filename="reward_func.py"))


def test_a_reward_fn_is_called_as_trlx_called_it_in_the_sandbox():
    bonus = {"good": 1.0}  # a closure over plain data travels with the function

    def reward_fn(samples, prompts, outputs, tokenizer, **kwargs):
        return [len(s) + bonus.get(o, 0.0) for s, p, o in zip(samples, prompts, outputs)]

    scorer = sandboxed(reward_fn, hidden_prompt="<bos>")  # TRLX's default prompt, which reward_fn saw as ""
    try:
        assert scorer(prompts=["Q: ", "<bos>"], completions=["good", "bad"]) == [8.0, 3.0]
    finally:
        scorer.close()


def test_a_reward_fn_that_raises_or_miscounts_names_the_sample():
    from rlhf.errors import FormattingError

    scorer = sandboxed(lambda samples, **kwargs: [1.0 / len(s.split("|")[1]) for s in samples])
    try:
        with pytest.raises(FormattingError, match=r"raised ZeroDivisionError: .* on sample 1 'p\|'"):
            scorer(prompts=["p|", "p|"], completions=["ok", ""])
    finally:
        scorer.close()
    scorer = sandboxed(lambda samples, **kwargs: [1.0 for s in samples if "skip" not in s])
    try:
        with pytest.raises(FormattingError, match=r"returned 0 scores for sample 2 'skip me'"):
            scorer(prompts=["", "", ""], completions=["a", "b", "skip me"])
    finally:
        scorer.close()
