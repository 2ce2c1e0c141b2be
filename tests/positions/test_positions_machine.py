"""The position state machine: the whole transition table, fills, PnL, stops, cooldowns."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from tests.positions._helpers import RULES, T0, D, M, bar, in_state, run
from trading import events as ev
from trading.positions import (
    TRANSITIONS,
    ExitReason,
    IllegalTransition,
    InvalidTrigger,
    Position,
    PositionRules,
    PositionState,
    apply,
    can_enter,
)
from trading.positions import triggers as tr

S = PositionState

SAMPLES: dict[str, tr.Trigger] = {
    "entry_submitted": tr.EntrySubmitted("e2"),
    "entry_filled": tr.EntryFilled(D("0.5"), D(100), D(0), False, bar(1)),
    "entry_failed": tr.EntryFailed("cancelled"),
    "exit_submitted": tr.ExitSubmitted("x2", ExitReason.SIGNAL),
    "exit_filled": tr.ExitFilled(D("0.5"), D(100), D(0), False, bar(4)),
    "exit_failed": tr.ExitFailed("cancelled"),
    "candle_closed": tr.BarClosed(bar(1)),
    "stop_moved": tr.MoveStop(D(90)),
    "adjusted": tr.Adjust(D("0.5"), "sold by hand"),
    "set_aside": tr.SetAside("worth less than the minimum order"),
}

# The oracle, written out by hand rather than derived from TRANSITIONS.
LEGAL = {
    S.FLAT: {"entry_submitted", "candle_closed", "adjusted"},
    S.ENTERING: {"entry_filled", "entry_failed", "candle_closed", "stop_moved"},
    S.LONG: {"exit_submitted", "candle_closed", "stop_moved", "adjusted", "set_aside"},
    S.EXITING: {"exit_filled", "exit_failed", "candle_closed", "stop_moved"},
    S.COOLDOWN: {"candle_closed", "adjusted"},
}
# a table row whose handler still refuses the sample (in_state's cooldown has candles left)
TABLE_ONLY = {(S.COOLDOWN, "entry_submitted")}


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("name", list(SAMPLES))
def test_transition_table(state: PositionState, name: str) -> None:
    p = in_state(state)
    if name in LEGAL[state]:
        new, _ = apply(p, SAMPLES[name], RULES)
        assert new.state in TRANSITIONS[state, name]
    else:
        with pytest.raises(IllegalTransition) as info:
            apply(p, SAMPLES[name], RULES)
        assert (info.value.market, info.value.state, info.value.trigger) == (M, state, name)
        assert str(info.value) == f"{M}: illegal trigger {name!r} in state {state.value!r}"


def test_table_has_no_row_the_oracle_lacks() -> None:
    legal = {(s, n) for s, names in LEGAL.items() for n in names}
    assert legal | TABLE_ONLY == set(TRANSITIONS)


def test_round_trip_flat_to_flat() -> None:
    p, events = apply(Position(M), tr.EntrySubmitted("e1", D(95), D(120)), RULES)
    assert (p.state, p.intent_id, p.stop_price, p.take_profit_price) == (
        S.ENTERING,
        "e1",
        D(95),
        D(120),
    )
    assert events == []
    p, events = apply(p, tr.EntryFilled(D(1), D(100), D("0.05"), True, bar(0)), RULES)
    assert (p.state, p.intent_id, p.volume, p.opened_at) == (S.LONG, None, D(1), bar(0))
    assert events == [
        ev.PositionOpened(market=M, volume=D(1), avg_price=D(100), stop_price=D(95), at=bar(0))
    ]
    p, _ = apply(p, tr.ExitSubmitted("x1", ExitReason.TAKE_PROFIT), RULES)
    assert (p.state, p.intent_id, p.exit_reason) == (S.EXITING, "x1", ExitReason.TAKE_PROFIT)
    p, events = apply(p, tr.ExitFilled(D(1), D(120), D("0.06"), True, bar(7)), RULES)
    assert (p.state, p.intent_id, p.volume, p.exit_bar) == (S.COOLDOWN, None, D(0), bar(7))
    assert events == [
        ev.PositionClosed(
            market=M,
            volume=D(1),
            entry_price=D(100),
            exit_price=D(120),
            pnl_krw=D("19.89"),
            fees_krw=D("0.11"),
            reason="take_profit",
            cost_krw=D("100.05"),  # the entry and its fee: the base of the return
            at=bar(7),
        )
    ]
    p = run(p, tr.BarClosed(bar(7)), tr.BarClosed(bar(8)))
    assert (p.state, p.cooldown_remaining) == (S.COOLDOWN, 1)
    p = run(p, tr.BarClosed(bar(9)))
    assert p == Position(M, exit_reason=ExitReason.TAKE_PROFIT, exit_bar=bar(7))


def test_entry_cancelled_without_fill_goes_flat() -> None:
    p, events = apply(in_state(S.ENTERING), tr.EntryFailed("cancelled", "e1"), RULES)
    assert p == Position(M)
    assert events == []


def test_partial_entry_then_cancel_is_long_with_what_filled() -> None:
    p = run(
        in_state(S.ENTERING),
        tr.EntryFilled(D("0.3"), D(100), D("0.015"), False, bar(0)),
        tr.EntryFilled(D("0.2"), D(110), D("0.011"), False, bar(1)),
    )
    assert (p.state, p.intent_id, p.volume) == (S.ENTERING, "e1", D("0.5"))
    p, events = apply(p, tr.EntryFailed("remainder cancelled"), RULES)
    assert (p.state, p.intent_id, p.volume, p.opened_at) == (S.LONG, None, D("0.5"), bar(0))
    assert p.entry_cost == D(52)
    assert p.avg_entry_price == D(104)
    assert p.entry_fees == D("0.026")
    assert [type(e) for e in events] == [ev.PositionOpened]


def test_exit_cancelled_with_volume_left_returns_to_long() -> None:
    p = run(in_state(S.EXITING), tr.ExitFilled(D("0.4"), D(105), D("0.021"), False, bar(2)))
    p, events = apply(p, tr.ExitFailed("cancelled", "x1"), RULES)
    assert (p.state, p.intent_id, p.volume) == (S.LONG, None, D("0.6"))
    assert events == []
    # the next exit closes the rest; PnL covers both exits
    p = run(p, tr.ExitSubmitted("x2", ExitReason.STOP))
    p, events = apply(p, tr.ExitFilled(D("0.6"), D(90), D("0.027"), True, bar(5)), RULES)
    (closed,) = events
    assert isinstance(closed, ev.PositionClosed)
    assert closed.pnl_krw == D(42) + D(54) - D(100) - D("0.05") - D("0.021") - D("0.027")
    assert closed.exit_price == D(96)
    assert (closed.reason, p.cooldown_bars) == ("stop", RULES.stop_cooldown_candles)


def test_complete_exit_with_volume_left_returns_to_long() -> None:
    p = run(in_state(S.EXITING), tr.ExitFilled(D("0.9"), D(105), D(0), True, bar(2)))
    assert (p.state, p.volume, p.intent_id) == (S.LONG, D("0.1"), None)


def test_exit_fully_filled_then_order_ends_as_cancel_closes() -> None:
    p = run(in_state(S.EXITING), tr.ExitFilled(D(1), D(105), D(0), False, bar(2)))
    assert (p.state, p.volume) == (S.EXITING, D(0))  # still in flight until the order ends
    p, events = apply(p, tr.ExitFailed("done"), RULES)
    assert p.state is S.COOLDOWN
    assert [type(e) for e in events] == [ev.PositionClosed]


@pytest.mark.parametrize("reason", list(ExitReason))
def test_every_exit_reason_leaves_long(reason: ExitReason) -> None:
    p, _ = apply(in_state(S.LONG), tr.ExitSubmitted("x9", reason), RULES)
    assert (p.state, p.exit_reason, p.intent_id) == (S.EXITING, reason, "x9")


def test_fills_accumulate_exactly_in_any_split() -> None:
    price = D("0.00012345")
    parts = [D("12345678.12345678"), D("0.00000001"), D("98765432.87654321")]
    p = run(
        Position(M),
        tr.EntrySubmitted("e1"),
        *(tr.EntryFilled(v, price, v * price * D("0.0005"), False, bar(0)) for v in parts),
        tr.EntryFailed("done"),
    )
    assert p.volume == sum(parts)
    assert p.entry_cost == sum(parts) * price
    assert p.entry_fees == sum(v * price * D("0.0005") for v in parts)


def test_pnl_is_proceeds_minus_cost_minus_all_fees() -> None:
    p = run(
        Position(M),
        tr.EntrySubmitted("e1"),
        tr.EntryFilled(D("0.03"), D(50_000_000), D(750), False, bar(0)),
        tr.EntryFilled(D("0.07"), D(50_100_000), D("1753.5"), True, bar(0)),
        tr.ExitSubmitted("x1", ExitReason.SIGNAL),
        tr.ExitFilled(D("0.04"), D(51_000_000), D(1020), False, bar(9)),
    )
    p, events = apply(p, tr.ExitFilled(D("0.06"), D(52_000_000), D(1560), True, bar(9)), RULES)
    (closed,) = events
    assert isinstance(closed, ev.PositionClosed)
    cost = D(1_500_000) + D(3_507_000)
    proceeds = D(2_040_000) + D(3_120_000)
    fees = D(750) + D("1753.5") + D(1020) + D(1560)
    assert (closed.fees_krw, closed.pnl_krw) == (fees, proceeds - cost - fees)
    assert closed.pnl_krw == D("147916.5")
    assert closed.entry_price == D(50_070_000)
    assert closed.volume == D("0.1")


def test_stop_never_loosened() -> None:
    p, events = apply(in_state(S.LONG), tr.MoveStop(D(90)), RULES)
    assert (p.stop_price, events) == (
        D(90),
        [ev.StopMoved(market=M, old=None, new=D(90), at=events[0].at)],
    )
    same, events = apply(p, tr.MoveStop(D(85)), RULES)
    assert (same, events) == (p, [])
    same, events = apply(p, tr.MoveStop(D(90)), RULES)
    assert (same, events) == (p, [])
    p, events = apply(p, tr.MoveStop(D(95)), RULES)
    assert p.stop_price == D(95)
    assert [(e.old, e.new) for e in events if isinstance(e, ev.StopMoved)] == [(D(90), D(95))]
    with pytest.raises(InvalidTrigger):
        apply(p, tr.MoveStop(D(0)), RULES)


def test_a_trailed_stop_and_its_high_water_are_kept_with_the_position() -> None:
    """Issue #13: what a restart needs of a trailing stop rides on ``MoveStop``."""
    p, _ = apply(in_state(S.LONG), tr.MoveStop(D(90)), RULES)
    assert (p.stop_trailing, p.high_water) == (False, None)
    p, events = apply(p, tr.MoveStop(D(95), trailing=True, high_water=D(100)), RULES)
    assert (p.stop_price, p.stop_trailing, p.high_water) == (D(95), True, D(100))
    assert len(events) == 1
    # a stop that does not move still keeps a higher water mark, quietly
    q, events = apply(p, tr.MoveStop(D(94), high_water=D(102)), RULES)
    assert (q.stop_price, q.stop_trailing, q.high_water, events) == (D(95), True, D(102), [])
    # never lowered, and the trailing flag stays
    r, _ = apply(q, tr.MoveStop(D(96), high_water=D(101)), RULES)
    assert (r.stop_price, r.stop_trailing, r.high_water) == (D(96), True, D(102))


