"""What a chat transport implements so the notifier can push through it.

A transport (Telegram, Slack, the console) renders the ``Reply`` its own way and sends it to one
chat. It reports how a send failed with one of three exceptions. Pace and flood waits belong to
``pacing.Pacer.send`` (the notifier books the first part of a push there; a transport sends any
later part through the same pacer), backoff and dropping to the notifier, so a transport never
retries on its own (python-telegram-bot: no ``AIORateLimiter`` retries; slack_sdk: no retry
handlers on the client used for pushes).
"""

from __future__ import annotations

from typing import Protocol

from handlers.reply import Reply


class SendError(Exception):
    """Base of the errors a ``ChatSender`` raises."""


class RetryAfter(SendError):
    """The platform asked us to wait ``seconds`` before sending to this chat again
    (Telegram 429 ``parameters.retry_after``, Slack 429 ``Retry-After``). Honoured exactly,
    then the same message is sent again."""

    def __init__(self, seconds: float, message: str = "") -> None:
        if seconds < 0:
            raise ValueError(f"retry-after must not be negative, got {seconds}")
        super().__init__(message or f"retry after {seconds:g}s")
        self.seconds = float(seconds)


class TransientSendError(SendError):
    """Network error, timeout or 5xx: retried with exponential backoff and jitter."""


class PermanentSendError(SendError):
    """The message can never be delivered as is (chat not found, bot blocked, bad request):
    recorded, logged and dropped."""


class ChatSender(Protocol):
    """One transport's push side. ``chat_id`` is the transport's chat or channel id as text;
    ``silent`` asks for a delivery without sound (Telegram ``disable_notification``; Slack has
    no equivalent and may ignore it)."""

    async def send(self, chat_id: str, reply: Reply, *, silent: bool) -> None: ...
