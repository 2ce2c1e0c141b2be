"""A position still on the fallback stop gets the ATR stop after a restart, exactly as without
one (issue #13).

A ``/buy`` before the ATR warm-up gets the fallback stop (``stop_fallback_pct`` under the
entry); the ATR stop (``entry - atr_stop_mult * ATR``) takes over at the first candle close
with an ATR, if higher. Whether the stop was still waiting for that was not stored, so a
restart in between rebuilt a stop that kept the fallback for good: a wider stop than the
strategy's, and a bigger loss when it fires. Each scenario runs twice on fresh stores, with
and without a restart, and the stops must agree. Prints are placed by hand.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.engine.conftest import limits
from tests.handlers.instance import DAY1, Instance, buy, minutes
from trading.events import PositionClosed, StopMoved
from trading.positions import PositionState
from trading.risk.limits import RiskLimits
from trading.store import Store, create_engine, session_factory, upgrade

ATR_STOP = limits(daily_loss_limit_krw=Decimal(0))

Tape = list[tuple[int, datetime]]


async def run(
    tmp_path: Path,
    name: str,
    risk: RiskLimits,
    tape: Tape,
    restart_after: int | None,
    *,
    old_row: bool = False,
) -> Instance:
    """``/buy`` at the first print, the rest of the tape, a restart after ``restart_after``
    prints of it (None: no restart); the instance that saw the end, stopped. ``old_row``:
    the restart reads the position as a version before issue #13 stored it."""
    url = f"sqlite+aiosqlite:///{tmp_path / name}.db"
    await upgrade(url)
    engine = create_engine(url)
    try:
        store = Store(session_factory(engine))
        bot = await Instance.start(store, risk)
        first, *rest = tape
        await bot.trade(*first)
        assert "sent" in await buy(bot, "1000000")  # no ATR yet: the fallback stop
        assert bot.rig.engine.positions.get("KRW-BTC").state is PositionState.LONG
        for n, (price, at) in enumerate(rest):
            if n == restart_after:
                await bot.stop()
                if old_row:
                    await forget_pending(store)
                bot = await Instance.start(store, risk)
            await bot.trade(price, at)
        await bot.stop()
        return bot
    finally:
        await engine.dispose()


async def forget_pending(store: Store) -> None:
    """Rewrite the stored position as it was stored before the fallback was kept."""
    [row] = await store.positions()
    extra = {k: v for k, v in row.extra.items() if k != "stop_atr_pending"}
    await store.upsert_position(
        row.market,
        state=row.state,
        volume=row.volume,
        avg_price=row.avg_price,
        stop_price=row.stop_price,
        opened_at=row.opened_at,
        extra=extra,
    )


def quiet(start: int, end: int, price: int = 100_000_000) -> Tape:
    return [(price, DAY1 + minutes(m)) for m in range(start, end)]


Check = Callable[[Instance, Instance], Awaitable[None]]


async def test_the_atr_stop_takes_over_after_a_restart_on_the_fallback(tmp_path):
    # the ATR comes and is about 0: the ATR stop sits the minimum distance (1 %) under the
    # entry, above the fallback (2 %); then a fall to 0.5 % under the ATR stop
    tape = [(100_000_000, DAY1), *quiet(1, 20), (98_600_000, DAY1 + minutes(20))]
    plain = await run(tmp_path, "plain", ATR_STOP, tape, None)
    restarted = await run(tmp_path, "restarted", ATR_STOP, tape, 0)  # right after the /buy
    await same_exits(plain, restarted)


async def test_a_position_stored_before_the_fallback_was_kept_gets_the_atr_stop(tmp_path):
    """A row written by an older version says nothing: the stop at the fallback's level,
    never trailed, with the ATR stop on, is taken for one still on the fallback."""
    tape = [(100_000_000, DAY1), *quiet(1, 20), (98_600_000, DAY1 + minutes(20))]
    plain = await run(tmp_path, "plain", ATR_STOP, tape, None)
    restarted = await run(tmp_path, "old", ATR_STOP, tape, 0, old_row=True)
    await same_exits(plain, restarted)


async def same_exits(plain: Instance, restarted: Instance) -> None:
    """The fallback then the ATR stop without a restart; only the ATR stop's move after it
    (the fallback was announced before), and the same stop exit."""
    [fallback, took_over] = plain.of(StopMoved)
    assert fallback.old is None
    assert fallback.new is not None
    assert took_over.old == fallback.new
    assert took_over.new is not None
    assert took_over.new > fallback.new
    [after] = restarted.of(StopMoved)  # the fallback was announced before the restart
    assert (after.old, after.new) == (took_over.old, took_over.new)

    [sold] = plain.of(PositionClosed)
    [sold_too] = restarted.of(PositionClosed)  # before: held on, the fallback still in force
    assert (sold.reason, sold.exit_price) == (sold_too.reason, sold_too.exit_price)
    assert sold.reason == "stop"
    assert sold.exit_price > fallback.new


