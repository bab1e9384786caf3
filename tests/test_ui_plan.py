"""The Train tab's resolved plan: Api.resolve_plan answers the trainer's exact arguments for the form's settings,
or the setting at fault, without running code or loading a model; the tab shows it as one line plus the JSON."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from rlhf.ui.api import Api
    from rlhf.ui.settings import AppSettings

    return Api(AppSettings(runs_dir=tmp_path_factory.mktemp("plan") / "runs"))


@pytest.fixture(scope="module")
def local():
    from rlhf.ui.api import Caller

    return Caller("local")


def test_the_plan_has_the_exact_trainer_arguments(api, local):
    answer = api.resolve_plan("sft", local, settings={"max_steps": 3.0, "learning_rate": 0.002})

    assert answer["ok"] and answer["plan"]["config_class"].endswith("SFTConfig")
    assert answer["plan"]["args"]["max_steps"] == 3 and answer["plan"]["args"]["learning_rate"] == 0.002
    assert api.resolve_plan("sft", local, settings={"max_steps": 3.0, "learning_rate": 0.002}) == answer  # cached


def test_a_bad_setting_is_the_answer_not_an_exception(api, local):
    assert api.resolve_plan("dpo", local, settings={"learning_rate": -1})["error"].startswith("learning_rate")
    assert "settings.max_steps" in api.resolve_plan("sft", local, settings={"max_steps": "x"})["error"]


def test_rl_counts_the_format_tabs_reward_function_as_a_reward(api, local):
    assert not api.resolve_plan("rl", local)["ok"]
    assert api.resolve_plan("rl", local, reward_function=True)["ok"]


@pytest.mark.slow
def test_the_tab_marks_defaults_and_shows_errors(api, local):
    from rlhf.ui.tabs.train import plan_text

    text = plan_text(api.resolve_plan("sft", local, settings={"max_steps": 2}), {"max_steps": 2})

    assert "`max_steps` 2 ·" in text and "`learning_rate` 0.001 *(default)*" in text and "```json" in text
    assert "rlhf-error" in plan_text({"ok": False, "error": "learning_rate: must be positive"})
