"""Events as transport-neutral ``Reply`` messages, in the bot's language.

Every message carries the PAPER/LIVE badge (the event's own ``paper`` where it has one, else the
bot's mode), money as KRW with thousands separators, prices on Upbit's tick grid and times in
the bot's zone (Asia/Seoul, shown as KST). ``render`` returns None for events that are never
pushed (candles). ``render_group`` merges a burst into one message: the fills of one order (and
the ``PositionClosed`` of an exit, which brings the PnL) or many events of one kind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from bot.notify import events as own
from bot.notify.kinds import kind_of
from bot.notify.messages import RENDERINGS
from bot.notify.messages.orders import fills
from bot.venue import market_rules
from handlers.events import ResearchFinished
from handlers.i18n import Catalog
from handlers.reply import Reply, Severity
from trading import events as ev
from trading.domain.rules import MarketRules

SEOUL = ZoneInfo("Asia/Seoul")
#: distinct lines shown in a merged non-critical message before "and N more"
MERGE_LINES = 20
# a command reply held up by flood control this long or more says so: shorter is the normal pace
FLOOD_NOTE_AFTER_S = 2.0
_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


def coalesce_key(event: ev.Event) -> str | None:
    """Events with the same key that are due together go out as one message; None = alone.

    Fills of one buy order merge; the fills of sells of one market merge with the
    ``PositionClosed`` that follows them (so the exit message shows the PnL); any other kind
    merges with itself. Start-up, shutdown and reconciliation always stand alone.
    """
    match event:
        case ev.OrderFilled(side="bid"):
            return f"fill:{event.intent_id}"
        case ev.OrderFilled() | ev.PositionClosed():
            return f"exit:{event.market}"
        case (
            ev.Reconciled()
            | own.BotStarted()
            | own.BotStopping()
            | ResearchFinished()
            | ev.ReplayFinished()
        ):
            return None
    kind = kind_of(event)
    return None if kind is None else f"kind:{kind}"


class Renderer:
    """Formats events for one language; ``paper`` is the bot's mode for events without one."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        paper: bool,
        zone: tzinfo = SEOUL,
        rules: MarketRules | None = None,
    ) -> None:
        self.catalog = catalog
        self.paper = paper
        self.zone = zone
        self.rules = rules or market_rules()

    # -- units -------------------------------------------------------------------------------

    def t(self, key: str, /, **values: object) -> str:
        return self.catalog.t(f"notify.{key}", **values)

    def risk_reason(self, event: ev.RiskBreached) -> str:
        return self.coded("refusal", event.code, event.values, event.reason)

    def exit_reasons(self, closes: Sequence[ev.PositionClosed]) -> str:
        """Why the positions closed (stop, trailing, roi, time, ...), in the chat's language
        (the ``/stats`` words); a reason the catalog lacks as the engine wrote it."""
        reasons = dict.fromkeys(c.reason for c in closes)
        return ", ".join(self.coded("stats.reason", r, (), r) for r in reasons)

    def coded(
        self, section: str, code: str, values: tuple[tuple[str, str], ...], fallback: str
    ) -> str:
        """A risk text in the chat's language; the engine's English sentence if unknown."""
        return self.catalog.coded(section, code, values, fallback)

    def krw(self, value: Decimal) -> str:
        return self.t("fmt.krw", amount=f"{value.quantize(Decimal(1), ROUND_HALF_UP):,}")

    def signed_krw(self, value: Decimal) -> str:
        whole = value.quantize(Decimal(1), ROUND_HALF_UP)
        sign = "+" if whole > 0 else ""
        return self.t("fmt.krw", amount=f"{sign}{whole:,}")

    def price(self, market: str, value: Decimal) -> str:
        """``value`` with the decimals of the market's tick at that price (a price read off
        the exchange is on the grid already; an average is shown at the grid's precision)."""
        if value <= 0:
            return str(value)
        tick = self.rules.tick_size(market, value)
        if tick < 1:
            shown = value.quantize(tick)
        else:
            shown = ((value / tick).quantize(Decimal(1)) * tick).quantize(Decimal(1))
        quote, _, _ = market.partition("-")
        if quote == "KRW":
            return self.t("fmt.krw", amount=f"{shown:,f}")
        return f"{shown:,f} {quote}"

    @staticmethod
    def volume(value: Decimal) -> str:
        text = f"{value.quantize(Decimal('0.00000001')).normalize():f}"
        return text

    def time(self, at: datetime) -> str:
        return at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S %Z")

    def clock(self, at: datetime) -> str:
        return at.astimezone(self.zone).strftime("%H:%M %Z")

    def side(self, side: str) -> str:
        return self.t("side.buy" if side == "bid" else "side.sell")

    def badge(self, paper: bool | None = None) -> str:
        return self.t("badge.paper" if (self.paper if paper is None else paper) else "badge.live")

    def title(self, event: ev.Event, msg: str, /, **values: object) -> str:
        paper = getattr(event, "paper", None)
        return f"{self.badge(paper if isinstance(paper, bool) else None)} {self.t(msg, **values)}"

    def at(self, event: ev.Event) -> tuple[str, str]:
        return (self.t("field.time"), self.time(event.at))

    def notice(
        self,
        event: ev.Event,
        msg: str,
        /,
        *,
        lines: Sequence[str] = (),
        fields: Sequence[tuple[str, str]] = (),
        severity: Severity = Severity.INFO,
        **values: object,
    ) -> Reply:
        """The shape most event messages share: the badged title (``msg`` with ``values``),
        the lines, the fields and the event's time as the last field."""
        return Reply(
            self.title(event, msg, **values),
            lines=tuple(lines),
            fields=(*fields, self.at(event)),
            severity=severity,
        )

    # -- one event ---------------------------------------------------------------------------

    def render(self, event: ev.Event) -> Reply | None:
        """The event's message from the function registered for its type (``messages``);
        None for events that are never pushed (candles)."""
        render = RENDERINGS.get(type(event))
        return None if render is None else render(self, event)

    # -- bursts ------------------------------------------------------------------------------

    def render_group(self, events: Sequence[ev.Event]) -> Reply | None:
        """One message for events that share a ``coalesce_key``, oldest first."""
        if not events:
            return None
        if len(events) == 1:
            return self.render(events[0])
        if all(isinstance(e, ev.OrderFilled | ev.PositionClosed) for e in events):
            return fills(self, events)
        replies = [r for r in map(self.render, events) if r is not None]
        if not replies:
            return None
        if len(replies) == 1:
            return replies[0]
        badge = self.badge()
        counts: Counter[str] = Counter()
        for reply in replies:
            summary = reply.title.removeprefix(badge).strip()
            if reply.lines:
                summary = f"{summary} — {reply.lines[0]}"
            counts[summary] += 1
        # a critical burst keeps every distinct line (transports split long messages);
        # others show the first MERGE_LINES and a count of the rest
        cap = len(counts) if any(type(e).critical for e in events) else MERGE_LINES
        lines = [
            text if n == 1 else self.t("repeat", text=text, n=n)
            for text, n in list(counts.items())[:cap]
        ]
        if len(counts) > cap:
            rest = sum(n for _, n in list(counts.items())[cap:])
            lines.append(self.t("more", n=rest))
        severity = max((r.severity for r in replies), key=_RANK.__getitem__)
        span = f"{self.clock(events[0].at)} – {self.clock(events[-1].at)}"
        return Reply(
            self.t("merged", title=replies[0].title, n=len(replies)),
            lines=tuple(lines),
            fields=((self.t("field.period"), span),),
            severity=severity,
        )

    def mark_late(self, reply: Reply, at: datetime) -> Reply:
        """``reply`` with "(late: 12:03 KST)" after its title; ``at`` = when it happened."""
        return replace(reply, title=f"{reply.title} {self.t('late', time=self.clock(at))}")


def mark_delayed(reply: Reply, seconds: float, platform: str, t: Catalog) -> Reply:
    """``reply`` with "(delayed 3 s by Telegram flood control)" after its title when the
    platform's flood control held it up for ``FLOOD_NOTE_AFTER_S`` or more; else unchanged."""
    if seconds < FLOOD_NOTE_AFTER_S:
        return reply
    note = t.t("notify.delayed", seconds=round(seconds), platform=platform)
    return replace(reply, title=f"{reply.title} {note}")
