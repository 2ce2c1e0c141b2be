"""Push notifications: events rendered as ``Reply`` messages, queued in the store, paced and
delivered to every transport's chats.

The package exports the light parts only; import ``Notifier`` from ``bot.notify.notifier``.
It needs the store (SQLAlchemy, Alembic), which ``bot.config`` (it reads ``KINDS``) and the
offline commands never use, and which would cost them 0.4 s of start-up.
"""

from bot.notify.events import BotStarted, BotStopping, ChatTokenRefused, PartFailed
from bot.notify.kinds import KINDS, LEVELS, Level, kind_of
from bot.notify.pacing import Limits
from bot.notify.policy import NotifyPolicy
from bot.notify.render import Renderer, coalesce_key
from bot.notify.sender import (
    ChatSender,
    PermanentSendError,
    RetryAfter,
    SendError,
    TransientSendError,
)

__all__ = [
    "KINDS",
    "LEVELS",
    "BotStarted",
    "BotStopping",
    "ChatSender",
    "ChatTokenRefused",
    "Level",
    "Limits",
    "NotifyPolicy",
    "PartFailed",
    "PermanentSendError",
    "Renderer",
    "RetryAfter",
    "SendError",
    "TransientSendError",
    "coalesce_key",
    "kind_of",
]
