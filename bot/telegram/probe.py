"""Telegram's answer to the bot token at start: ``getMe``, as python-telegram-bot would
address it, over httpx (PTB itself is not loaded for it)."""

from __future__ import annotations

import httpx

from bot.credentials import TIMEOUT_S, Refusal, Unanswered, scrub


async def telegram_get_me(token: str, base_url: str, timeout_s: float = TIMEOUT_S) -> None:
    """``getMe`` as PTB would address it (``{token}`` in the base, else appended)."""
    base = base_url.format(token=token) if "{token}" in base_url else base_url + token
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as http:
            response = await http.get(f"{base}/getMe")
    except httpx.HTTPError as exc:
        raise Unanswered(scrub(f"{type(exc).__name__}: {exc}", token)) from exc
    status = response.status_code
    if status == 200:
        return
    if status == 429 or status >= 500:
        raise Unanswered(f"HTTP {status}", _retry_after(response))
    raise Refusal(f"{status} {_description(response)}".strip())


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
