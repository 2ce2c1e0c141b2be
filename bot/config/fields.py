"""Parsers shared by the config models: each raises ValueError with the text the user reads.

Kept apart from the models so handlers (live ``/set``) can reuse the same rules and wording.
"""

from __future__ import annotations

import re
from datetime import time
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MARKET_RE = re.compile(r"^[A-Z]+-[A-Z0-9]+$")
_HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_SPEED_RE = re.compile(r"^(\d+(?:\.\d+)?)x$")
HTTP_SCHEMES = ("http", "https")
WS_SCHEMES = ("ws", "wss")
STORE_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


def check_pattern(value: str, pattern: str, message: str) -> str:
    """``value`` if all of it matches ``pattern``, else ``message`` as the error."""
    if not re.fullmatch(pattern, value):
        raise ValueError(message)
    return value


def check_url(value: str, schemes: tuple[str, ...]) -> str:
    """Accept only absolute URLs with one of ``schemes``: a typo must not reach a socket."""
    want = " or ".join(f"{s}://" for s in schemes)
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in schemes
        or not parts.hostname
        or any(c.isspace() for c in value)
    ):
        raise ValueError(f"must be a URL starting with {want}")
    return value


def mask_url_password(url: str) -> str:
    """Hide the password of a database URL; it may be the only secret a config file holds."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def check_store_url(value: str) -> str:
    """The store speaks SQLAlchemy's async drivers only; a sync URL would block the loop."""
    if not value.startswith(STORE_SCHEMES) or len(value) <= len("sqlite+aiosqlite://"):
        raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    return value


def check_market(value: str) -> str:
    """Upbit market codes are QUOTE-BASE; only KRW quotes fit KRW position sizes."""
    if not _MARKET_RE.match(value):
        raise ValueError('must be an Upbit market code like "KRW-BTC"')
    if not value.startswith("KRW-"):
        raise ValueError("only KRW markets are supported (sizes and limits are in KRW)")
    return value


#: ``bot.markets = "top:N"``: the N most traded KRW markets, N within these bounds
TOP_RE = re.compile(r"^top:(\d+)$")
TOP_MAX = 50


def top_n(value: str) -> int | None:
    """N of a ``"top:N"`` market selector (None: not one); ValueError when N is out of
    bounds."""
    found = TOP_RE.match(value.strip().lower())
    if found is None:
        return None
    n = int(found.group(1))
    if not 1 <= n <= TOP_MAX:
        raise ValueError(f"top:N takes N from 1 to {TOP_MAX}")
    return n


def check_market_or_top(value: str) -> str:
    """A market code, or the ``"top:N"`` selector (``BotConfig`` keeps it alone)."""
    if top_n(value) is not None:
        return value.strip().lower()
    return check_market(value)


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError('must be an IANA time zone like "Asia/Seoul"') from None
    return value


def replay_factor(value: str) -> float | None:
    """Speed multiplier of ``"60x"``; None for ``"max"`` (no sleeping at all)."""
    if value == "max":
        return None
    match = _SPEED_RE.match(value)
    if not match or float(match.group(1)) <= 0:
        raise ValueError('must be "max" or a positive speed like "1x" or "60x"')
    return float(match.group(1))


def parse_clock(value: object) -> time:
    """A wall-clock time: ``"HH:MM"`` text or a TOML local time."""
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        match = _HHMM_RE.match(value)
        if match:
            return time(int(match.group(1)), int(match.group(2)))
    raise ValueError('must be a time "HH:MM" (24-hour)')


def format_clock(value: time) -> str:
    if value.second == 0 and value.microsecond == 0 and value.tzinfo is None:
        return value.strftime("%H:%M")
    return value.isoformat()
