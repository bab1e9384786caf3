"""The Train tab's 2-second refresh never undoes the user's pick of "Selected run". A refresh reads the dropdown when
it leaves; if the user picks another run before its answer comes back, an answer that set the value would put the
old run back (CI saw the PPO run's log replaced by the DPO run's for good). In process, no server: the refresh's
handler is called directly, as Gradio would call it."""

from __future__ import annotations

import gradio as gr
import pytest

from rlhf.runs.config import DataSettings, RunConfig, TrainingSettings
from rlhf.runs.events import append_event


def make_run(runs_dir, name: str) -> str:
    """A run folder as ``rlhf train`` leaves it after a few steps (still going: no ``finished``)."""
    run = runs_dir / name
    RunConfig(task="sft", model="starter", output_dir=str(run), data=DataSettings(dataset="sample"),
              training=TrainingSettings(max_steps=10)).save(run / "config.yaml")
    append_event(run / "events.jsonl", {"status": "started", "task": "sft", "model": "starter"})
    append_event(run / "events.jsonl", {"step": 1, "epoch": 0.1, "loss": 2.5, "learning_rate": 1e-3})
    return name


@pytest.fixture
def refresh(tmp_path):
    """The Train tab's timer handler and its "Selected run" dropdown, on an app over two runs."""
    from rlhf.ui.app import build_app
    from rlhf.ui.settings import AppSettings

    runs_dir = tmp_path / "runs"
    first, second = make_run(runs_dir, "20261203-080000-sft-aaaa"), make_run(runs_dir, "20261203-080100-sft-bbbb")
    demo = build_app(AppSettings(runs_dir=runs_dir))
    tick = next(block_fn.fn for block_fn in demo.fns.values() if getattr(block_fn.fn, "__name__", "") == "tick")
    dropdown = next(block for block in demo.blocks.values()
                    if isinstance(block, gr.Dropdown) and block.label == "Selected run")

    def answer(selected: str | None) -> dict:
        update = next(tick(selected, "browser-1", {}, False, "", [], None))
        return update[dropdown]

    return answer, first, second


def test_a_refresh_carrying_a_run_that_exists_leaves_the_value_to_the_user(refresh):
    answer, first, second = refresh

    update = answer(first)

    assert "value" not in update
    assert {value for _, value in update["choices"]} == {first, second}


def test_a_refresh_with_nothing_selected_selects_a_run(refresh):
    answer, first, second = refresh

    assert answer(None)["value"] in {first, second}
