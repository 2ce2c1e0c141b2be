"""What the fake records: every API call (``tg.requests``) and every chat-visible call that
succeeded (``tg.sent``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecordedCall:
    """One HTTP call to ``/bot<token>/<method>`` (also failed, faulted or rate-limited ones)."""

    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when received
    http_method: str = "POST"
    files: dict[str, bytes] = field(default_factory=dict)
    status: int | None = None  # None while in flight or when the connection was dropped
    response: dict[str, Any] | None = None


@dataclass
class SentCall:
    """A successful outgoing call that users can see: sendMessage, sendPhoto, sendDocument,
    editMessageText, editMessageReplyMarkup, deleteMessage, sendChatAction, answerCallbackQuery.

    ``text`` is the message text (for sendPhoto/sendDocument: the caption, also in
    ``caption``); ``plain_text`` is it with HTML markup parsed away.  ``photo``/``document`` are
    the uploaded bytes.  ``result`` is what the API answered (a Message dict, or True).
    """

    method: str
    chat_id: int | str | None
    text: str | None
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    at: float
    params: dict[str, Any]
    message_id: int | None = None
    plain_text: str | None = None
    caption: str | None = None
    photo: bytes | None = None
    document: bytes | None = None
    filename: str | None = None
    result: Any = None