def test_the_fallback_waiting_for_the_atr_stop_is_kept_with_the_position() -> None:
    """Issue #13: whether the stop is still the fallback rides on ``MoveStop`` too, and its
    end is kept though the stop stays (the ATR stop came out lower)."""
    p = in_state(S.LONG)
    assert p.stop_atr_pending is None  # not known yet
    p, events = apply(p, tr.MoveStop(D(90), atr_pending=True), RULES)
    assert (p.stop_price, p.stop_atr_pending, len(events)) == (D(90), True, 1)
    q, events = apply(p, tr.MoveStop(D(90)), RULES)  # None: unchanged
    assert (q, events) == (p, [])
    q, events = apply(p, tr.MoveStop(D(90), atr_pending=False), RULES)
    assert (q.stop_price, q.stop_atr_pending, events) == (D(90), False, [])
    r, events = apply(q, tr.MoveStop(D(93), atr_pending=False), RULES)
    assert (r.stop_price, r.stop_atr_pending, len(events)) == (D(93), False, 1)


@pytest.mark.parametrize("reason", [ExitReason.STOP, ExitReason.TRAILING])
def test_a_trailing_exit_earns_the_stop_cooldown(reason: ExitReason) -> None:
    rules = PositionRules(60, cooldown_candles=1, stop_cooldown_candles=4)
    p = run(
        Position(M),
        tr.EntrySubmitted("e1"),
        tr.EntryFilled(D(1), D(100), D(0), True, T0, "e1"),
        tr.ExitSubmitted("x1", reason),
        tr.ExitFilled(D(1), D(90), D(0), True, T0, "x1"),
        rules=rules,
    )
    assert p.cooldown_bars == 4


