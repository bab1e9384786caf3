"""A reward model scores a text as it trained on it: the same template text, the same tokens.

The fast tests pin the formatting: a response scored with a prompt is the text the RM template (and the seed
page's RM function) makes of a pair. The slow tests train the README's reward model (the starter, the sample,
the app's defaults, 60 steps) and check what the Score tab shows with it: the seed's toad example ranked right,
held-out pair accuracy on the run, and the scorer feeding the model the token ids TRL's RewardTrainer trained on.
"""

from __future__ import annotations

import json

import pytest

from rlhf.data.sources import SAMPLE_FILE
from rlhf.formatting.templates import (TOAD_BAD, TOAD_CONTEXT, TOAD_GOOD, TOAD_PROMPT, fill_template,
                                       template_source)
from rlhf.inference.scoring import as_trained, reward_texts
from seed_functions import SEED_RM

SAMPLE = [json.loads(line) for line in SAMPLE_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
TOAD_RECORD = next(r for r in SAMPLE if r["original-instruction"] == TOAD_PROMPT)


def formatting_func(source: str):
    namespace: dict = {}
    exec(compile(source, "rm_template.py", "exec"), namespace)
    return namespace["formatting_func"]


def responses_as_scored(record: dict) -> list[str]:
    """Each submitted response of the record, formatted by scoring: after its instruction and context."""
    return [reward_texts([r["value"]], i["value"], c["value"])[0] for i, c, r in
            zip(record["new-instruction"], record["new-context"], record["new-response"])
            if r["status"] == "submitted"]


def pairs_as_scored(record: dict) -> list[tuple[str, str]]:
    """The record's (chosen, rejected) pairs built by scoring's formatting: each response after its prompt."""
    rejected = reward_texts([record["original-response"]], record["original-instruction"],
                            record["original-context"] or "")[0]
    return [(c, rejected) for c in responses_as_scored(record) if c != rejected]


def test_scoring_formats_every_sample_pair_as_the_rm_template_does():
    func = formatting_func(template_source("rm"))
    for record in SAMPLE:
        assert list(func(record)) == pairs_as_scored(record), record["external_id"]


def test_scoring_formats_every_chosen_response_as_the_seed_page_does():
    """The page's own function writes "Context: None" into a rejected text without context (the template says
    ``or ""``, so the page also keeps a few pairs the template drops); its chosen texts, the responses it learns to
    prefer, are scoring's exactly."""
    func = formatting_func(SEED_RM)
    for record in SAMPLE:
        responses = responses_as_scored(record)
        assert all(chosen in responses for chosen, _ in func(record)), record["external_id"]


def test_the_toad_responses_score_as_the_toad_pair_trained():
    chosen, rejected = next(iter(formatting_func(template_source("rm"))(TOAD_RECORD)))
    good = TOAD_RECORD["new-response"][0]["value"]
    assert reward_texts([good, TOAD_RECORD["original-response"]], TOAD_PROMPT, TOAD_CONTEXT) == [chosen, rejected]


def test_without_a_prompt_texts_are_scored_as_they_are():
    assert reward_texts([" Yes", "asdf qwerty zxcv "], "", TOAD_CONTEXT) == [" Yes", "asdf qwerty zxcv "]


def test_a_reward_model_is_a_trl_reward_function_that_scores_as_the_score_tab(tmp_path):
    """GRPO and RLOO get the scorer itself as a reward function (TRL passes extra keyword arguments), so every
    RL algorithm scores a completion as the Score tab scores it: the prompt + completion, ending in EOS."""
    from test_inference import build_tiny_lm

    from rlhf.inference.scoring import RewardScorer

    run = tmp_path / "rm-run"
    build_tiny_lm(run / "final", classifier=True)
    (run / "config.yaml").write_text("task: rm\nmodel: gpt2\n")
    scorer = RewardScorer(str(run))
    prompts, completions = [fill_template(TOAD_PROMPT, TOAD_CONTEXT)] * 2, [TOAD_GOOD, TOAD_BAD]

    rewards = scorer(prompts=prompts, completions=completions, completion_ids=[[1], [2]], trainer_state=None)

    assert rewards == scorer.score([p + c for p, c in zip(prompts, completions)])
    assert scorer.encode([prompts[0] + TOAD_GOOD])["input_ids"][0, -1] == scorer.tokenizer.eos_token_id
    assert scorer.__name__ == "rm-run"  # TRL logs rewards/rm-run/mean, not rewards/final/mean


def test_a_fresh_score_head_is_the_same_for_the_same_seed(tmp_path):
    """A reward model's head is drawn when the task builds its model, before TRL's trainer seeds; a run seeds
    first, so the same run trained twice is the same reward model (it was not: the toad margin moved by 0.8)."""
    import torch

    from rlhf.tasks.models import load_reward_model
    from rlhf.train import seed_model_init
    from test_inference import build_tiny_lm

    base = build_tiny_lm(tmp_path / "lm")
    heads = []
    for _ in range(2):
        seed_model_init(42)
        heads.append(load_reward_model(str(base)).score.weight.detach().clone())

    assert torch.equal(*heads)


def test_a_scored_text_ends_in_one_eos_token_as_in_training():
    assert as_trained("Yes", "<|endoftext|>") == "Yes<|endoftext|>"
    assert as_trained("Yes<|endoftext|>", "<|endoftext|>") == "Yes<|endoftext|>"
    assert as_trained("Yes", None) == "Yes"


# -- the README's reward model -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def readme_rm(readme_rm_run):
    """``python -m rlhf train --task rm --model starter --dataset sample --max-steps 60``: the app's defaults."""
    return readme_rm_run


def toad_scores(run, prompt: str, context: str) -> tuple[float, float]:
    from rlhf.services.inference import Inference

    good, copy = Inference().score(str(run), [TOAD_GOOD, TOAD_BAD], prompt, context)
    return good, copy


@pytest.mark.training
def test_the_readme_reward_model_ranks_the_toad_example_right_with_its_prompt(readme_rm):
    """Issue 13: "Yes" outscores the context copy. The toad pair is in the held-out tenth: the model never trained
    on it. Without a prompt the texts are scored as raw text, and the order is not promised."""
    from figures import report

    with_prompt, raw = toad_scores(readme_rm, TOAD_PROMPT, TOAD_CONTEXT), toad_scores(readme_rm, "", "")
    report("README reward model, toad scores (Yes, context copy) with prompt / raw", (with_prompt, raw))
    assert with_prompt[0] > with_prompt[1], with_prompt
    assert with_prompt != raw  # the prompt is part of what is scored


@pytest.mark.training
def test_the_readme_reward_model_reports_held_out_pair_accuracy(readme_rm):
    from rlhf.runs.manager import RunManager
    from rlhf.services.runs import summary
    from rlhf.ui.tabs.train import run_details

    metrics = json.loads((readme_rm / "metrics.json").read_text())
    assert metrics["eval_accuracy"] >= 0.8, metrics  # 10 % of the sample's pairs are held out by default
    status = RunManager(readme_rm.parent).status(readme_rm.name)
    assert summary(status)["metrics"]["eval_accuracy"] == pytest.approx(metrics["eval_accuracy"])
    details = run_details({"run": summary(status), "metrics": status["metrics"]})
    assert f"Held-out pair accuracy: chosen ranked above rejected in **{metrics['eval_accuracy']:.0%}** of" in details


@pytest.mark.training
def test_the_scorer_feeds_the_token_ids_the_reward_trainer_trained_on(readme_rm):
    """TRL tokenizes the RM template's pair (appending EOS); the scorer, given the responses and the prompt, must
    produce the very same ids, or the score is read at a position the model never learned to rate."""
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer

    from rlhf.inference.scoring import RewardScorer

    chosen, rejected = next(iter(formatting_func(template_source("rm"))(TOAD_RECORD)))
    scorer = RewardScorer(str(readme_rm))
    trainer = RewardTrainer(model=scorer.model, processing_class=scorer.tokenizer,
                            args=RewardConfig(output_dir=str(readme_rm.parent / "ids"), report_to="none",
                                              use_cpu=True),
                            train_dataset=Dataset.from_list([{"chosen": chosen, "rejected": rejected}]))
    trained = trainer.train_dataset[0]
    texts = reward_texts([TOAD_RECORD["new-response"][0]["value"], TOAD_RECORD["original-response"]],
                         TOAD_PROMPT, TOAD_CONTEXT)
    batch = scorer.encode(texts)
    scored = [[i for i, kept in zip(ids, mask) if kept]
              for ids, mask in zip(batch["input_ids"].tolist(), batch["attention_mask"].tolist())]
    assert scored == [trained["chosen_ids"], trained["rejected_ids"]]
    assert trained["chosen_ids"][-1] == scorer.tokenizer.eos_token_id
