"""The live engine's rules, asked once and cached: how long after an exit a market may re-enter.

The position state machine (``trading.positions``) decides re-entry from candle times only,
so the answer depends on the exit reason alone, not on when the exit happened. Running the
real machine once per reason through a whole round trip gives the delay the backtester uses;
it is not a second copy of the cooldown rules.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from trading.positions import ExitReason, Position, PositionRules, apply, can_enter
from trading.positions import triggers as tr

_T0 = datetime(2000, 1, 3, tzinfo=UTC)  # aligned to every timeframe that divides a day
_ONE = Decimal(1)


def reentry_delay(rules: PositionRules, reason: ExitReason) -> int:
    """Bars after the exit candle until a signal may enter again (0 = the exit candle itself)."""
    return after_exit(rules, reason, intrabar=False)


def after_exit(rules: PositionRules, reason: ExitReason, *, intrabar: bool) -> int:
    """``reentry_delay`` for a candle-close signal, or for an intra-candle trigger
    (``intrabar``): candles after the exit candle until it may buy (0: in the exit candle,
    after the exit, for a trigger; the candle's own close, for a signal)."""
    position = Position("KRW-X")
    for trigger in (
        tr.EntrySubmitted("entry"),
        tr.EntryFilled(_ONE, _ONE, Decimal(0), False, _T0, "entry"),
        tr.EntryFailed("order cancel", "entry"),
        tr.ExitSubmitted("exit", reason),
        tr.ExitFilled(_ONE, _ONE, Decimal(0), False, _T0, "exit"),
        tr.ExitFailed("order done", "exit"),
    ):
        position, _ = apply(position, trigger, rules)
    step = timedelta(seconds=rules.timeframe_s)
    if intrabar and can_enter(position, _T0, rules, intrabar=True)[0]:
        return 0
    limit = max(rules.cooldown_candles, rules.stop_cooldown_candles) + 3
    for bars in range(limit):
        bar = _T0 + bars * step
        position, _ = apply(position, tr.BarClosed(bar), rules)
        if intrabar and can_enter(position, bar + step, rules, intrabar=True)[0]:
            return bars + 1  # the trigger of the candle after this one
        if not intrabar and can_enter(position, bar, rules)[0]:
            return bars
    raise AssertionError(f"no re-entry within {limit} candles after a {reason} exit")
