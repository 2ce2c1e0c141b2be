"""The per-market state machine: one transition table, one pure ``apply``.

Every state change goes through ``TRANSITIONS`` (as nautilus' ``_ORDER_STATE_TABLE``): a
trigger missing from the table for the current state raises ``IllegalTransition``; the
handlers only choose among the targets the table allows. ``apply`` has no I/O and reads no
clock, so the backtest, the live engine and the property tests run the same code.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow
from typing import TypeVar

from trading import events as ev
from trading.positions import triggers as tr
from trading.positions.model import (
    STOP_EXITS,
    ZERO,
    ExitReason,
    IllegalTransition,
    InvalidTrigger,
    Position,
    PositionRules,
    PositionState,
)
from trading.timeframes import bucket_start

S = PositionState
_ALL = tuple(PositionState)

#: (state, trigger) -> the states the trigger may lead to; a missing row is illegal.
TRANSITIONS: dict[tuple[PositionState, str], frozenset[PositionState]] = {
    (S.FLAT, "entry_submitted"): frozenset({S.ENTERING}),
    # an intra-candle entry (a trigger) while no cooldown candle remains; ``can_enter`` says
    (S.COOLDOWN, "entry_submitted"): frozenset({S.ENTERING}),
    # a partial fill stays entering; the order's end (complete or failed) decides
    (S.ENTERING, "entry_filled"): frozenset({S.ENTERING, S.LONG}),
    # cancelled or rejected: flat with no fill, long with what did fill
    (S.ENTERING, "entry_failed"): frozenset({S.FLAT, S.LONG}),
    (S.LONG, "exit_submitted"): frozenset({S.EXITING}),
    # complete with volume left (rounding, a smaller order) returns to long
    (S.EXITING, "exit_filled"): frozenset({S.EXITING, S.LONG, S.COOLDOWN}),
    (S.EXITING, "exit_failed"): frozenset({S.LONG, S.COOLDOWN}),
    **{(s, "stop_moved"): frozenset({s}) for s in (S.ENTERING, S.LONG, S.EXITING)},
    **{(s, "candle_closed"): frozenset({s}) for s in _ALL if s is not S.COOLDOWN},
    (S.COOLDOWN, "candle_closed"): frozenset({S.COOLDOWN, S.FLAT}),
    # the account holds less than the book: adopt it (a long sold out by hand is flat)
    (S.FLAT, "adjusted"): frozenset({S.FLAT}),
    (S.LONG, "adjusted"): frozenset({S.LONG, S.FLAT}),
    (S.COOLDOWN, "adjusted"): frozenset({S.COOLDOWN}),
    # a long worth less than the minimum order becomes dust: after an exit the round trip
    # closes (cooldown), a long never sold from is flat
    (S.LONG, "set_aside"): frozenset({S.FLAT, S.COOLDOWN}),
}

TRIGGER_NAMES: dict[type[tr.Trigger], str] = {
    tr.EntrySubmitted: "entry_submitted",
    tr.EntryFilled: "entry_filled",
    tr.EntryFailed: "entry_failed",
    tr.ExitSubmitted: "exit_submitted",
    tr.ExitFilled: "exit_filled",
    tr.ExitFailed: "exit_failed",
    tr.BarClosed: "candle_closed",
    tr.MoveStop: "stop_moved",
    tr.Adjust: "adjusted",
    tr.SetAside: "set_aside",
}

# Sums of price x volume must never round: trap instead of losing a digit.
_EXACT = Context(prec=200, traps=[Inexact, InvalidOperation, Overflow])

Result = tuple[Position, list[ev.Event]]
E = TypeVar("E", bound=ev.Event)


def is_legal(state: PositionState, trigger: str) -> bool:
    return (state, trigger) in TRANSITIONS


def apply(position: Position, trigger: tr.Trigger, rules: PositionRules) -> Result:
    """The position after ``trigger`` and the events to publish; ``position`` is untouched."""
    name = TRIGGER_NAMES[type(trigger)]
    allowed = TRANSITIONS.get((position.state, name))
    if allowed is None:
        raise IllegalTransition(position.market, position.state, name)
    new, events = _handle(position, trigger, rules)
    if new.state not in allowed:  # a handler bug, never the caller's
        raise IllegalTransition(position.market, position.state, f"{name}->{new.state.value}")
    return new, events


def can_enter(
    position: Position,
    bar_start: datetime,
    rules: PositionRules | None = None,
    *,
    intrabar: bool = False,
) -> tuple[bool, str]:
    """Whether a new entry may be submitted for a signal on the candle ``bar_start``.

    The candle an exit filled in never re-enters, unless ``rules.same_candle_reentry``.

    ``intrabar``: an entry trigger crossed during the candle ``bar_start`` (a level armed when
    the candle opened, from earlier candles only). It may buy in the candle an exit filled in,
    after that exit (the volatility breakout sells at the day's open and may buy the same day),
    and from a cooldown with no candle left to wait: a cooldown of 0 candles ends at the exit.
    """
    if intrabar and position.state is S.COOLDOWN and position.cooldown_remaining == 0:
        return True, "ok"
    if position.state is S.COOLDOWN:
        return False, f"cooldown: {position.cooldown_remaining} candle(s) remain"
    if position.state is not S.FLAT:
        return False, f"position is {position.state.value}"
    if intrabar:
        return True, "ok"
    guard = rules is None or not rules.same_candle_reentry
    if guard and position.exit_bar is not None and bar_start <= position.exit_bar:
        return False, "no re-entry on the candle that exited"
    return True, "ok"


def _handle(p: Position, t: tr.Trigger, rules: PositionRules) -> Result:
    match t:
        case tr.EntrySubmitted():
            _need_intent(p, t.intent_id)
            if p.state is S.COOLDOWN and p.cooldown_remaining:
                raise IllegalTransition(p.market, p.state, "entry_submitted")  # candles remain
            fresh = _fresh(p, S.ENTERING, intent_id=t.intent_id, exit_bar=p.exit_bar)
            return dataclasses.replace(
                fresh, stop_price=t.stop_price, take_profit_price=t.take_profit_price
            ), []
        case tr.EntryFilled():
            return _entry_filled(p, t)
        case tr.EntryFailed():
            _check_intent(p, t.intent_id)
            if p.volume:
                return _opened(p, None)
            return _fresh(p, S.FLAT, exit_bar=p.exit_bar), []
        case tr.ExitSubmitted():
            _need_intent(p, t.intent_id)
            p = dataclasses.replace(
                _take_dust(p, t.dust), state=S.EXITING, intent_id=t.intent_id, exit_reason=t.reason
            )
            return p, []
        case tr.ExitFilled():
            return _exit_filled(p, t, rules)
        case tr.ExitFailed():
            _check_intent(p, t.intent_id)
            if p.volume:
                return dataclasses.replace(p, state=S.LONG, intent_id=None), []
            return _closed(p, rules, None)
        case tr.BarClosed():
            return _bar_closed(p, t.bar_start, rules)
        case tr.MoveStop():
            return _move_stop(p, t)
        case tr.Adjust():
            return _adjusted(p, t)
        case tr.SetAside():
            return _set_aside(p, t, rules)
    raise TypeError(f"unknown trigger {t!r}")  # pragma: no cover


def _entry_filled(p: Position, t: tr.EntryFilled) -> Result:
    """A buy fill adds to the holding and its cost; the last one opens the position."""
    _check_fill(p, t.volume, t.price, t.fee, t.intent_id)
    p = dataclasses.replace(
        p,
        volume=_EXACT.add(p.volume, t.volume),
        entry_volume=_EXACT.add(p.entry_volume, t.volume),
        entry_cost=_EXACT.add(p.entry_cost, _EXACT.multiply(t.volume, t.price)),
        entry_fees=_EXACT.add(p.entry_fees, t.fee),
        opened_at=p.opened_at or t.at,
    )
    return _opened(p, t.at) if t.complete else (p, [])


def _exit_filled(p: Position, t: tr.ExitFilled, rules: PositionRules) -> Result:
    """A sell fill takes from the holding; the last one closes the position, or returns it
    to LONG when volume is left (a partial exit)."""
    _check_fill(p, t.volume, t.price, t.fee, t.intent_id)
    if t.volume > p.volume:
        raise InvalidTrigger(p.market, f"exit fill {t.volume} exceeds volume {p.volume}")
    p = dataclasses.replace(
        p,
        volume=_EXACT.subtract(p.volume, t.volume),
        exit_volume=_EXACT.add(p.exit_volume, t.volume),
        exit_proceeds=_EXACT.add(p.exit_proceeds, _EXACT.multiply(t.volume, t.price)),
        exit_fees=_EXACT.add(p.exit_fees, t.fee),
        exit_bar=bucket_start(t.at, rules.timeframe_s),
    )
    if not t.complete:
        return p, []
    if p.volume:
        return dataclasses.replace(p, state=S.LONG, intent_id=None), []
    return _closed(p, rules, t.at)


def _move_stop(p: Position, t: tr.MoveStop) -> Result:
    """Raise the stop (never loosen it); a higher water mark is kept either way."""
    if t.price <= ZERO:
        raise InvalidTrigger(p.market, f"stop price must be positive, not {t.price}")
    high = p.high_water
    if t.high_water is not None and (high is None or t.high_water > high):
        high = t.high_water
    pending = p.stop_atr_pending if t.atr_pending is None else t.atr_pending
    if p.stop_price is not None and t.price <= p.stop_price:
        # an equal stop is no news either
        if high == p.high_water and pending == p.stop_atr_pending:
            return p, []
        return dataclasses.replace(p, high_water=high, stop_atr_pending=pending), []
    event = ev.StopMoved(market=p.market, old=p.stop_price, new=t.price)
    trailing = p.stop_trailing or t.trailing
    moved = dataclasses.replace(
        p, stop_price=t.price, stop_trailing=trailing, high_water=high, stop_atr_pending=pending
    )
    return moved, [event]


def _fresh(p: Position, state: PositionState, **fields: object) -> Position:
    """A new round trip's position: only the dust carries over."""
    return Position(
        p.market,
        state,
        dust=p.dust,
        dust_cost=p.dust_cost,
        **fields,  # type: ignore[arg-type]
    )


def _adjusted(p: Position, t: tr.Adjust) -> Result:
    """The book adopts the smaller holding the account shows, taking from the dust first.

    What went carries its share of the cost (and entry fees) away with it, so the rest keeps
    its average price and the round trip's PnL counts only what the bot itself sold.
    """
    if t.holding < ZERO:
        raise InvalidTrigger(p.market, f"holding cannot be negative, not {t.holding}")
    if t.holding >= p.holding:
        return p, []
    gone = p.holding - t.holding
    from_dust = min(gone, p.dust)
    from_volume = gone - from_dust
    dust = p.dust - from_dust
    new = dataclasses.replace(
        p, dust=dust, dust_cost=_share(p.dust_cost, dust, p.dust) if dust else ZERO
    )
    if from_volume:
        kept = p.entry_volume - from_volume
        new = dataclasses.replace(
            new,
            volume=p.volume - from_volume,
            entry_volume=kept,
            entry_cost=_share(p.entry_cost, kept, p.entry_volume),
            entry_fees=_share(p.entry_fees, kept, p.entry_volume),
        )
        if not new.volume:
            new = _fresh(new, S.FLAT, exit_bar=p.exit_bar)
    event = ev.BookAdjusted(
        market=p.market,
        book=p.holding,
        exchange=new.holding,
        state=new.state.value,
        reason=t.reason,
    )
    return new, [event]


def _take_dust(p: Position, dust: Decimal) -> Position:
    """``dust`` of the dust joins the position with its share of the dust's cost: an exit
    that sells it along then accounts for one volume, and the sums stay exact."""
    if not dust:
        return p
    if not ZERO < dust <= p.dust:
        raise InvalidTrigger(p.market, f"cannot sell {dust} of dust {p.dust}")
    cost = p.dust_cost if dust == p.dust else _share(p.dust_cost, dust, p.dust)
    return dataclasses.replace(
        p,
        volume=_EXACT.add(p.volume, dust),
        entry_volume=_EXACT.add(p.entry_volume, dust),
        entry_cost=_EXACT.add(p.entry_cost, cost),
        dust=_EXACT.subtract(p.dust, dust),
        dust_cost=_EXACT.subtract(p.dust_cost, cost),
    )


def _set_aside(p: Position, t: tr.SetAside, rules: PositionRules) -> Result:
    """The whole volume becomes dust, taking its share of the entry cost and fees with it:
    a round trip that sold some closes on what it sold, exactly as a full exit would (the
    dust's cost is no loss yet), and one that never sold is flat. What the dust cost comes
    back as entry cost when an exit sells it, so every sum stays exact."""
    if not p.volume:
        raise InvalidTrigger(p.market, "no volume to set aside")
    if p.volume == p.entry_volume:
        cost, fees = p.entry_cost, p.entry_fees
    else:
        cost = _share(p.entry_cost, p.volume, p.entry_volume)
        fees = _share(p.entry_fees, p.volume, p.entry_volume)
    p = dataclasses.replace(
        p,
        volume=ZERO,
        entry_volume=_EXACT.subtract(p.entry_volume, p.volume),
        entry_cost=_EXACT.subtract(p.entry_cost, cost),
        entry_fees=_EXACT.subtract(p.entry_fees, fees),
        dust=_EXACT.add(p.dust, p.volume),
        dust_cost=_EXACT.add(p.dust_cost, _EXACT.add(cost, fees)),
    )
    if p.exit_volume:
        return _closed(p, rules, t.at)
    return _fresh(p, S.FLAT, exit_reason=p.exit_reason, exit_bar=p.exit_bar), []


def _share(total: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """``total × part / whole``; a ratio cannot be exact, so it is rounded (to 28 digits)."""
    return total * part / whole if whole else ZERO


def _need_intent(p: Position, intent_id: str) -> None:
    if not intent_id:
        raise InvalidTrigger(p.market, "an order needs a non-empty intent_id")


def _check_intent(p: Position, intent_id: str | None) -> None:
    if intent_id is not None and intent_id != p.intent_id:
        raise InvalidTrigger(p.market, f"report for {intent_id!r}, in flight is {p.intent_id!r}")


def _check_fill(
    p: Position, volume: Decimal, price: Decimal, fee: Decimal, intent_id: str | None
) -> None:
    _check_intent(p, intent_id)
    if not (volume > ZERO and price > ZERO and fee >= ZERO):
        raise InvalidTrigger(p.market, f"bad fill: volume={volume} price={price} fee={fee}")


def _opened(p: Position, at: datetime | None) -> Result:
    p = dataclasses.replace(p, state=S.LONG, intent_id=None)
    avg = p.avg_entry_price
    assert avg is not None
    event = ev.PositionOpened(
        market=p.market, volume=p.volume, avg_price=avg, stop_price=p.stop_price
    )
    return p, [_stamp(event, at)]


def _closed(p: Position, rules: PositionRules, at: datetime | None) -> Result:
    """Realized PnL over the whole round trip, then a clean slate in cooldown."""
    reason = p.exit_reason or ExitReason.MANUAL
    fees = _EXACT.add(p.entry_fees, p.exit_fees)
    pnl = _EXACT.subtract(_EXACT.subtract(p.exit_proceeds, p.entry_cost), fees)
    entry_price, exit_price = p.avg_entry_price, p.avg_exit_price
    assert entry_price is not None
    assert exit_price is not None
    event = ev.PositionClosed(
        market=p.market,
        volume=p.entry_volume,
        entry_price=entry_price,
        exit_price=exit_price,
        pnl_krw=pnl,
        fees_krw=fees,
        reason=reason.value,
        cost_krw=_EXACT.add(p.entry_cost, p.entry_fees),
    )
    bars = rules.stop_cooldown_candles if reason.value in STOP_EXITS else rules.cooldown_candles
    closed = _fresh(
        p,
        S.COOLDOWN,
        exit_reason=reason,
        exit_bar=p.exit_bar,
        cooldown_bars=bars,
        cooldown_remaining=bars,
    )
    return closed, [_stamp(event, at)]


def _stamp(event: E, at: datetime | None) -> E:
    """Date an event at the fill that caused it, not at when the engine got round to it."""
    return event if at is None else dataclasses.replace(event, at=at)


def _bar_closed(p: Position, bar_start: datetime, rules: PositionRules) -> Result:
    """Cooldown counts whole candles closed after the exit candle, from times, not calls:
    a repeated or backfilled candle cannot count twice, and a gap cannot stall it."""
    if p.state is not S.COOLDOWN or p.exit_bar is None or bar_start < p.exit_bar:
        return p, []
    after_exit = int((bar_start - p.exit_bar).total_seconds()) // rules.timeframe_s
    remaining = min(p.cooldown_remaining, max(0, p.cooldown_bars - after_exit))
    if remaining == 0:
        return _fresh(p, S.FLAT, exit_reason=p.exit_reason, exit_bar=p.exit_bar), []
    if remaining == p.cooldown_remaining:
        return p, []
    return dataclasses.replace(p, cooldown_remaining=remaining), []
