"""Market data: order books, candles, the trade tape and ticker statistics.

Builds quotation REST items (§4) and DEFAULT-format WebSocket messages (§8.3); all numbers
are ``Decimal`` so the JSON writer emits them as exact JSON numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .candles import CandleBook
from .jsonenc import KST, now_ms, utc_dt

ZERO = Decimal(0)
Level = list[Decimal]  # [price, size]


@dataclass
class TapeTrade:
    market: str
    price: Decimal
    volume: Decimal
    ask_bid: str
    ts_ms: int
    sequential_id: int
    prev_closing_price: Decimal
    change_price: Decimal


@dataclass
class Book:
    asks: list[Level] = field(default_factory=list)
    bids: list[Level] = field(default_factory=list)
    ts_ms: int = 0


@dataclass
class Lifecycle:
    """The ticker's ``market_state`` and ``delisting_date`` (None: no delisting scheduled)."""

    state: str = "ACTIVE"
    delisting_date: date | None = None


@dataclass
class Stats:
    opening: Decimal | None = None
    high: Decimal = ZERO
    low: Decimal = ZERO
    prev_close: Decimal | None = None
    acc_price: Decimal = ZERO
    acc_volume: Decimal = ZERO
    acc_ask: Decimal = ZERO
    acc_bid: Decimal = ZERO
    value_24h: Decimal | None = None  # scripted acc_trade_price_24h (None: from the tape)


def _change(price: Decimal, prev: Decimal) -> tuple[str, Decimal, Decimal]:
    diff = price - prev
    rate = (diff / prev).quantize(Decimal("0.0000000001")) if prev else ZERO
    return ("RISE" if diff > 0 else "FALL" if diff < 0 else "EVEN"), diff, rate


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _ymd(day: date | None) -> dict[str, int] | None:
    """The WebSocket ticker's date object (reference §8.3, per Upbit's SDK)."""
    return None if day is None else {"year": day.year, "month": day.month, "day": day.day}


