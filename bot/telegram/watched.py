"""PTB's HTTP request with one addition: a 401 from Telegram is reported as a refused token.

Telegram answers 401 Unauthorized to every call once a token is revoked. PTB raises
``InvalidToken`` wherever that happens (a push, a reply, the long poll, which then ends for
good with a logged traceback); seeing the status here, below all of them, tells the bot once,
whichever call met it first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from telegram.request import HTTPXRequest

UNAUTHORIZED = 401


class WatchedRequest(HTTPXRequest):
    def __init__(self, on_refused: Callable[[str], None], *, connection_pool_size: int) -> None:
        """``on_refused(reason)``; the pool size as PTB's builder would choose it."""
        super().__init__(connection_pool_size=connection_pool_size)
        self._on_refused = on_refused

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(*args, **kwargs)
        if code == UNAUTHORIZED:
            self._on_refused(f"{code} {_description(payload)}")
        return code, payload


def _description(payload: bytes) -> str:
    try:
        body = json.loads(payload)
    except ValueError:
        return "Unauthorized"
    return str(body.get("description") or "Unauthorized") if isinstance(body, dict) else ""
