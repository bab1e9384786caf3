"""During RL the log shows what the policy writes and what it earns, as one readable line every few steps."""

from __future__ import annotations

from rlhf.runs.events import read_events
from rlhf.tasks.rl_samples import Sample, due, line, pick, report


def test_a_sample_shows_every_fifth_step_and_at_the_first_and_last():
    assert [step for step in range(1, 21) if due(step, 20)] == [1, 5, 10, 15, 20]
    assert [step for step in range(1, 8) if due(step, 7)] == [1, 5, 7]


def test_the_line_shows_the_steps_mean_the_prompts_end_and_the_completion_with_its_reward():
    sample = Sample("### Instruction: Is a toad a frog?\n\n### Response:", " Yes, all toads\nare frogs.", 0.521)

    assert line(5, 20, 0.41, sample) == ('step 5/20  reward 0.41  sample: "### Instruction: Is a toad a frog? ### '
                                         'Response:" → "Yes, all toads are frogs." (reward 0.521)')


def test_a_long_prompt_keeps_its_end_and_a_long_completion_its_start():
    text = line(1, 2, None, Sample("x" * 500 + " ### Response:", "word " * 100, 1.0))

    assert '"…' in text and 'xxx ### Response:"' in text and '…" (reward 1)' in text and "  reward " not in text


def test_the_sample_is_recorded_as_an_event(tmp_path, capsys):
    events = tmp_path / "events.jsonl"

    report(events, 5, 20, 0.4, pick(["p1", "p2"], ["c1", "c2"], [0.5, 0.3]))

    assert read_events(events)[0]["sample"] == {"prompt": "p1", "completion": "c1", "reward": 0.5}
    assert capsys.readouterr().out.startswith('step 5/20  reward 0.4  sample: "p1" → "c1"')
    assert pick([], [], []) is None
