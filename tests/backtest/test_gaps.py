"""Issue #13: the bundled file's 2018-2020 gap must not stop a plain ``upbit-bot backtest``.

The file holds 13,872 minutes from 2018-01-22 and 240 from 2020-02-20 with 1,078,720 missing
between them. The backtest runs each contiguous segment on one account, each warming up on
its own (``trading.backtest.segments``), and says so in the configured language.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from tests.backtest.test_cli import run
from tests.engine.conftest import limits
from trading.backtest import load_frame, run_backtest
from trading.backtest.segments import run_segments, split_at_gaps
from trading.backtest.spec import BacktestSpec
from trading.strategies import build_strategy
from trading.upbit.market_rules import UpbitMarketRules

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "bot" / "data" / "upbit_KRW-BTC_1m.csv"
SECOND = 1_582_185_600  # 2020-02-20T08:00:00Z, the first candle after the gap


def test_a_plain_backtest_of_the_bundled_file_runs_and_says_how_it_treats_the_gap(
    empty_cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["candles"] == 14_112  # the minutes that exist, not two years of flat ones
    assert [g["candles"] for g in summary["segments"]] == [13_872, 240]
    assert summary["segments"][1]["from"] == "2020-02-20T08:00:00Z"
    # Korean by default (bot.language), in the output and in the summary
    assert "캔들 1,078,720개가 3시간보다 긴 1개 공백에서 빠져 있습니다" in err, err
    assert "2개 구간" in summary["notes"][0]

    (empty_cwd / "en.toml").write_text('[bot]\nlanguage = "en"\n')
    code, out, err = run(capsys, "--config", "en.toml")
    assert code == 0, err
    missing = "1,078,720 candles are missing in 1 gap(s) longer than three hours, the first after"
    assert f"{missing} 2018-02-01" in err, err
    assert "no indicator is computed across a gap" in err
    assert "segments" in out
    assert "2020-02-20T08:00:00Z .. 2020-02-20T12:00:00Z" in out


def test_the_whole_process_runs_without_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "backtest"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "buy and hold" in done.stdout


def spec() -> BacktestSpec:
    return BacktestSpec(
        strategy=build_strategy("ma_cross", "", {"fast": 5, "slow": 20}),
        limits=limits(),
        timeframe="1m",
        rules=UpbitMarketRules(),
    )


def test_each_segment_warms_up_anew_and_the_account_carries_over() -> None:
    frame = load_frame(BUNDLED)
    segments = split_at_gaps({"KRW-BTC": frame}, 60)
    assert [(s.start, s.candles) for s in segments[1:]] == [(SECOND, 240)]
    base = spec()
    joined = run_segments(base, segments)

    # the same trades as two separate runs, the second starting with the first one's equity
    first = run_backtest(base, segments[0].data)
    carried = base.start_krw + sum((t.pnl_krw for t in first.trades), Decimal(0))
    second = run_backtest(dataclasses.replace(base, start_krw=carried), segments[1].data)
    assert joined.trades == first.trades + second.trades
    assert second.trades  # the short segment trades too, after its own warm-up
    warm = base.strategy.warmup_for(60)
    assert min(t.entry_at.timestamp() for t in second.trades) >= SECOND + (warm - 1) * 60
    # one account: the curve ends where the trades say, and covers only candles that exist
    final = base.start_krw + sum((t.pnl_krw for t in joined.trades), Decimal(0))
    assert joined.metrics.final_equity_krw == pytest.approx(float(final))
    assert len(joined.times) == len(frame)
    assert joined.metrics.trades == len(first.trades) + len(second.trades)


def test_quiet_minutes_and_a_maintenance_hour_are_filled_flat_as_live_fills_them(
    empty_cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange: the bundled minutes before the long gap with a few holes a real file has
    # (minutes without a trade, an hour of exchange maintenance): the live candle builder
    # carries the last close through such minutes, so the backtest must not cut the data
    # there and warm up again after each
    frame = load_frame(BUNDLED)
    first = frame[: int(np.searchsorted(frame.start, SECOND))]
    keep = np.ones(len(first), dtype=bool)
    keep[[500, 501, 4_000]] = False  # two quiet minutes, then one
    keep[9_000:9_060] = False  # an hour of maintenance
    header, *rows = BUNDLED.read_text().splitlines()
    path = empty_cwd / "upbit_KRW-BTC_1m.csv"
    kept = [row for row, k in zip(rows[: len(first)], keep.tolist(), strict=True) if k]
    path.write_text("\n".join([header, *kept]) + "\n")
    # Act
    code, out, err = run(capsys, "--data", str(path), "--json")
    filled_code, filled_out, _ = run(capsys, "--data", str(path), "--json", "--fill-gaps")
    # Assert: one segment over every minute, the same trades as with the holes filled flat
    assert code == 0, err
    assert filled_code == 0
    summary, filled = json.loads(out), json.loads(filled_out)
    assert summary["candles"] == len(first)
    assert [g["candles"] for g in summary["segments"]] == [len(first)]
    same = ("trades", "total_return_pct", "max_drawdown_pct", "fees_krw", "final_equity_krw")
    assert summary["trades"] > 0
    assert {k: summary[k] for k in same} == {k: filled[k] for k in same}
    assert "빠진 캔들 63개를 실거래 봇과 같이" in err  # still told how many were filled, and how


def test_fill_gaps_help_says_what_it_does_for_each_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """backtest runs segments by default, so its --fill-gaps replaces that; optimize refuses
    gaps by default, so its --fill-gaps replaces the refusal."""
    assert main(["backtest", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--fill-gaps fill missing candles flat (previous close, volume 0) and run one" in text
    assert "instead of the default: each contiguous segment run in turn" in text
    assert main(["optimize", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--fill-gaps fill missing candles flat (previous close, volume 0) instead of" in text
    assert (
        "refusing them (unlike `upbit-bot backtest`, the optimizer does not run over gaps" in text
    )
