"""Typed Upbit WebSocket frames and the subscription message (reference §8.2, §8.3).

Upbit sends the same data under two key sets (DEFAULT and abbreviated SIMPLE) and, in the
``*_LIST`` formats, wraps messages in a JSON array. We normalise SIMPLE keys to their DEFAULT
names first so there is exactly one parser per type. Every number is an exact ``Decimal``
(``myAsset`` balances carry more digits than a float holds) and every timestamp is UTC.
Unknown types come back as ``RawMessage`` so a new Upbit type never breaks the feed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from trading.upbit.wire import loads
from trading.upbit.ws_fields import Fields, WsParseError, normalise
from trading.upbit.ws_subscription import (
    FORMATS,
    ORDERBOOK_DEPTHS,
    PRIVATE_TYPES,
    Format,
    Subscription,
    build_subscription,
)

__all__ = [
    "FORMATS",
    "ORDERBOOK_DEPTHS",
    "PRIVATE_TYPES",
    "AssetBalance",
    "Candle",
    "Format",
    "MyAsset",
    "MyOrder",
    "Orderbook",
    "OrderbookUnit",
    "RawMessage",
    "Status",
    "Subscription",
    "Ticker",
    "Trade",
    "WsError",
    "WsFrame",
    "WsMessage",
    "WsParseError",
    "build_subscription",
    "parse_message",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Ticker:
    code: str
    trade_price: Decimal
    timestamp: datetime
    stream_type: str
    opening_price: Decimal | None = None
    high_price: Decimal | None = None
    low_price: Decimal | None = None
    prev_closing_price: Decimal | None = None
    change: str | None = None
    change_price: Decimal | None = None
    signed_change_price: Decimal | None = None
    change_rate: Decimal | None = None
    signed_change_rate: Decimal | None = None
    trade_volume: Decimal | None = None
    acc_trade_volume: Decimal | None = None
    acc_trade_volume_24h: Decimal | None = None
    acc_trade_price: Decimal | None = None
    acc_trade_price_24h: Decimal | None = None
    trade_timestamp: datetime | None = None
    ask_bid: str | None = None
    acc_ask_volume: Decimal | None = None
    acc_bid_volume: Decimal | None = None
    highest_52_week_price: Decimal | None = None
    lowest_52_week_price: Decimal | None = None
    market_state: str | None = None
    delisting_date: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    code: str
    trade_price: Decimal
    trade_volume: Decimal
    ask_bid: str
    trade_timestamp: datetime
    sequential_id: int
    timestamp: datetime
    stream_type: str
    prev_closing_price: Decimal | None = None
    change: str | None = None
    change_price: Decimal | None = None
    best_ask_price: Decimal | None = None
    best_ask_size: Decimal | None = None
    best_bid_price: Decimal | None = None
    best_bid_size: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderbookUnit:
    ask_price: Decimal
    bid_price: Decimal
    ask_size: Decimal
    bid_size: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Orderbook:
    """A full snapshot of the top levels, never a diff."""

    code: str
    units: tuple[OrderbookUnit, ...]
    total_ask_size: Decimal
    total_bid_size: Decimal
    timestamp: datetime
    stream_type: str
    level: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Candle:
    """``candle.{unit}``; the same bucket repeats and the last one wins."""

    code: str
    unit: str
    candle_date_time_utc: datetime
    opening_price: Decimal
    high_price: Decimal
    low_price: Decimal
    trade_price: Decimal
    candle_acc_trade_volume: Decimal
    candle_acc_trade_price: Decimal
    timestamp: datetime
    stream_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MyOrder:
    """Private order event; ``state == "trade"`` is a fill of ``volume`` at ``price``."""

    code: str
    uuid: str
    ask_bid: str
    order_type: str
    state: str
    timestamp: datetime
    stream_type: str
    trade_uuid: str | None = None
    price: Decimal | None = None
    avg_price: Decimal | None = None
    volume: Decimal | None = None
    remaining_volume: Decimal | None = None
    executed_volume: Decimal | None = None
    trades_count: int | None = None
    reserved_fee: Decimal | None = None
    remaining_fee: Decimal | None = None
    paid_fee: Decimal | None = None
    locked: Decimal | None = None
    executed_funds: Decimal | None = None
    time_in_force: str | None = None
    trade_fee: Decimal | None = None
    is_maker: bool | None = None
    identifier: str | None = None
    smp_type: str | None = None
    prevented_volume: Decimal | None = None
    prevented_locked: Decimal | None = None
    trade_timestamp: datetime | None = None
    order_timestamp: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AssetBalance:
    currency: str
    balance: Decimal
    locked: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class MyAsset:
    """Sent only when a balance changes; carries only the changed currencies."""

    asset_uuid: str
    assets: tuple[AssetBalance, ...]
    asset_timestamp: datetime
    timestamp: datetime
    stream_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RawMessage:
    """A frame of a type we do not model (or no type at all, e.g. LIST_SUBSCRIPTIONS)."""

    type: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Status:
    """``{"status":"UP"}``, Upbit's answer to our ``PING``: liveness only."""

    status: str