def test_normal_cooldown_and_no_reentry_on_exit_candle() -> None:
    p = in_state(S.COOLDOWN)  # exited on bar(3), signal exit: 2 candles of cooldown
    assert can_enter(p, bar(3)) == (False, "cooldown: 2 candle(s) remain")
    p = run(p, tr.BarClosed(bar(2)), tr.BarClosed(bar(3)), tr.BarClosed(bar(4)))
    assert (p.state, p.cooldown_remaining) == (S.COOLDOWN, 1)
    p = run(p, tr.BarClosed(bar(4)), tr.BarClosed(bar(3)))  # repeats and late bars: no count
    assert p.cooldown_remaining == 1
    p = run(p, tr.BarClosed(bar(5)))
    assert p.state is S.FLAT
    assert can_enter(p, bar(5)) == (True, "ok")


def test_stop_exit_earns_the_longer_cooldown() -> None:
    p = run(in_state(S.LONG), tr.ExitSubmitted("x1", ExitReason.STOP))
    p = run(
        p,
        tr.ExitFilled(
            D(1),
            D(90),
            D(0),
            True,
            bar(
                10,
            ),
        ),
    )
    assert (p.cooldown_bars, p.cooldown_remaining) == (5, 5)
    p = run(p, *(tr.BarClosed(bar(i)) for i in range(10, 15)))
    assert (p.state, p.cooldown_remaining) == (S.COOLDOWN, 1)
    p = run(p, tr.BarClosed(bar(15)))
    assert p.state is S.FLAT


