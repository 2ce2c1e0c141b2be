"""The small HTTP server in the bot's loop: ``/healthz`` (liveness) and ``/readyz``.

Liveness is the event loop's own heartbeat: a task that ticks every ``beat_s``. If the loop is
blocked, the heartbeat ages and ``/healthz`` answers 503 (or not at all, which a probe's
timeout also reads as dead). Metrics, the JSON API and the dashboard join it in issue #6.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence

from aiohttp import web


class HttpServer:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        ready: Callable[[], bool],
        beat_s: float = 0.5,
        stale_after_s: float = 5.0,
        routes: Sequence[web.RouteDef] = (),
    ) -> None:
        self.host = host
        self.port = port
        self._ready = ready
        self._beat_s = beat_s
        self._stale_after_s = stale_after_s
        self._routes = tuple(routes)  # more endpoints (metrics, API), owned by their modules
        self._last_beat = time.monotonic()
        self._runner: web.AppRunner | None = None
        self._beat: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("HttpServer is already started")
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.add_routes(self._routes)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        if self.port == 0:  # tests ask for any free port
            server = site._server
            assert isinstance(server, asyncio.Server)
            self.port = server.sockets[0].getsockname()[1]
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

    async def _healthz(self, _request: web.Request) -> web.Response:
        lag = self.loop_lag_s()
        ok = lag < self._stale_after_s
        return web.json_response(
            {"status": "ok" if ok else "blocked", "loop_lag_s": round(lag, 3)},
            status=200 if ok else 503,
        )

    async def _readyz(self, _request: web.Request) -> web.Response:
        ready = self._ready()
        return web.json_response({"ready": ready}, status=200 if ready else 503)
