"""Push kinds: the names users switch on, silence or off (``notify.events``), per event class.

A kind groups the events a user thinks of as one thing (``feed`` = stale, gap, recovered,
error). Every kind has a default level; an event class that is not listed is never pushed.
"""

from __future__ import annotations

from typing import Literal

from bot.notify import events as own
from trading import events as ev

Level = Literal["on", "silent", "off"]
LEVELS: tuple[Level, ...] = ("on", "silent", "off")

#: kind -> default level, in the order the docs list them.
KINDS: dict[str, Level] = {
    "order_placed": "on",
    "fill": "on",
    "position_closed": "on",
    "position_opened": "off",
    "cancelled": "on",
    "rejected": "on",
    "order_resubmitted": "silent",
    "order_uncertain": "on",
    "order_settled": "off",
    "stop_moved": "off",
    "risk": "on",
    "halt": "on",
    "protection": "on",
    "market_status": "on",
    "universe": "on",
    "book": "on",
    "suspended": "on",
    "pause": "on",
    "param": "on",
    "circuit": "on",
    "rate_limit": "on",
    "feed": "silent",
    "feed_connected": "off",
    "reconciled": "on",
    "startup": "on",
    "shutdown": "on",
    "error": "on",
    "chat_token": "on",
    "report": "on",
    "replay_summary": "on",
    "signal": "off",
    "candle": "off",
}

EVENT_KINDS: dict[type[ev.Event], str] = {
    ev.OrderPlaced: "order_placed",
    ev.OrderFilled: "fill",
    ev.PositionClosed: "position_closed",
    ev.PositionOpened: "position_opened",
    ev.OrderCancelled: "cancelled",
    ev.OrderRejected: "rejected",
    ev.OrderResubmitted: "order_resubmitted",
    ev.OrderBecameUncertain: "order_uncertain",
    ev.OrderSettled: "order_settled",
    ev.StopMoved: "stop_moved",
    ev.RiskBreached: "risk",
    ev.HaltChanged: "halt",
    ev.ProtectionTripped: "protection",
    ev.ProtectionLifted: "protection",
    ev.MarketStatusChanged: "market_status",
    ev.UniverseChanged: "universe",
    ev.BookAdjusted: "book",
    ev.OrdersSuspended: "suspended",
    ev.Paused: "pause",
    ev.Resumed: "pause",
    ev.ParameterChanged: "param",
    ev.SettingRejected: "param",
    ev.CircuitStateChanged: "circuit",
    ev.RateLimitBanned: "rate_limit",
    ev.RateLimitBanLifted: "rate_limit",
    ev.FeedStalled: "feed",
    ev.FeedGapped: "feed",
    ev.FeedFailed: "feed",
    ev.FeedRecovered: "feed",
    ev.FeedConnected: "feed_connected",
    ev.Reconciled: "reconciled",
    ev.ResearchFinished: "report",  # a chat-started /backtest or /optimize, to its chat only
    ev.ReplayFinished: "replay_summary",
    own.BotStarted: "startup",
    own.BotStopping: "shutdown",
    own.PartFailed: "error",
    own.ChatTokenRefused: "chat_token",
    ev.SignalRaised: "signal",
    ev.CandleClosed: "candle",
}

#: Events that are never serialized into the queue (they carry objects, and are off anyway).
UNQUEUEABLE: frozenset[str] = frozenset({"candle"})


def kind_of(event: ev.Event) -> str | None:
    """The kind of ``event``, or None for events the notifier does not know."""
    return EVENT_KINDS.get(type(event))
