"""The real Upbit clients against FakeUpbit on loopback: REST latency and status labels,
rate-limit headroom from ``Remaining-Req``, WebSocket reconnects and message age."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from decimal import Decimal as D

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics
from tests.fakes.upbit import FakeUpbit
from tests.metrics.conftest import value
from trading.circuit import CircuitBreaker
from trading.errors import CircuitOpen, NotFound, RequestTimeout, ServerError
from trading.events import Event
from trading.upbit.auth import Credentials
from trading.upbit.rest import UpbitRestClient
from trading.upbit.retry import RetryPolicy
from trading.upbit.ws_client import Subscription, UpbitWebSocket

UUID = "9ca023a5-851b-4fec-9f0a-48cd83c2eaae"


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpbit]:
    async with FakeUpbit() as server:
        server.set_balance("KRW", D("10000000"))
        yield server


@pytest.fixture
async def client(fake: FakeUpbit, metrics: Metrics) -> AsyncIterator[UpbitRestClient]:
    events: list[Event] = []
    rest = UpbitRestClient(
        fake.rest_url,
        credentials=Credentials("test-access", "test-secret"),
        timeout_s=0.5,
        retry=RetryPolicy(max_retries=2, base_s=0.01, max_s=0.05),
        circuit=CircuitBreaker(failure_threshold=3, reset_s=0.3, on_event=events.append),
        on_event=events.append,
        on_request=metrics.on_request,
    )
    metrics.attach_rest(rest)
    async with rest:
        yield rest


def scrape(metrics: Metrics) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    """Parse the exposition (which also validates it) into name -> samples."""
    text = generate_latest(metrics.registry).decode()
    return {
        family.name: [(s.name, s.labels, s.value) for s in family.samples]
        for family in text_string_to_metric_families(text)
    }


async def test_rest_latency_and_status_per_endpoint_template(
    fake: FakeUpbit, client: UpbitRestClient, metrics: Metrics
) -> None:
    await client.accounts()
    fake.faults.fail_next(500, method="GET", path="/v1/accounts")  # a read is retried
    await client.accounts()
    with pytest.raises(NotFound):
        await client.get_order(uuid=UUID)
    await client.markets()

    seconds = "upbit_bot_rest_request_seconds_count"
    assert value(metrics, seconds, endpoint="/v1/accounts", method="GET") == 3
    assert value(metrics, seconds, endpoint="/v1/order", method="GET") == 1
    assert value(metrics, seconds, endpoint="/v1/market/all", method="GET") == 1
    total = "upbit_bot_rest_requests_total"
    assert value(metrics, total, endpoint="/v1/accounts", method="GET", status="200") == 2
    assert value(metrics, total, endpoint="/v1/accounts", method="GET", status="500") == 1
    assert value(metrics, total, endpoint="/v1/order", method="GET", status="404") == 1
    # every request the fake saw is counted once, and no id ever became a label
    assert sum(
        v for n, _, v in scrape(metrics)["upbit_bot_rest_requests"] if n.endswith("_total")
    ) == len(fake.requests)
    assert UUID not in generate_latest(metrics.registry).decode()
    buckets = [
        (labels["le"], v)
        for n, labels, v in scrape(metrics)["upbit_bot_rest_request_seconds"]
        if n.endswith("_bucket") and labels["endpoint"] == "/v1/accounts"
    ]
    assert buckets[-1] == ("+Inf", 3.0)
    assert all(a <= b for (_, a), (_, b) in itertools.pairwise(buckets))


async def test_a_timeout_is_labelled_timeout(
    fake: FakeUpbit, client: UpbitRestClient, metrics: Metrics
) -> None:
    fake.faults.delay_next(0.8, method="GET", path="/v1/orders/chance", count=3)
    with pytest.raises(RequestTimeout):
        await client.order_chance("KRW-BTC")
    total = "upbit_bot_rest_requests_total"
    assert value(metrics, total, endpoint="/v1/orders/chance", method="GET", status="timeout") == 3
    seconds = "upbit_bot_rest_request_seconds_sum"
    assert value(metrics, seconds, endpoint="/v1/orders/chance", method="GET") >= 3 * 0.4


async def test_rate_limit_remaining_is_upbits_header(
    fake: FakeUpbit, client: UpbitRestClient, metrics: Metrics
) -> None:
    assert scrape(metrics)["upbit_bot_rate_limit_remaining"] == []  # nothing reported yet
    for _ in range(3):
        await client.accounts()
    await client.markets()
    # what the fake answered in Remaining-Req (sec=) for each group, read back the same way
    expected_default = fake.limiter.peek("default").remaining
    expected_market = fake.limiter.peek("market").remaining
    assert expected_default == 27  # 30/s, three used within the second
    remaining = "upbit_bot_rate_limit_remaining"
    assert value(metrics, remaining, group="default") == expected_default
    assert value(metrics, remaining, group="market") == expected_market == 9
    groups = {labels["group"] for _, labels, _ in scrape(metrics)[remaining]}
    assert groups == {"default", "market"}  # only groups the server has reported


async def test_ws_reconnects_and_message_age(fake: FakeUpbit, metrics: Metrics) -> None:
    ws = UpbitWebSocket(
        fake.ws_url,
        [Subscription("trade", ["KRW-BTC"])],
        name="trades",
        ping_interval_s=0.1,
        stale_after_s=2.0,
        backoff_base_s=0.05,
        backoff_max_s=0.2,
        close_timeout_s=0.5,
    )
    metrics.sources.streams = lambda: [ws]
    async with ws:
        await asyncio.wait_for(ws.wait_connected(), 3)
        await asyncio.sleep(0.3)
        age = value(metrics, "upbit_bot_ws_message_age_seconds", stream="trades")
        assert 0 <= age < 2.0
        assert value(metrics, "upbit_bot_ws_connected", stream="trades") == 1
        assert value(metrics, "upbit_bot_ws_reconnects_total", stream="trades") == 0
        fake.faults.ws_drop()
        for _ in range(100):  # bounded: 5 s
            if ws.stats.reconnects == 1 and ws.connected:
                break
            await asyncio.sleep(0.05)
        assert value(metrics, "upbit_bot_ws_reconnects_total", stream="trades") == 1
        fake.faults.ws_silence(True)
        await asyncio.sleep(0.6)
        silent_age = value(metrics, "upbit_bot_ws_message_age_seconds", stream="trades")
        fake.faults.ws_silence(False)
    assert silent_age >= 0.5  # the age grows while the stream is silent


async def test_circuit_state_is_read_from_the_breaker(
    fake: FakeUpbit, client: UpbitRestClient, metrics: Metrics
) -> None:
    assert value(metrics, "upbit_bot_circuit_state") == 0
    fake.faults.fail_next(500, method="GET", path="/v1/accounts", count=10)
    with pytest.raises((ServerError, CircuitOpen)):
        await client.accounts()  # three failed tries open it (threshold 3)
    assert value(metrics, "upbit_bot_circuit_state") == 2
    total = "upbit_bot_rest_requests_total"
    assert value(metrics, total, endpoint="/v1/accounts", method="GET", status="500") == 3
