"""The dashboard: three static files shipped in ``bot/web`` (no build step, no CDN).

The page holds no data and no secret, so it is served without a token; its script asks for
the token (``#token=`` in the URL or a form), keeps it in ``sessionStorage`` and sends it as a
bearer token to the JSON API. A strict Content-Security-Policy allows only this origin's
script, style and fetches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from importlib import resources

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.Response]]
FILES = {
    "/dashboard": ("dashboard.html", "text/html"),
    "/dashboard/app.js": ("app.js", "text/javascript"),
    "/dashboard/app.css": ("app.css", "text/css"),
}
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@cache
def asset(name: str) -> bytes:
    return (resources.files("bot") / "web" / name).read_bytes()


def _serve(name: str, content_type: str) -> Handler:
    async def handler(_request: web.Request) -> web.Response:
        return web.Response(
            body=asset(name), content_type=content_type, charset="utf-8", headers=HEADERS
        )

    return handler


async def _home(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/dashboard")


def dashboard_routes() -> list[web.RouteDef]:
    """``/dashboard`` and its two assets; ``/`` redirects there (the URL fragment is kept)."""
    routes = [web.get(path, _serve(name, kind)) for path, (name, kind) in FILES.items()]
    routes.append(web.get("/", _home))
    return routes
