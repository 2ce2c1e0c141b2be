"""Async Upbit REST client: one connection pool, signed calls, paced per group, typed results.

Every call goes through ``_send``: circuit breaker -> rate limiter -> sign (a fresh JWT per
attempt) -> HTTP with a hard timeout -> ``Remaining-Req`` bookkeeping -> error mapping. Reads
are retried by ``RetryPolicy``; ``create_order`` and ``cancel_and_new`` are sent exactly once
(``trading.orders.submit`` and ``.replace`` decide what happens after an ambiguous failure).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from trading.circuit import CircuitBreaker
from trading.domain.balance import Balance
from trading.domain.orders import OrderReport, SubmitOrder
from trading.errors import (
    Banned,
    NetworkError,
    RateLimited,
    RequestTimeout,
    ServerError,
    TransientError,
    UpbitError,
    ValidationError,
    raise_for_upbit_error,
)
from trading.events import EventSink, ignore_event
from trading.upbit import mapping
from trading.upbit.auth import Credentials, QueryPairs, bearer, encode_query
from trading.upbit.constants import (
    MAX_CANDLES_PER_CALL,
    MAX_IDS_PER_CANCEL,
    MAX_IDS_PER_LOOKUP,
    MAX_TRADES_PER_CALL,
    TIMEFRAME_PATHS,
)
from trading.upbit.mapping import balance
from trading.upbit.market_rules import UpbitMarketRules
from trading.upbit.models import (
    Account,
    BatchCancelResult,
    CancelAndNewResult,
    Candle,
    Instrument,
    Market,
    Order,
    Orderbook,
    OrderChance,
    Ticker,
    TickerState,
    TickerValue,
    TradeTick,
)
from trading.upbit.order_body import OrderBodies
from trading.upbit.ratelimit import RateLimiter
from trading.upbit.retry import RetryPolicy
from trading.upbit.tick_check import check_instruments
from trading.upbit.wire import loads

M = TypeVar("M", bound=BaseModel)
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RequestSample:
    """One HTTP exchange as metrics see it: ``endpoint`` is the path template (never a query
    or an id), ``status`` the HTTP status or ``timeout``/``network`` when no answer came."""

    endpoint: str
    method: str
    group: str
    status: str
    seconds: float


RequestObserver = Callable[[RequestSample], None]


class UpbitRestClient(OrderBodies):
    """Upbit's quotation and exchange REST API (reference §4-§5)."""

    def __init__(
        self,
        base_url: str = "https://api.upbit.com",
        *,
        credentials: Credentials | None = None,
        timeout_s: float = 5.0,
        connect_timeout_s: float = 3.0,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        circuit: CircuitBreaker | None = None,
        rules: UpbitMarketRules | None = None,
        on_event: EventSink = ignore_event,
        max_connections: int = 20,
        on_request: RequestObserver | None = None,
    ) -> None:
        self._base = base_url.rstrip("/") + "/v1"
        self._on_request = on_request
        self._creds = credentials
        self._timeout_s = timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._max_connections = max_connections
        self.retry = retry or RetryPolicy()
        self.limiter = limiter or RateLimiter(on_event=on_event)
        self.circuit = circuit or CircuitBreaker(on_event=on_event)
        self.rules = rules or UpbitMarketRules()
        self._http: httpx.AsyncClient | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self._http is not None:
            raise RuntimeError("UpbitRestClient is already started")
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(self._timeout_s, connect=self._connect_timeout_s),
            limits=httpx.Limits(max_connections=self._max_connections),
            headers={"Accept": "application/json", "User-Agent": "upbit-chatops-bot"},
        )

    async def stop(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()
        await self.limiter.close()

    async def __aenter__(self) -> UpbitRestClient:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    # -- transport -------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        group: str,
        *,
        params: QueryPairs = (),
        body: dict[str, str] | None = None,
        private: bool = False,
    ) -> Any:
        """One attempt; raises a ``trading.errors`` exception for every failure."""
        if self._http is None:
            raise RuntimeError("UpbitRestClient is not started")
        if private and self._creds is None:
            raise UpbitError("this call needs Upbit API keys", name="no_credentials")
        self.circuit.before_call()
        url = self._base + path
        wire, decoded = encode_query(params) if params else ("", "")
        if wire:
            url += "?" + wire
        headers: dict[str, str] = {}
        content: bytes | None = None
        if body is not None:
            # the hash covers k=v&... in body-key order; json.dumps keeps that order
            decoded = encode_query(list(body.items()))[1]
            content = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        started: float | None = None
        try:
            async with self.limiter.slot(group), asyncio.timeout(self._timeout_s):
                # signed inside the slot: a token must not age in the queue
                if private:
                    assert self._creds is not None
                    headers["Authorization"] = bearer(self._creds, decoded or None)
                started = time.perf_counter()  # latency of the exchange, not of the queue
                response = await self._http.request(method, url, content=content, headers=headers)
        except TimeoutError as exc:
            self._observe(method, path, group, "timeout", started)
            self.circuit.record_failure(f"{method} {path} timed out")
            raise RequestTimeout(
                f"{method} {path}: no answer within {self._timeout_s}s", name="timeout"
            ) from exc
        except httpx.TimeoutException as exc:
            self._observe(method, path, group, "timeout", started)
            self.circuit.record_failure(f"{method} {path} timed out")
            raise RequestTimeout(f"{method} {path}: {type(exc).__name__}", name="timeout") from exc
        except httpx.TransportError as exc:
            self._observe(method, path, group, "network", started)
            self.circuit.record_failure(f"{method} {path}: {type(exc).__name__}")
            raise NetworkError(f"{method} {path}: {exc!r}", name="network") from exc
        except BaseException:  # a ban in the queue, a cancellation: release a probe slot
            self.circuit.record_neutral()
            raise
        self._observe(method, path, group, str(response.status_code), started)
        self.limiter.observe_header(response.headers.get("Remaining-Req"), group)
        try:
            raise_for_upbit_error(response.status_code, response.content, group=group)
        except RateLimited as exc:
            exc.retry_after = self.limiter.on_429(group)
            self.circuit.record_neutral()
            raise
        except Banned as exc:
            self.limiter.on_ban(group, exc.until, exc.message)
            self.circuit.record_neutral()
            raise
        except ServerError as exc:
            self.circuit.record_failure(f"{method} {path}: HTTP {exc.status}")
            raise
        except UpbitError:
            self.circuit.record_success()
            raise
        self.circuit.record_success()
        try:
            return loads(response.content)
        except ValueError as exc:
            raise ServerError(f"{method} {path}: response is not JSON", name="bad_json") from exc

    def _observe(
        self, method: str, path: str, group: str, status: str, started: float | None
    ) -> None:
        """Report one exchange to ``on_request``; requests that never left (a ban in the
        queue) are not samples. An observer's failure never fails the request."""
        if self._on_request is None or started is None:
            return
        sample = RequestSample(
            endpoint="/v1" + path,
            method=method,
            group=group,
            status=status,
            seconds=time.perf_counter() - started,
        )
        try:
            self._on_request(sample)
        except Exception:
            log.exception("request observer failed on %s %s", method, path)

    async def _read(
        self, path: str, group: str, params: QueryPairs = (), *, private: bool = False
    ) -> Any:
        return await self.retry.run(
            lambda: self._send("GET", path, group, params=params, private=private)
        )

    @staticmethod
    def _parse(model: type[M], data: Any) -> M:
        return model.model_validate(data)

    @staticmethod
    def _parse_list(model: type[M], data: Any) -> list[M]:
        return TypeAdapter(list[model]).validate_python(data)  # type: ignore[valid-type]

    # -- quotation -------------------------------------------------------------------------

    async def markets(self, *, details: bool = True) -> list[Market]:
        """GET /v1/market/all; ``details`` adds the warning/caution flags."""
        data = await self._read("/market/all", "market", [("is_details", _bool(details))])
        return self._parse_list(Market, data)

    async def candles(
        self,
        market: str,
        timeframe: str = "1m",
        *,
        count: int = MAX_CANDLES_PER_CALL,
        to: datetime | None = None,
    ) -> list[Candle]:
        """GET /v1/candles/{seconds|minutes/N|days|...}: newest first, ``to`` exclusive."""
        path = TIMEFRAME_PATHS.get(timeframe)
        if path is None:
            raise ValidationError(
                f"timeframe {timeframe!r} is not one Upbit serves "
                f"(allowed: {', '.join(TIMEFRAME_PATHS)})",
                name="client_timeframe",
            )
        if not 1 <= count <= MAX_CANDLES_PER_CALL:
            raise ValidationError(f"count must be 1..{MAX_CANDLES_PER_CALL}", name="client_count")
        params: list[tuple[str, str]] = [("market", market), ("count", str(count))]
        if to is not None:
            params.append(("to", _iso_utc(to)))
        return self._parse_list(Candle, await self._read(f"/candles/{path}", "candle", params))

    async def candle_history(
        self, market: str, timeframe: str, start: datetime, end: datetime
    ) -> list[Candle]:
        """Every candle with ``start <= candle.start < end``, oldest first, paging backwards."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        found: dict[datetime, Candle] = {}
        cursor = end
        while cursor > start:
            page = await self.candles(market, timeframe, to=cursor)
            if not page:
                break
            for candle in page:
                if start <= candle.start < end:
                    found[candle.start] = candle
            oldest = min(c.start for c in page)
            if oldest >= cursor:  # a server that ignores ``to`` must not loop us forever
                break
            cursor = oldest
        return [found[k] for k in sorted(found)]

    async def ticker(self, markets: Sequence[str]) -> list[Ticker]:
        data = await self._read("/ticker", "ticker", [("markets", ",".join(markets))])
        return self._parse_list(Ticker, data)

    async def ticker_states(self, markets: Sequence[str]) -> list[TickerState]:
        """GET /v1/ticker, only ``market_state`` and ``delisting_date`` (a market without a
        trade yet has no prices, but it has a state)."""
        data = await self._read("/ticker", "ticker", [("markets", ",".join(markets))])
        return self._parse_list(TickerState, data)

    async def ticker_values(self, quote: str = "KRW") -> list[TickerValue]:
        """GET /v1/ticker/all?quote_currencies=KRW: every pair of the quote currency with its
        24-hour traded value (reference §4.4), for the market universe."""
        data = await self._read("/ticker/all", "ticker", [("quote_currencies", quote)])
        return self._parse_list(TickerValue, data)

    async def orderbook(self, markets: Sequence[str], *, count: int = 30) -> list[Orderbook]:
        params = [("markets", ",".join(markets)), ("count", str(count))]
        return self._parse_list(Orderbook, await self._read("/orderbook", "orderbook", params))

    async def instruments(self, markets: Sequence[str]) -> list[Instrument]:
        """GET /v1/orderbook/instruments: the authoritative tick size per market."""
        data = await self._read(
            "/orderbook/instruments", "orderbook", [("markets", ",".join(markets))]
        )
        return self._parse_list(Instrument, data)

    async def refresh_ticks(self, markets: Sequence[str]) -> UpbitMarketRules:
        """Check the tick table against Upbit's instruments answer at today's prices.

        The table gives the tick at the price of each order (a tick fetched once would go
        stale when the price crosses a band); where Upbit's answer disagrees, that band is
        narrowed to a grid both accept and the disagreement is logged (``tick_check``).
        """
        instruments = await self.instruments(markets)
        prices = {t.market: t.trade_price for t in await self.ticker(markets)}
        self.rules, disagreements = check_instruments(self.rules, instruments, prices)
        for found in disagreements:
            log.warning("tick table check: %s", found.describe())
        return self.rules

    async def trades(
        self,
        market: str,
        *,
        count: int = 100,
        cursor: int | None = None,
        days_ago: int | None = None,
    ) -> list[TradeTick]:
        count = min(max(count, 1), MAX_TRADES_PER_CALL)
        params: list[tuple[str, str]] = [("market", market), ("count", str(count))]
        if cursor is not None:
            params.append(("cursor", str(cursor)))
        if days_ago is not None:
            params.append(("days_ago", str(days_ago)))
        return self._parse_list(TradeTick, await self._read("/trades/ticks", "trade", params))

    # -- exchange --------------------------------------------------------------------------

    async def accounts(self) -> list[Balance]:
        rows = self._parse_list(Account, await self._read("/accounts", "default", private=True))
        return [balance(row) for row in rows]

    async def order_chance(self, market: str) -> OrderChance:
        data = await self._read("/orders/chance", "default", [("market", market)], private=True)
        return self._parse(OrderChance, data)

    async def create_order(self, body: dict[str, str], *, test: bool = False) -> Order:
        """POST /v1/orders (201), sent exactly once: never retried here."""
        path, group = ("/orders/test", "order-test") if test else ("/orders", "order")
        return self._parse(Order, await self._send("POST", path, group, body=body, private=True))

    async def cancel_and_new(self, body: dict[str, str]) -> CancelAndNewResult:
        """POST /v1/orders/cancel_and_new (group ``order``), sent exactly once like
        ``create_order``: after an ambiguous failure the new identifier is looked up
        (``trading.orders.replace``), never re-sent."""
        data = await self._send("POST", "/orders/cancel_and_new", "order", body=body, private=True)
        return self._parse(CancelAndNewResult, data)

    async def get_order(self, *, uuid: str | None = None, identifier: str | None = None) -> Order:
        data = await self._read("/order", "default", _one_id(uuid, identifier), private=True)
        return self._parse(Order, data)

    async def cancel_order(
        self, *, uuid: str | None = None, identifier: str | None = None
    ) -> Order:
        """DELETE /v1/order: the answer shows the order as it was (usually still ``wait``).

        A cancel is idempotent on Upbit's side (cancelling twice fails with a 4xx that is
        harmless), so transient failures are retried.
        """
        params = _one_id(uuid, identifier)
        data = await self.retry.run(
            lambda: self._send("DELETE", "/order", "default", params=params, private=True)
        )
        return self._parse(Order, data)

    async def open_orders(
        self,
        *,
        market: str | None = None,
        states: Sequence[str] = ("wait",),
        page: int = 1,
        limit: int = 100,
        order_by: str = "desc",
    ) -> list[Order]:
        paging = [("page", str(page)), ("limit", str(limit)), ("order_by", order_by)]
        return await self._orders("/orders/open", market, states, paging)

    async def _orders(
        self, path: str, market: str | None, states: Sequence[str], rest: QueryPairs
    ) -> list[Order]:
        """The open or closed orders (``path``) of ``market`` (None: all) in ``states``; the
        query keeps Upbit's order: market, states, then ``rest``."""
        params: list[tuple[str, str]] = [("market", market)] if market else []
        params += [("states[]", s) for s in states]
        params += rest
        data = await self._read(path, "default", params, private=True)
        return self._parse_list(Order, data)

    # -- the neutral ``trading.exchange.Exchange`` ---------------------------------------------

    def check(self, order: SubmitOrder) -> None:
        self.order_body(identifier="validate", **_fields(order))

    async def submit(self, order: SubmitOrder, identifier: str) -> OrderReport:
        body = self.order_body(identifier=identifier, **_fields(order))
        return mapping.order_report(await self.create_order(body))

    async def fetch_order(
        self, *, order_id: str | None = None, identifier: str | None = None
    ) -> OrderReport:
        return mapping.order_report(await self.get_order(uuid=order_id, identifier=identifier))

    async def cancel(self, order_id: str) -> OrderReport:
        return mapping.order_report(await self.cancel_order(uuid=order_id))

    async def list_open(self, market: str | None = None) -> list[OrderReport]:
        found = await self.open_orders(market=market, states=mapping.OPEN_STATES)
        return [mapping.order_report(o) for o in found]

    def check_replace(self, prev_order_id: str, order: SubmitOrder) -> None:
        self._replace_body(prev_order_id, order, "validate")

    async def replace_order(self, prev_order_id: str, order: SubmitOrder, identifier: str) -> None:
        await self.cancel_and_new(self._replace_body(prev_order_id, order, identifier))

    def _replace_body(
        self, prev_order_id: str, order: SubmitOrder, identifier: str
    ) -> dict[str, str]:
        if order.price is None or order.volume is None:
            raise ValueError("a replacement is a limit order with a price and a volume")
        return self.cancel_and_new_body(
            prev_uuid=prev_order_id,
            market=order.market,
            side=mapping.UPBIT_SIDE[order.side],
            new_identifier=identifier,
            price=order.price,
            volume=order.volume,
            time_in_force=order.time_in_force,
        )

    async def closed_orders(
        self,
        *,
        market: str | None = None,
        states: Sequence[str] = ("done", "cancel"),
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        limit: int = 1000,
        order_by: str = "desc",
    ) -> list[Order]:
        span: list[tuple[str, str]] = []
        if start_time is not None:
            span.append(("start_time", _iso_utc(start_time)))
        if end_time is not None:
            span.append(("end_time", _iso_utc(end_time)))
        span += [("limit", str(limit)), ("order_by", order_by)]
        return await self._orders("/orders/closed", market, states, span)

    async def orders_by_ids(
        self,
        *,
        uuids: Sequence[str] = (),
        identifiers: Sequence[str] = (),
        market: str | None = None,
    ) -> list[Order]:
        params = _id_list(uuids, identifiers, MAX_IDS_PER_LOOKUP)
        if market:
            params.insert(0, ("market", market))
        data = await self._read("/orders/uuids", "default", params, private=True)
        return self._parse_list(Order, data)

    async def cancel_orders_by_ids(
        self, *, uuids: Sequence[str] = (), identifiers: Sequence[str] = ()
    ) -> BatchCancelResult:
        params = _id_list(uuids, identifiers, MAX_IDS_PER_CANCEL)
        data = await self.retry.run(
            lambda: self._send("DELETE", "/orders/uuids", "default", params=params, private=True)
        )
        return self._parse(BatchCancelResult, data)

    async def cancel_open_orders(
        self,
        *,
        cancel_side: Literal["all", "bid", "ask"] = "all",
        pairs: Sequence[str] = (),
        excluded_pairs: Sequence[str] = (),
        count: int = 300,
    ) -> BatchCancelResult:
        """DELETE /v1/orders/open (1 call per 2 s): the kill switch's bulk cancel."""
        params: list[tuple[str, str]] = [("cancel_side", cancel_side)]
        if pairs:
            params.append(("pairs", ",".join(pairs)))
        if excluded_pairs:
            params.append(("excluded_pairs", ",".join(excluded_pairs)))
        params.append(("count", str(count)))
        data = await self.retry.run(
            lambda: self._send(
                "DELETE", "/orders/open", "order-cancel-all", params=params, private=True
            )
        )
        return self._parse(BatchCancelResult, data)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _iso_utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("datetimes sent to Upbit must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _one_id(uuid: str | None, identifier: str | None) -> list[tuple[str, str]]:
    if bool(uuid) == bool(identifier):
        raise ValidationError("pass exactly one of uuid or identifier", name="client_order_id")
    return [("uuid", uuid)] if uuid else [("identifier", identifier or "")]


def _id_list(
    uuids: Sequence[str], identifiers: Sequence[str], limit: int
) -> list[tuple[str, str]]:
    if bool(uuids) == bool(identifiers):
        raise ValidationError("pass uuids or identifiers (not both)", name="client_order_id")
    key, ids = ("uuids[]", uuids) if uuids else ("identifiers[]", identifiers)
    if len(ids) > limit:
        raise ValidationError(f"at most {limit} ids per call, got {len(ids)}", name="client_ids")
    return [(key, i) for i in ids]


__all__ = ["RequestObserver", "RequestSample", "TransientError", "UpbitRestClient"]


def _fields(order: SubmitOrder) -> dict[str, Any]:
    return {**mapping.order_fields(order), "reference_price": order.reference_price}