@dataclass(frozen=True, slots=True)
class WsError:
    """An error frame, e.g. ``INVALID_AUTH`` or ``WRONG_FORMAT``."""

    name: str
    message: str


WsMessage = Ticker | Trade | Orderbook | Candle | MyOrder | MyAsset | RawMessage
WsFrame = WsMessage | Status | WsError


def _ticker(f: Fields) -> Ticker:
    return Ticker(
        code=f.text("code"),
        trade_price=f.dec("trade_price"),
        timestamp=f.ts("timestamp"),
        stream_type=f.text("stream_type"),
        opening_price=f.opt_dec("opening_price"),
        high_price=f.opt_dec("high_price"),
        low_price=f.opt_dec("low_price"),
        prev_closing_price=f.opt_dec("prev_closing_price"),
        change=f.opt_str("change"),
        change_price=f.opt_dec("change_price"),
        signed_change_price=f.opt_dec("signed_change_price"),
        change_rate=f.opt_dec("change_rate"),
        signed_change_rate=f.opt_dec("signed_change_rate"),
        trade_volume=f.opt_dec("trade_volume"),
        acc_trade_volume=f.opt_dec("acc_trade_volume"),
        acc_trade_volume_24h=f.opt_dec("acc_trade_volume_24h"),
        acc_trade_price=f.opt_dec("acc_trade_price"),
        acc_trade_price_24h=f.opt_dec("acc_trade_price_24h"),
        trade_timestamp=f.opt_ts("trade_timestamp"),
        ask_bid=f.opt_str("ask_bid"),
        acc_ask_volume=f.opt_dec("acc_ask_volume"),
        acc_bid_volume=f.opt_dec("acc_bid_volume"),
        highest_52_week_price=f.opt_dec("highest_52_week_price"),
        lowest_52_week_price=f.opt_dec("lowest_52_week_price"),
        market_state=f.opt_str("market_state"),
        delisting_date=f.opt_date("delisting_date"),
    )


def _trade(f: Fields) -> Trade:
    return Trade(
        code=f.text("code"),
        trade_price=f.dec("trade_price"),
        trade_volume=f.dec("trade_volume"),
        ask_bid=f.text("ask_bid"),
        trade_timestamp=f.ts("trade_timestamp"),
        sequential_id=f.integer("sequential_id"),
        timestamp=f.ts("timestamp"),
        stream_type=f.text("stream_type"),
        prev_closing_price=f.opt_dec("prev_closing_price"),
        change=f.opt_str("change"),
        change_price=f.opt_dec("change_price"),
        best_ask_price=f.opt_dec("best_ask_price"),
        best_ask_size=f.opt_dec("best_ask_size"),
        best_bid_price=f.opt_dec("best_bid_price"),
        best_bid_size=f.opt_dec("best_bid_size"),
    )


def _orderbook(f: Fields) -> Orderbook:
    units = tuple(
        OrderbookUnit(
            ask_price=u.dec("ask_price"),
            bid_price=u.dec("bid_price"),
            ask_size=u.dec("ask_size"),
            bid_size=u.dec("bid_size"),
        )
        for u in f.items("orderbook_units")
    )
    return Orderbook(
        code=f.text("code"),
        units=units,
        total_ask_size=f.dec("total_ask_size"),
        total_bid_size=f.dec("total_bid_size"),
        timestamp=f.ts("timestamp"),
        stream_type=f.text("stream_type"),
        level=f.opt_dec("level"),
    )


