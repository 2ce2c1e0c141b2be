"""Risk and control: refusals, halts, protections, what Upbit says of a held market, the
"top:N" universe, pause/resume and live parameter changes."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from bot.notify.messages.table import renders
from handlers.reply import Reply, Severity
from trading import events as ev

if TYPE_CHECKING:
    from bot.notify.render import Renderer


@renders(ev.RiskBreached)
def risk_breached(r: Renderer, event: ev.RiskBreached) -> Reply:
    fields = [(r.t("field.check"), event.check)]
    if event.market:
        fields.append((r.t("field.market"), event.market))
    return Reply(
        r.title(event, "risk", check=event.check),
        lines=(r.risk_reason(event),),
        fields=(*fields, r.at(event)),
        severity=Severity.WARNING,
    )


@renders(ev.HaltChanged)
def halt_changed(r: Renderer, event: ev.HaltChanged) -> Reply:
    note = r.coded("halt_note", event.code, event.values, event.reason)
    return Reply(
        r.title(event, "halt_on" if event.active else "halt_off", name=event.name),
        lines=(note,) if note else (),
        fields=(r.at(event),),
        severity=Severity.WARNING if event.active else Severity.INFO,
    )


@renders(ev.ProtectionTripped, ev.ProtectionLifted)
def protection_tripped(r: Renderer, event: ev.ProtectionTripped | ev.ProtectionLifted) -> Reply:
    tripped = isinstance(event, ev.ProtectionTripped)
    note = r.coded("halt_note", event.code, event.values, event.reason)
    name = r.catalog.t(f"risk.{event.protection}")
    return Reply(
        r.title(event, "protection_on" if tripped else "protection_off", name=name),
        lines=(note,) if note else (),
        fields=(r.at(event),),
        severity=Severity.WARNING if tripped else Severity.INFO,
    )


@renders(ev.MarketStatusChanged)
def market_status_changed(r: Renderer, event: ev.MarketStatusChanged) -> Reply:
    """What Upbit now says about a held market, and what the bot does about it."""
    market, lines = event.market, []
    if event.warned:
        if event.warning:
            lines.append(r.t("market_status.warning_on", market=market))
        else:
            flags = ", ".join(event.cautions)
            lines.append(r.t("market_status.caution_on", market=market, flags=flags))
    elif event.was_warned:
        lines.append(r.t("market_status.warning_off", market=market))
    if event.closing:
        if event.delisting_date is not None:
            day = event.delisting_date.isoformat()
            lines.append(r.t("market_status.delisting_on", market=market, date=day))
        else:
            state = event.state if event.listed else "unlisted"
            lines.append(r.t("market_status.inactive", market=market, state=state))
        if event.exit_on is not None:
            lines.append(r.t("market_status.exit_on", date=event.exit_on.isoformat()))
        elif event.delisting_date is not None:
            lines.append(r.t("market_status.exit_off", market=market))
    elif event.was_closing:
        lines.append(r.t("market_status.delisting_off", market=market))
    flagged = event.warned or event.closing
    if flagged:
        lines.append(r.t("market_status.held"))
    return Reply(
        r.title(event, "market_flagged" if flagged else "market_flag_lifted", market=market),
        lines=tuple(lines),
        fields=(r.at(event),),
        severity=Severity.WARNING if flagged else Severity.INFO,
    )


@renders(ev.UniverseChanged)
def universe_changed(r: Renderer, event: ev.UniverseChanged) -> Reply:
    """Which markets joined and left the "top:N" universe, why, and what is kept."""
    ranks, values, why = dict(event.ranks), dict(event.values), dict(event.why)
    lines = []
    if not event.first:
        for market in event.joined:
            lines.append(
                r.t(
                    "universe.joined",
                    market=market,
                    rank=ranks.get(market, "?"),
                    value=r.krw(Decimal(values.get(market, "0"))),
                )
            )
    for market in event.left:
        reason = why.get(market, "rank")
        lines.append(
            r.t(
                f"universe.left_{reason}",
                market=market,
                rank=ranks.get(market, "?"),
                value=r.krw(Decimal(values.get(market, "0"))),
            )
        )
    for market in event.held:
        lines.append(r.t("universe.held", market=market))
    title = "universe.chosen" if event.first else "universe.changed"
    return Reply(
        r.title(event, title, n=event.top),
        lines=tuple(lines),
        fields=((r.t("field.markets"), ", ".join(event.markets)), r.at(event)),
    )


@renders(ev.Paused, ev.Resumed)
def paused(r: Renderer, event: ev.Paused | ev.Resumed) -> Reply:
    scope = event.market or r.t("value.all_markets")
    key = "paused" if isinstance(event, ev.Paused) else "resumed"
    return Reply(
        r.title(event, key, scope=scope),
        fields=((r.t("field.by"), event.by), r.at(event)),
        severity=Severity.WARNING if key == "paused" else Severity.INFO,
    )


@renders(ev.ParameterChanged)
def parameter_changed(r: Renderer, event: ev.ParameterChanged) -> Reply:
    return Reply(
        r.title(event, "param", key=event.key),
        lines=(f"{event.old} → {event.new}",),
        fields=((r.t("field.by"), event.by), r.at(event)),
    )


@renders(ev.SettingRejected)
def setting_rejected(r: Renderer, event: ev.SettingRejected) -> Reply:
    return Reply(
        r.title(event, "setting_rejected", key=event.key),
        lines=(
            r.coded("refusal", event.code, event.values, event.reason),
            r.t("setting_applies", stored=event.stored, applies=event.applies),
        ),
        fields=(r.at(event),),
        severity=Severity.WARNING,
    )
