"""One Upbit WebSocket connection carrying many markets and types, kept alive forever.

Upbit semantics this client encodes (reference §8): a subscription message *replaces* the
previous one, so we keep the whole set and re-send it after every reconnect; the server drops
connections idle for 120 s, so we send protocol pings *and* the text ``PING`` (answered by
``{"status":"UP"}`` every 10 s, which counts as liveness but is never delivered); private
streams authenticate with a fresh JWT on the handshake.

Consumption: one consumer iterates ``messages()``. The socket reader never waits on it for
long: ticker/orderbook/candle are dropped oldest-first when the buffer is full (``drops``),
trades and private events never are — if they alone fill the buffer the connection is closed,
which surfaces as ``FeedGapped`` on reconnect so the engine resyncs over REST.

Every reconnect (not the first connect) emits ``FeedGapped``; silence longer than
``stale_after_s`` emits ``FeedStalled`` and reconnects; handshake rejections and error frames
(e.g. ``INVALID_AUTH``) emit ``FeedFailed``, are logged and retried with full-jitter backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from enum import Enum
from types import TracebackType
from typing import Self

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from trading.events import (
    Event,
    EventSink,
    FeedConnected,
    FeedFailed,
    FeedGapped,
    FeedStalled,
    ignore_event,
)
from trading.upbit.auth import Credentials, make_token
from trading.upbit.ws_buffer import WsBuffer
from trading.upbit.ws_events import WsStats
from trading.upbit.ws_messages import (
    PRIVATE_TYPES,
    Format,
    Status,
    Subscription,
    WsError,
    WsMessage,
    WsParseError,
    build_subscription,
    parse_message,
)

__all__ = ["FeedFailed", "Subscription", "UpbitWebSocket", "WsStats"]

log = logging.getLogger(__name__)


class _State(Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"


class _Outcome(Enum):
    """Why a connection ended; decides whether the backoff resets."""

    HEALTHY = "healthy"  # received good frames, then dropped/went stale/overflowed
    FAILED = "failed"  # never got a good frame, or got an error frame


def _now() -> datetime:
    return datetime.now(UTC)


class UpbitWebSocket:
    """Reconnecting Upbit feed; see the module docstring for the guarantees.

    Lifecycle mirrors python-telegram-bot's ``Application``: ``start()`` once, ``stop()`` any
    number of times afterwards; ``start()`` twice, after ``stop()``, or ``stop()`` before
    ``start()`` raise ``RuntimeError``. Also usable as ``async with``.
    """

    def __init__(
        self,
        url: str,
        subscriptions: Sequence[Subscription],
        *,
        credentials: Credentials | None = None,
        fmt: Format = "DEFAULT",
        ping_interval_s: float = 30.0,
        stale_after_s: float = 40.0,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        queue_size: int = 10_000,
        stall_timeout_s: float = 5.0,
        open_timeout_s: float = 10.0,
        close_timeout_s: float = 2.0,
        on_event: EventSink = ignore_event,
        name: str = "upbit",
    ) -> None:
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"not a websocket URL: {url!r}")
        if min(ping_interval_s, stale_after_s, backoff_base_s, backoff_max_s) <= 0:
            raise ValueError("intervals and backoff must be positive")
        self.url = url
        self.name = name
        self._credentials = credentials
        self._fmt: Format = fmt
        self._ping_interval_s = ping_interval_s
        self._stale_after_s = stale_after_s
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._stall_timeout_s = stall_timeout_s
        self._open_timeout_s = open_timeout_s
        self._close_timeout_s = close_timeout_s
        self._on_event = on_event
        self._ticket = f"{name}-{uuid.uuid4()}"
        self._subscriptions = self._checked(subscriptions)
        self._build_subscription(self._subscriptions)  # fail fast on a bad format
        self._buffer = WsBuffer(queue_size)
        self._state = _State.NEW
        self._task: asyncio.Task[None] | None = None
        self._ws: ClientConnection | None = None
        self._send_lock = asyncio.Lock()
        self._connected = asyncio.Event()
        self._connects = 0
        self._reconnects = 0
        self._messages = 0
        self._overflows = 0
        self._errors = 0
        self._parse_errors = 0
        self._stale = 0
        self._last_message_at: datetime | None = None
        self._healthy = False  # the current connection delivered a good frame
        self._conn_last_rx = _now()  # last frame (or connect) on the current connection
        self._gap_start: datetime | None = None
        self._subscribed_at = _now()
        self.last_error: WsError | None = None

    # ------------------------------------------------------------------ public API

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return self._subscriptions

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def stats(self) -> WsStats:
        return WsStats(
            connects=self._connects,
            reconnects=self._reconnects,
            messages=self._messages,
            drops=self._buffer.drops,
            overflows=self._overflows,
            errors=self._errors,
            parse_errors=self._parse_errors,
            stale=self._stale,
            last_message_at=self._last_message_at,
            connected=self.connected,
        )

    async def start(self) -> None:
        """Spawn the connection task; returns at once (see ``wait_connected``)."""
        if self._state is not _State.NEW:
            raise RuntimeError(f"{self.name}: start() called while {self._state.value}")
        self._state = _State.RUNNING
        self._task = asyncio.create_task(self._run(), name=f"upbit-ws-{self.name}")
        self._task.add_done_callback(self._on_task_done)

    async def stop(self) -> None:
        """Cancel the connection task and end ``messages()`` after the buffer drains."""
        if self._state is _State.NEW:
            raise RuntimeError(f"{self.name}: stop() called before start()")
        self._state = _State.STOPPED
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])  # propagates our own cancellation, not its
        self._buffer.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def wait_connected(self) -> None:
        """Until the server has answered our subscription + ``PING`` on a live connection."""
        await self._connected.wait()

    async def messages(self) -> AsyncIterator[WsMessage]:
        """Typed data messages for one consumer; ends after ``stop()`` once drained."""
        while (msg := await self._buffer.get()) is not None:
            yield msg

    async def resubscribe(self, subscriptions: Sequence[Subscription]) -> None:
        """Replace the whole set (Upbit semantics); sent now if connected, and on reconnects."""
        subs = self._checked(subscriptions)
        self._subscriptions = subs
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(ConnectionClosed):  # the reconnect will send it
                await self._send_subscription(ws)

    # ------------------------------------------------------------------ internals

    def _on_task_done(self, task: asyncio.Task[None]) -> None:
        """A crashed feed must not leave the consumer waiting forever."""
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("%s: feed task died", self.name, exc_info=exc)
        self._buffer.close()

    def _checked(self, subscriptions: Sequence[Subscription]) -> tuple[Subscription, ...]:
        subs = tuple(subscriptions)
        if not subs:
            raise ValueError("at least one subscription is required")
        if self._credentials is None and any(s.type in PRIVATE_TYPES for s in subs):
            raise ValueError("myOrder/myAsset need credentials")
        return subs

    def _build_subscription(self, subs: Sequence[Subscription]) -> str:
        return build_subscription(self._ticket, subs, self._fmt)

    def _emit(self, event: Event) -> None:
        try:
            self._on_event(event)
        except Exception:  # a broken sink must not kill the feed
            log.exception("%s: event sink failed for %r", self.name, event)

    def _error(self, name: str, message: str) -> None:
        self._errors += 1
        self.last_error = WsError(name, message)
        level = logging.ERROR if "AUTH" in name.upper() or "401" in name else logging.WARNING
        log.log(level, "%s: Upbit refused the feed: %s %s", self.name, name, message)
        self._emit(FeedFailed(stream=self.name, name=name, message=message))

    def _delay(self, attempt: int) -> float:
        """Full jitter: uniform(0, min(max, base * 2**attempt))."""
        cap = min(self._backoff_max_s, self._backoff_base_s * 2 ** min(attempt, 30))
        return random.uniform(0, cap)

    async def _send_subscription(self, ws: ClientConnection) -> None:
        async with self._send_lock:
            await ws.send(self._build_subscription(self._subscriptions))

    async def _open(self) -> ClientConnection:
        headers: dict[str, str] = {}
        if self._credentials is not None:  # a fresh nonce per handshake
            headers["Authorization"] = f"Bearer {make_token(self._credentials)}"
        return await connect(
            self.url,
            additional_headers=headers,
            ping_interval=self._ping_interval_s,
            ping_timeout=self._stale_after_s,
            open_timeout=self._open_timeout_s,
            close_timeout=self._close_timeout_s,
        )

    async def _run(self) -> None:
        attempt = 0
        first = True
        gap_start: datetime | None = None  # set once a subscribed connection is lost
        while True:
            if not first:
                await asyncio.sleep(self._delay(attempt))
                await self._buffer.wait_not_full()  # after an overflow, let the consumer catch up
            first = False
            try:
                ws = await self._open()
            except InvalidStatus as exc:
                status = exc.response.status_code
                body = exc.response.body or b""
                self._error(f"HTTP {status}", body.decode("utf-8", "replace")[:200])
                attempt += 6 if status == 418 else 1  # a ban: go straight to long waits
                continue
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                log.warning("%s: connect to %s failed: %r", self.name, self.url, exc)
                attempt += 1
                continue
            self._healthy = False
            self._conn_last_rx = _now()
            try:
                outcome = await self._serve(ws, gap_start)
            except ConnectionClosed as exc:
                log.warning("%s: connection closed: %s", self.name, exc)
                outcome = _Outcome.HEALTHY if self._healthy else _Outcome.FAILED
            except Exception:
                log.exception("%s: unexpected error on the feed", self.name)
                outcome = _Outcome.FAILED
            finally:
                lost_at = self._conn_last_rx  # messages after the last frame may be missing
                was_connected = self._connected.is_set()
                self._connected.clear()
                self._ws = None
                await self._close(ws)
            if was_connected:  # its FeedGapped (if any) went out when confirmed; a new gap starts
                gap_start = lost_at
            attempt = 0 if outcome is _Outcome.HEALTHY else attempt + 1

    async def _close(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self._close_timeout_s + 1):
                await ws.close()

    async def _serve(self, ws: ClientConnection, gap_start: datetime | None) -> _Outcome:
        self._ws = ws  # first, so a concurrent resubscribe() is sent here too (after ours)
        with contextlib.suppress(ConnectionClosed):  # still read why, e.g. INVALID_AUTH
            await self._send_subscription(ws)
            await ws.send("PING")  # answered by {"status":"UP"}: proof the server accepted us
        self._gap_start, self._subscribed_at = gap_start, _now()
        pinger = asyncio.create_task(self._ping_loop(ws))
        try:
            return await self._read_loop(ws)
        finally:
            pinger.cancel()
            await asyncio.wait([pinger])

    def _confirm(self) -> None:
        """First good frame on a connection: only now is it connected (an auth error is not)."""
        self._healthy = True
        if self._connected.is_set():
            return
        self._connected.set()
        self._connects += 1
        log.info("%s: subscribed on %s", self.name, self.url)
        self._emit(FeedConnected(stream=self.name, url=self.url))
        if self._gap_start is not None:
            self._reconnects += 1
            self._emit(
                FeedGapped(
                    stream=self.name,
                    disconnected_at=self._gap_start,
                    reconnected_at=self._subscribed_at,
                )
            )

    async def _ping_loop(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(self._ping_interval_s)
                await ws.send("PING")

    async def _read_loop(self, ws: ClientConnection) -> _Outcome:
        loop = asyncio.get_running_loop()
        last_rx = loop.time()
        while True:
            try:
                async with asyncio.timeout_at(last_rx + self._stale_after_s):
                    raw = await ws.recv()
            except TimeoutError:
                silent = loop.time() - last_rx
                self._stale += 1
                log.warning("%s: no message for %.1f s; reconnecting", self.name, silent)
                self._emit(FeedStalled(stream=self.name, silent_for_s=silent))
                return _Outcome.HEALTHY if self._healthy else _Outcome.FAILED
            self._last_message_at = self._conn_last_rx = _now()
            try:
                frames = parse_message(raw)
            except WsParseError as exc:
                self._parse_errors += 1
                log.warning("%s: dropped malformed frame: %s", self.name, exc)
                frames = []
            for frame in frames:
                if isinstance(frame, WsError):
                    self._healthy = False
                    self._error(frame.name, frame.message)
                    return _Outcome.FAILED
                self._confirm()
                if not isinstance(frame, Status):
                    self._messages += 1
                    if not await self._buffer.put(frame, stall_timeout_s=self._stall_timeout_s):
                        self._overflows += 1
                        log.warning(
                            "%s: consumer too slow for %s; reconnecting (gap)",
                            self.name,
                            type(frame).__name__,
                        )
                        return _Outcome.HEALTHY
            last_rx = loop.time()
