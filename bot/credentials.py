"""Every chat platform's credentials, checked once at start, before anything needs undoing.

python-telegram-bot asks ``getMe`` only when its transport starts (after the trader), and
slack-bolt defers ``auth.test`` to the first request, so a wrong Slack token used to show only
as ``invalid_auth`` at the first push. ``check_credentials`` asks each platform directly, once
the store and the probes are up and before the exchange, the trader or any transport starts:

- Telegram ``getMe`` with TELEGRAM_BOT_TOKEN;
- Slack ``auth.test`` with SLACK_BOT_TOKEN and, in Socket Mode, ``apps.connections.open`` with
  SLACK_APP_TOKEN (the URL it returns is left unused; the transport asks for its own). HTTP
  mode's signing secret cannot be checked before Slack signs a request.

A refusal (Telegram 401 or 404, Slack ``ok: false``) is final: ``CredentialsRefused``, one line
per refused token, exit code 2. A network error, a timeout, a 5xx or a 429 is tried ``TRIES``
times in all, waiting 1, 2 and 4 s (or a 429's longer ``Retry-After``, at most 30 s); then
``PlatformUnreachable``, exit code 1, since the platform may well be back for the next start.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import aiohttp
import httpx
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.notify.events import PLATFORM_NAMES
from bot.transports.base import Credential

log = logging.getLogger("bot.credentials")
TRIES = 4
WAITS_S = (1.0, 2.0, 4.0)
MAX_WAIT_S = 30.0
TIMEOUT_S = 10.0


def refused_line(platform: str, variable: str, reason: str) -> str:
    """The one line an operator reads, at start and in ``/readyz`` alike."""
    return f"{platform}: {variable} was refused by {PLATFORM_NAMES[platform]} ({reason})"


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


async def telegram_get_me(token: str, base_url: str, timeout_s: float = TIMEOUT_S) -> None:
    """``getMe`` as PTB would address it (``{token}`` in the base, else appended)."""
    base = base_url.format(token=token) if "{token}" in base_url else base_url + token
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as http:
            response = await http.get(f"{base}/getMe")
    except httpx.HTTPError as exc:
        raise Unanswered(_scrub(f"{type(exc).__name__}: {exc}", token)) from exc
    status = response.status_code
    if status == 200:
        return
    if status == 429 or status >= 500:
        raise Unanswered(f"HTTP {status}", _retry_after(response))
    raise Refusal(f"{status} {_description(response)}".strip())


async def slack_call(token: str, api_url: str, method: str, timeout_s: float = TIMEOUT_S) -> None:
    """``auth.test`` (bot token) or ``apps.connections.open`` (app token), no retries inside."""
    client = AsyncWebClient(
        token=token, base_url=api_url, timeout=int(timeout_s), retry_handlers=[]
    )
    try:
        if method == "apps.connections.open":
            await client.apps_connections_open(app_token=token)
        else:
            await client.auth_test()
    except SlackApiError as exc:
        status = exc.response.status_code
        if status == 429 or status >= 500:
            wait = float(exc.response.headers.get("Retry-After", 0) or 0)
            raise Unanswered(f"HTTP {status}", wait) from exc
        raise Refusal(str(exc.response.get("error") or f"HTTP {status}")) from exc
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
        raise Unanswered(_scrub(f"{type(exc).__name__}: {exc}", token)) from exc


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
    name = PLATFORM_NAMES[cred.platform]
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


def _description(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    description = body.get("description") if isinstance(body, dict) else None
    return str(description or response.reason_phrase)


def _retry_after(response: httpx.Response) -> float:
    try:
        body = response.json()
        return float(body["parameters"]["retry_after"])
    except (ValueError, KeyError, TypeError):
        return 0.0


def _scrub(text: str, token: str) -> str:
    """Client errors may quote the URL, which holds the Telegram token."""
    return text.replace(token, "***")[:300]
