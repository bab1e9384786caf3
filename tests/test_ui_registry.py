"""The app reads its tasks from the task registry: every registered task appears in the Format, Preview and Train
tabs without a UI file naming it, KTO and ORPO train through the app's API, and a task's options (DPO's and KTO's
loss_type) reach the run's config. In process, against the plain :class:`rlhf.ui.api.Api` (no server)."""

from __future__ import annotations

import pytest
import yaml

from rlhf.tasks.registry import spec, task_names

RUN_TIMEOUT_S = 180.0


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ui-registry") / "runs"
    yield folder
    from app_helpers import stop_runs

    if folder.exists():
        stop_runs(folder)  # no run outlives the tests


@pytest.fixture(scope="module")
def api(runs_dir, starter_cache):
    from rlhf.ui.api import Api
    from rlhf.ui.settings import AppSettings

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RLHF_CACHE_DIR", str(starter_cache))  # the session's starter, built once
        api = Api(AppSettings(runs_dir=runs_dir))
        api.starter.check()
        yield api


@pytest.fixture(scope="module")
def local():
    from rlhf.ui.api import Caller

    return Caller("local")


def dropdown_values(demo, label: str) -> list[list[str]]:
    import gradio as gr

    return [[value for _, value in block.choices] for block in demo.blocks.values()
            if isinstance(block, gr.Dropdown) and block.label == label]


def test_the_tabs_offer_exactly_the_registered_tasks(api):
    from rlhf.ui.app import build_app
    from rlhf.ui.tasks import REWARD, label

    demo = build_app(api.settings, api)

    assert dropdown_values(demo, "Task") == [list(task_names())] * 2  # Preview, Train
    assert dropdown_values(demo, "Function for") == [[*task_names(), REWARD]]
    assert {"kto", "orpo"} <= set(task_names())
    assert "experimental" in label("orpo").lower() and spec("orpo").experimental


def test_default_code_is_the_template_the_spec_names(api):
    from rlhf.formatting.templates import template_source

    assert api.default_code("kto") == template_source("kto")
    assert api.default_code("orpo") == template_source(spec("orpo").rows.template) == api.default_code("dpo")
    assert api.default_code("reward") == template_source("reward")


@pytest.mark.slow
def test_format_note_is_the_specs_contract():
    from rlhf.ui.tabs.format import contract

    for name in task_names():
        assert spec(name).returns in contract(name, None)


def test_preview_of_kto_shows_labelled_rows_and_token_lengths(api, local):
    result = api.preview("kto", "sample", "", local, "starter", 0.8, 42, rows=5)

    assert result["columns"] == ["prompt", "completion", "label"]
    assert result["sample_rows"] and all(isinstance(row["label"], bool) for row in result["sample_rows"])
    assert {row["label"] for row in api.preview("kto", "sample", "", local, rows=20)["sample_rows"]} == {True, False}
    assert set(result["token_lengths"]["lengths"]) == {"completion"}  # prompt + completion, named by the reply


def test_loss_type_is_checked_against_the_tasks_options(api, local):
    from rlhf.errors import ConfigError

    with pytest.raises(ConfigError, match="loss_type"):
        api.start_run("dpo", local, settings={"loss_type": "no-such-loss", "max_steps": 1})
    with pytest.raises(ConfigError, match="loss_type"):
        api.start_run("sft", local, settings={"loss_type": "sigmoid", "max_steps": 1})
    with pytest.raises(ConfigError, match="task"):
        api.start_run("no-such-task", local)


def test_the_train_form_sends_only_the_tasks_own_settings():
    from rlhf.ui.tabs.train import NUMBERS, RL_NUMBERS, collect, option_choices
    from rlhf.ui.tasks import option_names

    names = option_names()
    assert "loss_type" in names
    chosen = ["ipo" if name == "loss_type" else "" for name in names]
    blank = [""] * len(NUMBERS)
    dpo = collect("dpo", False, blank, "linear", 0.9, [], "grpo", [], [""] * len(RL_NUMBERS), chosen)
    sft = collect("sft", False, blank, "linear", 0.9, [], "grpo", [], [""] * len(RL_NUMBERS), chosen)

    assert dpo["loss_type"] == "ipo" and "loss_type" not in sft and "algorithm" not in dpo
    assert [value for _, value in option_choices("kto", "loss_type")] == ["", *spec("kto").options["loss_type"]]


def test_plots_follow_the_specs():
    from rlhf.ui.plots import run_frames

    events = [{"step": 1, "loss": 1.0, "rewards/margins": 0.5, "reward": 0.2}]
    for name in task_names():
        frames = run_frames(events, name)
        assert len(frames["quality"]) == (1 if any(p.value == "quality" for p in spec(name).plots) else 0)
        assert len(frames["reward"]) == (1 if any(p.value == "reward" for p in spec(name).plots) else 0)


@pytest.mark.parametrize("task, settings", [("kto", {"loss_type": "apo_zero_unpaired"}), ("orpo", {})])
def test_kto_and_orpo_train_through_the_api(api, local, runs_dir, task, settings):
    started = api.start_run(task, local, "starter", "sample", "", {"max_steps": 2, **settings})
    status = api.manager.wait(started["run_id"], timeout=RUN_TIMEOUT_S)

    assert status["status"] == "finished", status.get("error")
    detail = api.run_status(local, started["run_id"])
    assert detail["run"]["task"] == task and detail["history"]
    config = yaml.safe_load((runs_dir / started["run_id"] / "config.yaml").read_text())
    assert config["training"]["loss_type"] == settings.get("loss_type")
    assert started["run_id"] in [value for _, value in api.list_models(local, "causal")]
    assert started["run_id"] not in [value for _, value in api.list_models(local, "reward")]