class MarketData:
    def __init__(self, markets: list[str]) -> None:
        self.markets = list(markets)
        self.books: dict[str, Book] = {}
        self.candles = CandleBook()
        self.tape: dict[str, list[TapeTrade]] = {m: [] for m in markets}
        self.stats: dict[str, Stats] = {m: Stats() for m in markets}
        self.lifecycle: dict[str, Lifecycle] = {m: Lifecycle() for m in markets}
        self._seq = 0

    # ----- state -----
    def set_orderbook(
        self, market: str, asks: list[tuple[Decimal, Decimal]], bids: list[tuple[Decimal, Decimal]]
    ) -> None:
        self.books[market] = Book(
            [[Decimal(p), Decimal(s)] for p, s in asks],
            [[Decimal(p), Decimal(s)] for p, s in bids],
            now_ms(),
        )

    def has_book(self, market: str) -> bool:
        return market in self.books

    def last_price(self, market: str) -> Decimal | None:
        tape = self.tape.get(market)
        return tape[0].price if tape else None

    def last_trade(self, market: str) -> TapeTrade | None:
        tape = self.tape.get(market)
        return tape[0] if tape else None

    def set_candles(self, market: str, unit: str, candles: list[dict[str, Any]]) -> None:
        self.candles.set(market, unit, candles)

    def record_trade(
        self, market: str, price: Decimal, volume: Decimal, ask_bid: str
    ) -> TapeTrade:
        stats = self.stats[market]
        if stats.prev_close is None:
            stats.prev_close = price
        if stats.opening is None:
            stats.opening, stats.high, stats.low = price, price, price
        stats.high, stats.low = max(stats.high, price), min(stats.low, price)
        stats.acc_price += price * volume
        stats.acc_volume += volume
        if ask_bid == "ASK":
            stats.acc_ask += volume
        else:
            stats.acc_bid += volume
        ts = now_ms()
        self._seq += 1
        trade = TapeTrade(
            market,
            price,
            volume,
            ask_bid,
            ts,
            ts * 10000 + self._seq % 10000,
            stats.prev_close,
            price - stats.prev_close,
        )
        self.tape[market].insert(0, trade)
        return trade

    # ----- REST items -----
    def ticker_rest(self, market: str) -> dict[str, Any]:
        stats, last = self.stats[market], self.last_trade(market)
        price = last.price if last else ZERO
        prev = stats.prev_close or ZERO
        change, diff, rate = _change(price, prev)
        ts = last.ts_ms if last else now_ms()
        utc, kst = utc_dt(ts), utc_dt(ts).astimezone(KST)
        return {
            "market": market,
            "trade_date": utc.strftime("%Y%m%d"),
            "trade_time": utc.strftime("%H%M%S"),
            "trade_date_kst": kst.strftime("%Y%m%d"),
            "trade_time_kst": kst.strftime("%H%M%S"),
            "trade_timestamp": ts,
            "opening_price": stats.opening or ZERO,
            "high_price": stats.high,
            "low_price": stats.low,
            "trade_price": price,
            "prev_closing_price": prev,
            "change": change,
            "change_price": abs(diff),
            "change_rate": abs(rate),
            "signed_change_price": diff,
            "signed_change_rate": rate,
            "trade_volume": last.volume if last else ZERO,
            "acc_trade_price": stats.acc_price,
            "acc_trade_price_24h": (
                stats.acc_price if stats.value_24h is None else stats.value_24h
            ),
            "acc_trade_volume": stats.acc_volume,
            "acc_trade_volume_24h": stats.acc_volume,
            "highest_52_week_price": stats.high,
            "highest_52_week_date": utc.strftime("%Y-%m-%d"),
            "lowest_52_week_price": stats.low,
            "lowest_52_week_date": utc.strftime("%Y-%m-%d"),
            # not in Upbit's REST sample (reference §4.4), seen on older REST answers; the
            # date as text here, as an object on the WebSocket, so clients meet both forms
            "market_state": self.lifecycle[market].state,
            "delisting_date": _iso(self.lifecycle[market].delisting_date),
            "timestamp": now_ms(),
        }

    def trade_rest(self, trade: TapeTrade) -> dict[str, Any]:
        utc = utc_dt(trade.ts_ms)
        return {
            "market": trade.market,
            "trade_date_utc": utc.strftime("%Y-%m-%d"),
            "trade_time_utc": utc.strftime("%H:%M:%S"),
            "timestamp": trade.ts_ms,
            "trade_price": trade.price,
            "trade_volume": trade.volume,
            "prev_closing_price": trade.prev_closing_price,
            "change_price": trade.change_price,
            "ask_bid": trade.ask_bid,
            "sequential_id": trade.sequential_id,
        }

    def orderbook_rest(self, market: str, count: int = 30) -> dict[str, Any]:
        book = self.books.get(market, Book())
        depth = max(len(book.asks), len(book.bids))
        units = []
        for i in range(min(depth, count)):
            ask = book.asks[i] if i < len(book.asks) else [ZERO, ZERO]
            bid = book.bids[i] if i < len(book.bids) else [ZERO, ZERO]
            units.append(
                {"ask_price": ask[0], "bid_price": bid[0], "ask_size": ask[1], "bid_size": bid[1]}
            )
        return {
            "market": market,
            "timestamp": book.ts_ms or now_ms(),
            "total_ask_size": sum((u["ask_size"] for u in units), ZERO),
            "total_bid_size": sum((u["bid_size"] for u in units), ZERO),
            "orderbook_units": units,
            "level": 0,
        }

    # ----- WebSocket (DEFAULT format) -----
    def ticker_ws(self, market: str, stream_type: str) -> dict[str, Any]:
        rest = self.ticker_rest(market)
        stats = self.stats[market]
        last = self.last_trade(market)
        return {
            "type": "ticker",
            "code": market,
            "opening_price": rest["opening_price"],
            "high_price": rest["high_price"],
            "low_price": rest["low_price"],
            "trade_price": rest["trade_price"],
            "prev_closing_price": rest["prev_closing_price"],
            "change": rest["change"],
            "change_price": rest["change_price"],
            "signed_change_price": rest["signed_change_price"],
            "change_rate": rest["change_rate"],
            "signed_change_rate": rest["signed_change_rate"],
            "trade_volume": rest["trade_volume"],
            "acc_trade_volume": rest["acc_trade_volume"],
            "acc_trade_volume_24h": rest["acc_trade_volume_24h"],
            "acc_trade_price": rest["acc_trade_price"],
            "acc_trade_price_24h": rest["acc_trade_price_24h"],
            "trade_date": rest["trade_date"],
            "trade_time": rest["trade_time"],
            "trade_timestamp": rest["trade_timestamp"],
            "ask_bid": last.ask_bid if last else "BID",
            "acc_ask_volume": stats.acc_ask,
            "acc_bid_volume": stats.acc_bid,
            "highest_52_week_price": rest["highest_52_week_price"],
            "highest_52_week_date": rest["highest_52_week_date"],
            "lowest_52_week_price": rest["lowest_52_week_price"],
            "lowest_52_week_date": rest["lowest_52_week_date"],
            "market_state": self.lifecycle[market].state,
            "delisting_date": _ymd(self.lifecycle[market].delisting_date),
            "timestamp": rest["timestamp"],
            "stream_type": stream_type,
        }

    def trade_ws(self, trade: TapeTrade, stream_type: str) -> dict[str, Any]:
        utc = utc_dt(trade.ts_ms)
        book = self.books.get(trade.market, Book())
        best_ask = book.asks[0] if book.asks else [ZERO, ZERO]
        best_bid = book.bids[0] if book.bids else [ZERO, ZERO]
        change, _, _ = _change(trade.price, trade.prev_closing_price)
        return {
            "type": "trade",
            "code": trade.market,
            "timestamp": now_ms(),
            "trade_date": utc.strftime("%Y-%m-%d"),
            "trade_time": utc.strftime("%H:%M:%S"),
            "trade_timestamp": trade.ts_ms,
            "trade_price": trade.price,
            "trade_volume": trade.volume,
            "ask_bid": trade.ask_bid,
            "prev_closing_price": trade.prev_closing_price,
            "change": change,
            "change_price": abs(trade.change_price),
            "sequential_id": trade.sequential_id,
            "best_ask_price": best_ask[0],
            "best_ask_size": best_ask[1],
            "best_bid_price": best_bid[0],
            "best_bid_size": best_bid[1],
            "stream_type": stream_type,
        }

    def orderbook_ws(self, market: str, depth: int, stream_type: str) -> dict[str, Any]:
        rest = self.orderbook_rest(market, depth)
        return {
            "type": "orderbook",
            "code": market,
            "timestamp": rest["timestamp"],
            "total_ask_size": rest["total_ask_size"],
            "total_bid_size": rest["total_bid_size"],
            "orderbook_units": rest["orderbook_units"],
            "stream_type": stream_type,
            "level": 0,
        }
