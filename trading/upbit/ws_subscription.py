"""The subscription message (reference §8.2): one JSON array that replaces the previous set."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

Format = Literal["DEFAULT", "SIMPLE", "JSON_LIST", "SIMPLE_LIST"]
FORMATS: Final = ("DEFAULT", "SIMPLE", "JSON_LIST", "SIMPLE_LIST")
PRIVATE_TYPES: Final = frozenset({"myOrder", "myAsset"})
ORDERBOOK_DEPTHS: Final = frozenset({1, 5, 15, 30})


@dataclass(frozen=True, slots=True)
class Subscription:
    """One data type of a subscription message; Upbit replaces the whole set on every send."""

    type: str
    codes: Sequence[str] = ()
    depth: int | None = None
    only_realtime: bool = False
    only_snapshot: bool = False

    def __post_init__(self) -> None:
        codes = tuple(c.upper() for c in self.codes)
        object.__setattr__(self, "codes", codes)
        if self.type == "myAsset" and codes:
            raise ValueError("myAsset takes no codes (Upbit answers WRONG_FORMAT)")
        if not codes and self.type not in PRIVATE_TYPES and self.type != "announcement":
            raise ValueError(f"{self.type} needs at least one code")
        if self.depth is not None and (
            self.type != "orderbook" or self.depth not in ORDERBOOK_DEPTHS
        ):
            raise ValueError(f"depth must be one of {sorted(ORDERBOOK_DEPTHS)} for orderbook")
        if self.only_realtime and self.only_snapshot:
            raise ValueError("only_realtime and only_snapshot exclude each other")

    def to_json(self) -> dict[str, Any]:
        obj: dict[str, Any] = {"type": self.type}
        if self.type != "myAsset":
            suffix = f".{self.depth}" if self.depth is not None else ""
            obj["codes"] = [f"{c}{suffix}" for c in self.codes]
        if self.only_realtime:
            obj["is_only_realtime"] = True
        if self.only_snapshot:
            obj["is_only_snapshot"] = True
        return obj


def build_subscription(
    ticket: str, subscriptions: Iterable[Subscription], fmt: Format = "DEFAULT"
) -> str:
    """The JSON array Upbit expects: ticket first, one object per type, format last."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    types = [s.to_json() for s in subscriptions]
    if not types:
        raise ValueError("a subscription needs at least one type")
    return json.dumps([{"ticket": ticket}, *types, {"format": fmt}], separators=(",", ":"))
