"""The strategy recipe of docs/architecture.md, done: a user's strategy file, nothing else
touched, chosen by its path and run by the backtester with a validated parameter."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from trading.backtest import BacktestSpec, run_backtest
from trading.backtest.synthetic import random_walk
from trading.risk.limits import RiskLimits
from trading.strategies import ParamError, build_strategy
from trading.upbit.market_rules import KRW_TICKS, UpbitMarketRules

USER_FILE = '''
"""Buy when the close rises above its mean; sell when it falls back under."""

from typing import ClassVar

from pydantic import Field

from trading import indicators
from trading.strategies import INTERFACE_VERSION, CandleFrame, Signals, Strategy, StrategyParams


class AboveParams(StrategyParams):
    window: int = Field(30, ge=2, le=500, description="bars in the mean")


class CloseAboveMean(Strategy[AboveParams]):
    name: ClassVar[str] = "close_above_mean"
    version: ClassVar[int] = INTERFACE_VERSION
    Params: ClassVar[type[AboveParams]] = AboveParams

    def warmup(self) -> int:
        return self.params.window + 1

    def signals(self, frame: CandleFrame) -> Signals:
        mean = indicators.sma(frame.close, self.params.window)
        return Signals(entry=frame.close > mean, exit=frame.close < mean)
'''


def test_a_user_strategy_file_runs_in_a_backtest(tmp_path: Path) -> None:
    path = tmp_path / "close_above.py"
    path.write_text(USER_FILE, encoding="utf-8")
    strategy = build_strategy("", str(path), {"window": 40})
    assert (strategy.name, strategy.warmup()) == ("close_above_mean", 41)
    spec = BacktestSpec(
        strategy=strategy,
        limits=RiskLimits(position_size_krw=Decimal(1_000_000)),
        timeframe="1m",
        rules=UpbitMarketRules(),
    )
    result = run_backtest(spec, {"KRW-BTC": random_walk(3_000, 1, ticks=KRW_TICKS)})
    assert result.metrics.trades > 0
    with pytest.raises(ParamError, match="window"):
        build_strategy("", str(path), {"window": 1})
