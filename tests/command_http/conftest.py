"""The command API as a user meets it: the real HTTP server with the transport mounted, built
by its kind from config, over a real paper engine and dispatcher, and an httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.command_http.kind import COMMAND_API, CommandApiConfig
from bot.command_http.openapi import document
from bot.http_server import HttpServer
from bot.notify.pacing import Pacer
from bot.transports.base import BuildContext, Transport
from handlers.dispatcher import Dispatcher
from tests.handlers.conftest import Rig, rig, store  # noqa: F401  (fixtures)
from tests.http.conftest import assert_matches_openapi

ADMIN_TOKEN = "admin-token-0123456789abcdef"
OPERATOR_TOKEN = "ops-token-0123456789abcdef01"
VIEWER_TOKEN = "viewer-token-0123456789abcde"
TOKENS = f"root:admin:{ADMIN_TOKEN},ci:operator:{OPERATOR_TOKEN},wall:viewer:{VIEWER_TOKEN}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Served:
    rig: Rig
    server: HttpServer
    transport: Transport
    client: httpx.AsyncClient

    async def call(
        self, method: str, path: str, token: str = OPERATOR_TOKEN, **kwargs: Any
    ) -> httpx.Response:
        return await self.client.request(method, path, headers=bearer(token), **kwargs)

    def valid(self, path: str, response: httpx.Response, method: str = "post") -> dict[str, Any]:
        """The body, checked against the command API's OpenAPI document."""
        return assert_matches_openapi(path, response, method, document())


@pytest.fixture
async def serve(rig: Rig) -> AsyncIterator[Callable[[Dispatcher], Awaitable[Served]]]:  # noqa: F811
    """``await serve(dispatcher)``: the server with the transport over ``dispatcher``."""
    started: list[Served] = []

    async def start(dispatcher: Dispatcher) -> Served:
        server = HttpServer("127.0.0.1", 0)
        await server.start()
        section = CommandApiConfig(enabled=True)
        secrets = {"command_tokens": SecretStr(TOKENS)}
        assert COMMAND_API.enabled(section, secrets)
        assert not COMMAND_API.problems(section, secrets)
        context = BuildContext(dispatcher, Pacer(COMMAND_API.limits), http=server)
        transport = COMMAND_API.build(section, secrets, context)
        await transport.start()
        client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=10)
        started.append(Served(rig, server, transport, client))
        return started[-1]

    yield start
    for served in started:
        await served.client.aclose()
        await served.transport.stop()
        await served.server.stop()


@pytest.fixture
async def served(
    rig: Rig,  # noqa: F811
    serve: Callable[[Dispatcher], Awaitable[Served]],
) -> Served:
    return await serve(rig.dispatcher)
