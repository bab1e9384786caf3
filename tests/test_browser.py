"""The app in a real browser: Chromium (Debian's ``chromium`` package) driven by Playwright, clicking, typing and
reading the page as a person would, against ``python app.py`` in a subprocess.

One app serves the module (single-user, on 127.0.0.1, offline, with the starter model built once by the
``starter_cache`` fixture); a second, short-lived one is a public deployment without authentication. Each test
checks one behaviour and the tab tests leave a full-page screenshot (in ``docs/screenshots/`` with
RLHF_UPDATE_SCREENSHOTS=1).

Skipped where Playwright or ``/usr/bin/chromium`` is missing (``apt-get install -y chromium``; Playwright's own
browser download is not needed). ``RLHF_TEST_CHROMIUM`` points at another Chromium binary.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

from browser_helpers import (  # noqa: E402
    CHROMIUM, CHROMIUM_ARGS, VIEWPORT, App, choose, editor_text, open_tab, replace_code, screenshot,
    table_rows, wait_for_plot,
)

if not Path(CHROMIUM).is_file():
    pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium package (apt-get install -y chromium)",
                allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from rlhf.formatting.templates import TOAD_BAD, TOAD_GOOD  # noqa: E402

pytestmark = pytest.mark.browser  # Chromium against a real app

expect.set_options(timeout=15_000)  # a loaded 2-core machine: sandbox and model loads take a few seconds

TABS = ["Data", "Format", "Preview", "Train", "Chat & Score", "Hub"]
RUN_TIMEOUT_S = 150
RAISING = "def formatting_func(sample):\n    raise ValueError('no good')\n"
FORK_BOMB = "import os\n\ndef formatting_func(sample):\n    while True:\n        os.fork()\n"
STARTED = re.compile(r"Run (\d{8}-\d{6}-[\w-]+) (is|finished)")  # "is starting", "is queued", "is running"…


# -- fixtures -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory, starter_cache):
    server = App(tmp_path_factory.mktemp("browser-app"), starter_cache)
    try:
        server.wait_until_serving()
        yield server
    finally:
        server.stop()


def known_gradio_error(error) -> bool:
    """Gradio 6.31's native plots keep a ResizeObserver after their chart is unmounted; it throws when the Train
    tab clears a plot before drawing a new set of curves (so that the legend is rebuilt). Nothing on the page
    breaks, so this one is tolerated."""
    return "reading 'offsetWidth'" in str(error) and "ResizeObserver" in (error.stack or "")


def new_page(browser, url: str):
    """A page in a fresh browser context (its own localStorage), with uncaught page errors collected."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: None if known_gradio_error(error) else page.errors.append(
        f"{error}\n{error.stack}"))
    page.goto(url)
    expect(page.get_by_role("tab", name="Data", exact=True)).to_be_visible()
    return page


@pytest.fixture
def page(browser, app):
    page = new_page(browser, app.url)
    yield page
    errors = page.errors
    page.context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture(scope="module")
def sft_run(browser, app) -> str:
    """A tiny SFT run (max_steps 3) started from the Train tab; its id."""
    page = new_page(browser, app.url)
    try:
        panel = open_tab(page, "Train")
        panel.get_by_label("max_steps", exact=True).fill("3")
        panel.get_by_role("button", name="Start training").dblclick()  # one run all the same
        started = panel.get_by_text(STARTED)
        expect(started).to_be_visible()
        return STARTED.search(started.inner_text()).group(1)
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def finished_sft(app, sft_run) -> str:
    status = app.wait_for_run(sft_run, timeout=RUN_TIMEOUT_S)
    assert status["status"] == "finished", status.get("error")
    return sft_run


@pytest.fixture(scope="module")
def reward_run(app, finished_sft) -> str:
    """A tiny reward-model run (max_steps 2), set up through the app's API; its id once finished."""
    from gradio_client import Client

    started = Client(app.url, verbose=False).predict("rm", "starter", "sample", "", {"max_steps": 2},
                                                     api_name="/start_run")
    assert started["ok"], started
    status = app.wait_for_run(started["run_id"], timeout=RUN_TIMEOUT_S)
    assert status["status"] == "finished", status.get("error")
    return started["run_id"]


# -- the tabs -------------------------------------------------------------------------------------------------

def test_first_paint_shows_six_tabs_and_the_loaded_sample(page):
    assert page.get_by_role("tab").all_inner_texts() == TABS
    expect(page.get_by_role("tab", name="Data", exact=True)).to_have_attribute("aria-selected", "true")
    panel = page.locator("[role=tabpanel]:visible")

    expect(panel.get_by_text("Loaded the bundled sample.")).to_be_visible()
    summary = panel.locator("p").filter(has_text="Current dataset:")
    expect(summary).to_contain_text(re.compile(r"layout:\s*argilla-v1\s*·\s*records:\s*400"))
    expect(panel.get_by_text('"Is a toad a frog?"').first).to_be_visible()  # the first record, as JSON
    screenshot(page, "data")


