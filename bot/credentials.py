"""Every chat platform's credentials, checked once at start, before anything needs undoing.

A platform's library may ask about its token only when its transport starts (after the
trader), or at the first request, so a wrong token used to show only at the first push.
``check_credentials`` asks each platform directly, once the store and the probes are up and
before the exchange, the trader or any transport starts: each transport kind lists its tokens
and their probes (``TransportKind.credentials``; the probes live in the platform's package,
e.g. ``getMe`` in ``bot/telegram/probe.py``).

A refusal (the platform's "no" to the token) is final: ``CredentialsRefused``, one line
per refused token, exit code 2. A network error, a timeout, a 5xx or a 429 is tried ``TRIES``
times in all, waiting 1, 2 and 4 s (or a 429's longer ``Retry-After``, at most 30 s); then
``PlatformUnreachable``, exit code 1, since the platform may well be back for the next start.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from bot.transports.base import Credential
from bot.transports.registry import title

log = logging.getLogger("bot.credentials")
TRIES = 4
WAITS_S = (1.0, 2.0, 4.0)
MAX_WAIT_S = 30.0
TIMEOUT_S = 10.0


def refused_line(platform: str, variable: str, reason: str) -> str:
    """The one line an operator reads, at start and in ``/readyz`` alike."""
    return f"{platform}: {variable} was refused by {title(platform)} ({reason})"


class Refusal(Exception):
    """The platform answered and said no to the token (``reason``: its own words)."""


class Unanswered(Exception):
    """No answer worth believing: network, timeout, 5xx, 429 (``retry_after_s`` if told)."""

    def __init__(self, reason: str, retry_after_s: float = 0.0) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class CredentialsRefused(Exception):
    """One or more tokens refused at start; ``lines`` names each platform and variable."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = tuple(lines)


class PlatformUnreachable(Exception):
    """A platform did not answer in ``TRIES`` tries; the message is the line to log."""


async def check_credentials(
    credentials: Sequence[Credential],
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Platforms side by side, one platform's tokens in turn; raises ``CredentialsRefused``
    (every refused token, even when another platform cannot be reached) or
    ``PlatformUnreachable``."""
    platforms = list(dict.fromkeys(c.platform for c in credentials))
    results = await asyncio.gather(
        *(_check_platform([c for c in credentials if c.platform == p], sleep) for p in platforms),
        return_exceptions=True,
    )
    refused = [line for r in results if isinstance(r, list) for line in r]
    if refused:
        raise CredentialsRefused(refused)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def _check_platform(
    credentials: Sequence[Credential], sleep: Callable[[float], Awaitable[object]]
) -> list[str]:
    refused = []
    for cred in credentials:
        reason = await _probe(cred, sleep)
        if reason is not None:
            refused.append(refused_line(cred.platform, cred.variable, reason))
        else:
            log.info("%s: %s accepted", cred.platform, cred.variable)
    return refused


async def _probe(cred: Credential, sleep: Callable[[float], Awaitable[object]]) -> str | None:
    """None when accepted, the platform's reason when refused."""
    name = title(cred.platform)
    started = time.monotonic()
    for attempt in range(1, TRIES + 1):
        try:
            await cred.probe()
        except Refusal as exc:
            return str(exc)
        except Unanswered as exc:
            if attempt == TRIES:
                spent = time.monotonic() - started
                raise PlatformUnreachable(
                    f"{cred.platform}: {name} unreachable at {cred.where} after {TRIES} tries"
                    f" over {spent:.0f}s ({exc})"
                ) from exc
            wait = min(MAX_WAIT_S, max(WAITS_S[attempt - 1], exc.retry_after_s))
            log.warning(
                "%s: %s unreachable at %s (%s); try %d of %d in %gs",
                cred.platform,
                name,
                cred.where,
                exc,
                attempt + 1,
                TRIES,
                wait,
            )
            await sleep(wait)
        else:
            return None
    raise AssertionError("unreachable")  # the loop returns or raises


def scrub(text: str, token: str) -> str:
    """Client errors may quote the URL, which may hold the token (a Bot API URL does)."""
    return text.replace(token, "***")[:300]
