"""``FakeUpbit``: a strict, in-process fake of Upbit's REST + WebSocket API on 127.0.0.1.

One aiohttp app serves REST under ``/v1`` and both WebSockets on a free port::

    async with FakeUpbit() as fake:
        fake.set_balance("KRW", Decimal("1000000"))
        fake.set_orderbook("KRW-BTC", asks=[(Decimal("100000000"), Decimal("1"))], bids=[])
        ...  # point the client at fake.rest_url / fake.ws_url / fake.ws_private_url
"""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from .auth import Authenticator
from .candles import rows_from_file
from .exchange import Exchange
from .faults import FaultInjector
from .market import MarketData
from .orders import FakeOrder
from .ratelimit import RateLimiter
from .rest import RecordedRequest, RestPipeline, json_response
from .rest_exchange import ExchangeApi
from .rest_quote import CAUTIONS, QuoteApi
from .ws import WsHub

DEFAULT_MARKETS = ["KRW-BTC", "KRW-ETH", "KRW-XRP"]


class FakeUpbit:
    def __init__(
        self,
        *,
        keys: dict[str, str] | None = None,
        rate_limits: dict[str, float] | None = None,
        fee_rate: Decimal = Decimal("0.0005"),
        markets: list[str] | None = None,
        plain_text_429: bool = True,
        ban_seconds: float = 3.0,
        ws_status_interval: float = 10.0,
        cancel_lag: int = 0,
    ) -> None:
        self.keys = dict(keys or {"test-access": "test-secret"})
        self.markets = list(markets or DEFAULT_MARKETS)
        self.auth = Authenticator(self.keys)
        self.md = MarketData(self.markets)
        self.ws_hub = WsHub(self.md, self.auth, ws_status_interval)
        self.exchange = Exchange(self.md, Decimal(fee_rate), self.ws_hub.emit)
        self.exchange.cancel_lag = cancel_lag
        self.limiter = RateLimiter(rate_limits, ban_seconds=ban_seconds)
        self.faults = FaultInjector(
            on_ban=self.limiter.ban, on_ws_drop=self.ws_hub.drop_all, on_ws_silence=self._silence
        )
        self._stopping = asyncio.Event()
        self._pipeline = RestPipeline(
            self.limiter,
            self.faults,
            plain_text_429=plain_text_429,
            stopping=self._stopping,
            on_arrival=self.exchange.progress,
        )
        self.quote_api = QuoteApi(self.md, self.exchange)
        self.exchange_api = ExchangeApi(self.exchange, self.auth, self.markets)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----- lifecycle -----
    def _app(self) -> web.Application:
        app = web.Application()
        self._pipeline.add_routes(app, self.quote_api.routes() + self.exchange_api.routes())

        async def public(request: web.Request) -> web.StreamResponse:
            return await self.ws_hub.handle(request, private=False)

        async def private(request: web.Request) -> web.StreamResponse:
            return await self.ws_hub.handle(request, private=True)

        async def not_found(request: web.Request) -> web.StreamResponse:
            return json_response({"error": {"name": 404, "message": "Not Found"}}, 404)

        app.router.add_get("/websocket/v1", public)
        app.router.add_get("/websocket/v1/private", private)
        app.router.add_route("*", "/{tail:.*}", not_found)
        return app

    async def start(self) -> None:
        self._stopping.clear()
        self._runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._stopping.set()
        self._silence(False)
        await self.ws_hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeUpbit:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/websocket/v1"

    @property
    def ws_private_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/websocket/v1/private"

    def _silence(self, on: bool) -> None:
        self.ws_hub.silent = on

    # ----- inspection -----
    @property
    def requests(self) -> list[RecordedRequest]:
        return self._pipeline.requests

    @property
    def orders(self) -> dict[str, FakeOrder]:
        return self.exchange.orders

    @property
    def order_requests(self) -> list[RecordedRequest]:
        """Every order-creating request received (``POST /v1/orders``), in arrival order, with
        its body, status (None: pending or lost) and, if the exchange refused it, ``error``."""
        return [r for r in self.requests if r.method == "POST" and r.path == "/v1/orders"]

    @property
    def rejections(self) -> list[RecordedRequest]:
        """The order-creating requests the exchange refused by its rules or for funds
        (``under_min_total_bid``, ``invalid_price_ask``, ``insufficient_funds_ask``, ...),
        with their bodies; injected faults and rate limits are not refusals."""
        return [
            r
            for r in self.requests
            if r.method == "POST"
            and r.path in ("/v1/orders", "/v1/orders/cancel_and_new")
            and r.refused
        ]

    def order_by_identifier(self, identifier: str) -> FakeOrder | None:
        uuid = self.exchange.by_identifier.get(identifier)
        return self.exchange.orders.get(uuid) if uuid else None

    def balance(self, currency: str) -> tuple[Decimal, Decimal]:
        free, locked = self.exchange.balances.get(currency, [Decimal(0), Decimal(0)])
        return free, locked

    @property
    def ws_connections(self) -> int:
        return len(self.ws_hub.connections)

    @property
    def ws_received(self) -> list[tuple[bool, str]]:
        """Every text the clients sent over websockets: (private?, text)."""
        return self.ws_hub.received

    # ----- scripting -----
    def set_balance(self, currency: str, balance: Decimal, locked: Decimal = Decimal(0)) -> None:
        self.exchange.set_balance(currency, balance, locked)

    def withdraw(self, currency: str, amount: Decimal) -> None:
        """The owner takes ``amount`` of the free balance away by hand (a withdrawal, or a sale
        on the app): what the bot's orders lock is untouched; more than is free is refused."""
        amount = Decimal(amount)
        free, locked = self.balance(currency)
        if amount <= 0 or amount > free:
            raise ValueError(f"cannot withdraw {amount} {currency}: {free} free")
        self.exchange.set_balance(currency, free - amount, locked)

    def deposit(self, currency: str, amount: Decimal) -> None:
        """The owner adds ``amount`` to the free balance by hand (a deposit, a buy on the app)."""
        amount = Decimal(amount)
        if amount <= 0:
            raise ValueError(f"cannot deposit {amount} {currency}")
        free, locked = self.balance(currency)
        self.exchange.set_balance(currency, free + amount, locked)

    def set_orderbook(
        self, market: str, asks: list[tuple[Decimal, Decimal]], bids: list[tuple[Decimal, Decimal]]
    ) -> None:
        self.md.set_orderbook(market, asks, bids)
        self.ws_hub.emit("orderbook", market)

    def set_candles(self, market: str, unit: str, candles: list[dict[str, Any]]) -> None:
        self.md.set_candles(market, unit, candles)

    def load_candles(self, market: str, unit: str, path: Path, **select: Any) -> int:
        """Serve a real candle file (gaps kept) as ``market``'s ``unit`` candles
        (``minutes/1``, ``days``, ...); ``select`` goes to ``candles.rows_from_file``."""
        rows = rows_from_file(path, market, unit, **select)
        self.md.set_candles(market, unit, rows)
        return len(rows)

    def candle_requests(self, market: str | None = None) -> list[RecordedRequest]:
        """Every candle request received (optionally for one market), 429s included."""
        return [
            r
            for r in self.requests
            if r.path.startswith("/v1/candles/")
            and (market is None or f"market={market}" in r.query.split("&"))
        ]

    def candle_outage_after(self, pages: int, status: int = 503) -> None:
        """Answer ``pages`` more candle pages, then ``status`` for every one until cleared."""
        self.md.candles.pages_before_outage = pages
        self.md.candles.outage_status = status

    def end_candle_outage(self) -> None:
        self.md.candles.pages_before_outage = None

    def set_tick_exception(
        self, market: str, low: Decimal, high: Decimal | None, tick: Decimal
    ) -> None:
        """A per-pair tick for prices in ``[low, high)`` (like USDT/KRW's 0.5 KRW in 2025):
        the grid check and ``/v1/orderbook/instruments`` both use it."""
        self.exchange.tick_exceptions.setdefault(market, []).append(
            (Decimal(low), None if high is None else Decimal(high), Decimal(tick))
        )

    def set_market_warning(self, market: str, warning: bool = True) -> None:
        """The 유의종목 designation (``market_event.warning`` of ``market/all``)."""
        (self.quote_api.warnings.add if warning else self.quote_api.warnings.discard)(market)

    def set_market_caution(self, market: str, *flags: str) -> None:
        """Exactly these ``market_event.caution`` flags on (none given: all off)."""
        unknown = set(flags) - set(CAUTIONS)
        if unknown:
            raise ValueError(f"no such caution flag: {sorted(unknown)}")
        self.quote_api.cautions[market] = set(flags)

    def set_market_state(
        self, market: str, state: str = "ACTIVE", *, delisting_date: date | None = None
    ) -> None:
        """The ticker's ``market_state`` and ``delisting_date``, on REST and WebSocket."""
        if state not in ("PREVIEW", "ACTIVE", "DELISTED"):
            raise ValueError(f"no such market_state: {state}")
        lifecycle = self.md.lifecycle[market]
        lifecycle.state, lifecycle.delisting_date = state, delisting_date

    def set_trade_value_24h(self, market: str, value: Decimal | None) -> None:
        """The ticker's ``acc_trade_price_24h`` (REST and WebSocket) from now on, whatever
        the tape says (None: the tape's sum again): the market universe ranks by it."""
        self.md.stats[market].value_24h = None if value is None else Decimal(value)

    def set_listed(self, market: str, listed: bool = True) -> None:
        """Unlisted: gone from ``market/all``, as a delisted pair is (reference §4.1)."""
        (self.quote_api.unlisted.discard if listed else self.quote_api.unlisted.add)(market)

    async def trade(
        self, market: str, price: Decimal, volume: Decimal, ask_bid: str = "BID"
    ) -> None:
        if market not in self.markets:
            raise KeyError(market)
        self.exchange.tape_trade(market, Decimal(price), Decimal(volume), ask_bid)
        await asyncio.sleep(0)

    @property
    def cancel_lag(self) -> int:
        """REST requests an accepted cancel survives (0: done before its answer), as Upbit
        cancels asynchronously; see ``exchange.py``."""
        return self.exchange.cancel_lag

    @cancel_lag.setter
    def cancel_lag(self, requests: int) -> None:
        self.exchange.cancel_lag = requests

    def settle_cancels(self) -> None:
        """Complete every accepted cancel now (and create cancel_and_new's new orders)."""
        self.exchange.settle_cancels()
        self.exchange.flush_assets()

    def reset_rate_limits(self) -> None:
        self.limiter.reset()
