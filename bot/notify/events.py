"""The bot's own events, for what the engine cannot see: start-up, shutdown, errors.

The app publishes them on the same bus as the engine's events, so the notifier treats every
push alike. They live here (not in ``trading.events``) because only the bot process has them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from trading.events import Event, Level


@dataclass(frozen=True, slots=True, kw_only=True)
class BotStarted(Event):
    """The bot is up: its mode, markets and strategy (the reconciliation comes as its own
    ``Reconciled`` event)."""

    kind: ClassVar[str] = "startup"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    mode: str
    markets: tuple[str, ...]
    strategy: str
    version: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class BotStopping(Event):
    """The bot is shutting down (``reason``: what asked it to, "" = not known); pushed while
    the transports still run, so every platform hears it."""

    kind: ClassVar[str] = "shutdown"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    mode: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PartFailed(Event):
    """Something failed that an operator should know about (``where`` names the part)."""

    kind: ClassVar[str] = "error"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    where: str
    message: str


#: How the chat platforms are named to people (in logs and pushes).
PLATFORM_NAMES = {"telegram": "Telegram", "slack": "Slack"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatTokenRefused(Event):
    """A chat platform refused the bot's token while it ran (revoked, deactivated): pushed to
    every other platform, since this one can no longer be reached."""

    kind: ClassVar[str] = "chat_token"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    platform: str  # telegram | slack
    variable: str  # the environment variable that holds the token
    reason: str  # the platform's words: "401 Unauthorized", "token_revoked"
