"""The bot and its connections: start, stop, errors, a refused chat token, the REST circuit,
rate-limit bans, the WebSocket feeds, start-up reconciliation and strategy signals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.notify import events as own
from bot.notify.messages.table import renders
from handlers.reply import Reply, Severity
from trading import events as ev

if TYPE_CHECKING:
    from bot.notify.render import Renderer


@renders(own.BotStarted)
def bot_started(r: Renderer, event: own.BotStarted) -> Reply:
    fields = [
        (r.t("field.mode"), r.badge(event.mode == "paper")),
        (r.t("field.markets"), ", ".join(event.markets)),
        (r.t("field.strategy"), event.strategy),
    ]
    if event.version:
        fields.append((r.t("field.version"), event.version))
    return Reply(r.title(event, "startup"), fields=(*fields, r.at(event)))


@renders(own.BotStopping)
def bot_stopping(r: Renderer, event: own.BotStopping) -> Reply:
    return r.notice(
        event,
        "shutdown",
        lines=(event.reason,) if event.reason else (),
        severity=Severity.WARNING,
    )


@renders(own.PartFailed)
def part_failed(r: Renderer, event: own.PartFailed) -> Reply:
    return r.notice(
        event, "error", lines=(event.message,), severity=Severity.CRITICAL, where=event.where
    )


@renders(own.ChatTokenRefused)
def chat_token_refused(r: Renderer, event: own.ChatTokenRefused) -> Reply:
    name = own.PLATFORM_NAMES.get(event.platform, event.platform)
    line = r.t("chat_token_line", platform=name, variable=event.variable, reason=event.reason)
    return r.notice(event, "chat_token", lines=(line,), severity=Severity.CRITICAL, platform=name)


@renders(ev.Reconciled)
def reconciled(r: Renderer, event: ev.Reconciled) -> Reply:
    fields = (
        (r.t("field.checked"), str(event.checked)),
        (r.t("field.settled"), str(len(event.settled))),
        (r.t("field.never_placed"), str(len(event.never_placed))),
        (r.t("field.adopted"), str(len(event.adopted))),
        (r.t("field.foreign"), str(event.foreign)),
        (r.t("field.mismatches"), str(len(event.mismatches))),
        r.at(event),
    )
    clean = not (event.mismatches or event.never_placed or event.foreign)
    return Reply(
        r.title(event, "reconciled"),
        lines=(r.t("reconciled_clean" if clean else "reconciled_check"), *event.mismatches),
        fields=fields,
        severity=Severity.INFO if clean else Severity.WARNING,
    )


@renders(ev.CircuitStateChanged)
def circuit_state_changed(r: Renderer, event: ev.CircuitStateChanged) -> Reply:
    key = {"open": "circuit_open", "closed": "circuit_closed"}.get(event.new, "circuit_half_open")
    return r.notice(
        event,
        key,
        lines=(event.reason,) if event.reason else (),
        fields=((r.t("field.state"), f"{event.old} → {event.new}"),),
        severity=Severity.CRITICAL if event.new == "open" else Severity.INFO,
        name=event.name,
    )


@renders(ev.RateLimitBanned)
def rate_limit_banned(r: Renderer, event: ev.RateLimitBanned) -> Reply:
    return r.notice(
        event,
        "rate_limit_banned",
        lines=(event.message,) if event.message else (),
        fields=((r.t("field.until"), r.time(event.until)),),
        severity=Severity.CRITICAL,
        group=event.group,
    )


@renders(ev.RateLimitBanLifted)
def rate_limit_ban_lifted(r: Renderer, event: ev.RateLimitBanLifted) -> Reply:
    return r.notice(event, "rate_limit_lifted", group=event.group)


@renders(ev.FeedStalled)
def feed_stalled(r: Renderer, event: ev.FeedStalled) -> Reply:
    silent = r.t("fmt.seconds", s=f"{event.silent_for_s:.0f}")
    return r.notice(
        event,
        "feed_stale",
        fields=((r.t("field.silent_for"), silent),),
        severity=Severity.WARNING,
        stream=event.stream,
    )


@renders(ev.FeedGapped)
def feed_gapped(r: Renderer, event: ev.FeedGapped) -> Reply:
    span = f"{r.clock(event.disconnected_at)} – {r.clock(event.reconnected_at)}"
    return r.notice(
        event,
        "feed_gap",
        lines=(r.t("feed_gap_line"),),
        fields=((r.t("field.gap"), span),),
        severity=Severity.WARNING,
        stream=event.stream,
    )


@renders(ev.FeedFailed)
def feed_failed(r: Renderer, event: ev.FeedFailed) -> Reply:
    return r.notice(
        event,
        "feed_error",
        lines=(f"{event.name}: {event.message}",),
        severity=Severity.WARNING,
        stream=event.stream,
    )


@renders(ev.FeedRecovered)
def feed_recovered(r: Renderer, event: ev.FeedRecovered) -> Reply:
    return r.notice(event, "feed_recovered", stream=event.stream)


@renders(ev.FeedConnected)
def feed_connected(r: Renderer, event: ev.FeedConnected) -> Reply:
    return r.notice(event, "feed_connected", stream=event.stream)


@renders(ev.SignalRaised)
def signal_raised(r: Renderer, event: ev.SignalRaised) -> Reply:
    return r.notice(
        event,
        "signal",
        lines=(event.reason,) if event.reason else (),
        fields=(
            (r.t("field.price"), r.price(event.market, event.price)),
            (r.t("field.strategy"), event.strategy),
        ),
        market=event.market,
        action=event.action,
    )
