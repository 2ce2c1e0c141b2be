"""Chat tokens refused while the bot runs: told once, on the other platforms, in ``/readyz``
and in the metrics.

A token can be revoked at any time (BotFather's /revoke, a Slack admin, a deactivated owner).
The transports report what the platform answered (Telegram 401; Slack ``invalid_auth``,
``token_revoked``, ``account_inactive``...) through ``reporter``; the first report per platform
is logged and published as a critical ``ChatTokenRefused``, which the notifier queues for every
platform but that one. The platform stays refused until the process restarts: a revoked token
never comes back, the operator has to put a new one in and restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from bot.credentials import refused_line
from bot.notify.events import ChatTokenRefused
from trading.events import Event

log = logging.getLogger("bot.credentials")


@dataclass(frozen=True, slots=True)
class Refused:
    variable: str
    reason: str

    def line(self, platform: str) -> str:
        return refused_line(platform, self.variable, self.reason)


class TokenWatch:
    def __init__(self, platforms: Iterable[str], publish: Callable[[Event], None]) -> None:
        """``platforms``: those with a transport configured; ``publish``: the app's sink."""
        self.platforms = tuple(platforms)
        self._publish = publish
        self._refused: dict[str, Refused] = {}

    def reporter(self, platform: str) -> Callable[[str, str], None]:
        """For a transport: ``report(variable, reason)``."""
        return lambda variable, reason: self.refused(platform, variable, reason)

    def refused(self, platform: str, variable: str, reason: str) -> None:
        if platform in self._refused:
            return
        refusal = self._refused[platform] = Refused(variable, reason)
        log.error("%s while running: replace the token and restart", refusal.line(platform))
        self._publish(ChatTokenRefused(platform=platform, variable=variable, reason=reason))

    def refusal(self, platform: str) -> Refused | None:
        return self._refused.get(platform)

    def ready(self) -> Mapping[str, bool]:
        """Per configured platform: True while its tokens are accepted (for the metrics)."""
        return {p: p not in self._refused for p in self.platforms}
