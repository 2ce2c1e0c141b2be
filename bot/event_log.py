"""One line per event that matters, for the console and the log (in English, for operators;
chat messages are ``bot.notify.messages``, in the chat's language)."""

from __future__ import annotations

import string
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bot.by_event import ByEvent
from handlers.commands import research
from handlers.events import ResearchFinished
from handlers.fmt import catalog
from trading import events as ev


def _krw(value: Decimal) -> str:
    return f"{value.quantize(Decimal(1)):,}"


def _num(value: Decimal) -> str:
    return f"{value.normalize():f}"


#: one console line per event class that an operator reads there
DESCRIPTIONS: ByEvent[Callable[[Any], str]] = ByEvent()


def describe(event: ev.Event) -> str | None:
    """A short sentence, or None for events too frequent to print (candles, fills' echoes)."""
    line = DESCRIPTIONS.get(type(event))
    return None if line is None else line(event)


#: the format specs ``_says`` templates may use for amounts
_UNIT_FORMATS: dict[str, Callable[[Decimal], str]] = {"krw": _krw, "num": _num}


class _Units(string.Formatter):
    """``str.format`` that also knows the console's two amounts: ``{e.avg_price:krw}`` (whole
    KRW with separators) and ``{e.volume:num}`` (a plain number, no trailing zeros)."""

    def format_field(self, value: Any, format_spec: str) -> str:
        unit = _UNIT_FORMATS.get(format_spec)
        return unit(value) if unit is not None else super().format_field(value, format_spec)


_UNITS = _Units()


def _says(template: str) -> Callable[[Any], str]:
    """A describer that fills ``template`` from the event (``{e.market}``, ``{e.price:krw}``):
    for the lines that are the event's fields in a sentence, so each is one line of the table
    below."""
    return lambda event: _UNITS.format(template, e=event)


for _types, _template in (
    ((ev.RiskBreached,), "risk: {e.reason}"),
    ((ev.ProtectionTripped, ev.ProtectionLifted), "protection {e.protection}: {e.reason}"),
    ((ev.OrderRejected,), "{e.market}: order rejected ({e.name}): {e.reason}"),
    ((ev.OrderBecameUncertain,), "{e.market}: order {e.intent_id} outcome unknown: {e.reason}"),
    ((ev.RateLimitBanned,), "Upbit blocked the {e.group} group until {e.until:%H:%M:%S}"),
    ((ev.CircuitStateChanged,), "circuit {e.name}: {e.old} -> {e.new} ({e.reason})"),
    ((ev.FeedStalled, ev.FeedGapped, ev.FeedFailed), "feed: {e}"),
    ((ev.PositionOpened,), "{e.market}: bought {e.volume:num} at {e.avg_price:krw} KRW"),
    (
        (ev.PositionClosed,),
        "{e.market}: sold {e.volume:num} at {e.exit_price:krw} KRW ({e.reason}), PnL"
        " {e.pnl_krw:krw} KRW after {e.fees_krw:krw} KRW fees",
    ),
    (
        (ev.BookAdjusted,),
        "{e.market}: the account holds {e.exchange:num}, the book had {e.book:num}: adopted"
        " ({e.reason}), position {e.state}",
    ),
    (
        (ev.SettingRejected,),
        "stored setting {e.key} = {e.stored} refused at start ({e.reason}); {e.applies} applies",
    ),
):
    DESCRIPTIONS.on(*_types)(_says(_template))


@DESCRIPTIONS.on(ev.HaltChanged)
def _halt_changed(event: ev.HaltChanged) -> str:
    return f"halt {event.name} {'on' if event.active else 'off'}: {event.reason}"


@DESCRIPTIONS.on(ev.OrdersSuspended)
def _orders_suspended(event: ev.OrdersSuspended) -> str:
    return (
        f"{event.market}: {event.refusals} orders refused within {event.window_s} s "
        f"({', '.join(event.reasons)}): no more orders until /resume {event.market}"
    )


@DESCRIPTIONS.on(ResearchFinished)
def _research_finished(event: ResearchFinished) -> str:
    # the console's own jobs show here in full (in the asker's language); chat jobs get a
    # push with the chart
    title, lines, fields, _ = research.render(catalog(event.lang), event.outcome)
    facts = "; ".join(f"{name} {value}" for name, value in fields)
    return " | ".join(part for part in (title, *lines, facts) if part)


@DESCRIPTIONS.on(ev.Reconciled)
def _reconciled(event: ev.Reconciled) -> str:
    return (
        f"reconciled {event.checked} open order(s): settled {len(event.settled)}, "
        f"adopted {len(event.adopted)}, never placed {len(event.never_placed)}, "
        f"balance mismatches {len(event.mismatches)}"
    )


def _pct(value: float) -> str:
    return f"{value:.2f} %"


def outcome(return_pct: float, pnl_krw: Decimal) -> str:
    """``made 1.23 % (+12,300 KRW)`` or ``lost 0.53 % (-53,000 KRW)``: said plainly."""
    if pnl_krw < 0:
        return f"lost {_pct(-return_pct)} ({_krw(pnl_krw)} KRW)"
    if pnl_krw > 0:
        return f"made {_pct(return_pct)} (+{_krw(pnl_krw)} KRW)"
    return "neither made nor lost money"


@DESCRIPTIONS.on(ev.ReplayFinished)
def replay_summary(event: ev.ReplayFinished) -> str:
    """The replay's summary, a few lines for the console and the log."""
    exits = ", ".join(f"{reason} {n}" for reason, n in event.exits) or "none"
    held = "gained" if event.buy_and_hold_pct >= 0 else "lost"
    lines = [
        f"replay finished: {', '.join(event.markets)} {event.first:%Y-%m-%d %H:%M} .. "
        f"{event.last:%Y-%m-%d %H:%M} UTC",
        f"  the bot {outcome(event.return_pct, event.pnl_krw)}: equity "
        f"{_krw(event.start_krw)} -> {_krw(event.end_krw)} KRW",
        f"  trades {event.trades}, won {event.wins} ({event.win_rate_pct:.1f} %), fees "
        f"{_krw(event.fees_krw)} KRW, max drawdown {_pct(event.max_drawdown_pct)}",
        f"  exits by reason: {exits}; positions still open: {event.open_positions}",
        f"  buy-and-hold over the same data {held} {_pct(abs(event.buy_and_hold_pct))}"
        " (the price change, before fees)",
    ]
    return "\n".join(lines)


@DESCRIPTIONS.on(ev.MarketStatusChanged)
def _market_status(event: ev.MarketStatusChanged) -> str:
    what = []
    if event.warned:
        what.append(
            "investment warning" if event.warning else f"caution {', '.join(event.cautions)}"
        )
    elif event.was_warned:
        what.append("warning lifted")
    if event.closing:
        if event.delisting_date is not None:
            what.append(f"delisting on {event.delisting_date.isoformat()}")
        else:
            what.append(f"not tradeable ({event.state if event.listed else 'unlisted'})")
    elif event.was_closing:
        what.append("delisting called off")
    if event.exit_on is not None:
        what.append(f"the bot sells on {event.exit_on.isoformat()}")
    return f"{event.market} (held): Upbit {'; '.join(what)}"
