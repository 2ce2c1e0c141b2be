"""Parsing and validating WebSocket subscription messages (reference §8.2).

Error names: ``WRONG_FORMAT`` (not a JSON array of objects; ``codes`` on ``myAsset``; bad
boolean flags), ``NO_TICKET``, ``NO_TYPE``, ``NO_CODES`` (market types without codes),
``INVALID_PARAM`` (unknown type or format), ``INVALID_AUTH`` (private types on the public URL).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .ws_format import FORMATS

MARKET_TYPES = ("ticker", "trade", "orderbook")
CANDLE_UNITS = ("1s", "1m", "3m", "5m", "10m", "15m", "30m", "60m", "240m")
PRIVATE_TYPES = ("myOrder", "myAsset")
DEPTHS = (1, 5, 15, 30)


class WsError(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(name)
        self.name = name
        self.message = message

    def frame(self) -> dict[str, Any]:
        return {"error": {"name": self.name, "message": self.message}}


@dataclass
class Sub:
    type: str
    codes: list[str] = field(default_factory=list)  # bare market codes
    depths: dict[str, int] = field(default_factory=dict)  # orderbook depth per market
    only_snapshot: bool = False
    only_realtime: bool = False

    def wants(self, market: str | None) -> bool:
        if self.type in PRIVATE_TYPES and not self.codes:
            return True
        return market in self.codes


@dataclass
class Subscription:
    ticket: str
    subs: list[Sub]
    fmt: str = "DEFAULT"
    list_request: bool = False


def _flag(item: dict[str, Any], snake: str, camel: str) -> bool:
    value = item.get(snake, item.get(camel, False))
    if not isinstance(value, bool):
        raise WsError("WRONG_FORMAT", f"{snake} must be a boolean")
    return value


def _sub(item: dict[str, Any], private: bool) -> Sub:
    kind = item["type"]
    known = (
        kind in MARKET_TYPES
        or kind in PRIVATE_TYPES
        or (isinstance(kind, str) and kind.startswith("candle.") and kind[7:] in CANDLE_UNITS)
    )
    if not known:
        raise WsError("INVALID_PARAM", f"Unknown type: {kind}")
    if kind in PRIVATE_TYPES and not private:
        raise WsError("INVALID_AUTH", "인증 정보가 올바르지 않습니다.")
    codes = item.get("codes")
    if kind == "myAsset" and "codes" in item:
        raise WsError("WRONG_FORMAT", "myAsset does not take codes")
    if codes is None:
        codes = []
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise WsError("WRONG_FORMAT", "codes must be a list of strings")
    if kind not in PRIVATE_TYPES and not codes:
        raise WsError("NO_CODES", "codes is required")
    sub = Sub(
        kind,
        only_snapshot=_flag(item, "is_only_snapshot", "isOnlySnapshot"),
        only_realtime=_flag(item, "is_only_realtime", "isOnlyRealtime"),
    )
    for code in codes:
        market, _, depth = code.partition(".")
        if kind == "orderbook":
            n = int(depth) if depth.isdigit() else 30
            sub.depths[market] = n if n in DEPTHS else 30
        sub.codes.append(market if kind == "orderbook" else code)
    return sub


def parse(text: str, *, private: bool) -> Subscription:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise WsError("WRONG_FORMAT", "요청 형식이 올바르지 않습니다.") from exc
    if not isinstance(data, list) or not data or not all(isinstance(i, dict) for i in data):
        raise WsError("WRONG_FORMAT", "요청 형식이 올바르지 않습니다.")
    tickets = [i["ticket"] for i in data if "ticket" in i]
    if not tickets or not isinstance(tickets[0], str) or not tickets[0]:
        raise WsError("NO_TICKET", "ticket이 없습니다.")
    if any(i.get("method") == "LIST_SUBSCRIPTIONS" for i in data):
        return Subscription(tickets[0], [], list_request=True)
    fmt = "DEFAULT"
    for item in data:
        if "format" in item:
            fmt = item["format"]
            if fmt not in FORMATS:
                raise WsError("INVALID_PARAM", f"Unknown format: {fmt}")
    items = [i for i in data if "type" in i]
    if not items:
        raise WsError("NO_TYPE", "type이 없습니다.")
    return Subscription(tickets[0], [_sub(i, private) for i in items], fmt)
