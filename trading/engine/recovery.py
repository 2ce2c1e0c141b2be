"""Coming back after a restart: positions in flight catch up from the store, longs get their
stops back. The facade's ``restore`` runs both before the first print is handled."""

from __future__ import annotations

import logging
from decimal import Decimal

from trading.domain.rules import Rounding
from trading.engine.core import Engine, highest_close_since
from trading.positions import Position, PositionState
from trading.risk.stops import TrailingStop, stop_on, trail_of
from trading.store import TERMINAL_STATES

log = logging.getLogger(__name__)
S = PositionState
ZERO = Decimal(0)


async def resume_stops(engine: Engine) -> None:
    """After a restart: every long position gets its exits back, from the stored prices.

    The stop keeps its stored level, and whether the trail had raised it (its hit is then a
    ``trailing`` exit) and the highest close it trailed from, so a trail that had reached its
    offset goes on trailing, and whether it is still the fallback, so the ATR stop takes over
    at the first candle close with an ATR as it would have without the restart (a row stored
    before that was kept: ``_fallback_pending``); the ROI table and the holding time count
    from the stored ``opened_at``. One without a stored stop (stops were off, or it never got
    one) gets a new one if a stop is on now, as ``Engine.open_stop`` makes it: from the entry
    and the candles the engine has, the fallback if they give no ATR yet.
    """
    limits = engine.limits
    for market, position in engine.positions.all().items():
        entry = position.avg_entry_price
        if position.state is not S.LONG or entry is None:
            continue
        if position.stop_price is None and stop_on(limits):
            stop = await engine.arm_stop(market, position, since=position.opened_at)
            log.warning(
                "%s: resumed long %s without a stored stop; new stop %s",
                market,
                position.volume,
                stop.stop if stop is not None else None,
            )
            continue
        last = engine.market_data.price(market) or entry
        seen = highest_close_since(engine.market_data.history(market), position.opened_at)
        high = max(entry, last, position.high_water or entry, seen or entry)
        take_profit = position.take_profit_price
        if take_profit is None and limits.take_profit_pct > 0:
            take_profit = engine.exchange.rules.round_price(
                market, entry * (1 + limits.take_profit_pct / 100), Rounding.UP
            )  # the same target TrailingStop.open set before the restart
        engine.stops[market] = TrailingStop(
            market=market,
            entry_price=entry,
            atr_mult=limits.atr_stop_mult,
            rules=engine.exchange.rules,
            stop=position.stop_price,
            highest_close=high,
            min_distance_pct=limits.stop_min_distance_pct,
            take_profit=take_profit,
            since=position.opened_at,
            stop_loss_pct=limits.stop_loss_pct,
            fallback_pct=limits.stop_fallback_pct,
            trail=trail_of(limits),
            trailed=position.stop_trailing,
            roi=limits.minimal_roi,
            max_holding_minutes=limits.max_holding_minutes,
            entered_at=position.opened_at,
            atr_pending=_fallback_pending(engine, market, position, entry),
        )
        log.info("%s: resumed long %s with stop %s", market, position.volume, position.stop_price)


def _fallback_pending(engine: Engine, market: str, position: Position, entry: Decimal) -> bool:
    """Whether the stored stop is still the fallback the ATR stop is to take over from.

    Stored with the stop since issue #13; a row from before says nothing, so it is derived:
    pending if the ATR stop is on, the trail never raised the stop, and the stop is exactly
    where a buy without an ATR puts it (the fallback, or a higher percentage stop). That
    may also hold for a stop whose ATR stop came out lower than the fallback; the take-over
    then only ever raises the stop to the ATR stop of the entry, never loosens it.
    """
    if position.stop_atr_pending is not None:
        return position.stop_atr_pending
    limits = engine.limits
    if limits.atr_stop_mult <= 0 or position.stop_trailing or position.stop_price is None:
        return False
    fresh = TrailingStop.open(
        market=market,
        entry_price=entry,
        atr=None,
        atr_mult=limits.atr_stop_mult,
        rules=engine.exchange.rules,
        fallback_pct=limits.stop_fallback_pct,
        min_distance_pct=limits.stop_min_distance_pct,
        stop_loss_pct=limits.stop_loss_pct,
    )
    return fresh.stop == position.stop_price


async def catch_up(engine: Engine) -> list[str]:
    """After a restart: a position still in flight is brought up to date from the store.

    The store is written first (order intent, then each fill, then the order's end) and
    the position follows through the inbox, so a stop in between leaves the position
    behind, never ahead. Its order never recorded: the attempt never left, end it. Its
    order already finished: apply the fills it has not seen, then the end. An order still
    open is left to reconciliation and the fill stream.
    """
    store = engine.orders.store
    notes = []
    for market, position in engine.positions.all().items():
        if position.state not in (S.ENTERING, S.EXITING) or position.intent_id is None:
            continue
        entering = position.state is S.ENTERING
        intent = position.intent_id
        fail = engine.positions.entry_failed if entering else engine.positions.exit_failed
        row = await store.order(intent)
        if row is None:
            await fail(market, "the order was never recorded", intent_id=intent)
            notes.append(f"{market}: order {intent} never recorded, ended")
            continue
        if row.state not in TERMINAL_STATES:
            continue
        fills = sorted(
            await store.fills(intent_id=intent, limit=100_000),
            key=lambda f: (f.created_at, f.trade_uuid),
        )
        applied = (
            position.entry_volume
            if entering
            else await _exit_volume_of(engine, market, position, intent)
        )
        add = engine.positions.entry_filled if entering else engine.positions.exit_filled
        seen = ZERO
        for fill in fills:
            seen += fill.volume
            if seen > applied:
                await add(
                    market,
                    fill.volume,
                    fill.price,
                    fill.fee,
                    False,
                    at=engine.market_time(),
                    intent_id=intent,
                )
        after = await fail(market, f"order {row.state}", intent_id=intent)
        if entering:
            await engine.arm_stop(market, after, since=after.opened_at)
        notes.append(f"{market}: order {intent} {row.state}, position {after.state.value}")
    return notes


async def _exit_volume_of(engine: Engine, market: str, position: Position, intent: str) -> Decimal:
    """How much of ``intent`` the position already applied: its exit volume less what
    earlier exit orders of this round trip sold."""
    earlier = ZERO
    for fill in await engine.orders.store.fills(market=market, limit=100_000):
        after_open = position.opened_at is None or fill.created_at >= position.opened_at
        if fill.side == "ask" and fill.intent_id != intent and after_open:
            earlier += fill.volume
    return position.exit_volume - earlier
