"""Tern's wire types: the JSON objects it sends, parsed with every amount exact.

Only this package sees them (``mapping`` turns them into the neutral model). Amounts travel
as strings and times as epoch milliseconds, as on many venues.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


def decode(text: str) -> Any:
    """JSON with every number exact (a float would lose a satoshi)."""
    return json.loads(text, parse_float=Decimal)


def encode(body: dict[str, object]) -> str:
    """Decimals as plain strings, never in exponent form."""
    return json.dumps({k: f"{v:f}" if isinstance(v, Decimal) else v for k, v in body.items()})


def _amount(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass(frozen=True, slots=True)
class TernFill:
    fill_id: str
    price: Decimal
    qty: Decimal
    fee: Decimal
    ts: int
    maker: bool

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> TernFill:
        return cls(
            raw["fill_id"],
            Decimal(raw["price"]),
            Decimal(raw["qty"]),
            Decimal(raw["fee"]),
            int(raw["ts"]),
            bool(raw["maker"]),
        )


@dataclass(frozen=True, slots=True)
class TernOrder:
    """An order as Tern answers it (placed, looked up, cancelled, or on the private stream).
    A market buy carries ``quote_amount`` (what it spends) instead of ``qty``."""

    id: str
    client_tag: str | None
    symbol: str
    side: int
    kind: str
    status: str
    price: Decimal | None
    qty: Decimal | None
    quote_amount: Decimal | None
    filled_qty: Decimal
    filled_quote: Decimal
    fee: Decimal
    ts: int
    fills: tuple[TernFill, ...]

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> TernOrder:
        return cls(
            id=raw["id"],
            client_tag=raw.get("client_tag"),
            symbol=raw["symbol"],
            side=int(raw["side"]),
            kind=raw["kind"],
            status=raw["status"],
            price=_amount(raw.get("price")),
            qty=_amount(raw.get("qty")),
            quote_amount=_amount(raw.get("quote_amount")),
            filled_qty=Decimal(raw["filled_qty"]),
            filled_quote=Decimal(raw["filled_quote"]),
            fee=Decimal(raw["fee"]),
            ts=int(raw["ts"]),
            fills=tuple(TernFill.parse(f) for f in raw.get("fills", ())),
        )


@dataclass(frozen=True, slots=True)
class TernFillEvent:
    """The private stream's ``fill`` message: one execution of one order."""

    order_id: str
    client_tag: str | None
    symbol: str
    side: int
    fill: TernFill


@dataclass(frozen=True, slots=True)
class TernAsset:
    asset: str
    available: Decimal
    on_hold: Decimal
    cost_basis: Decimal


@dataclass(frozen=True, slots=True)
class TernTrade:
    """A public trade: ``taker`` is 1 when a buyer took an ask."""

    symbol: str
    price: Decimal
    qty: Decimal
    ts: int
    taker: int


@dataclass(frozen=True, slots=True)
class TernBook:
    symbol: str
    asks: tuple[tuple[Decimal, Decimal], ...]
    bids: tuple[tuple[Decimal, Decimal], ...]
    ts: int


@dataclass(frozen=True, slots=True)
class TernKline:
    """One candle; ``symbol`` is Tern's. ``mapping.candle`` gives the neutral one."""

    symbol: str
    open_ms: int
    o: Decimal
    h: Decimal
    l: Decimal  # noqa: E741  (Tern's field name)
    c: Decimal
    v: Decimal
    qv: Decimal


@dataclass(frozen=True, slots=True)
class TernSymbol:
    """A listed symbol: its trading ``phase``, Tern's ``watch`` list flags, a delisting day
    (ISO text) if one is announced, and the 24-hour traded value in the quote currency."""

    symbol: str
    phase: str
    watch: tuple[str, ...]
    delist_on: str | None
    quote_volume_24h: Decimal


@dataclass(frozen=True, slots=True)
class TernError:
    code: int
    msg: str


def private_message(text: str) -> TernOrder | TernFillEvent | None:
    """One private-stream message; None for a type this adapter does not know."""
    raw = decode(text)
    if raw.get("type") == "order":
        return TernOrder.parse(raw["order"])
    if raw.get("type") == "fill":
        return TernFillEvent(
            raw["order_id"],
            raw.get("client_tag"),
            raw["symbol"],
            int(raw["side"]),
            TernFill.parse(raw["fill"]),
        )
    return None


def trade_message(text: str) -> TernTrade:
    raw = decode(text)
    return TernTrade(
        raw["symbol"], Decimal(raw["price"]), Decimal(raw["qty"]), int(raw["ts"]), raw["taker"]
    )
