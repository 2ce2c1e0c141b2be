"""Pacing per group, the Remaining-Req header, 429 backoff and 418 bans."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from trading.errors import Banned
from trading.events import RateLimitBanLifted, RateLimitBanned
from trading.upbit.ratelimit import GroupLimiter, RateLimiter, parse_remaining_req


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("header", "group", "sec"),
    [
        ("group=default; min=1800; sec=29", "default", 29),
        ("group=candles; min=600; sec=9", "candle", 9),
        ("group=order-cancel-all; min=30; sec=0", "order-cancel-all", 0),
    ],
)
def test_parse_remaining_req(header, group, sec):
    parsed = parse_remaining_req(header)

    assert parsed is not None
    assert (parsed.group, parsed.sec) == (group, sec)


def test_parse_remaining_req_tolerates_garbage():
    assert parse_remaining_req(None) is None
    assert parse_remaining_req("nonsense") is None


def complete(limiter, clock, n, step=0.01):
    for _ in range(n):
        assert limiter.delay(clock()) == 0
        limiter.in_flight += 1
        limiter.release()
        clock.now += step


def test_sliding_window_counts_from_completion():
    clock = FakeClock()
    limiter = GroupLimiter("order", 8, margin_s=0.0, clock=clock)
    complete(limiter, clock, 8)

    assert limiter.delay(clock()) == pytest.approx(1.0 - 0.08)
    clock.now += 1.0
    assert limiter.delay(clock()) == 0


def test_in_flight_requests_hold_their_slots():
    clock = FakeClock()
    limiter = GroupLimiter("order", 2, margin_s=0.0, clock=clock)
    limiter.in_flight = 2

    assert limiter.delay(clock()) is None  # only a release can free a slot
    limiter.release()
    assert limiter.delay(clock()) == pytest.approx(1.0)  # counted from its completion


def test_header_reporting_less_room_adds_phantom_sends():
    clock = FakeClock()
    limiter = GroupLimiter("default", 30, margin_s=0.0, clock=clock)

    limiter.observe(remaining=0)

    assert limiter.delay(clock()) == pytest.approx(1.0)


def test_sub_one_per_second_group():
    clock = FakeClock()
    limiter = GroupLimiter("order-cancel-all", 0.5, margin_s=0.0, clock=clock)
    complete(limiter, clock, 1, step=0)

    assert limiter.delay(clock()) == pytest.approx(2.0)


def test_429_backs_off_and_grows():
    clock = FakeClock()
    limiter = GroupLimiter("default", 30, margin_s=0.0, clock=clock)

    first = limiter.on_429()
    second = limiter.on_429()

    assert 1.0 <= first <= 1.2
    assert 2.0 <= second <= 2.4
    assert limiter.delay(clock()) == pytest.approx(second, rel=0.01)


async def test_acquire_queues_callers_at_the_rate():
    limiter = RateLimiter({"default": 20})
    start = time.monotonic()

    async def call():
        async with limiter.slot("default"):
            await asyncio.sleep(0.001)

    await asyncio.gather(*(call() for _ in range(30)))

    # 20 go at once, the 21st waits for the window: about one second in all
    assert 0.95 <= time.monotonic() - start < 1.5
    await limiter.close()


async def test_ban_blocks_group_raises_when_too_long_and_lifts_with_events():
    events = []
    limiter = RateLimiter(max_wait_s=0.05, on_event=events.append)
    until = datetime.now(UTC) + timedelta(seconds=0.3)

    limiter.on_ban("default", until, "blocked for 0.3 s")
    with pytest.raises(Banned, match="blocked the default group"):
        async with limiter.slot("default"):
            pass
    async with limiter.slot("candle"):  # other groups are untouched
        pass
    await asyncio.sleep(0.4)
    async with limiter.slot("default"):
        pass

    assert [type(e) for e in events] == [RateLimitBanned, RateLimitBanLifted]
    assert events[0].group == "default"
    await limiter.close()


async def test_callers_wait_out_a_short_ban():
    limiter = RateLimiter(max_wait_s=5)
    limiter.on_ban("order", datetime.now(UTC) + timedelta(seconds=0.2), "short")
    start = time.monotonic()

    async with limiter.slot("order"):
        pass

    assert time.monotonic() - start >= 0.15
    await limiter.close()


def test_the_order_group_follows_upbits_documented_12_per_second():
    """Reference §7.1: ``order`` allows 12 requests/s per pocket since 2026-08-21."""
    limiter = RateLimiter()

    assert limiter.group("order").capacity == 12
    assert limiter.group("order-test").capacity == 8  # unchanged by that notice
    assert RateLimiter({"order": 5}).group("order").capacity == 5  # configurable down


async def test_twelve_orders_go_out_in_a_second_without_queueing_or_429():
    """Against the fake, which enforces Upbit's 12/s: the default client queues none of 12
    orders, the server's ``Remaining-Req`` ends at 0, and the 13th would have to wait."""
    from decimal import Decimal as D

    from tests.fakes.upbit import FakeUpbit
    from trading.upbit.auth import Credentials
    from trading.upbit.rest import UpbitRestClient
    from trading.upbit.retry import RetryPolicy

    async with FakeUpbit() as fake:
        fake.set_balance("KRW", D(10_000_000))
        client = UpbitRestClient(
            fake.rest_url,
            credentials=Credentials("test-access", "test-secret"),
            retry=RetryPolicy(max_retries=0),
        )
        async with client:
            for n in range(12):
                body = client.order_body(
                    market="KRW-BTC",
                    side="bid",
                    ord_type="limit",
                    identifier=f"rate-{n}",
                    price=D(50_000_000),
                    volume=D("0.0001"),
                )
                await client.create_order(body)
            order = client.limiter.group("order")
            assert order.waits == 0
            assert order.remaining == 0  # the server's count agrees: its second is used up
            assert order.delay(time.monotonic()) > 0  # so the 13th waits for the window
    statuses = [r.status for r in fake.requests if r.path == "/v1/orders"]
    assert statuses == [201] * 12
