"""Properties over arbitrary trigger sequences: one order in flight, no fill ever lost."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.positions._helpers import RULES, D, M, bar, run
from trading import events as ev
from trading.positions import (
    TRIGGER_NAMES,
    ExitReason,
    Position,
    PositionError,
    PositionState,
    apply,
    can_enter,
)
from trading.positions import triggers as tr

S = PositionState
volumes = st.integers(1, 10**9).map(lambda i: Decimal(i).scaleb(-8))
prices = st.integers(1, 10**9).map(lambda i: Decimal(i).scaleb(-2))
fees = st.integers(0, 10**6).map(lambda i: Decimal(i).scaleb(-4))


class PositionMachine(RuleBasedStateMachine):
    """Throws every trigger at the machine in every state; a refused trigger must change
    nothing, an accepted fill must be accounted for to the last unit."""

    def __init__(self) -> None:
        super().__init__()
        self.p = Position(M)
        self.bar = 0
        self.next_id = 0
        self.bought = D(0)  # every accepted entry fill
        self.sold = D(0)  # every accepted exit fill
        self.closed_volume = D(0)  # entry volume of every closed round trip
        self.cash = D(0)  # - cost - fees + proceeds, summed over accepted fills
        self.realized = D(0)  # PnL of every PositionClosed

    def step(self, trigger: tr.Trigger) -> bool:
        before = self.p
        try:
            self.p, events = apply(before, trigger, RULES)
        except PositionError:
            assert self.p is before
            event(f"refused {TRIGGER_NAMES[type(trigger)]} in {before.state.value}")
            return False
        event(f"{before.state.value} -{TRIGGER_NAMES[type(trigger)]}-> {self.p.state.value}")
        for published in events:
            if isinstance(published, ev.PositionClosed):
                self.closed_volume += published.volume
                self.realized += published.pnl_krw
        return True

    def new_id(self) -> str:
        self.next_id += 1
        return f"i{self.next_id}"

    @rule()
    def submit_entry(self) -> None:
        in_flight = self.p.intent_id is not None
        accepted = self.step(tr.EntrySubmitted(self.new_id()))
        assert not (accepted and in_flight), "a second order went in flight"

    @rule(volume=volumes, price=prices, fee=fees, complete=st.booleans())
    def fill_entry(self, volume: Decimal, price: Decimal, fee: Decimal, complete: bool) -> None:
        if self.step(tr.EntryFilled(volume, price, fee, complete, bar(self.bar))):
            self.bought += volume
            self.cash -= volume * price + fee

    @rule(reason=st.text(max_size=5))
    def fail_entry(self, reason: str) -> None:
        self.step(tr.EntryFailed(reason))

    @rule(reason=st.sampled_from(ExitReason), dust_share=st.sampled_from([0, 0, 50, 100]))
    def submit_exit(self, reason: ExitReason, dust_share: int) -> None:
        in_flight = self.p.intent_id is not None
        dust = (self.p.dust * dust_share / 100).quantize(D("1e-8"))
        accepted = self.step(tr.ExitSubmitted(self.new_id(), reason, dust))
        assert not (accepted and in_flight), "a second order went in flight"

    @rule(reason=st.text(max_size=5))
    def set_aside(self, reason: str) -> None:
        held = self.p.holding
        if self.step(tr.SetAside(reason, bar(self.bar))):
            assert self.p.holding == held  # nothing sold, nothing lost: dust
            assert self.p.state in (S.FLAT, S.COOLDOWN)

    @rule(
        share=st.one_of(st.just(100), st.integers(1, 120)),
        price=prices,
        fee=fees,
        complete=st.booleans(),
    )
    def fill_exit(self, share: int, price: Decimal, fee: Decimal, complete: bool) -> None:
        volume = (self.p.volume * share / 100).quantize(D("1e-8")) or D("1e-8")
        if self.step(tr.ExitFilled(volume, price, fee, complete, bar(self.bar))):
            self.sold += volume
            self.cash += volume * price - fee

    @rule(price=prices)
    def fill_exit_entirely(self, price: Decimal) -> None:
        volume = self.p.volume or D("1e-8")
        if self.step(tr.ExitFilled(volume, price, D(0), True, bar(self.bar))):
            self.sold += volume
            self.cash += volume * price

    @rule(reason=st.text(max_size=5))
    def fail_exit(self, reason: str) -> None:
        self.step(tr.ExitFailed(reason))

    @rule(bars=st.integers(0, 3))
    def candle(self, bars: int) -> None:
        self.step(tr.BarClosed(bar(self.bar)))
        self.bar += bars

    @rule(price=prices)
    def move_stop(self, price: Decimal) -> None:
        old = self.p.stop_price
        if self.step(tr.MoveStop(price)) and old is not None:
            assert self.p.stop_price is not None
            assert self.p.stop_price >= old

    @precondition(lambda self: self.p.state is S.FLAT)
    @rule()
    def reentry_rule(self) -> None:
        ok, _ = can_enter(self.p, bar(self.bar))
        if self.p.exit_bar is not None and bar(self.bar) <= self.p.exit_bar:
            assert not ok

    @invariant()
    def one_order_in_flight_exactly_while_entering_or_exiting(self) -> None:
        assert (self.p.intent_id is not None) == (self.p.state in (S.ENTERING, S.EXITING))

    @invariant()
    def no_fill_lost(self) -> None:
        p = self.p
        assert p.volume >= 0
        assert p.dust >= 0
        assert p.dust_cost >= 0
        assert self.bought == self.closed_volume + p.entry_volume + p.dust
        assert self.sold == self.closed_volume + p.exit_volume
        assert p.volume == p.entry_volume - p.exit_volume
        open_cash = p.exit_proceeds - p.entry_cost - p.fees
        # PnL exact to the last digit; the dust still carries its cost
        assert self.cash == self.realized + open_cash - p.dust_cost
        if p.state in (S.FLAT, S.COOLDOWN):
            assert (p.volume, p.entry_volume, p.exit_volume) == (D(0), D(0), D(0))
        if p.state is S.LONG:
            assert p.volume > 0


PositionMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=50)
TestPositionMachine = PositionMachine.TestCase


@settings(max_examples=200)
@given(
    parts=st.lists(volumes, min_size=1, max_size=8),
    exit_cut=st.integers(0, 7),
    entry_price=prices,
    exit_price=prices,
)
def test_pnl_does_not_depend_on_how_fills_split(
    parts: list[Decimal], exit_cut: int, entry_price: Decimal, exit_price: Decimal
) -> None:
    total = sum(parts, D(0))
    one = run(
        Position(M),
        tr.EntrySubmitted("e"),
        tr.EntryFilled(total, entry_price, D(0), True, bar(0)),
        tr.ExitSubmitted("x", ExitReason.SIGNAL),
    )
    many = run(
        Position(M),
        tr.EntrySubmitted("e"),
        *(tr.EntryFilled(v, entry_price, D(0), False, bar(0)) for v in parts),
        tr.EntryFailed("done"),
        tr.ExitSubmitted("x", ExitReason.SIGNAL),
    )
    assert (many.volume, many.entry_cost) == (one.volume, one.entry_cost)
    cut = min(exit_cut, len(parts) - 1)
    exits = [sum(parts[:cut], D(0)), sum(parts[cut:], D(0))]
    closing = [tr.ExitFilled(v, exit_price, D(0), False, bar(1)) for v in exits if v]
    _, events_many = apply(run(many, *closing), tr.ExitFailed("done"), RULES)
    _, events_one = apply(one, tr.ExitFilled(total, exit_price, D(0), True, bar(1)), RULES)
    (a,) = events_many
    (b,) = events_one
    assert isinstance(a, ev.PositionClosed)
    assert isinstance(b, ev.PositionClosed)
    assert a.pnl_krw == b.pnl_krw == total * (exit_price - entry_price)
