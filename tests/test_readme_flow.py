"""The README's five-minute flow, as a newcomer runs it in Chromium on the bundled sample with the app's defaults
(only ``max_steps`` set): SFT 60 steps, a reward model 60 steps, PPO 20 steps and DPO 30 steps from the SFT run,
then Chat and Score. Each test checks one outcome the seed page promises, seen on the page.

The runs are started from the page once per module and shared; the outcomes are read from the page, and the
figures behind them (reward per step, held-out margin) from the run folders the page reads.
"""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

from figures import report  # noqa: E402
from rlhf.formatting.templates import TOAD_BAD, TOAD_GOOD  # noqa: E402
from browser_helpers import choose, open_tab, screenshot, table_rows  # noqa: E402
# the tab tests' fixtures: module-scoped, so this module gets its own app (and runs folder) and browser
from test_browser import app, browser, new_page, page  # noqa: E402,F401
from test_starter_answers import NEW_QUESTIONS, is_answer  # noqa: E402
from training_helpers import mean, series  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.training]

RUN_TIMEOUT_S = 300
STARTED = re.compile(r"Run (\S+) (?:is )?(starting|queued|running)")


def start_from_the_page(page, task: str | re.Pattern, max_steps: int, model: str | None = None,
                        algorithm: str | None = None, reward_model: str | None = None) -> str:
    """Fill the Train form as the README says (task, model, max_steps; the rest left empty) and press Start."""
    panel = open_tab(page, "Train")
    choose(page, panel, "Task", task)
    if model:
        choose(page, panel, "Model", re.compile(re.escape(model)), timeout=60)
    if algorithm:
        panel.get_by_label(algorithm, exact=True).check()
    if reward_model:
        choose(page, panel, "reward_models", re.compile(re.escape(reward_model)), timeout=60)
        page.keyboard.press("Escape")
    steps = panel.get_by_label("max_steps", exact=True)
    steps.fill(str(max_steps))
    steps.blur()
    before = set(STARTED.findall(panel.inner_text()))
    panel.get_by_role("button", name="Start training").click()
    for _ in range(120):  # the start message names the new run
        new = {run for run, _ in STARTED.findall(panel.inner_text())} - {run for run, _ in before}
        if new:
            return new.pop()
        page.wait_for_timeout(250)
    raise AssertionError(f"no start message for the {task} run: {panel.inner_text()[-1500:]}")


def settled_text(page, element, quiet_ms: int = 1500, timeout_s: float = 60) -> str:
    """A streamed reply's text once it has stopped changing (not the "…" shown before the first words)."""
    import time

    deadline, last, since = time.monotonic() + timeout_s, None, time.monotonic()
    while time.monotonic() < deadline:
        text = element.inner_text().strip()
        if text != last:
            last, since = text, time.monotonic()
        elif text not in ("", "…") and time.monotonic() - since >= quiet_ms / 1000:
            return text
        page.wait_for_timeout(200)
    raise AssertionError(f"the reply kept changing or stayed empty: {last!r}")


def finished(app, run_id: str) -> str:
    status = app.wait_for_run(run_id, timeout=RUN_TIMEOUT_S)
    assert status["status"] == "finished", status.get("error")
    return run_id


@pytest.fixture(scope="module")
def runs(browser, app) -> dict[str, str]:
    """The README's four runs, started from one page as a newcomer would; their ids once each has finished."""
    page = new_page(browser, app.url)
    try:
        sft = start_from_the_page(page, re.compile("^SFT"), 60)
        rm = start_from_the_page(page, "Reward model", 60)
        finished(app, sft)
        finished(app, rm)
        ppo = start_from_the_page(page, re.compile("^RL"), 20, model=sft, algorithm="ppo", reward_model=rm)
        dpo = start_from_the_page(page, "DPO", 30, model=sft)
        return {"sft": sft, "rm": rm, "ppo": finished(app, ppo), "dpo": finished(app, dpo)}
    finally:
        page.context.close()


