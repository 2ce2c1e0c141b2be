"""The console/log line of the events an operator reads there."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.event_log import describe
from handlers.events import ResearchFinished
from trading import events as ev
from trading.engine.research import BacktestOutcome


def test_a_finished_research_job_is_one_readable_line_in_the_askers_language() -> None:
    outcome = BacktestOutcome(
        strategy="ma_cross",
        params={"fast": 5, "slow": 20},
        market="KRW-BTC",
        timeframe="1m",
        first=datetime(2025, 6, 1, tzinfo=UTC),
        last=datetime(2025, 6, 2, tzinfo=UTC),
        candles=840,
        metrics={"trades": 7, "total_return_pct": -0.42},
        png=b"png",
        elapsed_s=1.5,
    )
    event = ResearchFinished(
        job="backtest",
        by="console:console",
        transport="console",
        chat_id="console",
        lang="en",
        outcome=outcome,
    )
    line = describe(event)
    assert line is not None
    assert line.startswith("Backtest: ma_cross | ")
    assert "fast=5, slow=20" in line
    assert "Trades 7; " in line
    assert "Return -0.42 %" in line
    assert "\n" not in line


def test_an_order_of_unknown_outcome_names_the_order() -> None:
    event = ev.OrderBecameUncertain(
        intent_id="i1", market="KRW-BTC", side="bid", ord_type="price", reason="timeout"
    )
    assert describe(event) == "KRW-BTC: order i1 outcome unknown: timeout"


def test_a_held_market_flagged_by_upbit_says_what_and_when() -> None:
    flagged = ev.MarketStatusChanged(
        market="KRW-XRP",
        warned=True,
        was_warned=False,
        closing=True,
        was_closing=False,
        warning=True,
        state="ACTIVE",
        delisting_date=date(2025, 7, 1),
        exit_on=date(2025, 6, 28),
    )
    cleared = ev.MarketStatusChanged(
        market="KRW-XRP", warned=False, was_warned=True, closing=False, was_closing=True
    )
    assert describe(flagged) == (
        "KRW-XRP (held): Upbit investment warning; delisting on 2025-07-01;"
        " the bot sells on 2025-06-28"
    )
    assert describe(cleared) == "KRW-XRP (held): Upbit warning lifted; delisting called off"
