"""Push kinds: the names users switch on, silence or off (``notify.events``), per event class.

A kind groups the events a user thinks of as one thing (``feed`` = stalled, gapped, failed,
recovered). Each event class declares its kind and the kind's default level itself
(``trading.events``); this module only collects them, in the order the classes are defined.
"""

from __future__ import annotations

from types import ModuleType

from bot.notify import events as own
from handlers import events as chat
from trading import events as ev
from trading.events import Level

__all__ = ["EVENTS", "EVENT_KINDS", "KINDS", "LEVELS", "UNQUEUEABLE", "Level", "kind_of"]

LEVELS: tuple[Level, ...] = ("on", "silent", "off")


def event_classes(*modules: ModuleType) -> tuple[type[ev.Event], ...]:
    """The event classes each module defines (not those it imports), in definition order."""
    return tuple(
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ev.Event)
        and value is not ev.Event
        and value.__module__ == module.__name__
    )


#: every event the bot knows: the engine's, the chat layer's and the bot's own
EVENTS: tuple[type[ev.Event], ...] = event_classes(ev, chat, own)
#: event class -> its kind
EVENT_KINDS: dict[type[ev.Event], str] = {cls: cls.kind for cls in EVENTS}
#: how the docs and the example config list the kinds (most wanted first); a kind not named
#: here is listed after these, in the order its class is defined
LISTED = (
    "order_placed",
    "fill",
    "position_closed",
    "position_opened",
    "cancelled",
    "rejected",
    "order_resubmitted",
    "order_uncertain",
    "order_settled",
    "stop_moved",
    "risk",
    "halt",
    "protection",
    "market_status",
    "universe",
    "book",
    "suspended",
    "pause",
    "param",
    "circuit",
    "rate_limit",
    "feed",
    "feed_connected",
    "reconciled",
    "startup",
    "shutdown",
    "error",
    "chat_token",
    "report",
    "replay_summary",
    "signal",
    "candle",
)


def _kinds(events: tuple[type[ev.Event], ...]) -> dict[str, Level]:
    """Kind -> default level, in ``LISTED`` order; the events of one kind agree on its level."""
    levels: dict[str, Level] = {}
    for cls in events:
        if levels.setdefault(cls.kind, cls.level) != cls.level:
            raise ValueError(
                f"{cls.__name__}: kind {cls.kind!r} is {levels[cls.kind]!r} elsewhere"
            )
    unknown = set(LISTED) - set(levels)
    if unknown:
        raise ValueError(f"listed kinds no event declares: {', '.join(sorted(unknown))}")
    rank = {kind: n for n, kind in enumerate(LISTED)}
    return dict(sorted(levels.items(), key=lambda item: rank.get(item[0], len(rank))))


#: kind -> default level
KINDS: dict[str, Level] = _kinds(EVENTS)
#: kinds of events that are never serialized into the queue (they carry objects)
UNQUEUEABLE: frozenset[str] = frozenset(cls.kind for cls in EVENTS if not cls.queued)


def kind_of(event: ev.Event) -> str | None:
    """The kind of ``event``, or None for events the notifier does not know."""
    return EVENT_KINDS.get(type(event))
