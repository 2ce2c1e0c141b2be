"""The HTTP server as the bot runs it: probes, API and dashboard bound to the app's parts.

Everything is read through small late-bound callables: the server starts before the store is
open and the engine exists, and answers (503, "not started yet") until they do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Protocol

from aiohttp import web

from bot.api.dashboard import dashboard_routes
from bot.api.health import (
    CircuitWatch,
    FeedView,
    app_check,
    chat_token_check,
    engine_check,
    exchange_check,
    market_data_check,
    store_check,
)
from bot.api.routes import Api, Sources
from bot.chatops import version
from bot.config import AppConfig
from bot.http_guard import ConnectionLimits
from bot.http_server import HttpServer
from bot.leadership import Leadership
from bot.token_watch import TokenWatch
from bot.trader import Trader
from trading.bus import EventBus
from trading.circuit import CircuitBreaker
from trading.events import CircuitStateChanged
from trading.store import Store
from trading.timeframes import timeframe_seconds
from trading.upbit.rest import UpbitRestClient


class AppParts(Protocol):
    """The attributes of ``bot.app.App`` the server reads (a protocol: no import cycle)."""

    config: AppConfig
    bus: EventBus
    state: str
    trader: Trader | None
    rest: UpbitRestClient | None
    leadership: Leadership | None
    tokens: TokenWatch

    @property
    def is_leader(self) -> bool: ...


def build_http_server(app: AppParts, *, routes: Sequence[web.RouteDef] = ()) -> HttpServer:
    """``routes``: more endpoints from other modules (``/metrics``)."""
    cfg = app.config
    http = cfg.http
    token = cfg.secrets.api_token
    watch = CircuitWatch()
    app.bus.subscribe_callback("http-circuit", watch.on_event, kinds=(CircuitStateChanged,))

    def store_of() -> Store | None:
        """The engine's store, or a standby's own connection to the shared one."""
        trader, lead = app.trader, app.leadership
        if trader is not None and trader.facade is not None:
            return trader.facade.store
        if app.state == "running" and lead is not None and lead.desk is not None:
            return lead.desk.store
        return None

    def feed_of() -> FeedView | str | None:
        trader = app.trader
        if trader is None and app.state == "running" and not app.is_leader:
            return "standby: the leader watches the market"
        if trader is None or trader.facade is None or trader.feed is None:
            return None
        return FeedView(
            replay=cfg.bot.feed == "replay",
            finished=trader.feed_done.is_set(),
            ages=trader.facade.data_ages(),
        )

    def circuit_of() -> CircuitBreaker | None:
        return None if app.rest is None else app.rest.circuit

    sources = Sources(
        facade=lambda: None if app.trader is None else app.trader.facade,
        token=None if token is None else token.get_secret_value(),
        app_state=lambda: app.state,
        version=version(),
        started=time.monotonic(),
    )

    def refused_line(platform: str) -> Callable[[], str | None]:
        def line() -> str | None:
            refusal = app.tokens.refusal(platform)
            return None if refusal is None else refusal.line(platform)

        return line

    max_age = timedelta(
        seconds=timeframe_seconds(cfg.strategy.timeframe) * http.feed_stale_candles
    )
    return HttpServer(
        http.host,
        http.port,
        liveness=[engine_check(lambda: None if app.trader is None else app.trader.engine_alive)],
        readiness=[
            app_check(lambda: app.state),
            market_data_check(feed_of, max_age),
            store_check(store_of, http.store_timeout_s),
            exchange_check(circuit_of, watch, http.exchange_down_s),
            *(chat_token_check(p, refused_line(p)) for p in app.tokens.platforms),
        ],
        stale_after_s=http.loop_stale_s,
        limits=ConnectionLimits.of(http),
        routes=[*Api(sources).routes(), *dashboard_routes(), *routes],
    )
