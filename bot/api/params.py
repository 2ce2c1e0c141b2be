"""Query parameters of the JSON API: parsed strictly, refused with one clear sentence (400)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

MARKET_RE = re.compile(r"^[A-Z]{2,5}-[A-Z0-9]{1,15}$")


class BadParam(ValueError):
    """A query parameter the API cannot use; the message is the 400 body's ``error``."""


def reject_unknown(query: Mapping[str, str], allowed: Collection[str]) -> None:
    unknown = sorted(set(query) - set(allowed))
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise BadParam(f"unknown query parameter {unknown[0]!r} (allowed: {known})")


def integer(query: Mapping[str, str], name: str, *, default: int, low: int, high: int) -> int:
    value = optional_integer(query, name, low=low, high=high)
    return default if value is None else value


def optional_integer(query: Mapping[str, str], name: str, *, low: int, high: int) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{1,19}", raw):
        raise BadParam(f"{name} must be a whole number from {low} to {high}, got {raw[:40]!r}")
    value = int(raw)
    if not low <= value <= high:
        raise BadParam(f"{name} must be from {low} to {high}, got {value}")
    return value


def market(query: Mapping[str, str], traded: Collection[str]) -> str | None:
    raw = query.get("market")
    if raw is None:
        return None
    code = raw.strip().upper()
    if not MARKET_RE.fullmatch(code):
        raise BadParam(f"market must look like KRW-BTC, got {raw[:40]!r}")
    if code not in traded:
        raise BadParam(f"market {code} is not traded by this bot (markets: {', '.join(traded)})")
    return code