def test_gap_in_candles_still_ends_cooldown() -> None:
    p = run(in_state(S.COOLDOWN), tr.BarClosed(bar(30)))
    assert p.state is S.FLAT


def test_zero_cooldown_still_forbids_the_exit_candle() -> None:
    rules = PositionRules(timeframe_s=60)
    p = run(in_state(S.EXITING), tr.ExitFilled(D(1), D(1), D(0), True, bar(3)), rules=rules)
    assert can_enter(p, bar(3))[0] is False
    p = run(p, tr.BarClosed(bar(3)), rules=rules)
    assert p.state is S.FLAT
    assert can_enter(p, bar(3)) == (False, "no re-entry on the candle that exited")
    assert can_enter(p, bar(4)) == (True, "ok")


@pytest.mark.parametrize("state", [S.ENTERING, S.LONG, S.EXITING])
def test_can_enter_refuses_unless_flat(state: PositionState) -> None:
    assert can_enter(in_state(state), bar(100)) == (False, f"position is {state.value}")


def test_exit_overfill_is_refused() -> None:
    with pytest.raises(InvalidTrigger, match="exceeds volume"):
        apply(in_state(S.EXITING), tr.ExitFilled(D("1.1"), D(1), D(0), True, bar(3)), RULES)


@pytest.mark.parametrize(
    ("volume", "price", "fee"), [(D(0), D(1), D(0)), (D(1), D(0), D(0)), (D(1), D(1), D(-1))]
)
def test_impossible_fills_are_refused(volume: Decimal, price: Decimal, fee: Decimal) -> None:
    with pytest.raises(InvalidTrigger, match="bad fill"):
        apply(in_state(S.ENTERING), tr.EntryFilled(volume, price, fee, False, T0), RULES)


def test_report_for_another_order_is_refused() -> None:
    with pytest.raises(InvalidTrigger, match="in flight is 'e1'"):
        apply(in_state(S.ENTERING), tr.EntryFailed("cancelled", intent_id="e0"), RULES)
    with pytest.raises(InvalidTrigger, match="non-empty"):
        apply(Position(M), tr.EntrySubmitted(""), RULES)


