"""The in-process event bus: publish never blocks, and a critical event is never lost.

Every subscriber gets its own bounded queue, so a slow notifier cannot stall the engine or the
store. When a queue is full, non-critical events (candles, signals, feed health) are dropped
oldest first and counted; critical ones (orders, fills, positions, risk) go past the bound as
``backlog`` and are delivered in publish order. A slow subscriber therefore costs memory, which
metrics show, never a lost fill. Everything runs on the one event loop: ``publish`` must be
called from the loop's thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from trading.events import Event

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]
Kinds = tuple[type[Event], ...]

#: A drop is logged the first time and then every this many drops, so a flood cannot flood logs.
DROP_LOG_EVERY = 1000


@dataclass(frozen=True, slots=True)
class SubscriberStats:
    """One subscriber's counters: ``queued`` is within the bound, ``backlog`` past it."""

    name: str
    queued: int
    backlog: int
    dropped: int
    delivered: int
    errors: int


class Subscription:
    """A subscriber's queue; iterate it with ``async for event in sub``.

    Critical and non-critical events sit in two deques tagged with a sequence number: dropping
    the oldest non-critical one is O(1), and taking the lower head keeps publish order.
    """

    def __init__(
        self,
        name: str,
        *,
        maxsize: int,
        kinds: Kinds | None,
        on_close: Callable[[Subscription], None],
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, not {maxsize}")
        self.name = name
        self.maxsize = maxsize
        self.kinds = kinds
        self.dropped = 0
        self.delivered = 0
        self.errors = 0
        self._normal: deque[tuple[int, Event]] = deque()
        self._critical: deque[tuple[int, Event]] = deque()
        self._seq = 0
        self._ready = asyncio.Event()
        self._closed = False
        self._on_close = on_close

    def __len__(self) -> int:
        return len(self._normal) + len(self._critical)

    @property
    def closed(self) -> bool:
        return self._closed

    def wants(self, event: Event) -> bool:
        return self.kinds is None or isinstance(event, self.kinds)

    def offer(self, event: Event) -> None:
        """Queue ``event`` without ever blocking (the bus calls this on publish)."""
        if self._closed:
            return
        self._seq += 1
        item = (self._seq, event)
        if type(event).critical:
            self._critical.append(item)
        elif len(self) < self.maxsize:
            self._normal.append(item)
        else:
            if self._normal:
                self._normal.popleft()
                self._normal.append(item)
            self._count_drop(event)
        self._ready.set()

    def _count_drop(self, event: Event) -> None:
        self.dropped += 1
        if self.dropped == 1 or self.dropped % DROP_LOG_EVERY == 0:
            log.warning(
                "bus subscriber %r is full (%d queued): dropped %d non-critical events so far"
                " (latest %s)",
                self.name,
                len(self),
                self.dropped,
                type(event).__name__,
            )

    def stats(self) -> SubscriberStats:
        size = len(self)
        return SubscriberStats(
            name=self.name,
            queued=min(size, self.maxsize),
            backlog=max(0, size - self.maxsize),
            dropped=self.dropped,
            delivered=self.delivered,
            errors=self.errors,
        )

    def close(self, *, drain: bool = True) -> None:
        """Stop receiving; iteration ends once what is queued is delivered (or at once if
        ``drain`` is false, discarding it)."""
        self.finish(drain=drain)
        self._on_close(self)

    def finish(self, *, drain: bool = True) -> None:
        """Close without detaching from the bus, so ``stats()`` still reports it."""
        self._closed = True
        if not drain:
            self._normal.clear()
            self._critical.clear()
        self._ready.set()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        while not self._normal and not self._critical:
            if self._closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        if self._normal and (not self._critical or self._normal[0][0] < self._critical[0][0]):
            _, event = self._normal.popleft()
        else:
            _, event = self._critical.popleft()
        self.delivered += 1
        return event


class EventBus:
    """Fans every published event out to its subscribers; no global state, one per process."""

    def __init__(self) -> None:
        self._subs: dict[str, Subscription] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closed = False
        self.published = 0
        self.after_close = 0

    @property
    def closed(self) -> bool:
        return self._closed

    def publish(self, event: Event) -> None:
        """Hand ``event`` to every interested subscriber; never blocks, never raises for a
        subscriber's sake. After ``close()`` events are counted and ignored, so components
        that are still shutting down can keep emitting."""
        if self._closed:
            self.after_close += 1
            return
        self.published += 1
        for sub in tuple(self._subs.values()):
            if sub.wants(event):
                sub.offer(event)

    __call__ = publish

    def subscribe(
        self, name: str, *, maxsize: int = 1000, kinds: Kinds | None = None
    ) -> Subscription:
        """A new subscriber queue named ``name`` (unique: it labels the metrics)."""
        if self._closed:
            raise RuntimeError("the event bus is closed")
        if name in self._subs:
            raise ValueError(f"a bus subscriber named {name!r} already exists")
        sub = Subscription(name, maxsize=maxsize, kinds=kinds, on_close=self._detach)
        self._subs[name] = sub
        return sub

    def subscribe_callback(
        self,
        name: str,
        fn: Handler,
        *,
        kinds: Kinds | None = None,
        maxsize: int = 1000,
    ) -> Subscription:
        """Run ``await fn(event)`` for each event in a task of its own.

        A handler that raises is logged and counted (``errors``) and gets the next event: one
        bad message must not silence the notifier for good. Must be called on the running loop.
        """
        sub = self.subscribe(name, maxsize=maxsize, kinds=kinds)
        self._tasks[name] = asyncio.get_running_loop().create_task(
            self._run(sub, fn), name=f"bus:{name}"
        )
        return sub

    async def _run(self, sub: Subscription, fn: Handler) -> None:
        async for event in sub:
            try:
                await fn(event)
            except Exception:
                sub.errors += 1
                log.exception("bus subscriber %r failed on %s", sub.name, type(event).__name__)

    def _detach(self, sub: Subscription) -> None:
        if self._subs.get(sub.name) is sub:
            del self._subs[sub.name]

    def stats(self) -> list[SubscriberStats]:
        return [sub.stats() for sub in self._subs.values()]

    def close(self) -> None:
        """Stop accepting events; every subscription ends after delivering what it holds."""
        self._closed = True
        for sub in self._subs.values():
            sub.finish()

    async def stop(self, grace_s: float = 5.0) -> None:
        """``close()``, then give callback subscribers ``grace_s`` seconds to drain; those
        still running are cancelled."""
        self.close()
        tasks = list(self._tasks.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace_s)
        for task in pending:
            log.warning("bus subscriber task %s did not drain in %.1fs", task.get_name(), grace_s)
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        self._tasks.clear()
