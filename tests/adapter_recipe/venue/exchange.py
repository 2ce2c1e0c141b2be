"""``TernExchange``: ``trading.exchange.Exchange`` over Tern's JSON request/answer transport,
and the ``CandleSource`` backfill reads.

Every call is one request, sent once (``OrderSubmitter`` decides what to retry and looks an
ambiguous order up by its client tag). Tern has no atomic cancel-and-new, so this class does
not implement ``CancelAndNew``: ``OrderReplacer`` cancels, confirms, then places.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from tests.adapter_recipe.venue import mapping
from tests.adapter_recipe.venue.rules import TernRules
from tests.adapter_recipe.venue.wire import (
    TernAsset,
    TernError,
    TernKline,
    TernOrder,
    TernSymbol,
    decode,
    encode,
)
from trading.domain.balance import Balance
from trading.domain.orders import OrderReport, SubmitOrder
from trading.domain.rules import MarketRules

#: one Tern request: JSON text out, JSON text back (a socket, HTTP, or the in-process fake)
Transport = Callable[[str], Awaitable[str]]
#: the backfill asks in ``trading.marketdata.backfill.NATIVE``'s names; Tern's intervals
INTERVALS = {"1m": "M1", "5m": "M5", "60m": "H1", "1d": "D1"}
_MS = {"M1": 60_000, "M5": 300_000, "H1": 3_600_000, "D1": 86_400_000}


class TernExchange:
    def __init__(self, transport: Transport, rules: MarketRules | None = None) -> None:
        self._send = transport
        self._rules = rules or TernRules()

    @property
    def rules(self) -> MarketRules:
        return self._rules

    async def _call(self, body: dict[str, object]) -> Any:
        answer = decode(await self._send(encode(body)))
        if "error" in answer:
            raise mapping.error(TernError(int(answer["error"]["code"]), answer["error"]["msg"]))
        return answer["ok"]

    def check(self, order: SubmitOrder) -> None:
        self._rules.check_submit(order, reference_price=order.reference_price)

    async def submit(self, order: SubmitOrder, identifier: str) -> OrderReport:
        raw = await self._call(mapping.place_body(order, identifier))
        return mapping.order_report(TernOrder.parse(raw))

    async def fetch_order(
        self, *, order_id: str | None = None, identifier: str | None = None
    ) -> OrderReport:
        body: dict[str, object] = {"op": "get"}
        if order_id is not None:
            body["id"] = order_id
        else:
            body["client_tag"] = identifier
        return mapping.order_report(TernOrder.parse(await self._call(body)))

    async def cancel(self, order_id: str) -> OrderReport:
        raw = await self._call({"op": "cancel", "id": order_id})
        return mapping.order_report(TernOrder.parse(raw))

    async def list_open(self, market: str | None = None) -> list[OrderReport]:
        body: dict[str, object] = {"op": "open"}
        if market is not None:
            body["symbol"] = mapping.symbol(market)
        return [mapping.order_report(TernOrder.parse(o)) for o in await self._call(body)]

    async def accounts(self) -> list[Balance]:
        rows = await self._call({"op": "balances"})
        return [
            mapping.balance(
                TernAsset(
                    r["asset"],
                    Decimal(r["available"]),
                    Decimal(r["on_hold"]),
                    Decimal(r["cost_basis"]),
                )
            )
            for r in rows
        ]

    # -- listings and tickers: trading.marketdata's StatusSource and UniverseSource -------------

    async def _listed(self) -> list[mapping.Listed]:
        rows = await self._call({"op": "symbols"})
        return [
            mapping.listed(
                TernSymbol(
                    r["symbol"],
                    r["phase"],
                    tuple(r["watch"]),
                    r.get("delist_on"),
                    Decimal(r["quote_volume_24h"]),
                )
            )
            for r in rows
        ]

    async def markets(self, *, details: bool = True) -> Sequence[mapping.Listed]:
        return await self._listed()

    async def ticker_states(self, markets: Sequence[str]) -> Sequence[mapping.Listed]:
        return [m for m in await self._listed() if m.market in markets]

    async def ticker_values(self, quote: str = "KRW") -> Sequence[mapping.Listed]:
        return [m for m in await self._listed() if m.market.startswith(f"{quote}-")]

    # -- market data: trading.marketdata.backfill.CandleSource -------------------------------

    async def candles(
        self, market: str, timeframe: str = "1m", *, count: int = 200, to: datetime | None = None
    ) -> Sequence[mapping.Candle]:
        """The ``count`` candles before ``to`` (now), newest first, as Upbit's client answers."""
        body: dict[str, object] = {
            "op": "klines",
            "symbol": mapping.symbol(market),
            "interval": INTERVALS[timeframe],
            "limit": count,
        }
        if to is not None:
            body["end_ms"] = int(to.timestamp() * 1000)
        rows = await self._call(body)
        return [mapping.Candle(_kline(r)) for r in reversed(rows)]

    async def candle_history(
        self, market: str, timeframe: str, start: datetime, end: datetime
    ) -> Sequence[mapping.Candle]:
        span = int((end - start).total_seconds() * 1000) // _MS[INTERVALS[timeframe]]
        found = await self.candles(market, timeframe, count=max(span, 1), to=end)
        return sorted((c for c in found if start <= c.start < end), key=lambda c: c.start)


def _kline(raw: dict[str, Any]) -> TernKline:
    return TernKline(
        raw["symbol"],
        int(raw["open_ms"]),
        *(Decimal(raw[k]) for k in ("o", "h", "l", "c", "v", "qv")),
    )
