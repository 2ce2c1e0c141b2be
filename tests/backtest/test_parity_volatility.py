"""Parity for the relative volatility filter (issue #13): with the filter tripping in the window,
the live engine in paper replay and ``run_backtest`` make the same fills, the filter changed
the trades, and the backtest reports the share of time it held entries back."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from tests.backtest.paper import paper_fills
from tests.backtest.test_parity import FIRST, FRAME, backtest_fills
from tests.engine.conftest import BUNDLED, limits
from trading.backtest import BacktestSpec, run_backtest, slice_frame
from trading.events import Event, HaltChanged, RiskBreached
from trading.strategies import build_strategy
from trading.upbit.market_rules import UpbitMarketRules

MA = {"fast": 5, "slow": 20}
MINUTES = 1500


@pytest.mark.parametrize(
    "risk",
    [
        # relative: the top 2 % of the last 200 minutes, resume below the 80th percentile
        {
            "volatility_window_candles": 200,
            "volatility_halt_percentile": D(98),
            "volatility_resume_percentile": D(80),
        },
        # both modes, realized volatility: either trips, both must let go
        {
            "volatility_measure": "realized",
            "volatility_window_candles": 120,
            "volatility_halt_percentile": D(97),
            "volatility_resume_percentile": D(90),
            "volatility_halt_pct": D("0.3"),
        },
    ],
)
async def test_volatility_filter_parity(tmp_path: Path, risk: dict[str, Any]) -> None:
    # Arrange
    lim = limits(**risk)
    start, end = FIRST, FIRST + timedelta(minutes=MINUTES)
    events: list[Event] = []
    # Act
    paper = await paper_fills(
        tmp_path,
        [("KRW-BTC", BUNDLED)],
        strategy=build_strategy("ma_cross", "", MA),
        limits=lim,
        timeframe="1m",
        start=start,
        end=end,
        events=events,
    )
    spec = BacktestSpec(
        strategy=build_strategy("ma_cross", "", MA),
        limits=lim,
        timeframe="1m",
        rules=UpbitMarketRules(),
    )
    backtest, _ = backtest_fills(["KRW-BTC"], start, end, spec)
    # Assert: the same fills, and the filter mattered
    assert len(paper) >= 10
    assert backtest == paper
    halts = [e for e in events if isinstance(e, HaltChanged) and e.name == "volatility:KRW-BTC"]
    assert [e.active for e in halts][:2] == [True, False]
    assert any(isinstance(e, RiskBreached) and e.check == "volatility" for e in events)
    off = limits(**{**risk, "volatility_halt_percentile": D(0), "volatility_halt_pct": D(0)})
    unfiltered = BacktestSpec(
        strategy=build_strategy("ma_cross", "", MA),
        limits=off,
        timeframe="1m",
        rules=UpbitMarketRules(),
    )
    assert backtest_fills(["KRW-BTC"], start, end, unfiltered)[0] != backtest
    # the summary's share of time halted: candles after which the filter held entries back
    frame = slice_frame(FRAME, int(start.timestamp()), int(end.timestamp()))
    metrics = run_backtest(spec, {"KRW-BTC": frame}).metrics
    assert 0 < metrics.volatility_halted_pct < 50
    assert run_backtest(unfiltered, {"KRW-BTC": frame}).metrics.volatility_halted_pct == 0
