"""A real paper engine that has traded the bundled data, behind the real HTTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from bot.api.dashboard import dashboard_routes
from bot.api.openapi import document
from bot.api.routes import Api, Sources
from bot.http_server import HttpServer
from tests.engine.conftest import facade as make_facade
from tests.engine.conftest import paper_rig, replay
from trading.engine.build import EngineRig
from trading.engine.facade import EngineFacade
from trading.events import Event, PositionClosed
from trading.positions import PositionState
from trading.risk.halts import HaltWindow
from trading.store import Store, create_engine, session_factory, upgrade

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'http.db'}"
    await upgrade(url)
    engine = create_engine(url)
    yield Store(session_factory(engine))
    await engine.dispose()


@dataclass
class Traded:
    rig: EngineRig
    facade: EngineFacade
    store: Store
    events: list[Event]


def two_closed_one_open(events: list[Event]) -> Callable[[EngineRig], bool]:
    def done(rig: EngineRig) -> bool:
        closed = sum(isinstance(e, PositionClosed) for e in events)
        return closed >= 2 and rig.engine.positions.get("KRW-BTC").state is PositionState.LONG

    return done


@pytest.fixture
async def traded(store: Store) -> AsyncIterator[Traded]:
    """Real KRW-BTC trades through a paper engine until two positions closed and a third is
    open, with what the bot around it would have stored: equity snapshots, audit entries (one
    with markup), a halt window."""
    events: list[Event] = []
    rig = await paper_rig(store, events)
    facade = make_facade(rig, store, events)
    rig.loop.start()
    await replay(rig, 600, until=two_closed_one_open(events))
    status = await facade.status()
    start = status.market_time - timedelta(hours=5)
    for i in range(5):
        await store.snapshot_equity(
            status.equity_krw + D(i * 1000) - D("0.5"), status.free_krw, start + timedelta(hours=i)
        )
    for i in range(7):
        await store.audit(
            transport="telegram",
            command="status" if i % 2 else "pause",
            outcome="ok",
            user_id=str(100 + i),
            chat_id="-42",
            arguments={"n": i},
            detail="<b>bold</b>" if i == 6 else None,
        )
    await facade.add_halt(HaltWindow(name="lunch <break>", start="12:00", end="13:00"))
    yield Traded(rig, facade, store, events)
    await rig.loop.stop()


@dataclass
class Served:
    server: HttpServer
    client: httpx.AsyncClient

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Any]]:
    """``await serve(sources=..., **HttpServer kwargs)``: a started server and a client."""
    started: list[Served] = []

    async def start(sources: Sources | None = None, **kwargs: Any) -> Served:
        routes = [*Api(sources).routes(), *dashboard_routes()] if sources is not None else []
        server = HttpServer("127.0.0.1", 0, routes=routes, **kwargs)
        await server.start()
        client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=10)
        served = Served(server, client)
        started.append(served)
        return served

    yield start
    for served in started:
        await served.client.aclose()
        await served.server.stop()


@pytest.fixture
async def api(traded: Traded, serve: Callable[..., Any]) -> Served:
    sources = Sources(facade=lambda: traded.facade, token=TOKEN, version="9.9.9")
    served: Served = await serve(sources)
    return served


def assert_matches_openapi(
    path: str, response: httpx.Response, method: str = "get", doc: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The body is JSON and valid against the schema the OpenAPI document (the read-only
    API's unless ``doc``) gives for this path, method and status; returns the body."""
    doc = document() if doc is None else doc
    route = doc["paths"][path][method]
    status = str(response.status_code)
    assert status in route["responses"], f"{path} answered {status}, which is not documented"
    schema = route["responses"][status]["content"]["application/json"]["schema"]
    body = response.json()
    Draft202012Validator({**schema, "components": doc["components"]}).validate(body)
    return body
