"""Protections: pauses that closed trades earn (freqtrade's StoplossGuard, MaxDrawdown and
LowProfitPairs), judged once per closed round trip, in market time.

Each round trip arrives as a ``ClosedTrade`` (``on_trade_closed``: the engine when a position
closes, the backtester in its exit). A protection that trips locks one market, or all of them,
from the exit's time for its pause; a lock lifts when market time (a candle's end, an entry's
``bar_time``) reaches its end. A trip and a lift are one ``ProtectionTripped`` and one
``ProtectionLifted`` each; an entry into a locked market is ``Denied`` like any other check.
Nothing reads the wall clock, so a backtest replays the locks of a paper or live run, and the
work is per closed trade, never per candle.

* **stoploss guard**: ``stoploss_guard_trades`` losing stop exits (``STOP_EXITS``) within the
  lookback pause every market, or only the stopped market (``stoploss_guard_per_market``).
* **drawdown guard**: the returns of the trades closed within the lookback (at least
  ``drawdown_guard_trades``), summed in exit order, fall more than ``drawdown_guard_pct`` from
  their best: every market pauses. Unlike ``max_drawdown_pct`` it forgets what is older.
* **low-profit guard**: a market whose trades within the lookback (at least
  ``low_profit_trades``) return less than ``low_profit_pct`` in sum pauses.

freqtrade's fourth, CooldownPeriod, is the cooldown after every exit that the position state
machine already keeps (``cooldown_candles``, ``stop_cooldown_candles``); ``/risk`` lists it
with these. A lock whose protection is switched off (``/set``) lifts at the next look.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

from trading.events import EventSink, ProtectionLifted, ProtectionTripped, ignore_event
from trading.positions.model import STOP_EXITS
from trading.risk.decision import APPROVED, Decision, Denied, local_time, pct
from trading.risk.limits import RiskLimits
from trading.risk.memory import ClosedTrade, ProtectionLock, ProtectionMemory, Values

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


def lookback(limits: RiskLimits) -> timedelta:
    """The longest window any protection looks back on: older trades can be forgotten."""
    return timedelta(
        minutes=max(
            limits.stoploss_guard_lookback_minutes,
            limits.drawdown_guard_lookback_minutes,
            limits.low_profit_lookback_minutes,
        )
    )


class Protections:
    """The recent closed trades and the locks they earned; fed by ``on_trade_closed``."""

    def __init__(self, sink: EventSink = ignore_event) -> None:
        self._sink = sink
        self.trades: deque[ClosedTrade] = deque()  # in exit order
        self.locks: dict[tuple[str, str | None], ProtectionLock] = {}

    # -- memory --------------------------------------------------------------------------------

    def memory(self) -> ProtectionMemory:
        locks = sorted(self.locks.values(), key=lambda k: (k.protection, k.market or ""))
        return ProtectionMemory(tuple(self.trades), tuple(locks))

    def restore(self, memory: ProtectionMemory) -> None:
        """Take back the trades and locks of a stored memory (a restart): a lock still holds
        until its end, and the trades still count towards the next trip."""
        self.trades = deque(sorted(memory.trades, key=lambda t: t.at))
        self.locks = {(lock.protection, lock.market): lock for lock in memory.locks}

    # -- the feed ------------------------------------------------------------------------------

    def on_trade_closed(self, trade: ClosedTrade, limits: RiskLimits) -> None:
        """Judge every protection after ``trade`` closed; a trip locks from ``trade.at``."""
        trades = self.trades
        later: list[ClosedTrade] = []
        while trades and trades[-1].at > trade.at:  # a late report: keep the exit order
            later.append(trades.pop())
        trades.append(trade)
        trades.extend(reversed(later))
        cutoff = trade.at - lookback(limits)
        while trades and trades[0].at <= cutoff:
            trades.popleft()
        self.observe(trade.at, limits)
        if limits.stoploss_guard_trades > 0 and trade.reason in STOP_EXITS and trade.profit < 0:
            self._stoploss_guard(trade, limits)
        if limits.drawdown_guard_pct > 0:
            self._drawdown_guard(trade, limits)
        if limits.low_profit_trades > 0:
            self._low_profit(trade, limits)

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

    # -- the three protections -----------------------------------------------------------------

    def _window(self, now: datetime, minutes: int) -> list[ClosedTrade]:
        """The trades that closed within ``minutes`` before ``now`` (inclusive), in order."""
        cutoff = now - timedelta(minutes=minutes)
        found: list[ClosedTrade] = []
        for t in _newest_first(self.trades):
            if t.at <= cutoff:
                break
            if t.at <= now:
                found.append(t)
        found.reverse()
        return found

    def _stoploss_guard(self, trade: ClosedTrade, limits: RiskLimits) -> None:
        minutes = limits.stoploss_guard_lookback_minutes
        scope = trade.market if limits.stoploss_guard_per_market else None
        stops = sum(
            1
            for t in self._window(trade.at, minutes)
            if t.reason in STOP_EXITS and t.profit < 0 and (scope is None or t.market == scope)
        )
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

    def _drawdown_guard(self, trade: ClosedTrade, limits: RiskLimits) -> None:
        minutes = limits.drawdown_guard_lookback_minutes
        window = self._window(trade.at, minutes)
        if len(window) < limits.drawdown_guard_trades:
            return
        drawdown = summed_drawdown(t.profit for t in window) * _HUNDRED
        limit = limits.drawdown_guard_pct
        if drawdown <= limit:
            return
        self._lock(
            "drawdown_guard",
            None,
            trade,
            limits,
            limits.drawdown_guard_pause_minutes,
            f"the {len(window)} trades closed within {minutes} min fell {pct(drawdown)}% from"
            f" their best, more than the {pct(limit)}% limit",
            "drawdown_guard",
            (
                ("trades", str(len(window))),
                ("lookback", str(minutes)),
                ("drawdown", pct(drawdown)),
                ("limit", pct(limit)),
            ),
        )

    def _low_profit(self, trade: ClosedTrade, limits: RiskLimits) -> None:
        minutes, market = limits.low_profit_lookback_minutes, trade.market
        mine = [t.profit for t in self._window(trade.at, minutes) if t.market == market]
        if len(mine) < limits.low_profit_trades:
            return
        profit = sum(mine, _ZERO) * _HUNDRED
        required = limits.low_profit_pct
        if profit >= required:
            return
        self._lock(
            "low_profit",
            market,
            trade,
            limits,
            limits.low_profit_pause_minutes,
            f"{market} returned {pct(profit)}% over its {len(mine)} trades within {minutes} min,"
            f" less than the required {pct(required)}%",
            "low_profit",
            (
                ("market", market),
                ("profit", pct(profit)),
                ("trades", str(len(mine))),
                ("lookback", str(minutes)),
                ("required", pct(required)),
            ),
        )

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
        """Lock ``market`` (None: all) from the exit for the pause; a lock already reaching
        further stays as it is."""
        until = trade.at + timedelta(minutes=pause_minutes)
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


def summed_drawdown(profits: Iterator[Decimal] | list[Decimal]) -> Decimal:
    """The deepest fall of the running sum of ``profits`` (ratios) below its best so far,
    the start (0) included: (-0.02, -0.015, +0.01) falls 0.035."""
    total = best = worst = _ZERO
    for profit in profits:
        total += profit
        if total > best:
            best = total
        elif best - total > worst:
            worst = best - total
    return worst


def _newest_first(trades: deque[ClosedTrade]) -> Iterator[ClosedTrade]:
    return reversed(trades)
