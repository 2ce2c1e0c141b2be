"""Events as transport-neutral ``Reply`` messages, in the bot's language.

Every message carries the PAPER/LIVE badge (the event's own ``paper`` where it has one, else the
bot's mode), money as KRW with thousands separators, prices on Upbit's tick grid and times in
the bot's zone (Asia/Seoul, shown as KST). ``render`` returns None for events that are never
pushed (candles). ``render_group`` merges a burst into one message: the fills of one order (and
the ``PositionClosed`` of an exit, which brings the PnL) or many events of one kind.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from bot.notify import events as own
from bot.notify.kinds import kind_of
from handlers.i18n import Catalog
from handlers.reply import Image, Reply, Severity
from trading import events as ev
from trading.upbit.market_rules import MarketRules

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
            | ev.ResearchFinished()
            | ev.ReplayFinished()
        ):
            return None
    kind = kind_of(event)
    return None if kind is None else f"kind:{kind}"


def research_reply(event: ev.ResearchFinished, badge: str) -> Reply:
    """Already rendered by the command in the asker's language; the chart back to bytes."""
    image = (
        Image(
            event.chart_name or "chart.png", base64.b64decode(event.chart_png), event.chart_caption
        )
        if event.chart_png
        else None
    )
    return Reply(
        f"{badge} {event.title}",
        lines=event.lines,
        fields=event.fields,
        image=image,
        severity=Severity.INFO if event.ok else Severity.WARNING,
    )


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
        self.rules = rules or MarketRules()

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

    # -- one event ---------------------------------------------------------------------------

    def render(self, event: ev.Event) -> Reply | None:
        match event:
            case ev.OrderFilled() | ev.PositionClosed():
                return self._fills([event])
            case ev.OrderPlaced():
                price = (
                    self.price(event.market, event.price)
                    if event.price is not None
                    else self.t("value.market_price")
                )
                fields = [(self.t("field.type"), event.ord_type), (self.t("field.price"), price)]
                if event.volume is not None:
                    fields.append((self.t("field.volume"), self.volume(event.volume)))
                if event.price is not None and event.volume is not None:
                    fields.append((self.t("field.total"), self.krw(event.price * event.volume)))
                fields += [(self.t("field.order"), event.intent_id), self.at(event)]
                return Reply(
                    self.title(
                        event, "order_placed", market=event.market, side=self.side(event.side)
                    ),
                    fields=tuple(fields),
                )
            case ev.OrderCancelled():
                return Reply(
                    self.title(event, "cancelled", market=event.market),
                    fields=(
                        (self.t("field.reason"), event.reason),
                        (self.t("field.order"), event.intent_id),
                        self.at(event),
                    ),
                    severity=Severity.WARNING,
                )
            case ev.OrderRejected():
                return Reply(
                    self.title(event, "rejected", market=event.market),
                    lines=(event.reason,),
                    fields=(
                        (self.t("field.error"), event.name),
                        (self.t("field.order"), event.intent_id),
                        self.at(event),
                    ),
                    severity=Severity.WARNING,
                )
            case ev.OrderBecameUncertain():
                return Reply(
                    self.title(event, "order_uncertain", market=event.market),
                    lines=(event.reason,),
                    fields=((self.t("field.order"), event.intent_id), self.at(event)),
                    severity=Severity.WARNING,
                )
            case ev.OrderResubmitted():
                return Reply(
                    self.title(event, "order_resubmitted"),
                    lines=(event.reason,),
                    fields=(
                        (self.t("field.order"), event.intent_id),
                        (
                            self.t("field.identifier"),
                            f"{event.old_identifier} → {event.new_identifier}",
                        ),
                        self.at(event),
                    ),
                    severity=Severity.WARNING,
                )
            case ev.OrderSettled():
                return Reply(
                    self.title(
                        event, "order_settled", market=event.market, side=self.side(event.side)
                    ),
                    fields=(
                        (self.t("field.state"), event.state),
                        (self.t("field.volume"), self.volume(event.executed_volume)),
                        (self.t("field.order"), event.intent_id),
                        self.at(event),
                    ),
                )
            case ev.PositionOpened():
                fields = [
                    (self.t("field.volume"), self.volume(event.volume)),
                    (self.t("field.avg_price"), self.price(event.market, event.avg_price)),
                ]
                if event.stop_price is not None:
                    fields.append(
                        (self.t("field.stop"), self.price(event.market, event.stop_price))
                    )
                return Reply(
                    self.title(event, "position_opened", market=event.market),
                    fields=(*fields, self.at(event)),
                )
            case ev.StopMoved():
                old = "-" if event.old is None else self.price(event.market, event.old)
                return Reply(
                    self.title(event, "stop_moved", market=event.market),
                    fields=(
                        (self.t("field.stop"), f"{old} → {self.price(event.market, event.new)}"),
                        self.at(event),
                    ),
                )
            case ev.RiskBreached():
                fields = [(self.t("field.check"), event.check)]
                if event.market:
                    fields.append((self.t("field.market"), event.market))
                return Reply(
                    self.title(event, "risk", check=event.check),
                    lines=(self.risk_reason(event),),
                    fields=(*fields, self.at(event)),
                    severity=Severity.WARNING,
                )
            case ev.HaltChanged():
                note = self.coded("halt_note", event.code, event.values, event.reason)
                return Reply(
                    self.title(event, "halt_on" if event.active else "halt_off", name=event.name),
                    lines=(note,) if note else (),
                    fields=(self.at(event),),
                    severity=Severity.WARNING if event.active else Severity.INFO,
                )
            case ev.ProtectionTripped() | ev.ProtectionLifted():
                tripped = isinstance(event, ev.ProtectionTripped)
                note = self.coded("halt_note", event.code, event.values, event.reason)
                name = self.catalog.t(f"risk.{event.protection}")
                return Reply(
                    self.title(event, "protection_on" if tripped else "protection_off", name=name),
                    lines=(note,) if note else (),
                    fields=(self.at(event),),
                    severity=Severity.WARNING if tripped else Severity.INFO,
                )
            case ev.MarketStatusChanged():
                return self._market_status(event)
            case ev.UniverseChanged():
                return self._universe(event)
            case ev.BookAdjusted():
                coin = event.market.partition("-")[2]
                lines = [
                    self.t(
                        "book_adjusted_line",
                        market=event.market,
                        exchange=f"{self.volume(event.exchange)} {coin}",
                        book=f"{self.volume(event.book)} {coin}",
                    )
                ]
                if event.state == "flat":
                    lines.append(self.t("book_adjusted_flat", market=event.market))
                return Reply(
                    self.title(event, "book_adjusted", market=event.market),
                    lines=tuple(lines),
                    fields=(self.at(event),),
                    severity=Severity.WARNING,
                )
            case ev.OrdersSuspended():
                return Reply(
                    self.title(event, "orders_suspended", market=event.market),
                    lines=(
                        self.t(
                            "orders_suspended_line",
                            market=event.market,
                            refusals=event.refusals,
                            minutes=event.window_s // 60,
                            reasons=", ".join(event.reasons) or "-",
                        ),
                    ),
                    fields=(self.at(event),),
                    severity=Severity.CRITICAL,
                )
            case ev.Paused() | ev.Resumed():
                scope = event.market or self.t("value.all_markets")
                key = "paused" if isinstance(event, ev.Paused) else "resumed"
                return Reply(
                    self.title(event, key, scope=scope),
                    fields=((self.t("field.by"), event.by), self.at(event)),
                    severity=Severity.WARNING if key == "paused" else Severity.INFO,
                )
            case ev.ParameterChanged():
                return Reply(
                    self.title(event, "param", key=event.key),
                    lines=(f"{event.old} → {event.new}",),
                    fields=((self.t("field.by"), event.by), self.at(event)),
                )
            case ev.SettingRejected():
                return Reply(
                    self.title(event, "setting_rejected", key=event.key),
                    lines=(
                        self.coded("refusal", event.code, event.values, event.reason),
                        self.t("setting_applies", stored=event.stored, applies=event.applies),
                    ),
                    fields=(self.at(event),),
                    severity=Severity.WARNING,
                )
            case ev.CircuitStateChanged():
                key = {"open": "circuit_open", "closed": "circuit_closed"}.get(
                    event.new, "circuit_half_open"
                )
                return Reply(
                    self.title(event, key, name=event.name),
                    lines=(event.reason,) if event.reason else (),
                    fields=((self.t("field.state"), f"{event.old} → {event.new}"), self.at(event)),
                    severity=Severity.CRITICAL if event.new == "open" else Severity.INFO,
                )
            case ev.RateLimitBanned():
                return Reply(
                    self.title(event, "rate_limit_banned", group=event.group),
                    lines=(event.message,) if event.message else (),
                    fields=((self.t("field.until"), self.time(event.until)), self.at(event)),
                    severity=Severity.CRITICAL,
                )
            case ev.RateLimitBanLifted():
                return Reply(
                    self.title(event, "rate_limit_lifted", group=event.group),
                    fields=(self.at(event),),
                )
            case ev.FeedStalled():
                return Reply(
                    self.title(event, "feed_stale", stream=event.stream),
                    fields=(
                        (
                            self.t("field.silent_for"),
                            self.t("fmt.seconds", s=f"{event.silent_for_s:.0f}"),
                        ),
                        self.at(event),
                    ),
                    severity=Severity.WARNING,
                )
            case ev.FeedGapped():
                span = f"{self.clock(event.disconnected_at)} – {self.clock(event.reconnected_at)}"
                return Reply(
                    self.title(event, "feed_gap", stream=event.stream),
                    lines=(self.t("feed_gap_line"),),
                    fields=((self.t("field.gap"), span), self.at(event)),
                    severity=Severity.WARNING,
                )
            case ev.FeedFailed():
                return Reply(
                    self.title(event, "feed_error", stream=event.stream),
                    lines=(f"{event.name}: {event.message}",),
                    fields=(self.at(event),),
                    severity=Severity.WARNING,
                )
            case ev.FeedRecovered():
                return Reply(
                    self.title(event, "feed_recovered", stream=event.stream),
                    fields=(self.at(event),),
                )
            case ev.FeedConnected():
                return Reply(
                    self.title(event, "feed_connected", stream=event.stream),
                    fields=(self.at(event),),
                )
            case ev.Reconciled():
                return self._reconciled(event)
            case own.BotStarted():
                fields = [
                    (self.t("field.mode"), self.badge(event.mode == "paper")),
                    (self.t("field.markets"), ", ".join(event.markets)),
                    (self.t("field.strategy"), event.strategy),
                ]
                if event.version:
                    fields.append((self.t("field.version"), event.version))
                return Reply(self.title(event, "startup"), fields=(*fields, self.at(event)))
            case own.BotStopping():
                return Reply(
                    self.title(event, "shutdown"),
                    lines=(event.reason,) if event.reason else (),
                    fields=(self.at(event),),
                    severity=Severity.WARNING,
                )
            case own.ChatTokenRefused():
                name = own.PLATFORM_NAMES.get(event.platform, event.platform)
                return Reply(
                    self.title(event, "chat_token", platform=name),
                    lines=(
                        self.t(
                            "chat_token_line",
                            platform=name,
                            variable=event.variable,
                            reason=event.reason,
                        ),
                    ),
                    fields=(self.at(event),),
                    severity=Severity.CRITICAL,
                )
            case own.PartFailed():
                return Reply(
                    self.title(event, "error", where=event.where),
                    lines=(event.message,),
                    fields=(self.at(event),),
                    severity=Severity.CRITICAL,
                )
            case ev.SignalRaised():
                return Reply(
                    self.title(event, "signal", market=event.market, action=event.action),
                    lines=(event.reason,) if event.reason else (),
                    fields=(
                        (self.t("field.price"), self.price(event.market, event.price)),
                        (self.t("field.strategy"), event.strategy),
                        self.at(event),
                    ),
                )
            case ev.ResearchFinished():
                return research_reply(event, self.badge())
            case ev.ReplayFinished():
                return self._replay(event)
        return None

    def _replay(self, event: ev.ReplayFinished) -> Reply:
        """The end of a replay: plainly whether the bot made or lost money, beside holding."""
        pnl = event.pnl_krw
        pct = f"{abs(event.return_pct):.2f}"
        verdict = "made" if pnl > 0 else "lost" if pnl < 0 else "flat"
        hold = f"{abs(event.buy_and_hold_pct):.2f}"
        held = "hold_up" if event.buy_and_hold_pct >= 0 else "hold_down"
        exits = ", ".join(
            f"{self.coded('notify.replay.exit', reason, (), reason)} {n}"
            for reason, n in event.exits
        )
        span = self.t("report.span", start=self.time(event.first), end=self.time(event.last))
        return Reply(
            self.title(event, "replay.title", markets=", ".join(event.markets)),
            lines=(
                self.t(f"replay.{verdict}", pct=pct, krw=self.signed_krw(pnl)),
                self.t(f"replay.{held}", pct=hold),
            ),
            fields=(
                (self.t("field.period"), span),
                (
                    self.t("report.equity"),
                    f"{self.krw(event.start_krw)} → {self.krw(event.end_krw)}",
                ),
                (self.t("report.trades"), str(event.trades)),
                (
                    self.t("report.win_rate"),
                    self.t(
                        "report.win_rate_value",
                        pct=f"{event.win_rate_pct:.1f}",
                        wins=event.wins,
                        sells=event.trades,
                    )
                    if event.trades
                    else self.t("report.no_sells"),
                ),
                (self.t("report.max_drawdown"), f"{event.max_drawdown_pct:.2f}%"),
                (self.t("report.fees"), self.krw(event.fees_krw)),
                (self.t("replay.exits"), exits or "-"),
                (self.t("report.positions"), str(event.open_positions)),
            ),
            severity=Severity.WARNING if pnl < 0 else Severity.INFO,
        )

    def _universe(self, event: ev.UniverseChanged) -> Reply:
        """Which markets joined and left the "top:N" universe, why, and what is kept."""
        ranks, values, why = dict(event.ranks), dict(event.values), dict(event.why)
        lines = []
        if not event.first:
            for market in event.joined:
                lines.append(
                    self.t(
                        "universe.joined",
                        market=market,
                        rank=ranks.get(market, "?"),
                        value=self.krw(Decimal(values.get(market, "0"))),
                    )
                )
        for market in event.left:
            reason = why.get(market, "rank")
            lines.append(
                self.t(
                    f"universe.left_{reason}",
                    market=market,
                    rank=ranks.get(market, "?"),
                    value=self.krw(Decimal(values.get(market, "0"))),
                )
            )
        for market in event.held:
            lines.append(self.t("universe.held", market=market))
        title = "universe.chosen" if event.first else "universe.changed"
        return Reply(
            self.title(event, title, n=event.top),
            lines=tuple(lines),
            fields=((self.t("field.markets"), ", ".join(event.markets)), self.at(event)),
        )

    def _market_status(self, event: ev.MarketStatusChanged) -> Reply:
        """What Upbit now says about a held market, and what the bot does about it."""
        market, lines = event.market, []
        if event.warned:
            if event.warning:
                lines.append(self.t("market_status.warning_on", market=market))
            else:
                flags = ", ".join(event.cautions)
                lines.append(self.t("market_status.caution_on", market=market, flags=flags))
        elif event.was_warned:
            lines.append(self.t("market_status.warning_off", market=market))
        if event.closing:
            if event.delisting_date is not None:
                day = event.delisting_date.isoformat()
                lines.append(self.t("market_status.delisting_on", market=market, date=day))
            else:
                state = event.state if event.listed else "unlisted"
                lines.append(self.t("market_status.inactive", market=market, state=state))
            if event.exit_on is not None:
                lines.append(self.t("market_status.exit_on", date=event.exit_on.isoformat()))
            elif event.delisting_date is not None:
                lines.append(self.t("market_status.exit_off", market=market))
        elif event.was_closing:
            lines.append(self.t("market_status.delisting_off", market=market))
        flagged = event.warned or event.closing
        if flagged:
            lines.append(self.t("market_status.held"))
        return Reply(
            self.title(
                event, "market_flagged" if flagged else "market_flag_lifted", market=market
            ),
            lines=tuple(lines),
            fields=(self.at(event),),
            severity=Severity.WARNING if flagged else Severity.INFO,
        )

    def _reconciled(self, event: ev.Reconciled) -> Reply:
        fields = (
            (self.t("field.checked"), str(event.checked)),
            (self.t("field.settled"), str(len(event.settled))),
            (self.t("field.never_placed"), str(len(event.never_placed))),
            (self.t("field.adopted"), str(len(event.adopted))),
            (self.t("field.foreign"), str(event.foreign)),
            (self.t("field.mismatches"), str(len(event.mismatches))),
            self.at(event),
        )
        clean = not (event.mismatches or event.never_placed or event.foreign)
        return Reply(
            self.title(event, "reconciled"),
            lines=(self.t("reconciled_clean" if clean else "reconciled_check"), *event.mismatches),
            fields=fields,
            severity=Severity.INFO if clean else Severity.WARNING,
        )

    def _fills(self, events: Sequence[ev.Event]) -> Reply | None:
        fills = [e for e in events if isinstance(e, ev.OrderFilled)]
        closes = [e for e in events if isinstance(e, ev.PositionClosed)]
        first = events[0]
        if not fills and closes:
            return self._closes(closes)
        if not fills:
            return None
        market, side = fills[0].market, fills[0].side
        volume = sum((f.volume for f in fills), Decimal(0))
        funds = sum((f.price * f.volume for f in fills), Decimal(0))
        fee = sum((f.fee for f in fills), Decimal(0))
        avg = funds / volume if volume else fills[0].price
        fields = [
            (
                self.t("field.avg_price" if len(fills) > 1 else "field.price"),
                self.price(market, avg),
            ),
            (self.t("field.volume"), self.volume(volume)),
            (self.t("field.total"), self.krw(funds)),
            (self.t("field.fee"), self.krw(fee)),
        ]
        if len(fills) > 1:
            fields.append((self.t("field.fills"), str(len(fills))))
        if not fills[-1].complete:
            fields.append((self.t("field.state"), self.t("value.partial")))
        intents = list(dict.fromkeys(f.intent_id for f in fills))
        fields.append((self.t("field.order"), ", ".join(intents)))
        lines: tuple[str, ...] = ()
        severity = Severity.INFO
        if closes:
            pnl = sum((c.pnl_krw for c in closes), Decimal(0))
            fees = sum((c.fees_krw for c in closes), Decimal(0))
            last = closes[-1]
            fields += [
                (self.t("field.pnl"), self.signed_krw(pnl)),
                (self.t("field.entry"), self.price(market, last.entry_price)),
                (self.t("field.exit"), self.price(market, last.exit_price)),
                (self.t("field.round_trip_fees"), self.krw(fees)),
                (self.t("field.reason"), self.exit_reasons(closes)),
            ]
            lines = (self.t("exit_line", pnl=self.signed_krw(pnl)),)
        fields.append(self.at(first))
        return Reply(
            self.title(fills[0], "fill", market=market, side=self.side(side)),
            lines=lines,
            fields=tuple(fields),
            severity=severity,
        )

    def _closes(self, closes: Sequence[ev.PositionClosed]) -> Reply:
        last = closes[-1]
        pnl = sum((c.pnl_krw for c in closes), Decimal(0))
        return Reply(
            self.title(last, "position_closed", market=last.market),
            lines=(self.t("exit_line", pnl=self.signed_krw(pnl)),),
            fields=(
                (self.t("field.volume"), self.volume(sum((c.volume for c in closes), Decimal(0)))),
                (self.t("field.entry"), self.price(last.market, last.entry_price)),
                (self.t("field.exit"), self.price(last.market, last.exit_price)),
                (self.t("field.pnl"), self.signed_krw(pnl)),
                (
                    self.t("field.round_trip_fees"),
                    self.krw(sum((c.fees_krw for c in closes), Decimal(0))),
                ),
                (self.t("field.reason"), self.exit_reasons(closes)),
                self.at(last),
            ),
        )

    # -- bursts ------------------------------------------------------------------------------

    def render_group(self, events: Sequence[ev.Event]) -> Reply | None:
        """One message for events that share a ``coalesce_key``, oldest first."""
        if not events:
            return None
        if len(events) == 1:
            return self.render(events[0])
        if all(isinstance(e, ev.OrderFilled | ev.PositionClosed) for e in events):
            return self._fills(events)
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
