"""Bearer-token check for the JSON API: closed unless a token is configured.

No token configured means the API is off (503), never open. The comparison is constant-time
(``hmac.compare_digest`` on bytes), so response timing does not leak how much of a guess was
right.
"""

from __future__ import annotations

import hmac

from aiohttp import web

DISABLED = "API disabled: set UPBIT_BOT_API_TOKEN"
REALM = 'Bearer realm="upbit-bot"'


def refusal(request: web.Request, token: str | None) -> tuple[int, str, dict[str, str]] | None:
    """None when the request may pass; else (status, message, extra headers)."""
    if not token:
        return 503, DISABLED, {}
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return 401, "missing bearer token", {"WWW-Authenticate": REALM}
    if not hmac.compare_digest(given.strip().encode(errors="surrogateescape"), token.encode()):
        return 401, "wrong bearer token", {"WWW-Authenticate": f'{REALM}, error="invalid_token"'}
    return None