def test_a_fork_bomb_in_the_editor_is_refused_per_record_and_the_page_keeps_working(page):
    panel = open_tab(page, "Format")
    editor, results = panel.locator("#format-editor"), panel.locator("#format-results")

    replace_code(page, editor, FORK_BOMB)
    panel.get_by_role("button", name="Run on 5 records").click()

    expect(panel.get_by_text("5 raised an error")).to_be_visible()
    text = results.inner_text()
    assert text.count("raised PermissionError") == 5 and "line 5: os.fork()" in text
    assert "Traceback" not in panel.inner_text()
    expect(open_tab(page, "Data")).to_contain_text("argilla-v1")


def test_format_runs_the_template_then_reports_a_raising_function_readably(page):
    panel = open_tab(page, "Format")
    editor, results = panel.locator("#format-editor"), panel.locator("#format-results")
    run = panel.get_by_role("button", name="Run on 5 records")
    code = editor_text(editor)
    assert "def formatting_func(sample" in code and "### Instruction: {instruction}" in code

    run.click()
    expect(results).to_contain_text("Record 4")
    assert results.inner_text().count("→ 1 row") == 5
    expect(results).to_contain_text("### Instruction: Is a toad a frog?")
    expect(panel.get_by_text(re.compile(r"on 5 records\.$"))).to_be_visible()
    screenshot(page, "format")

    replace_code(page, editor, RAISING)
    assert editor_text(editor) == RAISING
    run.click()
    expect(panel.get_by_text("5 raised an error")).to_be_visible()
    text = results.inner_text()
    assert "Record 0 (sample-0001) → ⚠️ raised ValueError: no good" in text
    assert "line 2: raise ValueError('no good')" in text and text.count("ValueError: no good") == 5
    assert "Traceback" not in panel.inner_text()

    panel.get_by_role("button", name="Reset to template").click()  # the app still works afterwards
    expect(panel.get_by_text("Reset to the template.")).to_be_visible()
    run.click()
    expect(results).to_contain_text("### Instruction: Is a toad a frog?")
    assert "raised" not in results.inner_text()


def test_preview_shows_rows_counts_drop_reasons_and_a_token_histogram(page):
    panel = open_tab(page, "Preview")
    choose(page, panel, "Task", "Reward model")

    panel.get_by_role("button", name="Prepare preview").click()

    expect(panel.get_by_text("Prepared.", exact=True)).to_be_visible(timeout=60_000)
    counts = panel.get_by_text("records read")
    expect(counts).to_contain_text(re.compile(r"400 records read → [\d,]+ rows \(train [\d,]+, test [\d,]+\)"))
    reasons = panel.locator("li").filter(has_text=re.compile(r"^\d+ × "))
    assert reasons.count() >= 1, panel.inner_text()
    expect(panel.get_by_text(re.compile(r"tokens in `?chosen`?"))).to_be_visible()
    expect(panel.get_by_role("gridcell").first).to_be_visible()  # the table can render after the counts
    rows = table_rows(panel)
    assert rows and all(len(row) == 2 for row in rows)  # chosen, rejected
    assert rows[0][0].startswith("### Instruction:") and rows[0][1].startswith("### Instruction:")
    bars = wait_for_plot(panel, "Token lengths", lambda marks: marks["bars"] >= 2)
    assert bars["bars"] >= 2
    screenshot(page, "preview")


def test_train_from_the_page_shows_the_run_finish_with_a_loss_curve_and_a_log(page, app, sft_run):
    panel = open_tab(page, "Train")
    choose(page, panel, "Selected run", sft_run)

    row = panel.get_by_role("row").filter(has_text=sft_run)
    expect(row).to_contain_text("finished", timeout=RUN_TIMEOUT_S * 1000)
    cells = row.get_by_role("gridcell").all_inner_texts()
    assert [cell.strip() for cell in cells[:5]] == [sft_run, "sft", "starter", "finished", "3"]
    assert float(cells[5])  # the last loss
    sft_rows = [row for row in table_rows(panel) if len(row) > 1 and row[1] == "sft"]
    assert len(sft_rows) == 1, sft_rows  # the double-click on Start made one run
    expect(panel.get_by_text(re.compile(r"· finished · .*step 3/3"))).to_be_visible()
    loss = wait_for_plot(panel, "Loss", lambda marks: marks["lines"] and max(marks["lines"]) >= 3)
    assert max(loss["lines"]) == 3, loss  # one vertex per logged step
    log = panel.locator("#run-log textarea")
    # readable lines, the newest last; the log may refresh a poll after the table says finished
    expect(log).to_have_value(re.compile(r"step 3/3  loss \d[\s\S]*\nfinished$"))
    assert "{" not in log.input_value()
    panel.get_by_text("Raw log (the last").click()  # the raw log is one click away
    expect(panel.locator("#run-raw-log textarea")).to_have_value(re.compile(r"'loss'"))
    screenshot(page, "train")