def _candle(f: Fields) -> Candle:
    return Candle(
        code=f.text("code"),
        unit=f.text("type").partition(".")[2],
        candle_date_time_utc=f.utc("candle_date_time_utc"),
        opening_price=f.dec("opening_price"),
        high_price=f.dec("high_price"),
        low_price=f.dec("low_price"),
        trade_price=f.dec("trade_price"),
        candle_acc_trade_volume=f.dec("candle_acc_trade_volume"),
        candle_acc_trade_price=f.dec("candle_acc_trade_price"),
        timestamp=f.ts("timestamp"),
        stream_type=f.text("stream_type"),
    )


def _my_order(f: Fields) -> MyOrder:
    return MyOrder(
        code=f.text("code"),
        uuid=f.text("uuid"),
        ask_bid=f.text("ask_bid"),
        order_type=f.text("order_type"),
        state=f.text("state"),
        timestamp=f.ts("timestamp"),
        stream_type=f.text("stream_type"),
        trade_uuid=f.opt_str("trade_uuid"),
        price=f.opt_dec("price"),
        avg_price=f.opt_dec("avg_price"),
        volume=f.opt_dec("volume"),
        remaining_volume=f.opt_dec("remaining_volume"),
        executed_volume=f.opt_dec("executed_volume"),
        trades_count=f.opt_int("trades_count"),
        reserved_fee=f.opt_dec("reserved_fee"),
        remaining_fee=f.opt_dec("remaining_fee"),
        paid_fee=f.opt_dec("paid_fee"),
        locked=f.opt_dec("locked"),
        executed_funds=f.opt_dec("executed_funds"),
        time_in_force=f.opt_str("time_in_force"),
        trade_fee=f.opt_dec("trade_fee"),
        is_maker=f.opt_bool("is_maker"),
        identifier=f.opt_str("identifier"),
        smp_type=f.opt_str("smp_type"),
        prevented_volume=f.opt_dec("prevented_volume"),
        prevented_locked=f.opt_dec("prevented_locked"),
        trade_timestamp=f.opt_ts("trade_timestamp"),
        order_timestamp=f.opt_ts("order_timestamp"),
    )


def _my_asset(f: Fields) -> MyAsset:
    assets = tuple(
        AssetBalance(currency=a.text("currency"), balance=a.dec("balance"), locked=a.dec("locked"))
        for a in f.items("assets")
    )
    return MyAsset(
        asset_uuid=f.text("asset_uuid"),
        assets=assets,
        asset_timestamp=f.ts("asset_timestamp"),
        timestamp=f.ts("timestamp"),
        stream_type=f.text("stream_type"),
    )


_PARSERS: Final[Mapping[str, Callable[[Fields], WsMessage]]] = {
    "ticker": _ticker,
    "trade": _trade,
    "orderbook": _orderbook,
    "candle": _candle,
    "myOrder": _my_order,
    "myAsset": _my_asset,
}


def _parse_object(obj: Any, raw: str) -> WsFrame:
    if not isinstance(obj, Mapping):
        raise WsParseError("not a JSON object", raw)
    if "error" in obj:
        err = obj["error"]
        if isinstance(err, Mapping):
            return WsError(str(err.get("name", "")), str(err.get("message", "")))
        return WsError(str(err), "")
    norm = normalise(obj)
    if "status" in norm and "type" not in norm:
        return Status(str(norm["status"]))
    type_ = str(norm.get("type", ""))
    parser = _PARSERS.get(type_.split(".")[0] if type_.startswith("candle.") else type_)
    if parser is None:
        return RawMessage(type=type_, data=obj)
    return parser(Fields(norm, raw))


def parse_message(raw: bytes | str) -> list[WsFrame]:
    """Parse one frame (binary or text) into its messages.

    A DEFAULT/SIMPLE frame yields one item, a ``*_LIST`` frame one per array element. Raises
    ``WsParseError`` for invalid JSON or a known type with missing or non-numeric fields.
    """
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:
        data = loads(text)
    except ValueError as exc:
        raise WsParseError("invalid JSON", text) from exc
    if isinstance(data, list):
        return [_parse_object(item, text) for item in data]
    return [_parse_object(data, text)]
