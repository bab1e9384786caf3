"""The README's flow with the app's defaults (only ``--max-steps`` set): RL started from the SFT run visibly learns,
because a run trained from the starter gets the starter's defaults, not TRL's. (DPO's held-out margin from the SFT
run is asserted where the README flow runs it, in test_readme_flow.py.)

One SFT run and one reward model serve the whole module, exactly as the README trains them.
"""

from __future__ import annotations

import json

import pytest

from training_helpers import events, mean, series, train

pytestmark = pytest.mark.training


@pytest.fixture(scope="module")
def sft_and_rm(readme_sft_run, readme_rm_run):
    """The README's SFT run and reward model (one pair per test session, shared with the other README tests)."""
    return readme_sft_run, readme_rm_run


def first_and_last_quarter(values: list[float]) -> tuple[float, float]:
    quarter = max(1, len(values) // 4)
    return mean(values[:quarter]), mean(values[-quarter:])


@pytest.fixture(scope="module", params=["ppo", "grpo", "rloo"])
def rl_run(request, sft_and_rm, starter_cache, tmp_path_factory):
    """20 RL steps from the SFT run with the reward model, the app's defaults otherwise: (run folder, its log)."""
    sft, rm = sft_and_rm
    run = tmp_path_factory.mktemp("rl") / request.param
    done = train(starter_cache, run, "--task", "rl", "--algorithm", request.param, "--model", str(sft),
                 "--reward-model", str(rm), "--dataset", "sample", "--max-steps", "20")
    return run, done.stdout


# A step's mean reward is mostly which prompts were drawn: with the learning rate at 1e-12 (nothing learnt), PPO's
# first and last quarters differed by -0.5% (8 rollouts a step) and +7.9% (16), GRPO's by -10%. With the starter's
# defaults (GRPO/RLOO: 8 prompts × 2 completions a step, a constant learning rate, RLOO's advantages normalized
# without KL in the reward; PPO: 16 rollouts a step) and the starter's reward model (rlhf/tasks/rm.py), 20 steps
# over several reward models and two starter builds: PPO +89%, +29%, -0.4%, +20%, +32%, +63%, +16%; GRPO +42%,
# +89%, +15%, +51%, +16%; RLOO +25%, +18%, +14%, +8%, +10%. Runs are seeded, so CI's build gives the last of each.


def test_rl_from_the_sft_run_raises_the_mean_reward_by_a_tenth(rl_run):
    from figures import report

    run, _ = rl_run
    rewards = series(run, "reward")
    first, last = first_and_last_quarter(rewards)
    report(f"README flow, {run.name} mean reward first → last quarter", f"{first:.3f} → {last:.3f}")

    assert len(rewards) == 20 and last - first >= 0.1 * abs(first), (first, last, rewards)


def test_rl_from_the_sft_run_uses_the_starters_defaults_and_logs_samples_with_rewards(rl_run):
    run, log = rl_run

    assert json.loads((run / "plan.json").read_text())["defaults_for"] == "starter"
    samples = [e for e in events(run) if "sample" in e]
    assert [e["step"] for e in samples] == [1, 5, 10, 15, 20]
    assert all(isinstance(e["sample"]["reward"], float) and e["sample"]["prompt"] for e in samples)
    assert "step 5/20  reward " in log and '" → "' in log, log[-2000:]
