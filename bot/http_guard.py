"""Timeouts and a connection cap for the HTTP port, so slow or silent clients cannot starve it.

aiohttp times out nothing before a request's header is complete and keeps an idle keep-alive
connection for an hour, so a few hundred sockets that send half a header (or nothing) used to
hold a file descriptor each until the open-file limit ran out and ``/healthz`` with it. The
guard wraps aiohttp's protocol factory (one forwarding protocol per connection) and its
application (one middleware) and enforces:

- a connection must complete a request header within ``header_timeout_s`` of opening, and the
  next one within ``keepalive_timeout_s`` of its last response; else it is closed;
- a request body must arrive within ``body_timeout_s`` and be at most ``max_body_bytes``
  (refused from its ``Content-Length`` before a byte is read);
- at most ``max_connections`` are open. A new connection over the cap closes the one that has
  waited longest for its header (a probe completes its header in a millisecond, a slowloris
  never does), so ``/healthz`` keeps answering while the cap is reached; when every open
  connection is inside a request, the newcomer gets a fixed 503 and is closed.

The port's descriptors are bounded by the open connections plus what one accept burst takes
before the guard sees it (asyncio accepts up to ``backlog`` sockets per wake-up, and an evicted
socket is closed on the next turn of the loop): about the cap plus twice the backlog. So the
cap is held to a quarter of the process's open-file limit and the backlog to half the cap,
which leaves at least half the descriptors to the store, the chat and exchange clients.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from bot.config.sections import HttpConfig
from bot.logs import RepeatLimiter
from bot.same_named import field_names, same_named

log = logging.getLogger(__name__)

#: What a connection over the cap gets when nothing can make room for it.
OVER_CAP = (
    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n"
    b"Retry-After: 1\r\n\r\n"
)


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """The guard's settings; their defaults and bounds live in ``HttpConfig``."""

    header_timeout_s: float
    body_timeout_s: float
    keepalive_timeout_s: float
    max_connections: int
    max_body_bytes: int
    max_header_bytes: int

    @classmethod
    def of(cls, http: HttpConfig) -> ConnectionLimits:
        return cls(**same_named(http, field_names(cls)))


