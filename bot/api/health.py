"""The checks behind ``/healthz`` (liveness) and ``/readyz`` (readiness).

Liveness says "restart me": the event loop answers (its heartbeat is recent) and the engine's
worker task still runs. Readiness says "I am doing my job": market data is fresh (or a replay
runs), the store answers ``SELECT 1``, Upbit is reachable or in a backoff the bot knows about,
every chat platform still accepts the bot's token, and the app is running. Each check is a
named result with a sentence, so a failing probe says what failed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from trading.circuit import CircuitBreaker, CircuitState
from trading.events import CircuitStateChanged, Event
from trading.store import Store


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


SyncCheck = Callable[[], Check]
AsyncCheck = Callable[[], Awaitable[Check]]


@dataclass(frozen=True, slots=True)
class FeedView:
    """What the market-data check needs: the feed's kind and the age of each market's data."""

    replay: bool
    finished: bool
    ages: Mapping[str, timedelta | None]


def engine_check(alive: Callable[[], bool | None]) -> SyncCheck:
    """``alive()``: None before the engine starts, then whether its worker task runs."""

    def check() -> Check:
        state = alive()
        if state is None:
            return Check("engine", True, "no engine here (starting, or a standby)")
        return Check("engine", state, "engine task running" if state else "engine task died")

    return check


def app_check(state: Callable[[], str]) -> SyncCheck:
    def check() -> Check:
        now = state()
        return Check("app", now == "running", f"app {now}")

    return check


def store_check(store: Callable[[], Store | None], timeout_s: float) -> AsyncCheck:
    async def check() -> Check:
        current = store()
        if current is None:
            return Check("store", False, "store not open yet")
        started = time.monotonic()
        try:
            async with asyncio.timeout(timeout_s):
                await current.ping()
        except TimeoutError:
            return Check("store", False, f"store did not answer SELECT 1 within {timeout_s:g}s")
        except Exception as exc:  # any driver error means "unreachable"
            return Check("store", False, f"store unreachable: {type(exc).__name__}: {exc}"[:300])
        return Check("store", True, f"SELECT 1 in {(time.monotonic() - started) * 1000:.0f} ms")

    return check


def chat_token_check(platform: str, refused: Callable[[], str | None]) -> SyncCheck:
    """One chat platform: ready until it refused the bot's token while running (``refused()``
    gives that line; a token refused at start stops the start instead)."""

    def check() -> Check:
        line = refused()
        if line is None:
            return Check(platform, True, "token accepted")
        return Check(platform, False, f"{line} while running; replace it and restart")

    return check


def market_data_check(feed: Callable[[], FeedView | str | None], max_age: timedelta) -> SyncCheck:
    """Fresh = some market traded within ``max_age`` (a quiet market alone is not a dead feed).

    A replay runs on its own clock, so it counts as fresh while it runs and after it ends.
    ``feed()`` gives None before the feed starts, or a sentence when this instance needs no
    feed (a standby).
    """

    def check() -> Check:
        view = feed()
        if view is None:
            return Check("market_data", False, "feed not started yet")
        if isinstance(view, str):
            return Check("market_data", True, view)
        if view.replay:
            return Check(
                "market_data", True, "replay finished" if view.finished else "replay running"
            )
        ages = {m: a for m, a in view.ages.items() if a is not None}
        if not ages:
            return Check("market_data", False, "no trade received yet")
        market, age = min(ages.items(), key=lambda item: item[1])
        seconds = max(0.0, age.total_seconds())
        ok = age <= max_age
        limit = max_age.total_seconds()
        return Check(
            "market_data",
            ok,
            f"last trade {seconds:.0f}s ago ({market}), limit {limit:.0f}s"
            if ok
            else f"stale: last trade {seconds:.0f}s ago ({market}), limit {limit:.0f}s",
        )

    return check


class CircuitWatch:
    """Remembers since when Upbit's REST circuit has been away from closed.

    Fed ``CircuitStateChanged`` from the bus; a circuit found not closed with no event seen
    counts from the first look.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.not_closed_since: float | None = None

    async def on_event(self, event: Event) -> None:
        """For ``EventBus.subscribe_callback``."""
        self.record(event)

    def record(self, event: Event) -> None:
        """An ``EventSink``: the circuit's own events, straight from the breaker."""
        if isinstance(event, CircuitStateChanged):
            self.observe(CircuitState(event.new))

    def observe(self, state: CircuitState) -> float:
        """Seconds the circuit has been open or half-open (0 when closed)."""
        now = self._clock()
        if state is CircuitState.CLOSED:
            self.not_closed_since = None
            return 0.0
        if self.not_closed_since is None:
            self.not_closed_since = now
        return now - self.not_closed_since


def exchange_check(
    circuit: Callable[[], CircuitBreaker | None], watch: CircuitWatch, down_after_s: float
) -> SyncCheck:
    """Reachable, or in a backoff the bot knows (the breaker is open and probing) for less
    than ``down_after_s``; no REST client (paper mode on a replay) needs no exchange."""

    def check() -> Check:
        breaker = circuit()
        if breaker is None:
            return Check("exchange", True, "not used (no Upbit REST client)")
        away = watch.observe(breaker.state)
        if breaker.state is CircuitState.CLOSED:
            return Check("exchange", True, "Upbit reachable (circuit closed)")
        what = f"circuit {breaker.state.value} for {away:.0f}s after {breaker.failures} failures"
        if away < down_after_s:
            return Check("exchange", True, f"known backoff: {what}")
        return Check("exchange", False, f"Upbit unreachable: {what}, limit {down_after_s:g}s")

    return check
