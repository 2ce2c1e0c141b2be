"""/healthz and /readyz: each check, and each way it fails, with real parts."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import httpx
import pytest

from bot.api.health import (
    CircuitWatch,
    FeedView,
    app_check,
    engine_check,
    exchange_check,
    market_data_check,
    store_check,
)
from bot.http_server import HttpServer
from tests.bot.conftest import free_port
from tests.http.conftest import Traded, assert_matches_openapi
from trading.circuit import CircuitBreaker
from trading.domain import TradePrint
from trading.events import CircuitStateChanged
from trading.store import Store, create_engine, session_factory

FRESH = timedelta(minutes=5)


def live_feed(traded: Traded) -> FeedView:
    return FeedView(replay=False, finished=False, ages=traded.facade.data_ages())


async def test_healthz_is_ok_and_names_its_checks(serve, traded: Traded):
    served = await serve(liveness=[engine_check(lambda: traded.rig.loop.alive)])
    response = await served.get("/healthz")
    assert response.status_code == 200
    body = assert_matches_openapi("/healthz", response)
    assert body["status"] == "ok"
    assert body["failed"] == []
    assert set(body["checks"]) == {"event_loop", "engine"}
    assert body["checks"]["engine"] == {"ok": True, "detail": "engine task running"}


async def test_healthz_fails_when_the_engine_task_died(serve, traded: Traded):
    served = await serve(liveness=[engine_check(lambda: traded.rig.loop.alive)])
    worker = next(t for t in asyncio.all_tasks() if t.get_name() == "engine")
    worker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await worker
    response = await served.get("/healthz")
    assert response.status_code == 503
    body = assert_matches_openapi("/healthz", response)
    assert body["failed"] == ["engine"]
    assert body["checks"]["engine"]["detail"] == "engine task died"
    assert body["checks"]["event_loop"]["ok"] is True


async def test_healthz_before_the_engine_exists_is_alive(serve):
    served = await serve(liveness=[engine_check(lambda: None)])
    response = await served.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["engine"]["detail"].startswith("no engine here")


class LoopThread:
    """An HTTP server on an event loop of its own thread, so the test can block that loop and
    probe it from outside, as Kubernetes would."""

    def __init__(self, stale_after_s: float) -> None:
        self.port = free_port()
        self.stale_after_s = stale_after_s
        self.loop: asyncio.AbstractEventLoop | None = None
        self._up = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = HttpServer("127.0.0.1", self.port, beat_s=0.1, stale_after_s=self.stale_after_s)
        await server.start()
        self._up.set()
        await self._stop.wait()
        await server.stop()

    def __enter__(self) -> LoopThread:
        self._thread.start()
        assert self._up.wait(10), "server thread did not start"
        return self

    def block(self, seconds: float) -> None:
        assert self.loop is not None
        self.loop.call_soon_threadsafe(time.sleep, seconds)

    def __exit__(self, *_exc: object) -> None:
        assert self.loop is not None
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def test_healthz_turns_503_or_silent_while_the_loop_is_blocked():
    threshold = 1.0
    with LoopThread(stale_after_s=threshold) as server, httpx.Client(timeout=threshold) as http:
        url = f"http://127.0.0.1:{server.port}/healthz"
        assert http.get(url).status_code == 200
        server.block(3.0)
        time.sleep(0.2)  # the loop is inside time.sleep now
        outcomes = []
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:  # bounded: ~2.5 s of probes
            started = time.monotonic()
            try:
                outcome = str(http.get(url).status_code)
            except httpx.TimeoutException:
                outcome = "timeout"
            elapsed = time.monotonic() - started
            outcomes.append(outcome)
            # a probe never waits longer than its timeout for the bad news
            assert elapsed < threshold + 0.5, (outcome, elapsed)
            if outcome == "200":
                break
        assert outcomes, "no probe ran"
        assert outcomes[0] in ("503", "timeout"), outcomes
        # once the loop is free again, the next probes see it alive (after at most one 503
        # that reports the lag it just had)
        seen = []
        for _ in range(20):  # bounded: 20 probes 0.1 s apart
            response = http.get(url)
            seen.append(response.status_code)
            if response.status_code == 200:
                break
            assert response.json()["failed"] == ["event_loop"]
            assert response.json()["checks"]["event_loop"]["detail"].startswith("blocked: lag")
            time.sleep(0.1)
        assert seen[-1] == 200, seen


async def test_readyz_ok_with_every_check(serve, traded: Traded):
    await traded.rig.loop.drain()
    traded.rig.loop.put_print(
        TradePrint("KRW-BTC", D("13000000"), D("0.01"), datetime.now(UTC) - timedelta(seconds=30))
    )
    await traded.rig.loop.drain()
    served = await serve(
        readiness=[
            app_check(lambda: "running"),
            market_data_check(lambda: live_feed(traded), FRESH),
            store_check(lambda: traded.store, 2.0),
            exchange_check(lambda: None, CircuitWatch(), 300),
        ]
    )
    response = await served.get("/readyz")
    assert response.status_code == 200, response.text
    body = assert_matches_openapi("/readyz", response)
    assert body["status"] == "ok"
    assert list(body["checks"]) == ["app", "market_data", "store", "exchange"]
    assert re.fullmatch(
        r"last trade 3\ds ago \(KRW-BTC\), limit 300s", body["checks"]["market_data"]["detail"]
    )
    assert body["checks"]["store"]["detail"].startswith("SELECT 1 in")


async def test_readyz_names_stale_market_data(serve, traded: Traded):
    await traded.rig.loop.drain()
    traded.rig.loop.put_print(
        TradePrint("KRW-BTC", D("13000000"), D("0.01"), datetime.now(UTC) - timedelta(minutes=9))
    )
    await traded.rig.loop.drain()
    served = await serve(
        readiness=[
            market_data_check(lambda: live_feed(traded), FRESH),
            store_check(lambda: traded.store, 2.0),
        ]
    )
    response = await served.get("/readyz")
    assert response.status_code == 503
    body = assert_matches_openapi("/readyz", response)
    assert body["failed"] == ["market_data"]
    assert re.fullmatch(
        r"stale: last trade 54\ds ago \(KRW-BTC\), limit 300s",
        body["checks"]["market_data"]["detail"],
    )
    assert body["checks"]["store"]["ok"] is True


async def test_market_data_check_cases():
    ages = {"KRW-BTC": None, "KRW-ETH": timedelta(seconds=10)}
    check = market_data_check(lambda: FeedView(False, False, ages), FRESH)
    assert check().ok  # one quiet market is not a dead feed
    assert not market_data_check(lambda: FeedView(False, False, {"KRW-BTC": None}), FRESH)().ok
    assert market_data_check(lambda: FeedView(True, False, {}), FRESH)().detail == (
        "replay running"
    )
    assert market_data_check(lambda: FeedView(True, True, {}), FRESH)().ok
    assert not market_data_check(lambda: None, FRESH)().ok
    standby = market_data_check(lambda: "standby: the leader watches the market", FRESH)()
    assert standby.ok


@pytest.fixture
async def closed_store() -> AsyncIterator[Store]:
    """A PostgreSQL store on a port where nothing listens."""
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test")
    yield Store(session_factory(engine))
    await engine.dispose()


async def test_readyz_names_an_unreachable_store(serve, closed_store: Store):
    served = await serve(
        readiness=[app_check(lambda: "running"), store_check(lambda: closed_store, 2.0)]
    )
    response = await served.get("/readyz")
    assert response.status_code == 503
    body = assert_matches_openapi("/readyz", response)
    assert body["failed"] == ["store"]
    assert body["checks"]["store"]["detail"].startswith("store unreachable: ")
    assert body["checks"]["app"]["ok"] is True


async def test_readyz_bounds_a_store_that_never_answers(serve):
    """A server that accepts the connection and then says nothing: the probe gives up on time."""
    hung: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hung.append(writer)

    silent = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/test")
    try:
        served = await serve(readiness=[store_check(lambda: Store(session_factory(engine)), 0.5)])
        started = time.monotonic()
        response = await served.get("/readyz")
        elapsed = time.monotonic() - started
    finally:
        for writer in hung:
            writer.close()
        silent.close()
        await silent.wait_closed()
        await engine.dispose()
    assert response.status_code == 503
    assert response.json()["checks"]["store"]["detail"] == (
        "store did not answer SELECT 1 within 0.5s"
    )
    assert elapsed < 10  # did not hang on the silent server (a busy machine may be slow)


async def test_readyz_exchange_known_backoff_then_down(serve):
    now = [1000.0]
    watch = CircuitWatch(clock=lambda: now[0])
    breaker = CircuitBreaker(
        failure_threshold=2, reset_s=30, clock=lambda: now[0], on_event=watch.record
    )
    served = await serve(readiness=[exchange_check(lambda: breaker, watch, 120)])

    async def exchange() -> tuple[int, dict[str, object]]:
        response = await served.get("/readyz")
        return response.status_code, response.json()["checks"]["exchange"]

    assert await exchange() == (200, {"ok": True, "detail": "Upbit reachable (circuit closed)"})
    breaker.record_failure("GET /v1/ticker timed out")
    breaker.record_failure("GET /v1/ticker timed out")  # opens
    now[0] += 60
    status, check = await exchange()
    assert status == 200
    assert check["detail"] == "known backoff: circuit open for 60s after 2 failures"
    now[0] += 61
    status, check = await exchange()
    assert status == 503
    assert check["detail"] == (
        "Upbit unreachable: circuit open for 121s after 2 failures, limit 120s"
    )
    breaker.record_success()
    assert (await exchange())[0] == 200
    assert watch.not_closed_since is None


async def test_circuit_watch_counts_from_the_bus_event():
    now = [50.0]
    watch = CircuitWatch(clock=lambda: now[0])
    await watch.on_event(
        CircuitStateChanged(name="upbit-rest", old="closed", new="open", reason="x")
    )
    now[0] += 30
    breaker = CircuitBreaker(failure_threshold=1, clock=lambda: now[0])
    breaker.record_failure("boom")
    check = exchange_check(lambda: breaker, watch, 20)()
    assert not check.ok
    assert "open for 30s" in check.detail
    await watch.on_event(
        CircuitStateChanged(name="upbit-rest", old="half_open", new="closed", reason="ok")
    )
    assert watch.not_closed_since is None


async def test_readyz_fails_while_the_app_is_not_running(serve):
    state = ["starting"]
    served = await serve(readiness=[app_check(lambda: state[0])])
    response = await served.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["app"] == {"ok": False, "detail": "app starting"}
    state[0] = "running"
    assert (await served.get("/readyz")).status_code == 200