def test_rules_validate() -> None:
    with pytest.raises(ValueError, match="timeframe_s"):
        PositionRules(timeframe_s=0)
    with pytest.raises(ValueError, match="negative"):
        PositionRules(timeframe_s=60, cooldown_candles=-1)


def test_adjust_adopts_a_smaller_holding_dust_first_and_keeps_the_average() -> None:
    long = run(
        Position(M, dust=D("0.2"), dust_cost=D(20)),
        tr.EntrySubmitted("e1"),
        tr.EntryFilled(D(2), D(100), D("0.1"), True, bar(0)),
    )
    assert long.holding == D("2.2")
    after, events = apply(long, tr.Adjust(D("1.5"), "sold by hand"), RULES)
    assert (after.state, after.volume, after.dust, after.dust_cost) == (S.LONG, D("1.5"), 0, 0)
    assert after.avg_entry_price == D(100)
    assert after.entry_fees == D("0.075")
    [event] = events
    assert isinstance(event, ev.BookAdjusted)
    assert (event.book, event.exchange, event.state) == (D("2.2"), D("1.5"), "long")


def test_adjust_to_nothing_leaves_a_long_flat_and_more_changes_nothing() -> None:
    long = in_state(S.LONG)
    flat, _ = apply(long, tr.Adjust(D(0), "withdrawn"), RULES)
    assert (flat.state, flat.holding, flat.intent_id) == (S.FLAT, 0, None)
    same, events = apply(long, tr.Adjust(D(5), "deposit"), RULES)
    assert (same, events) == (long, [])
    with pytest.raises(InvalidTrigger):
        apply(long, tr.Adjust(D(-1), "?"), RULES)


def test_dust_outlives_the_round_trip() -> None:
    p = run(
        Position(M, dust=D("0.01"), dust_cost=D(1)),
        tr.EntrySubmitted("e1"),
        tr.EntryFilled(D(1), D(100), D(0), True, bar(0)),
        tr.ExitSubmitted("x1", ExitReason.SIGNAL),
        tr.ExitFilled(D(1), D(110), D(0), True, bar(3)),
    )
    assert (p.state, p.dust, p.dust_cost) == (S.COOLDOWN, D("0.01"), D(1))


# -- dust: a long worth less than the minimum order is set aside, sold with the next exit ----


def test_a_long_never_sold_from_set_aside_is_flat_with_all_of_it_as_dust() -> None:
    long = run(
        Position(M),
        tr.EntrySubmitted("e1"),
        tr.EntryFilled(D("0.3"), D(100), D("0.015"), True, bar(0)),
    )
    flat, events = apply(long, tr.SetAside("under the minimum", bar(2)), RULES)
    assert (flat.state, flat.volume, flat.dust) == (S.FLAT, 0, D("0.3"))
    assert flat.dust_cost == D("30.015")  # what it cost, its buy fee included
    assert (flat.entry_volume, flat.entry_cost, flat.entry_fees) == (0, 0, 0)
    assert events == []
    assert can_enter(flat, bar(2), RULES) == (True, "ok")  # dust blocks no entry


def test_an_exit_leaving_dust_closes_the_round_trip_on_what_it_sold() -> None:
    p = run(
        in_state(S.EXITING),  # 1 bought at 100 (fee 0.05), selling
        tr.ExitFilled(D("0.9997"), D(110), D("0.05"), False, bar(3)),
        tr.ExitFailed("done"),
    )
    assert (p.state, p.volume) == (S.LONG, D("0.0003"))
    closed, events = apply(p, tr.SetAside("remainder under the minimum", bar(3)), RULES)
    assert closed.state is S.COOLDOWN
    assert (closed.volume, closed.dust) == (0, D("0.0003"))
    assert closed.dust_cost == D("0.030015")  # 0.0003 x 100 and 0.0003 of the 0.05 buy fee
    assert closed.cooldown_remaining == RULES.cooldown_candles
    [event] = events
    assert isinstance(event, ev.PositionClosed)
    assert (event.volume, event.entry_price, event.exit_price) == (D("0.9997"), D(100), D(110))
    assert event.fees_krw == D("0.049985") + D("0.05")
    assert event.pnl_krw == D("0.9997") * 10 - event.fees_krw  # the dust's cost is no loss
    assert (event.reason, event.at) == ("signal", bar(3))


