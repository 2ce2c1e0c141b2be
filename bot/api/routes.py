"""The read-only JSON API under ``/api/v1/``: every answer comes from the engine facade and
the Store API, after the bearer token is checked.

Errors are JSON too: ``{"error": "..."}`` with 400 (bad query), 401 (token), 503 (API
disabled, engine not started, store unavailable) or 500 (a bug, logged with its traceback).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from bot.api import convert, params
from bot.api import schemas as s
from bot.api.auth import refusal
from bot.api.openapi import document
from trading.engine.facade import EngineFacade

log = logging.getLogger("bot.api")
PREFIX = "/api/v1"
MAX_LIMIT = 500
NO_STORE = {"Cache-Control": "no-store"}
Query = Mapping[str, str]
Handler = Callable[[EngineFacade, Query], Awaitable[BaseModel]]


@dataclass(frozen=True, slots=True)
class Sources:
    """What the API reads, bound late: the HTTP server starts before the engine does."""

    facade: Callable[[], EngineFacade | None]
    token: str | None
    app_state: Callable[[], str] = lambda: "running"
    version: str = "dev"
    started: float = field(default_factory=time.monotonic)


def error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    body = s.ErrorOut(error=message).model_dump_json()
    return web.json_response(text=body, status=status, headers={**NO_STORE, **(headers or {})})


class Api:
    def __init__(self, sources: Sources) -> None:
        self.sources = sources

    def routes(self) -> list[web.RouteDef]:
        endpoints: list[tuple[str, Handler, tuple[str, ...]]] = [
            ("status", self.status, ()),
            ("positions", self.positions, ()),
            ("orders", self.orders, ("limit", "market")),
            ("trades", self.trades, ("limit", "market")),
            ("pnl", self.pnl, ("days", "points")),
            ("risk", self.risk, ()),
            ("settings", self.settings, ()),
            ("audit", self.audit, ("limit", "before")),
        ]
        routes = [
            web.get(f"{PREFIX}/{name}", self._guard(fn, allowed))
            for name, fn, allowed in endpoints
        ]
        routes.append(web.get(f"{PREFIX}/openapi.json", self.openapi))
        return routes

    async def openapi(self, _request: web.Request) -> web.Response:
        """The description is public (it holds no data), even with the API disabled."""
        return web.json_response(document())

    def _guard(
        self, handler: Handler, allowed: Collection[str]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def endpoint(request: web.Request) -> web.Response:
            refused = refusal(request, self.sources.token)
            if refused is not None:
                status, message, headers = refused
                return error(status, message, headers)
            facade = self.sources.facade()
            if facade is None:
                state = self.sources.app_state()
                return error(503, f"no engine on this instance (starting or standby; bot {state})")
            try:
                params.reject_unknown(request.query, allowed)
                body = await handler(facade, request.query)
            except params.BadParam as exc:
                return error(400, str(exc))
            except (SQLAlchemyError, OSError) as exc:  # the database is down or unreachable
                log.warning("API %s: store unavailable: %s", request.path, exc)
                return error(503, f"store unavailable: {type(exc).__name__}")
            except Exception:
                log.exception("API %s failed", request.path)
                return error(500, "internal error (logged)")
            return web.json_response(text=body.model_dump_json(), headers=NO_STORE)

        return endpoint

    # -- endpoints -------------------------------------------------------------------------

    async def status(self, facade: EngineFacade, _query: Query) -> BaseModel:
        src = self.sources
        return convert.status(
            await facade.status(),
            app_state=src.app_state(),
            version=src.version,
            uptime_s=time.monotonic() - src.started,
        )

    async def positions(self, facade: EngineFacade, _query: Query) -> BaseModel:
        return convert.positions(await facade.status())

    async def orders(self, facade: EngineFacade, query: Query) -> BaseModel:
        limit = params.integer(query, "limit", default=50, low=1, high=MAX_LIMIT)
        market = params.market(query, facade.markets)
        return s.OrdersOut(
            open=[convert.order(o) for o in await facade.store.open_orders(market)],
            recent=[convert.order(o) for o in await facade.store.recent_orders(limit, market)],
        )

    async def trades(self, facade: EngineFacade, query: Query) -> BaseModel:
        limit = params.integer(query, "limit", default=50, low=1, high=MAX_LIMIT)
        market = params.market(query, facade.markets)
        fills = await facade.store.fills(market=market, limit=limit)
        return s.TradesOut(trades=[convert.trade(f) for f in fills])

    async def pnl(self, facade: EngineFacade, query: Query) -> BaseModel:
        days = params.integer(query, "days", default=30, low=1, high=366)
        points = params.integer(query, "points", default=1000, low=2, high=5000)
        equity = await facade.store.equity_history(limit=points - 1)
        rows = await facade.pnl("day", days)
        return convert.pnl(equity, await facade.status(), list(reversed(rows)))

    async def risk(self, facade: EngineFacade, _query: Query) -> BaseModel:
        return convert.risk(await facade.risk_state(), await facade.status(), facade.halts())

    async def settings(self, facade: EngineFacade, _query: Query) -> BaseModel:
        return convert.settings(facade.settings())

    async def audit(self, facade: EngineFacade, query: Query) -> BaseModel:
        limit = params.integer(query, "limit", default=50, low=1, high=MAX_LIMIT)
        before = params.optional_integer(query, "before", low=1, high=2**62)
        return convert.audit(await facade.store.audit_page(limit, before), limit)
