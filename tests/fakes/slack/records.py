"""Plain records of what the fake Slack saw and did (read them from tests)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiRequest:
    """One call to ``/api/<method>`` (also rejected ones)."""

    method: str
    params: dict[str, Any]
    token: str | None
    body_kind: str  # "json" | "form" | "multipart" | "query" | "empty"
    status: int = 200
    ok: bool = True
    error: str | None = None
    at: float = 0.0


@dataclass
class Edit:
    text: str | None
    blocks: list[dict[str, Any]] | None
    source: str


@dataclass
class Message:
    """A message as it currently looks in a channel (``edits`` keeps the older versions)."""

    channel: str
    ts: str
    text: str | None
    blocks: list[dict[str, Any]] | None = None
    attachments: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    ephemeral_user: str | None = None  # set for ephemeral messages: who sees it
    source: str = "chat.postMessage"  # chat.postMessage|chat.postEphemeral|response_url|ack
    bot: bool = True
    deleted: bool = False
    edits: list[Edit] = field(default_factory=list)

    @property
    def ephemeral(self) -> bool:
        return self.ephemeral_user is not None

    def all_text(self) -> str:
        """``text`` plus every text found in the blocks (handy for assertions)."""
        parts = [self.text or ""]
        parts.extend(_texts(self.blocks or []))
        return "\n".join(p for p in parts if p)


def _texts(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "text" and isinstance(v, str):
                out.append(v)
            else:
                out.extend(_texts(v))
    elif isinstance(node, list):
        for v in node:
            out.extend(_texts(v))
    return out


@dataclass
class Upload:
    file_id: str
    filename: str
    length: int
    data: bytes | None = None
    title: str | None = None
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None
    thread_ts: str | None = None
    completed: bool = False


@dataclass
class ResponsePost:
    """A POST to a ``response_url`` (or a slash-command ack/HTTP reply carrying a message)."""

    envelope_id: str | None
    channel_id: str | None
    user_id: str | None
    body: dict[str, Any]
    source: str  # "response_url" | "ack" | "http"
    status: int = 200

    @property
    def response_type(self) -> str:
        return str(self.body.get("response_type") or "ephemeral")

    @property
    def text(self) -> str | None:
        return self.body.get("text")


@dataclass
class Ack:
    envelope_id: str
    type: str
    latency: float
    late: bool
    payload: dict[str, Any] | None = None


@dataclass
class Envelope:
    envelope_id: str
    type: str
    payload: dict[str, Any]
    accepts_response_payload: bool
    sent_at: float
    connection_id: int
    ack: Ack | None = None


@dataclass
class HttpReply:
    """What the bot's HTTP endpoint answered to :meth:`FakeSlack.post_signed`."""

    status: int
    text: str
    headers: dict[str, str]
    elapsed: float = 0.0

    @property
    def late(self) -> bool:
        """Slack gives up on an HTTP request after 3 seconds."""
        return self.elapsed > 3.0

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None
