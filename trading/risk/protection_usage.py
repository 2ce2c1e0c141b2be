"""The ``/risk`` lines of the protections and of the cooldown after an exit.

Each line says how the protection is set and, while it pauses entries, what it locks and until
when (the bot's zone). The cooldown (freqtrade's CooldownPeriod) is the position state
machine's, shown here from the candles each cooling market has left (``RiskContext.cooling``).
"""

from __future__ import annotations

from datetime import datetime

from trading.risk.decision import LimitUsage, local_time, pct
from trading.risk.limits import RiskLimits
from trading.risk.memory import ProtectionLock
from trading.risk.protections import Protections

Values = tuple[tuple[str, str], ...]


def protection_usage(
    protections: Protections,
    limits: RiskLimits,
    cooling: tuple[tuple[str, int], ...],
) -> tuple[LimitUsage, ...]:
    """Cooldown, stoploss guard, drawdown guard and low-profit guard, in that order."""
    return (
        _cooldown(limits, cooling),
        _stoploss_guard(protections, limits),
        _drawdown_guard(protections, limits),
        _low_profit(protections, limits),
    )


def _locked(locks: list[ProtectionLock], limits: RiskLimits) -> str:
    """``KRW-BTC (→ 2025-06-19 13:10 Asia/Seoul), ...`` or ``-``."""
    parts = [f"{lock.market} (→ {local_time(lock.until, limits.zone)})" for lock in locks]
    return ", ".join(parts) or "-"


def _window(trades: int, lookback: int, pause: int) -> Values:
    """The settings every guard has: how many trades, within how many minutes, pausing how
    many minutes."""
    return (("trades", str(trades)), ("lookback", str(lookback)), ("pause", str(pause)))


def _paused_all(
    name: str, text: str, until: datetime, limits: RiskLimits, values: Values
) -> LimitUsage:
    """A guard's line while its lock pauses every market: the settings, then until when
    (code ``<name>_locked``)."""
    shown = local_time(until, limits.zone)
    return LimitUsage(
        name,
        f"{text}; paused until {shown}",
        True,
        code=f"{name}_locked",
        values=(*values, ("until", shown)),
    )


def _cooldown(limits: RiskLimits, cooling: tuple[tuple[str, int], ...]) -> LimitUsage:
    candles, stop = limits.cooldown_candles, limits.stop_cooldown_candles
    if candles == 0 and stop == 0:
        return LimitUsage("cooldown", "no cooldown after an exit", code="cooldown_off")
    markets = ", ".join(f"{m} ({left})" for m, left in sorted(cooling)) or "-"
    return LimitUsage(
        "cooldown",
        f"cooldown {candles} candle(s) after an exit, {stop} after a stop"
        f" (cooling down, candles left: {markets})",
        bool(cooling),
        code="cooldown_on",
        values=(("candles", str(candles)), ("stop", str(stop)), ("markets", markets)),
    )


def _stoploss_guard(protections: Protections, limits: RiskLimits) -> LimitUsage:
    locks = protections.active("stoploss_guard")
    if limits.stoploss_guard_trades == 0:
        return LimitUsage("stoploss_guard", "stoploss guard off", code="stoploss_guard_off")
    settings = _window(
        limits.stoploss_guard_trades,
        limits.stoploss_guard_lookback_minutes,
        limits.stoploss_guard_pause_minutes,
    )
    head = (
        f"{limits.stoploss_guard_trades} losing stops within"
        f" {limits.stoploss_guard_lookback_minutes} min pause"
    )
    pause = f"for {limits.stoploss_guard_pause_minutes} min"
    if locks and locks[0].market is None:
        text = f"stoploss guard: {head} every market {pause}"
        return _paused_all("stoploss_guard", text, locks[0].until, limits, settings)
    per_market = limits.stoploss_guard_per_market
    locked = _locked(locks, limits)
    return LimitUsage(
        "stoploss_guard",
        f"stoploss guard: {head} {'that market' if per_market else 'every market'} {pause}"
        f" (paused: {locked})",
        bool(locks),
        code="stoploss_guard_market_on" if per_market else "stoploss_guard_on",
        values=(*settings, ("locked", locked)),
    )


def _drawdown_guard(protections: Protections, limits: RiskLimits) -> LimitUsage:
    if limits.drawdown_guard_pct == 0:
        return LimitUsage("drawdown_guard", "drawdown guard off", code="drawdown_guard_off")
    locks = protections.active("drawdown_guard")
    values = (
        ("limit", pct(limits.drawdown_guard_pct)),
        *_window(
            limits.drawdown_guard_trades,
            limits.drawdown_guard_lookback_minutes,
            limits.drawdown_guard_pause_minutes,
        ),
    )
    text = (
        f"drawdown guard: trades closed within {limits.drawdown_guard_lookback_minutes} min"
        f" (at least {limits.drawdown_guard_trades}) falling over"
        f" {pct(limits.drawdown_guard_pct)}% pause every market for"
        f" {limits.drawdown_guard_pause_minutes} min"
    )
    if locks:
        until = max(lock.until for lock in locks)
        return _paused_all("drawdown_guard", text, until, limits, values)
    return LimitUsage("drawdown_guard", text, code="drawdown_guard_on", values=values)


def _low_profit(protections: Protections, limits: RiskLimits) -> LimitUsage:
    if limits.low_profit_trades == 0:
        return LimitUsage("low_profit", "low-profit guard off", code="low_profit_off")
    locks = protections.active("low_profit")
    locked = _locked(locks, limits)
    return LimitUsage(
        "low_profit",
        f"low-profit guard: a market returning under {pct(limits.low_profit_pct)}% over"
        f" {limits.low_profit_trades}+ trades within {limits.low_profit_lookback_minutes} min"
        f" pauses for {limits.low_profit_pause_minutes} min (paused: {locked})",
        bool(locks),
        code="low_profit_on",
        values=(
            ("required", pct(limits.low_profit_pct)),
            *_window(
                limits.low_profit_trades,
                limits.low_profit_lookback_minutes,
                limits.low_profit_pause_minutes,
            ),
            ("locked", locked),
        ),
    )
