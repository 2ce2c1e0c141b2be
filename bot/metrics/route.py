"""``GET /metrics``: the Prometheus text format, open or behind the API's bearer token.

What is served is counts, timings and KRW totals: equity and PnL among them. Labels carry no
secret, account id, order id or user id. Open by default, so a plain scrape config works;
``http.metrics_auth = true`` requires ``Authorization: Bearer $UPBIT_BOT_API_TOKEN``, which
Prometheus sends from ``authorization: {credentials_file: ...}`` (docs/metrics.md, deploy/).
Either way keep the port off the internet.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.api.auth import refusal
from bot.metrics.core import Metrics

PATH = "/metrics"


def metrics_route(metrics: Metrics, *, token: str | None = None) -> web.RouteDef:
    """The route to hand to ``HttpServer(routes=...)``; ``token``: required as a bearer token
    (None: open)."""

    async def handle(request: web.Request) -> web.Response:
        if token is not None and (refused := refusal(request, token)) is not None:
            status, message, headers = refused
            return web.Response(status=status, text=message, headers=headers)
        body = await metrics.scrape()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return web.get(PATH, handle)
