"""A protection trips once per batch of trades, not again on every later close (issue #13).

Until this test, every guard judged the whole lookback at every close: the two losing trades
that tripped the low-profit guard were still in its 4-hour window after the pause, so the next
trade, even a winning one, tripped it again (a second push, another 30 min without entries),
and so did every trade after it until the two losers left the window. freqtrade's
LowProfitPairs locks a pair when its trades within the lookback earn too little; here the
trades a trip counted do not count again, so the guard trips anew only when enough *new*
trades earn too little. The same held for the stoploss guard and the drawdown guard.

Driven as a user meets it: prints on the tape, ``/buy`` and ``/close`` in chat, ``/risk``, a
restart between the trip and the next trade (what the trip counted is remembered across it).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.engine.conftest import limits
from tests.handlers.conftest import VIEWER
from tests.handlers.instance import DAY1, Instance, buy, minutes, sell_all
from trading.events import ProtectionLifted, ProtectionTripped
from trading.positions import PositionState
from trading.risk.limits import RiskLimits

WINDOW = {"lookback_minutes": 240, "pause_minutes": 30}
STOPLOSS = limits(
    daily_loss_limit_krw=Decimal(0),
    stoploss_guard_trades=2,
    **{f"stoploss_guard_{k}": v for k, v in WINDOW.items()},
)
DRAWDOWN = limits(
    daily_loss_limit_krw=Decimal(0),
    drawdown_guard_pct=Decimal(1),
    drawdown_guard_trades=2,
    **{f"drawdown_guard_{k}": v for k, v in WINDOW.items()},
)
LOW_PROFIT = limits(
    daily_loss_limit_krw=Decimal(0),
    low_profit_trades=2,
    low_profit_pct=Decimal(0),
    **{f"low_profit_{k}": v for k, v in WINDOW.items()},
)

#: the minute each round trip starts at: two trades trip the guard (locked 30 min), the third
#: comes after the pause, the fourth right after the third
STARTS = (0, 10, 50, 60)


async def round_trip(bot: Instance, start: int, exit_kind: str) -> None:
    """Buy 1,000,000 KRW at 100,000,000 a minute after ``start`` (a candle at that price
    closed, so the slippage check passes); ``loss``: close 1 % lower, ``win``: close 0.3 %
    higher (a gain after fees), ``stop``: the fallback stop (2 % below, no ATR yet) sells at
    the next print."""
    await bot.trade(100_000_000, DAY1 + minutes(start))
    at = DAY1 + minutes(start + 1)
    await bot.trade(100_000_000, at)
    assert "sent" in await buy(bot, "1000000")
    assert bot.rig.engine.positions.get("KRW-BTC").state is PositionState.LONG
    if exit_kind == "stop":
        await bot.trade(97_000_000, at + minutes(1))
        await bot.trade(97_000_000, at + minutes(2))
        assert bot.rig.engine.positions.get("KRW-BTC").state is not PositionState.LONG
        return
    price = 99_000_000 if exit_kind == "loss" else 100_300_000
    await sell_all(bot, price, at + minutes(3))


def paused(lines: dict[str, str], name: str) -> bool:
    """Whether the guard's ``/risk`` line shows a pause (of every market, or of KRW-BTC)."""
    [text] = [text for key, text in lines.items() if key.startswith(name)]
    return "paused until" in text or "KRW-BTC (→" in text


@pytest.mark.parametrize(
    ("settings", "line", "exits", "every_market"),
    [
        (LOW_PROFIT, "Low-profit guard", ("loss", "loss", "win", "loss"), False),
        (DRAWDOWN, "Drawdown guard", ("loss", "loss", "win", "loss"), True),
        (STOPLOSS, "Stoploss guard", ("stop", "stop", "stop", "stop"), True),
    ],
    ids=["low_profit", "drawdown_guard", "stoploss_guard"],
)
async def test_a_trip_counts_its_trades_once_and_survives_a_restart(
    store, settings: RiskLimits, line: str, exits: tuple[str, ...], every_market: bool
) -> None:
    first = await Instance.start(store, settings)
    for start, kind in zip(STARTS[:2], exits[:2], strict=True):
        await round_trip(first, start, kind)
    [tripped] = first.of(ProtectionTripped)
    allowed, lines = await first.risk(VIEWER)
    assert allowed is not every_market
    assert paused(lines, line)
    await first.stop()

    again = await Instance.start(store, settings)  # a restart while the guard pauses entries
    await round_trip(again, STARTS[2], exits[2])  # after the pause: one trade more
    assert [e.protection for e in again.of(ProtectionLifted)] == [tripped.protection]
    assert again.of(ProtectionTripped) == []  # the trades the trip counted did not count again
    allowed, lines = await again.risk(VIEWER)
    assert allowed
    assert not paused(lines, line)

    await round_trip(again, STARTS[3], exits[3])  # two new trades: a new trip, pushed
    [retripped] = again.of(ProtectionTripped)
    assert (retripped.protection, retripped.market) == (tripped.protection, tripped.market)
    assert retripped.at == DAY1 + minutes(STARTS[3] + (2 if exits[3] == "stop" else 4))
    values = dict(retripped.values)
    assert values.get("trades", values.get("stops")) == "2"  # only the trades after the trip
    await again.stop()