def open_file_cap(wanted: int) -> int:
    """``wanted``, held to a quarter of the soft open-file limit (where there is one)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows has no RLIMIT_NOFILE
        return wanted
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft // 4 >= wanted:
        return wanted
    return max(1, soft // 4)


def backlog_for(cap: int) -> int:
    """The listen backlog, which is also asyncio's accept burst: half the cap, 8 to 128."""
    return max(8, min(128, cap // 2))


class _Conn:
    """One open connection's state: requests in flight, and its timer while it waits."""

    __slots__ = ("busy", "timer")

    def __init__(self) -> None:
        self.busy = 0
        self.timer: asyncio.TimerHandle | None = None


class ConnectionGuard:
    """Counts connections, times their waits, and makes room at the cap (see module doc)."""

    def __init__(self, limits: ConnectionLimits, *, cap: int | None = None) -> None:
        self.limits = limits
        self.cap = limits.max_connections if cap is None else cap
        self._conns: dict[asyncio.Transport, _Conn] = {}
        #: connections waiting for a request header, the longest-waiting first
        self._waiting: OrderedDict[asyncio.Transport, None] = OrderedDict()
        self.timed_out = 0
        self.evicted = 0
        self.refused = 0
        self._quiet = RepeatLimiter(burst=1, window_s=60.0)

    @property
    def open(self) -> int:
        return len(self._conns)

    def factory(self, make: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """Wraps aiohttp's protocol factory (``runner.server``) for ``loop.create_server``."""
        return lambda: _Guarded(make(), self)

    # connection events, from _Guarded

    def admit(self, transport: asyncio.Transport) -> bool:
        if len(self._conns) >= self.cap:
            if not self._waiting:
                self.refused += 1
                self._warn("refused", "all busy; refusing new ones with 503")
                return False
            oldest = next(iter(self._waiting))
            self.evicted += 1
            self._warn("evicted", "closing the one that waited longest for its request header")
            self._drop(oldest)
            _shut(oldest)
        self._conns[transport] = _Conn()
        self._wait(transport, self.limits.header_timeout_s)
        return True

    def closed(self, transport: asyncio.Transport) -> None:
        self._drop(transport)

    # request events, from the middleware

    def request_started(self, transport: asyncio.Transport | None) -> None:
        conn = self._conns.get(transport) if transport is not None else None
        if transport is None or conn is None:
            return
        conn.busy += 1
        self._unwait(transport, conn)

    def request_finished(self, transport: asyncio.Transport | None) -> None:
        conn = self._conns.get(transport) if transport is not None else None
        if transport is None or conn is None:
            return
        conn.busy -= 1
        if conn.busy == 0:
            self._wait(transport, self.limits.keepalive_timeout_s)

    def middleware(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        limits = self.limits

        @web.middleware
        async def guard(
            request: web.Request,
            handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        ) -> web.StreamResponse:
            transport = request.transport
            self.request_started(transport)
            try:
                if (request.content_length or 0) > limits.max_body_bytes:
                    return _closing(413, f"body over {limits.max_body_bytes} bytes")
                if request.body_exists:
                    try:
                        async with asyncio.timeout(limits.body_timeout_s):
                            await request.read()  # cached: the handler reads it again
                    except TimeoutError:
                        self.timed_out += 1
                        return _closing(408, f"body not received in {limits.body_timeout_s:g}s")
                    except web.HTTPRequestEntityTooLarge:  # chunked, no Content-Length
                        return _closing(413, f"body over {limits.max_body_bytes} bytes")
                return await handler(request)
            finally:
                self.request_finished(transport)

        return guard

    # internals

    def _warn(self, kind: str, what: str) -> None:
        """One line a minute per kind, counting the ones it stands for."""
        dropped = self._quiet.admit(kind)
        if dropped is not None:
            more = f" ({dropped} more times since the last such line)" if dropped else ""
            log.warning("http: at the cap of %d connections: %s%s", self.cap, what, more)

    def _wait(self, transport: asyncio.Transport, timeout_s: float) -> None:
        conn = self._conns[transport]
        self._unwait(transport, conn)
        loop = asyncio.get_running_loop()
        conn.timer = loop.call_later(timeout_s, self._expire, transport)
        self._waiting[transport] = None

    def _unwait(self, transport: asyncio.Transport, conn: _Conn) -> None:
        if conn.timer is not None:
            conn.timer.cancel()
            conn.timer = None
        self._waiting.pop(transport, None)

    def _expire(self, transport: asyncio.Transport) -> None:
        if transport in self._waiting:
            self.timed_out += 1
            self._drop(transport)
            _shut(transport)

    def _drop(self, transport: asyncio.Transport) -> None:
        conn = self._conns.pop(transport, None)
        if conn is not None:
            self._unwait(transport, conn)


def _shut(transport: asyncio.Transport) -> None:
    """Close gracefully (FIN) when nothing waits to be sent; abort (RST) when a client that does
    not read holds our output, which ``close()`` would wait on forever."""
    if transport.get_write_buffer_size():
        transport.abort()
    else:
        transport.close()


def _closing(status: int, reason: str) -> web.Response:
    response = web.Response(status=status, text=reason)
    response.force_close()
    return response


class _Guarded(asyncio.Protocol):
    """Forwards every protocol event to aiohttp's handler, telling the guard about the
    connection's start and end; a connection refused at the cap never reaches aiohttp."""

    __slots__ = ("_admitted", "_guard", "_inner", "_transport")

    def __init__(self, inner: asyncio.Protocol, guard: ConnectionGuard) -> None:
        self._inner = inner
        self._guard = guard
        self._transport: asyncio.Transport | None = None
        self._admitted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # a TCP server's: read and write
        self._transport = transport
        if not self._guard.admit(transport):
            transport.write(OVER_CAP)
            transport.close()
            return
        self._admitted = True
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._guard.closed(self._transport)
        if self._admitted:
            self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._admitted:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._admitted else None

    def pause_writing(self) -> None:
        if self._admitted:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._admitted:
            self._inner.resume_writing()


class GuardedSite(web.BaseSite):
    """``web.TCPSite`` whose connections pass through a ``ConnectionGuard``."""

    __slots__ = ("_bound_port", "_guard", "_host", "_port")

    def __init__(
        self, runner: web.BaseRunner, host: str, port: int, guard: ConnectionGuard
    ) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self._guard = guard
        self._bound_port = port

    @property
    def port(self) -> int:
        return self._bound_port

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._bound_port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            self._guard.factory(server),
            self._host,
            self._port,
            reuse_address=True,
            backlog=backlog_for(self._guard.cap),
        )
        if self._server.sockets:
            self._bound_port = self._server.sockets[0].getsockname()[1]
