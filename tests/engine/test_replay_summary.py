"""The replay summary's numbers: from the book's closed trades and the marked equity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from bot.event_log import describe
from trading import events as ev
from trading.domain import TradePrint
from trading.engine.replay_summary import ReplayTally

T0 = datetime(2018, 1, 22, 14, 8, tzinfo=UTC)


def closed(pnl: int, fees: int, reason: str) -> ev.PositionClosed:
    return ev.PositionClosed(
        market="KRW-BTC",
        volume=D("0.01"),
        entry_price=D(10_000_000),
        exit_price=D(10_000_000),
        pnl_krw=D(pnl),
        fees_krw=D(fees),
        reason=reason,
    )


def trade(price: int, minutes: int) -> TradePrint:
    return TradePrint("KRW-BTC", D(price), D(1), T0 + timedelta(minutes=minutes), "BID")


def test_numbers_of_a_losing_replay() -> None:
    # Arrange: equity 1,000,000 -> 1,010,000 (peak) -> 959,500 -> 980,000; three trades
    tally = ReplayTally(["KRW-BTC"], 60)
    tally.on_print(trade(10_000_000, 0))
    for equity in (1_000_000, 1_010_000, 959_500, 980_000):
        tally.mark(D(equity))
    for event in (closed(10_000, 100, "signal"), closed(-30_000, 100, "stop")):
        tally.on_event(event)
    tally.on_event(closed(0, 100, "stop"))
    tally.on_event(ev.Resumed(market=None, by="admin"))  # not a trade: not counted
    tally.on_print(trade(9_000_000, 90))
    # Act
    summary = tally.finish(open_positions=1)
    # Assert
    assert (summary.trades, summary.wins) == (3, 1)
    assert summary.win_rate_pct == pytest.approx(100 / 3)
    assert summary.return_pct == pytest.approx(-2.0)
    assert summary.pnl_krw == D(-20_000)
    assert summary.max_drawdown_pct == pytest.approx(5.0)  # 1,010,000 -> 959,500
    assert summary.fees_krw == D(300)
    assert summary.buy_and_hold_pct == pytest.approx(-10.0)
    assert summary.exits == (("stop", 2), ("signal", 1))
    assert (summary.first, summary.last) == (T0, T0 + timedelta(minutes=90))
    assert summary.open_positions == 1


def test_the_console_says_lost_plainly() -> None:
    tally = ReplayTally(["KRW-BTC"], 60)
    tally.on_print(trade(100, 0))
    tally.mark(D(1_000_000))
    tally.mark(D(994_700))
    tally.on_print(trade(110, 1))
    text = describe(tally.finish())
    assert text is not None
    assert "the bot lost 0.53 % (-5,300 KRW)" in text
    assert "trades 0, won 0 (0.0 %)" in text
    assert "buy-and-hold over the same data gained 10.00 %" in text


def test_a_summary_needs_the_starting_equity() -> None:
    with pytest.raises(RuntimeError):
        ReplayTally(["KRW-BTC"], 60).finish()
