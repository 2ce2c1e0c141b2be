"""An admin's explicit lift of a daily-loss or drawdown halt (``/reset``), with its numbers.

These halts otherwise end only on their own terms (a new trading day; equity back near its
peak), and they survive restarts, so a person must be able to overrule them. ``preview``
shows what would be lifted without lifting it; ``apply`` lifts it: ``daily_loss`` is waived
for the rest of the trading day (it does not trip again before the next one), ``drawdown``
re-bases the peak to the current equity (a new fall from there trips again). The breakers
announce it (``HaltChanged``); the facade persists the memory and the dispatcher audits it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from trading.engine.core import Engine
from trading.refusal import Code, Refused
from trading.risk.decision import trading_day

ResettableHalt = Literal["daily_loss", "drawdown"]
RESETTABLE: tuple[ResettableHalt, ...] = ("daily_loss", "drawdown")


@dataclass(frozen=True, slots=True)
class HaltReset:
    """One halt before (``preview``) or as it was when lifted (``apply``), with its numbers."""

    halt: ResettableHalt
    tripped: bool  # it was refusing entries
    reason: str | None  # the trip's sentence (English, for logs)
    values: tuple[tuple[str, str], ...]  # the trip's numbers (code = ``halt``), for chat
    day: date  # the trading day a daily-loss waiver lasts for
    at: datetime  # market time of the reset
    day_loss: Decimal  # today's loss so far (>= 0)
    loss_limit: Decimal
    equity: Decimal  # the new peak, for a drawdown reset
    peak: Decimal | None  # the peak before
    drawdown_pct: Decimal
    drawdown_limit: Decimal


async def preview(engine: Engine, halt: str) -> HaltReset:
    """The halt's state now, as ``/risk`` measures it (so the day rolls first if it must)."""
    if halt not in RESETTABLE:
        known = ", ".join(RESETTABLE)
        raise Refused(
            Code.HALT_NOT_RESETTABLE,
            f"{halt!r} cannot be reset (known: {known})",
            halt=halt,
            known=known,
        )
    at = engine.market_time()
    ctx = await engine.risk_context()
    gate = engine.gate
    gate.observe(at, ctx)
    breaker = gate.daily_loss if halt == "daily_loss" else gate.drawdown
    return HaltReset(
        halt="daily_loss" if halt == "daily_loss" else "drawdown",
        tripped=breaker.trip_reason is not None,
        reason=breaker.trip_reason,
        values=breaker.trip_values if breaker.trip_reason is not None else (),
        day=trading_day(at, gate.limits.zone),
        at=at,
        day_loss=max(Decimal(0), -ctx.day_pnl),
        loss_limit=gate.limits.daily_loss_limit_krw,
        equity=ctx.equity,
        peak=gate.drawdown.peak,
        drawdown_pct=gate.drawdown.drawdown_pct,
        drawdown_limit=gate.limits.max_drawdown_pct,
    )


async def apply(engine: Engine, halt: str, *, by: str) -> HaltReset:
    """Lift ``halt`` and return how it stood just before; persists the risk memory.

    A daily-loss halt that is not tripped is refused (``Refused``): waiving a limit that
    has not been reached would switch it off for the day, which no one asked to see.
    """
    before = await preview(engine, halt)
    if before.halt == "daily_loss":
        if not before.tripped:
            raise Refused(
                Code.HALT_NOT_TRIPPED, "the daily loss halt is not tripped: nothing to lift"
            )
        engine.gate.daily_loss.reset(before.at, by=by)
    else:
        engine.gate.drawdown.reset_peak(before.at, before.equity, by=by)
    await engine.remember_risk()
    return before
