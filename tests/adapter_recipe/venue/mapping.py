"""Tern's vocabulary to and from the neutral model (``trading.domain``): the one place that
knows Tern's symbols, side numbers, order kinds, states and error codes.

Markets past an adapter are spelled ``QUOTE-BASE`` (``KRW-BTC``): the engine, reconciliation
and the holdings check read the base currency after the dash, and the minimum-order rule the
``KRW-`` prefix. So Tern's ``BTC/KRW`` is mapped here, both ways, like everything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from tests.adapter_recipe.venue.wire import (
    TernAsset,
    TernBook,
    TernError,
    TernFill,
    TernFillEvent,
    TernKline,
    TernOrder,
    TernSymbol,
    TernTrade,
)
from trading.domain import TradePrint
from trading.domain.balance import Balance
from trading.domain.book import BookSnapshot
from trading.domain.orders import (
    FillReport,
    OrderReport,
    OrderStatus,
    OrderType,
    Side,
    SubmitOrder,
)
from trading.errors import (
    BelowMinTotal,
    InsufficientFunds,
    InvalidOrder,
    InvalidPrice,
    NotFound,
    ServerError,
    UpbitError,
)

SIDE: Mapping[int, Side] = {1: Side.BUY, 2: Side.SELL}
TERN_SIDE: Mapping[Side, int] = {side: code for code, side in SIDE.items()}
KIND: Mapping[str, OrderType] = {"LMT": OrderType.LIMIT, "MKT": OrderType.MARKET}
TERN_KIND: Mapping[OrderType, str] = {kind: code for code, kind in KIND.items()}
STATUS: Mapping[str, OrderStatus] = {
    "NEW": OrderStatus.OPEN,
    "PARTIAL": OrderStatus.OPEN,
    "DONE": OrderStatus.FILLED,
    "KILLED": OrderStatus.CANCELLED,
    "EXPIRED": OrderStatus.CANCELLED,
}
#: Tern's trading phases in the words ``trading.risk.lifecycle`` reads (Upbit's
#: ``market_state``: PREVIEW and DELISTED take no orders, "" is silence)
PHASE: Mapping[str, str] = {"PRE_LISTING": "PREVIEW", "TRADING": "ACTIVE", "DELISTED": "DELISTED"}
#: Tern's errors as the ``trading.errors`` kinds the order path acts on; anything else
#: is ambiguous (looked up by identifier, never re-sent blindly)
ERRORS: Mapping[int, type[UpbitError]] = {
    2010: InsufficientFunds,
    2011: BelowMinTotal,
    2012: InvalidPrice,
    2020: InvalidOrder,
    4040: NotFound,
}
ERROR_NAMES: Mapping[int, str] = {
    2010: "tern_insufficient_balance",
    2011: "tern_below_minimum",
    2012: "tern_price_off_grid",
    2020: "tern_duplicate_client_tag",
    4040: "tern_unknown_order",
}


def market(symbol: str) -> str:
    """``BTC/KRW`` -> ``KRW-BTC``."""
    base, quote = symbol.split("/")
    return f"{quote}-{base}"


def symbol(market_code: str) -> str:
    """``KRW-BTC`` -> ``BTC/KRW``."""
    quote, base = market_code.split("-")
    return f"{base}/{quote}"


def at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def error(answer: TernError) -> UpbitError:
    """Tern's refusal as the kind the order path acts on. ``status`` carries Tern's code:
    a refusal with a status is one the venue answered, which ``RefusalGuard`` counts."""
    kind = ERRORS.get(answer.code, ServerError)
    name = ERROR_NAMES.get(answer.code, f"tern_{answer.code}")
    return kind(answer.msg, name=name, status=answer.code)


def place_body(order: SubmitOrder, client_tag: str) -> dict[str, object]:
    """``SubmitOrder`` as Tern's ``place`` request: a market buy spends ``quote_amount``."""
    body: dict[str, object] = {
        "op": "place",
        "symbol": symbol(order.market),
        "side": TERN_SIDE[order.side],
        "kind": TERN_KIND[order.type],
        "client_tag": client_tag,
    }
    if order.is_budget:
        body["quote_amount"] = order.funds
    else:
        body["qty"] = order.volume
    if order.type is OrderType.LIMIT:
        body["price"] = order.price
    return body