def test_sixty_sft_steps_answer_four_of_five_new_questions_in_the_chat(page, runs):
    panel = open_tab(page, "Chat & Score")
    choose(page, panel, "Chat with", runs["sft"])
    panel.get_by_text("Generation settings").click()
    seed = panel.get_by_label("seed", exact=True)
    for _ in range(3):  # a field filled as the accordion opens can be reset by its first render: fill until it holds
        seed.fill("0")  # sampled as test_starter_answers samples (the default, -1, draws anew each time: 3-5 of 5)
        seed.press("Tab")
        page.wait_for_timeout(500)
        if seed.input_value() == "0":
            break
    expect(seed).to_have_value("0")
    replies = []
    for number, question in enumerate(NEW_QUESTIONS, start=1):  # one conversation; each turn in the template
        panel.get_by_label("Instruction", exact=True).fill(question)
        panel.get_by_role("button", name="Send", exact=True).click()
        bot = panel.locator("[data-testid=bot]")
        expect(bot).to_have_count(number, timeout=60_000)
        replies.append(settled_text(page, bot.nth(number - 1)))
    expect(seed).to_have_value("0")  # every reply was drawn with it
    screenshot(page, "readme-chat")
    report("README flow, chat after SFT 60 steps (sampled, seed 0)",
           f"{sum(map(is_answer, replies))}/5 answered: {replies}")
    assert sum(map(is_answer, replies)) >= 4, replies


def test_the_reward_model_shows_its_held_out_accuracy_and_scores_the_toad_example(page, runs):
    panel = open_tab(page, "Train")
    choose(page, panel, "Selected run", runs["rm"])
    accuracy = panel.get_by_text(re.compile(r"Held-out pair accuracy"))
    expect(accuracy).to_be_visible(timeout=30_000)
    assert int(re.search(r"(\d+)%", accuracy.inner_text()).group(1)) >= 80

    panel = open_tab(page, "Chat & Score")
    panel.get_by_role("button", name="Example: a good and a bad answer").click()
    choose(page, panel, "Reward model", runs["rm"])
    panel.get_by_role("button", name="Score", exact=True).click()
    expect(panel.get_by_text(re.compile(r"Scored 2 texts"))).to_be_visible(timeout=60_000)
    scores = {row[0]: float(row[1]) for row in table_rows(panel)}
    screenshot(page, "readme-score")
    report("README flow, toad scores (Yes, context copy)", list(scores.values()))
    assert list(scores) == [TOAD_GOOD, TOAD_BAD] and scores[TOAD_GOOD] > scores[TOAD_BAD], scores  # "Yes" wins


def test_ppo_from_the_sft_run_shows_samples_and_raises_the_mean_reward(page, app, runs):
    panel = open_tab(page, "Train")
    choose(page, panel, "Selected run", runs["ppo"])
    expect(panel.locator("#run-log textarea")).to_have_value(re.compile(r"sample, reward"), timeout=30_000)
    screenshot(page, "readme-ppo")

    rewards = series(app.runs / runs["ppo"], "reward")
    quarter = max(1, len(rewards) // 4)
    first, last = mean(rewards[:quarter]), mean(rewards[-quarter:])
    report("README flow, PPO mean reward first/last quarter", f"{first:.3f} → {last:.3f} ({rewards})")
    assert last - first >= 0.1 * abs(first), rewards


def test_dpo_from_the_sft_run_separates_held_out_pairs(page, app, runs):
    import json

    panel = open_tab(page, "Train")
    choose(page, panel, "Selected run", runs["dpo"])
    margin = panel.get_by_text(re.compile(r"Held-out preference margin"))
    expect(margin).to_be_visible(timeout=30_000)
    screenshot(page, "readme-dpo")

    metrics = json.loads((app.runs / runs["dpo"] / "metrics.json").read_text())
    report("README flow, DPO held-out margin", metrics["eval_rewards/margins"])
    assert metrics["eval_rewards/margins"] > 0.5, metrics
    assert f"{metrics['eval_rewards/margins']:.3g}" in margin.inner_text()
