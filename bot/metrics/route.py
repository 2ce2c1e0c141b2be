"""``GET /metrics``: the Prometheus text format, unauthenticated by design.

Prometheus scrapes over the pod network and cannot hold our API token; what is served here is
counts, timings and KRW totals. Labels carry no secret, account id, order id or user id.
Anyone who can reach the port can read equity and PnL: keep the port off the internet (the
Kubernetes Service is cluster-internal; a NetworkPolicy can limit it to Prometheus).
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.metrics.core import Metrics

PATH = "/metrics"


def metrics_route(metrics: Metrics) -> web.RouteDef:
    """The route to hand to ``HttpServer(routes=...)``."""

    async def handle(_request: web.Request) -> web.Response:
        body = await metrics.scrape()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return web.get(PATH, handle)
