"""Protections: pauses that closed trades earn (freqtrade's StoplossGuard, MaxDrawdown and
LowProfitPairs), judged once per closed round trip, in market time.

Each round trip arrives as a ``ClosedTrade`` (``on_trade_closed``: the engine when a position
closes, the backtester in its exit). A protection that trips locks one market, or all of them,
from the exit's time for its pause; a lock lifts when market time (a candle's end, an entry's
``bar_time``) reaches its end. A trip and a lift are one ``ProtectionTripped`` and one
``ProtectionLifted`` each; an entry into a locked market is ``Denied`` like any other check.
Nothing reads the wall clock, so a backtest replays the locks of a paper or live run, and the
work is per closed trade, never per candle, and a window is read in two bisects
(``trading.risk.tape``), not walked.

* **stoploss guard**: ``stoploss_guard_trades`` losing stop exits (``STOP_EXITS``) within the
  lookback pause every market, or only the stopped market (``stoploss_guard_per_market``).
* **drawdown guard**: the returns of the trades closed within the lookback (at least
  ``drawdown_guard_trades``), summed in exit order, end more than ``drawdown_guard_pct`` below
  their best (the window's start included): every market pauses. Unlike ``max_drawdown_pct``
  (equity from its all-time peak) it forgets what is older than its lookback.
* **low-profit guard**: a market whose trades within the lookback (at least
  ``low_profit_trades``) return less than ``low_profit_pct`` in sum pauses.

A trip counts its trades once. The trades a guard judged when it tripped (every trade of its
scope closed up to that exit, ``counted``) stay on the tape for the other guards but no longer
count towards that guard's next trip: it trips again only when enough trades closed after the
last trip earn it on their own. Judging the whole lookback at every close instead kept the
trades of one bad hour in the window for hours: after the pause the next close, even a winning
one, tripped the guard again (another push, another pause), and every close while a lock held
pushed it further, until the old trades left the window. A close during a lock that is not a
new trip by itself leaves the lock and its end alone. What each guard counted is part of its
memory, so a restart does not count the same trades twice either.

freqtrade's fourth, CooldownPeriod, is the cooldown after every exit that the position state
machine already keeps (``cooldown_candles``, ``stop_cooldown_candles``); ``/risk`` lists it
with these. A lock whose protection is switched off (``/set``) lifts at the next look.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from trading.events import EventSink, ProtectionLifted, ProtectionTripped, ignore_event
from trading.risk.decision import APPROVED, Decision, Denied, local_time, pct
from trading.risk.limits import RiskLimits
from trading.risk.memory import (
    ClosedTrade,
    ProtectionCount,
    ProtectionLock,
    ProtectionMemory,
    Values,
)
from trading.risk.tape import TradeTape, losing_stop

#: the protections, in the order a refusal names them
NAMES = ("stoploss_guard", "drawdown_guard", "low_profit")
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


def enabled(name: str, limits: RiskLimits) -> bool:
    """Whether protection ``name`` is switched on in ``limits``."""
    if name == "stoploss_guard":
        return limits.stoploss_guard_trades > 0
    if name == "drawdown_guard":
        return limits.drawdown_guard_pct > 0
    return limits.low_profit_trades > 0


def any_enabled(limits: RiskLimits) -> bool:
    return (
        limits.stoploss_guard_trades > 0
        or limits.drawdown_guard_pct > 0
        or limits.low_profit_trades > 0
    )


@dataclass(frozen=True, slots=True)
class _Windows:
    """The lookbacks of one ``RiskLimits`` as timedeltas (asked once per closed trade)."""

    stoploss_guard: timedelta
    drawdown_guard: timedelta
    low_profit: timedelta
    longest: timedelta

    @classmethod
    def of(cls, limits: RiskLimits) -> _Windows:
        stops, drawdown, low = (
            timedelta(minutes=limits.stoploss_guard_lookback_minutes),
            timedelta(minutes=limits.drawdown_guard_lookback_minutes),
            timedelta(minutes=limits.low_profit_lookback_minutes),
        )
        return cls(stops, drawdown, low, max(stops, drawdown, low))


class Protections:
    """The recent closed trades and the locks they earned; fed by ``on_trade_closed``."""

    def __init__(self, sink: EventSink = ignore_event) -> None:
        self._sink = sink
        self.tape = TradeTape()  # every market's trades, in exit order
        self.markets: dict[str, TradeTape] = {}  # each market's own
        self.locks: dict[tuple[str, str | None], ProtectionLock] = {}
        #: per (protection, market or None): the exit time of its last trip; the trades closed
        #: up to it were counted and do not count towards its next trip
        self.counted: dict[tuple[str, str | None], datetime] = {}
        self._windows: tuple[RiskLimits, _Windows] | None = None

    def windows(self, limits: RiskLimits) -> _Windows:
        """``limits``' lookbacks, remembered while the same limits are in force."""
        seen = self._windows
        if seen is None or seen[0] is not limits:
            seen = self._windows = (limits, _Windows.of(limits))
        return seen[1]

    @property
    def trades(self) -> list[ClosedTrade]:
        """The trades still looked back on, in exit order."""
        return self.tape.kept()

    # -- memory --------------------------------------------------------------------------------

    def memory(self) -> ProtectionMemory:
        locks = sorted(self.locks.values(), key=lambda k: (k.protection, k.market or ""))
        counted = sorted(
            (
                ProtectionCount(name, market, through)
                for (name, market), through in self.counted.items()
            ),
            key=lambda c: (c.protection, c.market or ""),
        )
        return ProtectionMemory(tuple(self.tape.kept()), tuple(locks), tuple(counted))

    def restore(self, memory: ProtectionMemory) -> None:
        """Take back the trades, locks and counts of a stored memory (a restart): a lock still
        holds until its end, and the trades no trip counted yet still count towards the next."""
        self.tape, self.markets = TradeTape(), {}
        for trade in sorted(memory.trades, key=lambda t: t.at):
            self._add(trade)
        self.locks = {(lock.protection, lock.market): lock for lock in memory.locks}
        self.counted = {(c.protection, c.market): c.through for c in memory.counted}
        for key, lock in self.locks.items():
            pause = dict(lock.values).get("pause", "")
            if key not in self.counted and pause.isdigit():
                # a memory from before the counts (version 2): the lock's trip counted the
                # trades up to its exit, which is its end less its pause
                self.counted[key] = lock.until - timedelta(minutes=int(pause))

    # -- the feed ------------------------------------------------------------------------------

    def on_trade_closed(self, trade: ClosedTrade, limits: RiskLimits) -> None:
        """Judge every protection after ``trade`` closed; a trip locks from ``trade.at``.

        A report older than the last one counts at the last one's time (exits arrive in market
        time order; the windows stay two bisects)."""
        times = self.tape.times
        if times and trade.at < times[-1]:
            trade = dataclasses.replace(trade, at=times[-1])
        self._add(trade)
        windows = self.windows(limits)
        cutoff = trade.at - windows.longest
        self.tape.forget(cutoff)
        self.markets[trade.market].forget(cutoff)
        if self.counted:  # a count older than every window restricts nothing any more
            self.counted = {k: at for k, at in self.counted.items() if at > cutoff}
        if self.locks:
            self.observe(trade.at, limits)
        if limits.stoploss_guard_trades > 0 and losing_stop(trade):
            self._stoploss_guard(trade, limits, windows.stoploss_guard)
        if limits.drawdown_guard_pct > 0:
            self._drawdown_guard(trade, limits, windows.drawdown_guard)
        if limits.low_profit_trades > 0:
            self._low_profit(trade, limits, windows.low_profit)

    def observe(self, now: datetime, limits: RiskLimits) -> None:
        """Lift the locks that ended by ``now`` (or whose protection was switched off)."""
        if not self.locks:
            return
        for key, lock in list(self.locks.items()):
            ended = lock.until <= now
            if ended or not enabled(lock.protection, limits):
                del self.locks[key]
                self._lifted(lock, lock.until if ended else now)

    def check(self, market: str, now: datetime, limits: RiskLimits) -> Decision:
        """Refuse an entry into ``market`` at ``now`` while a lock covers it."""
        if not self.locks:
            return APPROVED
        self.observe(now, limits)
        for name in NAMES:
            lock = self.locks.get((name, None)) or self.locks.get((name, market))
            if lock is not None:
                return Denied("protection", lock.reason, code=lock.code, values=lock.values)
        return APPROVED

    def active(self, name: str) -> list[ProtectionLock]:
        """The locks of protection ``name``, all-market first, then by market."""
        found = [lock for (n, _), lock in self.locks.items() if n == name]
        return sorted(found, key=lambda k: k.market or "")

    def blocks_all(self) -> bool:
        """Some lock pauses every market."""
        return any(market is None for _, market in self.locks)

    def _add(self, trade: ClosedTrade) -> None:
        self.tape.add(trade)
        market = self.markets.get(trade.market)
        if market is None:
            market = self.markets[trade.market] = TradeTape()
        market.add(trade)

    # -- the three protections -----------------------------------------------------------------

    def _stoploss_guard(self, trade: ClosedTrade, limits: RiskLimits, back: timedelta) -> None:
        minutes = limits.stoploss_guard_lookback_minutes
        scope = trade.market if limits.stoploss_guard_per_market else None
        tape = self.tape if scope is None else self.markets[scope]
        stops = tape.losing_stops(self._start(tape, "stoploss_guard", scope, trade.at - back))
        if stops < limits.stoploss_guard_trades:
            return
        where = f" on {scope}" if scope else ""
        values: Values = (("stops", str(stops)), ("lookback", str(minutes)))
        if scope is not None:
            values = (("market", scope), *values)
        self._lock(
            "stoploss_guard",
            scope,
            trade,
            limits,
            limits.stoploss_guard_pause_minutes,
            f"{stops} losing stop exits{where} within {minutes} min",
            "stoploss_guard_market" if scope else "stoploss_guard",
            values,
        )

    def _drawdown_guard(self, trade: ClosedTrade, limits: RiskLimits, back: timedelta) -> None:
        minutes, tape = limits.drawdown_guard_lookback_minutes, self.tape
        start = self._start(tape, "drawdown_guard", None, trade.at - back)
        count = tape.count(start)
        if count < limits.drawdown_guard_trades:
            return
        drawdown = tape.drawdown(start) * _HUNDRED
        limit = limits.drawdown_guard_pct
        if drawdown <= limit:
            return
        self._lock(
            "drawdown_guard",
            None,
            trade,
            limits,
            limits.drawdown_guard_pause_minutes,
            f"the {count} trades closed within {minutes} min fell {pct(drawdown)}% from"
            f" their best, more than the {pct(limit)}% limit",
            "drawdown_guard",
            (
                ("trades", str(count)),
                ("lookback", str(minutes)),
                ("drawdown", pct(drawdown)),
                ("limit", pct(limit)),
            ),
        )

    def _low_profit(self, trade: ClosedTrade, limits: RiskLimits, back: timedelta) -> None:
        minutes, market = limits.low_profit_lookback_minutes, trade.market
        tape = self.markets[market]
        start = self._start(tape, "low_profit", market, trade.at - back)
        count = tape.count(start)
        if count < limits.low_profit_trades:
            return
        profit = tape.total(start) * _HUNDRED
        required = limits.low_profit_pct
        if profit >= required:
            return
        self._lock(
            "low_profit",
            market,
            trade,
            limits,
            limits.low_profit_pause_minutes,
            f"{market} returned {pct(profit)}% over its {count} trades within {minutes} min,"
            f" less than the required {pct(required)}%",
            "low_profit",
            (
                ("market", market),
                ("profit", pct(profit)),
                ("trades", str(count)),
                ("lookback", str(minutes)),
                ("required", pct(required)),
            ),
        )

    def _start(self, tape: TradeTape, name: str, scope: str | None, cutoff: datetime) -> int:
        """The first trade of ``tape`` that guard ``name`` (on ``scope``) judges: closed after
        ``cutoff`` (its lookback) and after its last trip's exit (those it counted then)."""
        counted = self.counted.get((name, scope))
        return tape.since(cutoff if counted is None or counted < cutoff else counted)

    # -- locks and their events ----------------------------------------------------------------

    def _lock(
        self,
        name: str,
        market: str | None,
        trade: ClosedTrade,
        limits: RiskLimits,
        pause_minutes: int,
        what: str,
        code: str,
        values: Values,
    ) -> None:
        """Lock ``market`` (None: all) from the exit for the pause, and mark the trades up to
        this exit counted; a lock already reaching further stays as it is."""
        until = trade.at + timedelta(minutes=pause_minutes)
        self.counted[(name, market)] = trade.at
        old = self.locks.get((name, market))
        if old is not None and old.until >= until:
            return
        when = local_time(until, limits.zone)
        into = f" into {market}" if market else ""
        lock = ProtectionLock(
            protection=name,
            market=market,
            until=until,
            reason=f"{what}: no new entries{into} until {when}",
            code=code,
            values=(*values, ("pause", str(pause_minutes)), ("until", when)),
        )
        self.locks[(name, market)] = lock
        if self._sink is ignore_event:  # a backtest: nobody to tell
            return
        self._sink(
            ProtectionTripped(
                protection=name,
                market=market,
                until=until,
                reason=lock.reason,
                code=lock.code,
                values=lock.values,
                at=trade.at,
            )
        )

    def _lifted(self, lock: ProtectionLock, at: datetime) -> None:
        if self._sink is ignore_event:  # a backtest: nobody to tell
            return
        where = f" on {lock.market}" if lock.market else ""
        label = lock.protection.replace("_", " ")
        self._sink(
            ProtectionLifted(
                protection=lock.protection,
                market=lock.market,
                reason=f"the {label}{where} ended: entries allowed again",
                code=f"{lock.code}_lifted",
                values=(("market", lock.market),) if lock.market else (),
                at=at,
            )
        )


def summed_drawdown(profits: Iterable[Decimal]) -> Decimal:
    """How far the running sum of ``profits`` (ratios) ends below its best, the start (0)
    included: (-0.02, -0.015, +0.01) ends 0.025 below; what the drawdown guard measures
    (``TradeTape.drawdown`` answers the same for a window without walking it)."""
    total = best = _ZERO
    for profit in profits:
        total += profit
        best = max(best, total)
    return best - total
