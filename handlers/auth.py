"""Who may do what: deny by default, on immutable ids, user *and* chat both on the lists.

Each transport has its own ``Policy`` (Telegram user and chat ids, Slack ``U...`` users and
``C...`` channels). The console is the local operator and always an admin. Strangers get one
short refusal per hour each and silence otherwise; every ``alert_after`` attempts by the same
stranger calls ``on_alert(text)`` so the owners learn that someone is knocking.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from handlers.registry import Role

CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class Principal:
    """The sender of one message or button press; ids as strings whatever the platform."""

    transport: str
    user_id: str
    chat_id: str
    name: str = ""

    @classmethod
    def console(cls) -> Principal:
        return cls(CONSOLE, "local", "console", "console")


@dataclass(frozen=True, slots=True)
class Policy:
    """One transport's allow-lists; a user on several lists gets the highest role."""

    chats: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()
    operators: frozenset[str] = frozenset()
    viewers: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        *,
        chats: Iterable[object] = (),
        admins: Iterable[object] = (),
        operators: Iterable[object] = (),
        viewers: Iterable[object] = (),
    ) -> Policy:
        """From config lists of ints or strings (Telegram ids are ints)."""
        return cls(
            frozenset(map(str, chats)),
            frozenset(map(str, admins)),
            frozenset(map(str, operators)),
            frozenset(map(str, viewers)),
        )

    def role(self, user_id: str) -> Role | None:
        if user_id in self.admins:
            return Role.ADMIN
        if user_id in self.operators:
            return Role.OPERATOR
        if user_id in self.viewers:
            return Role.VIEWER
        return None


class Verdict(StrEnum):
    ALLOWED = "allowed"
    REFUSE = "refuse"  # tell the stranger once
    SILENT = "silent"  # already told within the hour: say nothing


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    role: Role | None
    reason: str  # for the audit log: "unknown user", "chat not allowed", ...
    attempts: int = 0


@dataclass
class _Stranger:
    attempts: int = 0
    refused_at: float | None = None


@dataclass
class Authorizer:
    policies: Mapping[str, Policy]
    on_alert: Callable[[str], None] | None = None
    alert_after: int = 5
    refusal_interval_s: float = 3600.0
    clock: Callable[[], float] = time.monotonic
    _strangers: dict[tuple[str, str], _Stranger] = field(default_factory=dict)

    def role(self, who: Principal) -> Role | None:
        """The role of a sender in this chat; None = not allowed here."""
        if who.transport == CONSOLE:
            return Role.ADMIN
        policy = self.policies.get(who.transport)
        if policy is None or who.chat_id not in policy.chats:
            return None
        return policy.role(who.user_id)

    def check(self, who: Principal) -> Decision:
        role = self.role(who)
        if role is not None:
            return Decision(Verdict.ALLOWED, role, "ok")
        policy = self.policies.get(who.transport)
        if policy is None:
            reason = "transport not configured"
        elif policy.role(who.user_id) is None:
            reason = "unknown user"
        else:
            reason = "chat not allowed"
        entry = self._strangers.setdefault((who.transport, who.user_id), _Stranger())
        entry.attempts += 1
        alert = self.on_alert is not None and self.alert_after > 0
        if alert and self.on_alert is not None and entry.attempts % self.alert_after == 0:
            self.on_alert(
                f"{entry.attempts} refused attempts from {who.transport} user "
                f"{who.user_id} ({who.name or 'no name'}) in chat {who.chat_id}: {reason}"
            )
        now = self.clock()
        if entry.refused_at is None or now - entry.refused_at >= self.refusal_interval_s:
            entry.refused_at = now
            return Decision(Verdict.REFUSE, None, reason, entry.attempts)
        return Decision(Verdict.SILENT, None, reason, entry.attempts)

    def attempts(self, transport: str, user_id: str) -> int:
        entry = self._strangers.get((transport, user_id))
        return 0 if entry is None else entry.attempts