def fill_report(
    fill: TernFill, *, order_id: str, tag: str | None, sym: str, side: int
) -> FillReport:
    return FillReport(
        trade_id=fill.fill_id,
        order_id=order_id,
        identifier=tag,
        market=market(sym),
        side=SIDE[side],
        price=fill.price,
        volume=fill.qty,
        funds=fill.price * fill.qty,
        fee=fill.fee,
        is_maker=fill.maker,
        at=at(fill.ts),
    )


def order_report(order: TernOrder) -> OrderReport:
    fills = tuple(
        fill_report(f, order_id=order.id, tag=order.client_tag, sym=order.symbol, side=order.side)
        for f in order.fills
    )
    return OrderReport(
        order_id=order.id,
        identifier=order.client_tag,
        market=market(order.symbol),
        side=SIDE[order.side],
        type=KIND[order.kind],
        status=STATUS[order.status],
        created_at=at(order.ts),
        price=order.price,
        volume=order.qty,
        funds=order.quote_amount,
        executed_volume=order.filled_qty,
        executed_funds=order.filled_quote,
        paid_fee=order.fee,
        fill_count=len(order.fills),
        fills=fills,
    )


def stream_report(message: TernOrder | TernFillEvent) -> FillReport | OrderReport | None:
    """A private-stream message for ``EngineLoop.put_stream``; None for a state Tern may add."""
    if isinstance(message, TernFillEvent):
        return fill_report(
            message.fill,
            order_id=message.order_id,
            tag=message.client_tag,
            sym=message.symbol,
            side=message.side,
        )
    if message.status not in STATUS:
        return None
    return order_report(message)


def balance(asset: TernAsset) -> Balance:
    return Balance(asset.asset, asset.available, asset.on_hold, asset.cost_basis)


def trade_print(trade: TernTrade) -> TradePrint:
    # ``ask_bid`` is the taker's book side in Upbit's spelling; nothing past here reads it
    return TradePrint(
        market(trade.symbol),
        trade.price,
        trade.qty,
        at(trade.ts),
        "BID" if trade.taker == 1 else "ASK",
    )


def book_snapshot(book: TernBook) -> BookSnapshot:
    """Empty levels dropped, asks ascending, bids descending: best first."""
    asks = sorted((p, q) for p, q in book.asks if q > 0)
    bids = sorted(((p, q) for p, q in book.bids if q > 0), reverse=True)
    return BookSnapshot(market(book.symbol), tuple(asks), tuple(bids), at(book.ts))


class Candle:
    """A Tern kline as ``trading.domain.candle.Candle``: the protocol's names over Tern's
    fields, with the neutral market code."""

    __slots__ = ("_k",)

    def __init__(self, kline: TernKline) -> None:
        self._k = kline

    @property
    def market(self) -> str:
        return market(self._k.symbol)

    @property
    def start(self) -> datetime:
        return at(self._k.open_ms)

    @property
    def open(self) -> Decimal:
        return self._k.o

    @property
    def high(self) -> Decimal:
        return self._k.h

    @property
    def low(self) -> Decimal:
        return self._k.l

    @property
    def close(self) -> Decimal:
        return self._k.c

    @property
    def volume(self) -> Decimal:
        return self._k.v

    @property
    def quote_volume(self) -> Decimal:
        return self._k.qv


@dataclass(frozen=True, slots=True)
class Listed:
    """A Tern symbol as ``trading.domain.market``'s ``Listing`` and ``TickerValue``: a
    ``warning`` is Tern's ``delist_risk`` flag, every other watch flag a caution."""

    market: str
    warning: bool
    cautions: tuple[str, ...]
    market_state: str
    delisting_date: date | None
    acc_trade_price_24h: Decimal


def listed(row: TernSymbol) -> Listed:
    return Listed(
        market=market(row.symbol),
        warning="delist_risk" in row.watch,
        cautions=tuple(f for f in row.watch if f != "delist_risk"),
        market_state=PHASE.get(row.phase, ""),
        delisting_date=None if row.delist_on is None else date.fromisoformat(row.delist_on),
        acc_trade_price_24h=row.quote_volume_24h,
    )
