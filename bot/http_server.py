"""The small HTTP server in the bot's loop: ``/healthz``, ``/readyz`` and the routes of the
modules that join it (``/metrics``, the JSON API, the dashboard).

Liveness is the event loop's own heartbeat: a task that ticks every ``beat_s``. If the loop is
blocked, the heartbeat ages and ``/healthz`` answers 503 (or not at all, which a probe's
timeout also reads as dead); the other liveness checks (the engine task) join it. Readiness
runs its checks concurrently (each bounds its own time). Both answer JSON naming every check
and the ones that failed (``bot.api.schemas.ProbeOut``).

Every connection passes through a ``ConnectionGuard`` (``bot.http_guard``): header, body and
keep-alive timeouts and a connection cap that keeps ``/healthz`` answering under a flood of
slow clients.

A transport that answers HTTP (the command API) mounts a handler while it runs
(``bot.transports.base.RouteMount``): the routes are fixed when the server starts, before any
transport exists, so a last catch-all under ``/api/v1/`` offers what no route answered to the
mounted handlers, and a 404 when none takes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from bot.api.health import AsyncCheck, Check, SyncCheck
from bot.config.sections import HttpConfig
from bot.http_guard import ConnectionGuard, ConnectionLimits, GuardedSite, open_file_cap

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}
Mounted = Callable[[web.Request], Awaitable[web.StreamResponse | None]]


class HttpServer:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        ready: Callable[[], bool] | None = None,
        liveness: Sequence[SyncCheck] = (),
        readiness: Sequence[SyncCheck | AsyncCheck] = (),
        beat_s: float = 0.5,
        stale_after_s: float = 5.0,
        routes: Sequence[web.RouteDef] = (),
        limits: ConnectionLimits | None = None,
    ) -> None:
        """``limits``: None for ``HttpConfig``'s defaults."""
        self.host = host
        self.port = port
        self._ready = ready
        self._liveness = tuple(liveness)
        self._readiness = tuple(readiness)
        self._beat_s = beat_s
        self._stale_after_s = stale_after_s
        self._routes = tuple(routes)  # more endpoints (metrics, API), owned by their modules
        self._limits = ConnectionLimits.of(HttpConfig()) if limits is None else limits
        self.guard: ConnectionGuard | None = None
        self._last_beat = time.monotonic()
        self._runner: web.AppRunner | None = None
        self._beat: asyncio.Task[None] | None = None
        self._mounted: dict[str, Mounted] = {}

    def mount(self, name: str, handler: Mounted) -> None:
        """Offer requests under ``/api/v1/`` that no route answers to ``handler``."""
        self._mounted[name] = handler

    def unmount(self, name: str) -> None:
        self._mounted.pop(name, None)

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("HttpServer is already started")
        limits = self._limits
        cap = open_file_cap(limits.max_connections)
        if cap < limits.max_connections:
            log.warning(
                "http.max_connections %d lowered to %d: a quarter of ulimit -n (open files)",
                limits.max_connections,
                cap,
            )
        guard = ConnectionGuard(limits, cap=cap)
        app = web.Application(
            client_max_size=limits.max_body_bytes, middlewares=[guard.middleware()]
        )
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.add_routes(self._routes)
        app.router.add_route("*", "/api/v1/{tail:.*}", self._offer)  # last: what none answered
        runner = web.AppRunner(
            app,
            access_log=None,
            keepalive_timeout=limits.keepalive_timeout_s,
            max_line_size=limits.max_header_bytes,
            max_field_size=limits.max_header_bytes,
        )
        await runner.setup()
        site = GuardedSite(runner, self.host, self.port, guard)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self.guard = guard
        self.port = site.port  # the bound one, when tests ask for any free port (0)
        self._last_beat = time.monotonic()
        self._beat = asyncio.get_running_loop().create_task(self._heartbeat(), name="heartbeat")

    async def stop(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
            self._beat = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _heartbeat(self) -> None:
        while True:
            self._last_beat = time.monotonic()
            await asyncio.sleep(self._beat_s)

    def loop_lag_s(self) -> float:
        return max(0.0, time.monotonic() - self._last_beat - self._beat_s)

    def _loop_check(self) -> Check:
        lag = self.loop_lag_s()
        if lag < self._stale_after_s:
            return Check("event_loop", True, f"lag {lag:.3f}s")
        return Check(
            "event_loop", False, f"blocked: lag {lag:.3f}s, limit {self._stale_after_s:g}s"
        )

    async def _offer(self, request: web.Request) -> web.StreamResponse:
        for handler in tuple(self._mounted.values()):
            response = await handler(request)
            if response is not None:
                return response
        raise web.HTTPNotFound()

    async def _healthz(self, _request: web.Request) -> web.Response:
        checks = [self._loop_check(), *(check() for check in self._liveness)]
        return _answer(checks)

    async def _readyz(self, _request: web.Request) -> web.Response:
        checks: list[Check] = []
        if self._ready is not None:
            ok = self._ready()
            checks.append(Check("app", ok, "running" if ok else "not running"))
        checks += await asyncio.gather(*(_run(check) for check in self._readiness))
        return _answer(checks)


async def _run(check: SyncCheck | AsyncCheck) -> Check:
    result = check()
    return await result if inspect.isawaitable(result) else result


def _answer(checks: Sequence[Check]) -> web.Response:
    failed = [c.name for c in checks if not c.ok]
    body = {
        "status": "fail" if failed else "ok",
        "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
        "failed": failed,
    }
    return web.json_response(body, status=503 if failed else 200, headers=NO_STORE)
