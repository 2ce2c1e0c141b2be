"""Shared builders for the position tests: one market, a 1-minute candle, fixed times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from trading.positions import ExitReason, Position, PositionRules, PositionState, apply
from trading.positions import triggers as tr

M = "KRW-BTC"
T0 = datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
RULES = PositionRules(timeframe_s=60, cooldown_candles=2, stop_cooldown_candles=5)
D = Decimal


def bar(i: int) -> datetime:
    """Start of the i-th one-minute candle after T0."""
    return T0 + timedelta(minutes=i)


def run(p: Position, *triggers: tr.Trigger, rules: PositionRules = RULES) -> Position:
    for trigger in triggers:
        p, _ = apply(p, trigger, rules)
    return p


def in_state(state: PositionState) -> Position:
    """A position that reached ``state`` the ordinary way (volume 1 at 100 KRW)."""
    steps: list[tr.Trigger] = [
        tr.EntrySubmitted("e1"),
        tr.EntryFilled(D(1), D(100), D("0.05"), True, bar(0)),
        tr.ExitSubmitted("x1", ExitReason.SIGNAL),
        tr.ExitFilled(D(1), D(110), D("0.055"), True, bar(3)),
    ]
    count = {
        PositionState.FLAT: 0,
        PositionState.ENTERING: 1,
        PositionState.LONG: 2,
        PositionState.EXITING: 3,
        PositionState.COOLDOWN: 4,
    }[state]
    p = run(Position(M), *steps[:count])
    assert p.state is state
    return p
