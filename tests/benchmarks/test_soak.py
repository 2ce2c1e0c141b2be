"""The soak benchmark at a tiny size, so it cannot rot: two simulated days on two markets,
every part running (pushes, /status on both fakes, the daily report, retention)."""

from __future__ import annotations

import pytest

from benchmarks import soak


@pytest.mark.slow
def test_soak_runs_end_to_end_and_prints_its_figures() -> None:
    run = soak.run_once(2, markets=2, status_every_s=6 * 3600, keep_days=1)

    assert [s.day for s in run.samples] == [0, 1, 2]
    assert run.statuses == 2 * 4 + 1  # every 6 simulated hours, Telegram and Slack in turn
    assert run.pushes_telegram > 0
    assert run.pushes_slack > 0
    # keep 1 day: the day-2 run deletes day 0's rows; candles stay (fewer than the floor)
    timed = ("audit_log", "equity_snapshots", "balance_snapshots")
    assert all(run.deleted[t] > 0 for t in timed), run.deleted
    assert run.deleted["candles"] == 0
    lines = soak.report([run])
    assert any("RSS slope" in line and "KB/day" in line for line in lines)
    assert any("/status p99" in line for line in lines)
