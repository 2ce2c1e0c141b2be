"""Quotation REST handlers (reference §4): JSON numbers, integer error names, no auth."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC
from decimal import Decimal
from typing import Any

from aiohttp import web

from .errors import q_invalid, q_missing, q_not_found, q_type
from .exchange import Exchange
from .jsonenc import parse_iso, utc_dt
from .market import MarketData

Handler = Callable[[web.Request], Awaitable[Any]]
MINUTE_UNITS = ("1", "3", "5", "10", "15", "30", "60", "240")
NAMES = {
    "BTC": ("비트코인", "Bitcoin"),
    "ETH": ("이더리움", "Ethereum"),
    "XRP": ("엑스알피(리플)", "XRP"),
    "SOL": ("솔라나", "Solana"),
    "DOGE": ("도지코인", "Dogecoin"),
    "USDT": ("테더", "Tether"),
}
CAUTIONS = (
    "PRICE_FLUCTUATIONS",
    "TRADING_VOLUME_SOARING",
    "DEPOSIT_AMOUNT_SOARING",
    "GLOBAL_PRICE_DIFFERENCES",
    "CONCENTRATION_OF_SMALL_ACCOUNTS",
)


def _int(query: Any, key: str, default: int) -> int:
    raw = query.get(key)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise q_type() from None


def _markets(md: MarketData, raw: str | None) -> list[str]:
    if raw is None or raw == "":
        raise q_missing()
    markets = raw.split(",")
    if any(m not in md.markets for m in markets):
        raise q_not_found()
    return markets


class QuoteApi:
    def __init__(self, md: MarketData, exchange: Exchange) -> None:
        self.md = md
        self.ex = exchange
        self.warnings: set[str] = set()
        self.cautions: dict[str, set[str]] = {}
        self.unlisted: set[str] = set()  # delisted: gone from market/all

    def routes(self) -> list[tuple[str, str, Handler, str]]:
        return [
            ("GET", "/v1/market/all", self.market_all, "market"),
            ("GET", "/v1/candles/seconds", self.candles, "candles"),
            ("GET", "/v1/candles/minutes/{unit}", self.candles, "candles"),
            ("GET", "/v1/candles/days", self.candles, "candles"),
            ("GET", "/v1/candles/weeks", self.candles, "candles"),
            ("GET", "/v1/candles/months", self.candles, "candles"),
            ("GET", "/v1/candles/years", self.candles, "candles"),
            ("GET", "/v1/trades/ticks", self.ticks, "trade"),
            ("GET", "/v1/ticker", self.ticker, "ticker"),
            ("GET", "/v1/ticker/all", self.ticker_all, "ticker"),
            ("GET", "/v1/orderbook", self.orderbook, "orderbook"),
            ("GET", "/v1/orderbook/instruments", self.instruments, "orderbook"),
        ]

    async def market_all(self, request: web.Request) -> Any:
        details = request.query.get("is_details", "false")
        if details not in ("true", "false"):
            raise q_type()
        out = []
        for market in self.md.markets:
            if market in self.unlisted:
                continue
            base = market.split("-", 1)[1]
            korean, english = NAMES.get(base, (base, base))
            item: dict[str, Any] = {
                "market": market,
                "korean_name": korean,
                "english_name": english,
            }
            if details == "true":
                item["market_event"] = {
                    "warning": market in self.warnings,
                    "caution": {c: c in self.cautions.get(market, ()) for c in CAUTIONS},
                }
            out.append(item)
        return out

    async def candles(self, request: web.Request) -> Any:
        kind = request.path.split("/")[3]
        unit = kind
        if kind == "minutes":
            if request.match_info["unit"] not in MINUTE_UNITS:
                raise q_invalid()
            unit = f"minutes/{request.match_info['unit']}"
        market = request.query.get("market")
        if not market:
            raise q_missing()
        if market not in self.md.markets:
            raise q_not_found()
        count = _int(request.query, "count", 1)
        if count < 1:
            raise q_invalid()
        to = request.query.get("to")
        limit = None
        if to is not None:
            try:
                limit = parse_iso(to).astimezone(UTC).replace(tzinfo=None).isoformat()
            except ValueError:
                raise q_invalid() from None
        if self.md.candles.outage_now():
            status = self.md.candles.outage_status
            return status, {"error": {"name": status, "message": "Service Unavailable"}}
        return self.md.candles.page(market, unit, min(count, 200), limit)

    async def ticks(self, request: web.Request) -> Any:
        q = request.query
        market = q.get("market")
        if not market:
            raise q_missing()
        if market not in self.md.markets:
            raise q_not_found()
        count = _int(q, "count", 1)
        if count < 1:
            raise q_invalid()
        days_ago = _int(q, "days_ago", 0)
        if "days_ago" in q and not 1 <= days_ago <= 7:
            raise q_invalid()
        trades = self.md.tape[market]
        if "cursor" in q:
            cursor = _int(q, "cursor", 0)
            trades = [t for t in trades if t.sequential_id < cursor]
        to = q.get("to")
        if to is not None:
            digits = to.replace(":", "")
            if len(digits) != 6 or not digits.isdigit():
                raise q_invalid()
            trades = [t for t in trades if utc_dt(t.ts_ms).strftime("%H%M%S") < digits]
        return [self.md.trade_rest(t) for t in trades[: min(count, 500)]]

    async def ticker(self, request: web.Request) -> Any:
        markets = _markets(self.md, request.query.get("markets"))
        return [self.md.ticker_rest(m) for m in markets]

    async def ticker_all(self, request: web.Request) -> Any:
        raw = request.query.get("quote_currencies")
        quotes = raw.split(",") if raw else ["KRW", "BTC", "USDT"]
        if any(qc not in ("KRW", "BTC", "USDT") for qc in quotes):
            raise q_invalid()
        return [self.md.ticker_rest(m) for m in self.md.markets if m.split("-")[0] in quotes]

    async def orderbook(self, request: web.Request) -> Any:
        markets = _markets(self.md, request.query.get("markets"))
        count = _int(request.query, "count", 30)
        if count < 1:
            raise q_invalid()
        level = request.query.get("level", "0")
        try:
            if Decimal(level) != 0:
                return []
        except ArithmeticError:
            raise q_type() from None
        return [self.md.orderbook_rest(m, min(count, 30)) for m in markets]

    async def instruments(self, request: web.Request) -> Any:
        markets = _markets(self.md, request.query.get("markets"))
        out = []
        for market in markets:
            ref = self.ex.reference_price(market, "ask") or self.ex.reference_price(market, "bid")
            tick = self.ex.tick_size(market, ref if ref is not None else Decimal(0))
            out.append(
                {
                    "market": market,
                    "quote_currency": market.split("-")[0],
                    "tick_size": format(tick, "f"),
                    "supported_levels": ["0"],
                }
            )
        return out
