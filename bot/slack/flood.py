"""Slack's 429 as the ``RetryAfter`` the pacer honours, for the Web API and ``response_url``.

slack_sdk raises ``SlackApiError`` for a Web API 429 but returns a ``response_url`` 429 as an
ordinary ``WebhookResponse``; both carry ``Retry-After`` in whole seconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.notify.sender import RetryAfter


def retry_after_s(headers: Any) -> float:
    """Slack's ``Retry-After`` header in seconds; 1 if it is missing or unreadable."""
    try:
        return max(0.0, float(str((headers or {}).get("Retry-After"))))
    except ValueError:
        return 1.0


async def api_call(call: Callable[[], Awaitable[object]]) -> None:
    """One Web API post; a 429 becomes ``RetryAfter``, any other error stays the caller's."""
    try:
        await call()
    except SlackApiError as exc:
        if exc.response.status_code == 429:
            raise RetryAfter(retry_after_s(exc.response.headers)) from exc
        raise


def partial_call(call: Callable[[], Awaitable[object]]) -> Callable[[float], Awaitable[None]]:
    """``api_call(call)`` as a ``Pacer.send`` attempt (a later part: no note to add)."""

    async def attempt(_flood_delay: float) -> None:
        await api_call(call)

    return attempt


async def webhook_call(call: Callable[[], Awaitable[object]]) -> None:
    """One ``response_url`` post; a 429 answer becomes ``RetryAfter``."""
    answer = await call()
    if getattr(answer, "status_code", 200) == 429:
        raise RetryAfter(retry_after_s(getattr(answer, "headers", None)))
