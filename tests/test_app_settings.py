"""How the app was started decides what survives a restart."""

from __future__ import annotations

import stat

from rlhf.ui.settings import AppSettings


def test_the_browser_state_key_survives_a_restart_and_only_the_app_can_read_it(tmp_path):
    first = AppSettings(runs_dir=tmp_path / "runs").browser_secret
    again = AppSettings(runs_dir=tmp_path / "runs").browser_secret  # the app started again on the same runs

    assert first == again and len(first) == 64
    assert stat.S_IMODE((tmp_path / "runs" / ".browser-state-secret").stat().st_mode) == 0o600
    assert AppSettings(runs_dir=tmp_path / "other").browser_secret != first
