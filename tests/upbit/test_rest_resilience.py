"""Faults injected by the fake: retries, 429, 418, timeouts, circuit breaker."""

from __future__ import annotations

import asyncio
import time

import pytest

from trading.errors import Banned, CircuitOpen, RequestTimeout, ServerError
from trading.events import CircuitStateChanged, RateLimitBanLifted, RateLimitBanned


def gets(fake, path):
    return [r for r in fake.requests if r.method == "GET" and r.path == path]


async def test_reads_retry_through_server_errors(fake, client):
    fake.faults.fail_next(500, method="GET", path="/v1/accounts", count=2)

    accounts = await client.accounts()

    assert accounts
    assert [r.status for r in gets(fake, "/v1/accounts")] == [500, 500, 200]


async def test_reads_give_up_after_the_retry_budget(fake, client):
    fake.faults.fail_next(503, method="GET", path="/v1/accounts", count=5)

    with pytest.raises(ServerError):
        await client.accounts()
    assert len(gets(fake, "/v1/accounts")) == 3  # 1 + max_retries


@pytest.mark.short_timeout
async def test_timeout_on_a_read_is_retried(fake, client):
    fake.faults.delay_next(1.0, method="GET", path="/v1/accounts")

    accounts = await client.accounts()

    assert accounts


async def test_429_backs_off_then_succeeds(fake, client):
    fake.faults.fail_next(429, method="GET", path="/v1/accounts")
    start = time.monotonic()

    await client.accounts()

    assert time.monotonic() - start >= 0.9  # waited out the rest of the window
    assert [r.status for r in gets(fake, "/v1/accounts")] == [429, 200]


async def test_418_blocks_the_group_and_raises_events(fake, client, events):
    fake.faults.ban("default", 0.6)

    with pytest.raises(Banned):
        await client.accounts()
    banned = [e for e in events if isinstance(e, RateLimitBanned)]
    await client.ticker(["KRW-BTC"])  # another group is not blocked
    await asyncio.sleep(0.8)
    accounts = await client.accounts()

    assert accounts
    assert banned
    assert banned[0].group == "default"
    assert any(isinstance(e, RateLimitBanLifted) for e in events)


async def test_circuit_opens_fails_fast_and_recovers(fake, client, events):
    fake.faults.fail_next(500, method="GET", path="/v1/accounts", count=3)
    client.retry = type(client.retry)(max_retries=0)

    for _ in range(3):
        with pytest.raises(ServerError):
            await client.accounts()
    sent = len(fake.requests)
    with pytest.raises(CircuitOpen):
        await client.accounts()
    assert len(fake.requests) == sent  # refused without a request
    await asyncio.sleep(0.35)
    assert await client.accounts()  # the half-open probe succeeds

    changes = [(e.old, e.new) for e in events if isinstance(e, CircuitStateChanged)]
    assert changes == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]


async def test_order_post_is_never_retried_by_the_client(fake, client):
    fake.faults.fail_next(500, method="POST", path="/v1/orders")
    body = client.order_body(
        market="KRW-BTC",
        side="bid",
        ord_type="price",
        identifier="t-once",
        price=client.rules.min_total("KRW-BTC") * 2,
    )

    with pytest.raises(ServerError):
        await client.create_order(body)
    assert len([r for r in fake.requests if r.method == "POST"]) == 1


@pytest.mark.short_timeout
async def test_timeout_on_order_post_raises_timeout(fake, client):
    fake.faults.delay_next(1.0, method="POST", path="/v1/orders")
    body = client.order_body(
        market="KRW-BTC",
        side="bid",
        ord_type="price",
        identifier="t-slow",
        price=client.rules.min_total("KRW-BTC") * 2,
    )

    with pytest.raises(RequestTimeout):
        await client.create_order(body)
