"""Chats, their messages, the update queue, commands and files of the fake bot."""

from __future__ import annotations

import copy
import re
import time
from dataclasses import dataclass, field
from typing import Any

from .html import utf16_len


@dataclass
class Chat:
    id: int | str
    type: str  # private | group | supergroup | channel
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    next_message_id: int = 0
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    blocked: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            out["first_name"] = self.first_name or "User"
            if self.username:
                out["username"] = self.username
        else:
            out["title"] = self.title or f"Chat {self.id}"
            if self.username:
                out["username"] = self.username
        return out

    def new_message(self, sender: dict[str, Any], **fields: Any) -> dict[str, Any]:
        self.next_message_id += 1
        msg: dict[str, Any] = {
            "message_id": self.next_message_id,
            "from": dict(sender),
            "chat": self.to_dict(),
            "date": int(time.time()),
        }
        msg.update({k: v for k, v in fields.items() if v is not None and v != []})
        self.messages[msg["message_id"]] = msg
        return copy.deepcopy(msg)


def chat_type_for(chat_id: int | str) -> str:
    if isinstance(chat_id, str):
        return "channel"
    if chat_id >= 0:
        return "private"
    return "supergroup" if str(chat_id).startswith("-100") else "group"


def command_entities(text: str) -> list[dict[str, Any]]:
    """``bot_command`` entities for every ``/command[@bot]`` starting a word, like Telegram."""

    out = []
    for m in re.finditer(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![^\s])", text):
        out.append(
            {
                "type": "bot_command",
                "offset": utf16_len(text[: m.start()]),
                "length": utf16_len(m.group(0)),
            }
        )
    return out


UPDATE_TYPES_DEFAULT_EXCLUDED = {"chat_member", "message_reaction", "message_reaction_count"}


def update_type(update: dict[str, Any]) -> str:
    return next((k for k in update if k != "update_id"), "")


def scope_key(scope: Any) -> tuple[str, str, str]:
    """Canonical key of a BotCommandScope (dict, PTB object, type string or None)."""
    if scope is None:
        return ("default", "", "")
    if isinstance(scope, str):
        return (scope, "", "")
    if hasattr(scope, "to_dict"):
        scope = scope.to_dict()
    if not isinstance(scope, dict):
        raise TypeError(f"bad scope {scope!r}")
    return (
        str(scope.get("type", "default")),
        str(scope.get("chat_id", "")),
        str(scope.get("user_id", "")),
    )
