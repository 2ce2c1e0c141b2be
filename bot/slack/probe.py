"""Slack's answer to a token at start: ``auth.test`` (bot token) or
``apps.connections.open`` (app token, Socket Mode; the URL it returns is left unused, the
transport asks for its own). HTTP mode's signing secret cannot be checked before Slack signs a
request."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.credentials import TIMEOUT_S, Refusal, Unanswered, scrub


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
        raise Unanswered(scrub(f"{type(exc).__name__}: {exc}", token)) from exc