def test_a_reload_keeps_the_train_form_and_says_how_the_last_run_is(page, sft_run):
    panel = open_tab(page, "Train")
    choose(page, panel, "Task", re.compile("^DPO"))
    panel.get_by_label("max_steps", exact=True).fill("5")
    panel.get_by_label("max_steps", exact=True).blur()
    expect(panel.get_by_role("textbox", name=re.compile("^learning_rate"))).to_have_attribute(
        "placeholder", re.compile(r"^default: .*tuned for the starter"))  # the resolved default, and whose

    page.wait_for_timeout(1000)  # the form is saved in the browser as it changes
    page.reload()
    panel = open_tab(page, "Train")

    expect(panel.get_by_label("Task", exact=True)).to_have_value(re.compile("^DPO"))
    expect(panel.get_by_label("max_steps", exact=True)).to_have_value("5")


def test_chat_replies_and_a_reward_model_scores_each_text(page, finished_sft, reward_run):
    panel = open_tab(page, "Chat & Score")
    panel.get_by_role("button", name="Example: Is a toad a frog?").click()
    expect(panel.get_by_label("Instruction", exact=True)).to_have_value("Is a toad a frog?")
    expect(panel.get_by_label("Context (optional)", exact=True).first).to_have_value(
        re.compile(r"^Both frogs and toads are amphibians"))
    choose(page, panel, "Chat with", finished_sft)

    panel.get_by_role("button", name="Send", exact=True).click()

    expect(panel.locator("[data-testid=user]")).to_have_count(1)
    expect(panel.locator("[data-testid=user]")).to_contain_text("Is a toad a frog?")
    reply = panel.locator("[data-testid=bot]")
    expect(reply).to_have_count(1)
    expect(reply).not_to_have_text(re.compile(r"^\s*(…)?\s*$"), timeout=60_000)  # "…" until the first words

    panel.get_by_role("button", name="Example: a good and a bad answer").click()
    expect(panel.get_by_label("Texts or responses, one per line")).to_have_value(re.compile(r"^Yes\nBoth frogs"))
    choose(page, panel, "Reward model", reward_run)
    panel.get_by_role("button", name="Score", exact=True).click()

    expect(panel.get_by_text("Scored 2 texts; preferred: line")).to_be_visible(timeout=60_000)
    scores = table_rows(panel)
    assert [row[0] for row in scores] == [TOAD_GOOD, TOAD_BAD]
    assert all(isinstance(float(row[1]), float) for row in scores)
    screenshot(page, "chat")


def test_hub_push_offline_says_unreachable(page, finished_sft):
    panel = open_tab(page, "Hub")
    expect(panel.get_by_text(re.compile(r"Hugging Face Hub: unreachable"))).to_be_visible()
    choose(page, panel, "Finished run", finished_sft)
    panel.get_by_label("Model repo id").fill("someone/tiny-sft")
    panel.get_by_label("Model repo id").blur()  # the card preview follows the repo id
    expect(panel.get_by_text('AutoModelForCausalLM.from_pretrained("someone/tiny-sft")')).to_be_visible()

    expect(panel.get_by_role("button", name="Push to the Hub (unavailable offline)")).to_be_disabled()
    screenshot(page, "hub")


# -- a public deployment --------------------------------------------------------------------------------------

def test_public_deployment_without_auth_is_read_only_and_says_why(browser, tmp_path, starter_cache):
    # SPACE_ID makes the deployment public to rlhf (rlhf.ui.settings) while the server still listens on
    # 127.0.0.1 only; Gradio itself ignores it outside a Space (SYSTEM=spaces is not set).
    server = App(tmp_path, starter_cache, "--no-starter-build", SPACE_ID="rlhf-tests/public-browser-test")
    try:
        server.wait_until_serving()
        page = new_page(browser, server.url)
        expect(page.locator("#rlhf-status")).to_contain_text("multi-user")

        panel = open_tab(page, "Format")
        banner = panel.get_by_text("Read-only.")
        expect(banner).to_be_visible()
        expect(panel.locator(".rlhf-error").first).to_contain_text(
            "public deployment without authentication, so code editing and training are off")
        expect(panel.locator("#format-editor .cm-content")).to_have_attribute("contenteditable", "false")
        expect(panel.get_by_role("button", name="Reset to template")).to_be_disabled()
        expect(panel.get_by_role("button", name="Clear (plain columns / template)")).to_be_disabled()

        panel = open_tab(page, "Train")
        expect(panel.get_by_text("Read-only.")).to_be_visible()
        expect(panel.locator(".rlhf-error").first).to_contain_text("--auth user:password")
        expect(panel.get_by_role("button", name="Start training")).to_be_disabled()
        assert not page.errors, page.errors
        page.context.close()
    finally:
        server.stop()
