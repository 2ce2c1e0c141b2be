"""JSON output that keeps Decimal precision, plus small time helpers.

``dumps`` writes ``Decimal`` values as raw JSON numbers made of plain digits (no exponent), so
quotation/WebSocket numbers keep every digit.  Exchange responses use ``dec_str`` to turn
amounts into decimal strings first.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

KST = timezone(timedelta(hours=9))


def dec_str(value: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros ("0", "15584.9886")."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def dumps(obj: Any) -> str:
    parts: list[str] = []
    _write(obj, parts)
    return "".join(parts)


def _write(obj: Any, out: list[str]) -> None:
    if isinstance(obj, bool) or obj is None:
        out.append(json.dumps(obj))
    elif isinstance(obj, Decimal):
        out.append(dec_str(obj))
    elif isinstance(obj, int | float | str):
        out.append(json.dumps(obj, ensure_ascii=False))
    elif isinstance(obj, dict):
        out.append("{")
        for i, (key, value) in enumerate(obj.items()):
            if i:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(":")
            _write(value, out)
        out.append("}")
    elif isinstance(obj, list | tuple):
        out.append("[")
        for i, value in enumerate(obj):
            if i:
                out.append(",")
            _write(value, out)
        out.append("]")
    else:
        raise TypeError(f"cannot serialise {type(obj).__name__}")


def now_ms() -> int:
    return int(time.time() * 1000)


def kst_iso(ts_ms: int, *, micro: bool = False) -> str:
    """``2025-06-25T15:42:25+09:00`` (or with microseconds for trade rows)."""
    moment = datetime.fromtimestamp(ts_ms / 1000, tz=KST)
    return moment.isoformat(timespec="microseconds" if micro else "seconds")


def utc_dt(ts_ms: int) -> datetime:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC)


def parse_iso(text: str) -> datetime:
    """Parse the ISO forms Upbit accepts; no offset means UTC.  Raises ValueError."""
    if len(text) < 10:
        raise ValueError(text)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