def test_the_next_exit_sells_the_dust_along_and_the_sums_stay_exact() -> None:
    dusty = Position(M, dust=D("0.0003"), dust_cost=D("0.03"))
    long = run(dusty, tr.EntrySubmitted("e2"), tr.EntryFilled(D(1), D(120), D(0), True, bar(5)))
    assert (long.volume, long.dust, long.holding) == (D(1), D("0.0003"), D("1.0003"))
    exiting, _ = apply(long, tr.ExitSubmitted("x2", ExitReason.STOP, D("0.0003")), RULES)
    assert (exiting.volume, exiting.dust, exiting.dust_cost) == (D("1.0003"), 0, 0)
    assert exiting.entry_cost == D("120.03")
    closed, events = apply(exiting, tr.ExitFilled(D("1.0003"), D(130), D(0), True, bar(6)), RULES)
    assert (closed.state, closed.holding) == (S.COOLDOWN, 0)
    [event] = events
    assert isinstance(event, ev.PositionClosed)
    assert event.volume == D("1.0003")
    assert event.pnl_krw == D("1.0003") * 130 - D("120.03")


def test_part_of_the_dust_takes_its_share_of_the_cost() -> None:
    long = run(
        Position(M, dust=D("0.3"), dust_cost=D(30)),
        tr.EntrySubmitted("e1"),
        tr.EntryFilled(D(1), D(100), D(0), True, bar(0)),
    )
    p, _ = apply(long, tr.ExitSubmitted("x1", ExitReason.MANUAL, D("0.1")), RULES)
    assert (p.volume, p.dust, p.dust_cost, p.entry_cost) == (D("1.1"), D("0.2"), D(20), D(110))


def test_dust_cannot_be_overdrawn_and_nothing_cannot_be_set_aside() -> None:
    long = in_state(S.LONG)
    with pytest.raises(InvalidTrigger):
        apply(long, tr.ExitSubmitted("x2", ExitReason.MANUAL, D("0.1")), RULES)
    with pytest.raises(InvalidTrigger):
        apply(long, tr.ExitSubmitted("x2", ExitReason.MANUAL, D("-1")), RULES)
    entered = run(
        Position(M),
        tr.EntrySubmitted("e1"),
        tr.EntryFilled(D(1), D(100), D(0), False, bar(0)),
    )
    zero = dataclasses.replace(entered, state=S.LONG, intent_id=None, volume=D(0))
    with pytest.raises(InvalidTrigger):
        apply(zero, tr.SetAside("?"), RULES)


def test_an_intrabar_trigger_may_enter_after_the_exit_in_its_candle() -> None:
    """Issue #13: the volatility breakout sells at the day's open and may buy the same day,
    once the exit has filled and when no cooldown candle remains; a candle-close signal on
    that candle still may not."""
    rules = PositionRules(60)  # no cooldown
    p = run(in_state(S.LONG), tr.ExitSubmitted("x1", ExitReason.SIGNAL))
    assert can_enter(p, bar(10), rules, intrabar=True) == (False, "position is exiting")
    p, _ = apply(p, tr.ExitFilled(D(1), D(90), D(0), True, bar(10)), rules)
    assert (p.state, p.cooldown_remaining) == (S.COOLDOWN, 0)
    assert can_enter(p, bar(10), rules) == (False, "cooldown: 0 candle(s) remain")
    assert can_enter(p, bar(10), rules, intrabar=True) == (True, "ok")
    p, _ = apply(p, tr.EntrySubmitted("e2"), rules)
    assert (p.state, p.exit_bar) == (S.ENTERING, bar(10))


def test_an_intrabar_trigger_waits_out_a_cooldown() -> None:
    p = in_state(S.COOLDOWN)  # 2 candles of cooldown left
    assert can_enter(p, bar(3), intrabar=True) == (False, "cooldown: 2 candle(s) remain")
    with pytest.raises(IllegalTransition):
        apply(p, tr.EntrySubmitted("e2"), RULES)
