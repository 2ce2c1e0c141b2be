"""The speed benchmarks' "plain" baseline is `--plain`: no default-on risk feature leaks in."""

from __future__ import annotations

from benchmarks.backtest_compare import spec
from bot.cli_backtest import spec_fields
from bot.config import AppConfig
from trading.risk.settings import PLAIN_RISK


def test_the_benchmark_baseline_switches_off_what_plain_switches_off() -> None:
    # Arrange: since the walk-forward's defaults (issue #13) the holding time, exit_profit_only
    # and the stoploss guard are on by default; the baseline built its limits from the
    # defaults and kept them (620 trades a year instead of 5,115, every ratio inflated)
    plain = spec_fields(AppConfig(), "1m", plain=True)["limits"]
    # Act
    baseline = spec(1).limits
    # Assert
    for name in PLAIN_RISK:
        if name == "atr_stop_mult":
            continue  # the benchmark's own knob
        assert getattr(baseline, name) == getattr(plain, name), name
