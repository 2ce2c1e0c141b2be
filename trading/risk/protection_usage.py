"""The ``/risk`` lines of the protections and of the cooldown after an exit.

Each line says how the protection is set and, while it pauses entries, what it locks and until
when (the bot's zone). The cooldown (freqtrade's CooldownPeriod) is the position state
machine's, shown here from the candles each cooling market has left (``RiskContext.cooling``).
"""

from __future__ import annotations

from trading.risk.decision import LimitUsage, local_time, pct
from trading.risk.limits import RiskLimits
from trading.risk.memory import ProtectionLock
from trading.risk.protections import Protections


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
    settings = (
        ("trades", str(limits.stoploss_guard_trades)),
        ("lookback", str(limits.stoploss_guard_lookback_minutes)),
        ("pause", str(limits.stoploss_guard_pause_minutes)),
    )
    head = (
        f"{limits.stoploss_guard_trades} losing stops within"
        f" {limits.stoploss_guard_lookback_minutes} min pause"
    )
    pause = f"for {limits.stoploss_guard_pause_minutes} min"
    if locks and locks[0].market is None:
        until = local_time(locks[0].until, limits.zone)
        return LimitUsage(
            "stoploss_guard",
            f"stoploss guard: {head} every market {pause}; paused until {until}",
            True,
            code="stoploss_guard_locked",
            values=(*settings, ("until", until)),
        )
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
        ("trades", str(limits.drawdown_guard_trades)),
        ("lookback", str(limits.drawdown_guard_lookback_minutes)),
        ("pause", str(limits.drawdown_guard_pause_minutes)),
    )
    text = (
        f"drawdown guard: trades closed within {limits.drawdown_guard_lookback_minutes} min"
        f" (at least {limits.drawdown_guard_trades}) falling over"
        f" {pct(limits.drawdown_guard_pct)}% pause every market for"
        f" {limits.drawdown_guard_pause_minutes} min"
    )
    if locks:
        until = local_time(max(lock.until for lock in locks), limits.zone)
        return LimitUsage(
            "drawdown_guard",
            f"{text}; paused until {until}",
            True,
            code="drawdown_guard_locked",
            values=(*values, ("until", until)),
        )
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
            ("trades", str(limits.low_profit_trades)),
            ("lookback", str(limits.low_profit_lookback_minutes)),
            ("pause", str(limits.low_profit_pause_minutes)),
            ("locked", locked),
        ),
    )