async def test_an_atr_stop_below_the_fallback_does_not_take_over_after_a_restart(tmp_path):
    """The first ATR (a wild market) puts the ATR stop under the fallback: the fallback stays,
    for good. That end of the wait is stored too, though the stop did not move: a restart
    once the market has calmed must not have the small ATR take over then."""
    risk = limits(daily_loss_limit_krw=Decimal(0), use_exit_signal=False)
    wild = [(103_000_000 if m % 2 else 100_500_000, DAY1 + minutes(m)) for m in range(1, 17)]
    tape = [(100_000_000, DAY1), *wild, *quiet(17, 57, 100_500_000)]
    plain = await run(tmp_path, "plain", risk, tape, None)
    restarted = await run(tmp_path, "restarted", risk, tape, len(wild) + 20)  # calm by then

    [fallback] = plain.of(StopMoved)  # the ATR stop (about 7,500,000 under) never took over
    assert restarted.of(StopMoved) == []  # before: raised to 1 % under the entry
    position = restarted.rig.engine.positions.get("KRW-BTC")
    assert position.state is PositionState.LONG
    assert position.stop_price == fallback.new


def rise_and_fall() -> Tape:
    up = [(100_000_000 + 500_000 * m, DAY1 + minutes(m)) for m in range(1, 6)]
    return [(100_000_000, DAY1), *up, *quiet(6, 9, 102_500_000), (101_000_000, DAY1 + minutes(9))]


OTHER_EXITS = {
    "take_profit": (
        limits(daily_loss_limit_krw=Decimal(0), take_profit_pct=Decimal(2)),
        [(100_000_000, DAY1), *quiet(1, 6), (102_300_000, DAY1 + minutes(6))],
        3,
    ),
    "roi": (
        limits(
            daily_loss_limit_krw=Decimal(0),
            minimal_roi=((0, Decimal(5)), (10, Decimal(1))),
        ),
        [(100_000_000, DAY1), *quiet(1, 12), (101_200_000, DAY1 + minutes(12))],
        5,
    ),
    "time": (
        limits(daily_loss_limit_krw=Decimal(0), max_holding_minutes=15),
        [(100_000_000, DAY1), *quiet(1, 20)],
        5,
    ),
    "trailing": (
        limits(
            daily_loss_limit_krw=Decimal(0),
            use_exit_signal=False,
            trailing_stop=True,
            trailing_stop_positive_pct=Decimal(1),
            trailing_stop_positive_offset_pct=Decimal("1.5"),
        ),
        rise_and_fall(),
        6,
    ),
}


@pytest.mark.parametrize("kind", list(OTHER_EXITS))
async def test_the_other_exits_fire_as_without_a_restart(tmp_path, kind):
    """The take-profit, the ROI table and the holding time (counted from ``opened_at``) and
    whether the trail raised the stop are rebuilt from the stored position: the exit after
    a restart is the one without."""
    risk, tape, restart_after = OTHER_EXITS[kind]
    plain = await run(tmp_path, "plain", risk, tape, restart_after=None)
    restarted = await run(tmp_path, "restarted", risk, tape, restart_after)
    [sold] = plain.of(PositionClosed)
    [sold_too] = restarted.of(PositionClosed)
    assert sold.reason == kind
    assert (sold.reason, sold.exit_price, sold.volume) == (
        sold_too.reason,
        sold_too.exit_price,
        sold_too.volume,
    )


async def test_the_highest_close_before_the_atr_survives_a_restart(tmp_path):
    """A trailing stop has nothing to trail by before the ATR (the fallback does not trail),
    so the stop stays while the closes climb; each higher close is stored all the same, so
    after a restart the trail starts from the highest close as it would have without one.
    """
    risk = limits(daily_loss_limit_krw=Decimal(0), use_exit_signal=False, trailing_stop=True)
    climb = [(100_000_000 + 500_000 * m, DAY1 + minutes(m)) for m in range(1, 5)]
    tape = [
        (100_000_000, DAY1),
        *climb,  # closes up to 102,000,000: no ATR yet, the stop stays on the fallback
        *quiet(5, 25, 101_900_000),  # the ATR comes: the trail, 1 % under the highest close
        (100_800_000, DAY1 + minutes(25)),
    ]
    plain = await run(tmp_path, "plain", risk, tape, None)
    restarted = await run(tmp_path, "restarted", risk, tape, len(climb) + 1)  # 102M closed
    trailed = [m.new for m in plain.of(StopMoved)][-1]
    assert trailed == Decimal(100_980_000)  # 1 % under 102,000,000
    assert [m.new for m in restarted.of(StopMoved)][-1] == trailed  # before: 99,495,000
    [sold] = plain.of(PositionClosed)
    [sold_too] = restarted.of(PositionClosed)
    assert (sold.reason, sold.exit_price) == (sold_too.reason, sold_too.exit_price)
    assert sold.reason == "trailing"
