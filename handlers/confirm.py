"""Two-phase confirmations: a token bound to (user, chat, command, args), used once, in 60 s.

Buttons carry ``cf:<token>`` (confirm) and ``cx:<token>`` (cancel), far under Telegram's
64 bytes; the call itself stays here, server-side. A press by anyone else, a second press, or
a press after expiry changes nothing.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from handlers.auth import Principal

CONFIRM_PREFIX, CANCEL_PREFIX = "cf:", "cx:"
TTL_S = 60.0


class Outcome(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    OTHER_USER = "other_user"
    USED = "used"


@dataclass(frozen=True, slots=True)
class Pending:
    token: str
    principal: Principal
    command: str
    args: dict[str, Any]
    created: float
    language: str

    def owned_by(self, who: Principal) -> bool:
        p = self.principal
        return (p.transport, p.user_id, p.chat_id) == (who.transport, who.user_id, who.chat_id)


@dataclass
class Confirmations:
    ttl_s: float = TTL_S
    clock: Callable[[], float] = time.monotonic
    _pending: dict[str, Pending] = field(default_factory=dict)
    _done: dict[str, float] = field(default_factory=dict)

    def create(self, who: Principal, command: str, args: dict[str, Any], language: str) -> Pending:
        self._prune()
        token = secrets.token_hex(4)
        while token in self._pending or token in self._done:
            token = secrets.token_hex(4)
        pending = Pending(token, who, command, dict(args), self.clock(), language)
        self._pending[token] = pending
        return pending

    def take(self, token: str, who: Principal) -> tuple[Outcome, Pending | None]:
        """Use the token once; only its owner can, only before it expires."""
        pending = self._pending.get(token)
        if pending is None:
            return (Outcome.USED if token in self._done else Outcome.UNKNOWN), None
        if not pending.owned_by(who):
            return Outcome.OTHER_USER, pending
        del self._pending[token]
        self._done[token] = self.clock()
        if self.clock() - pending.created > self.ttl_s:
            return Outcome.EXPIRED, pending
        return Outcome.OK, pending

    def latest(self, who: Principal) -> Pending | None:
        """The newest live confirmation of ``who`` (the console's ``yes``)."""
        mine = [
            p
            for p in self._pending.values()
            if p.owned_by(who) and self.clock() - p.created <= self.ttl_s
        ]
        return max(mine, key=lambda p: p.created, default=None)

    def _prune(self) -> None:
        now = self.clock()
        for token, pending in list(self._pending.items()):
            if now - pending.created > self.ttl_s * 10:
                del self._pending[token]
                self._done[token] = now
        for token, at in list(self._done.items()):
            if now - at > 86400:
                del self._done[token]


def confirm_data(token: str) -> str:
    return CONFIRM_PREFIX + token


def cancel_data(token: str) -> str:
    return CANCEL_PREFIX + token
