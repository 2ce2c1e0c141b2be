"""Positions, snapshots, bot state, parameter changes, audit log and the notification queue."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from trading.store import Balance, Store

D = Decimal
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


async def test_positions_upsert(store: Store) -> None:
    assert await store.positions() == []
    await store.upsert_position("KRW-ETH", state="flat", volume=D(0))
    entering = await store.upsert_position(
        "KRW-BTC", state="entering", volume=D(0), extra={"signal": "breakout"}
    )
    assert entering.extra == {"signal": "breakout"}
    long = await store.upsert_position(
        "KRW-BTC",
        state="long",
        volume=D("0.01234567"),
        avg_price=D("50123000"),
        stop_price=D("48000000.5"),
        opened_at=T0,
        extra={"atr": "1234.5", "bars": 3},
    )
    assert long.updated_at >= entering.updated_at
    positions = await store.positions()
    assert [p.market for p in positions] == ["KRW-BTC", "KRW-ETH"]
    assert positions[0] == long
    assert (long.state, long.volume, long.opened_at, long.extra["bars"]) == (
        "long",
        D("0.01234567"),
        T0,
        3,
    )
    assert await store.position("KRW-XRP") is None


async def test_balance_and_equity_snapshots(store: Store) -> None:
    await store.snapshot_balances(
        [Balance("KRW", D("1000000"), D("0"), D("0"))], taken_at=T0 - timedelta(hours=1)
    )
    at = await store.snapshot_balances(
        [
            Balance("KRW", D("900000.5"), D("100000"), D("0")),
            Balance("BTC", D("0.00012345"), D("0"), D("51000000")),
        ],
        taken_at=T0,
    )
    assert at == T0
    latest = await store.latest_balances()
    assert [(b.currency, b.balance, b.taken_at) for b in latest] == [
        ("BTC", D("0.00012345"), T0),
        ("KRW", D("900000.5"), T0),
    ]
    for hour in range(3):
        await store.snapshot_equity(
            D(1_000_000 + hour), D(500_000), taken_at=T0 + timedelta(hours=hour)
        )
    history = await store.equity_history()
    assert [e.equity_krw for e in history] == [D(1_000_000), D(1_000_001), D(1_000_002)]
    recent = await store.equity_history(since=T0 + timedelta(hours=1), limit=1)
    assert [e.taken_at for e in recent] == [T0 + timedelta(hours=2)]


async def test_bot_state(store: Store) -> None:
    assert await store.get_state("paused") is None
    assert await store.get_state("paused", False) is False
    await store.set_state("paused", True)
    await store.set_state("halts", {"KRW-BTC": {"until": T0, "reason": "daily loss"}})
    await store.set_state("paused", False)
    assert await store.get_state("paused") is False
    # Datetimes and Decimals inside JSON are stored as strings, exactly.
    assert await store.get_state("halts") == {
        "KRW-BTC": {"until": T0.isoformat(), "reason": "daily loss"}
    }
    await store.set_state("risk", {"max_loss": D("0.025")})
    assert await store.get_state("risk") == {"max_loss": "0.025"}
    await asyncio.gather(*(store.set_state("n", i) for i in range(5)))
    assert await store.get_state("n") in range(5)


async def test_param_changes_newest_first(store: Store) -> None:
    await store.record_param_change(
        who="alice", transport="telegram", key="risk.atr_mult", old_value=2, new_value=2.5, at=T0
    )
    await store.record_param_change(
        who="bob",
        transport="slack",
        key="strategy.window",
        old_value=None,
        new_value=20,
        at=T0 + timedelta(minutes=1),
    )
    changes = await store.param_changes()
    assert [c.who for c in changes] == ["bob", "alice"]
    assert changes[0].old_value is None
    assert (await store.param_changes(1))[0].key == "strategy.window"
    (only,) = await store.param_changes(key="risk.atr_mult")
    assert (only.old_value, only.new_value, only.at) == (2, 2.5, T0)


async def test_audit_log(store: Store) -> None:
    await store.audit(
        transport="telegram",
        user_id="42",
        chat_id="-100",
        command="pause",
        outcome="ok",
        at=T0,
    )
    await store.audit(
        transport="slack",
        user_id="U999",
        command="set",
        arguments={"key": "risk.atr_mult", "value": "3"},
        outcome="denied",
        detail="role viewer may not /set",
        at=T0 + timedelta(seconds=1),
    )
    log = await store.audit_log()
    assert [(e.command, e.outcome) for e in log] == [("set", "denied"), ("pause", "ok")]
    assert log[0].arguments == {"key": "risk.atr_mult", "value": "3"}
    assert log[1].arguments == {}
    assert [e.command for e in await store.audit_log(user_id="42")] == ["pause"]
    assert len(await store.audit_log(1)) == 1


async def test_notification_claim_retry_and_send(store: Store) -> None:
    first = await store.enqueue_notification(channel="telegram", kind="fill", payload={"n": 1})
    later = await store.enqueue_notification(
        channel="slack", kind="report", payload={"n": 2}, not_before=T0 + timedelta(days=3650)
    )
    now = first.created_at + timedelta(seconds=1)
    claimed = await store.claim_due_notifications(10, now)
    assert [(n.id, n.attempts) for n in claimed] == [(first.id, 1)]
    # Claimed means leased: a second claim (another worker, a second tick) gets nothing.
    assert await store.claim_due_notifications(10, now) == []

    await store.mark_notification_failed(
        first.id, "429 Too Many Requests", now + timedelta(seconds=5)
    )
    assert await store.claim_due_notifications(10, now + timedelta(seconds=4)) == []
    (retry,) = await store.claim_due_notifications(10, now + timedelta(seconds=5))
    assert (retry.id, retry.attempts, retry.last_error) == (first.id, 2, "429 Too Many Requests")

    await store.mark_notification_sent(first.id, sent_at=now + timedelta(seconds=6))
    assert await store.claim_due_notifications(10, now + timedelta(days=1)) == []
    assert await store.pending_notifications() == 1
    # A crashed sender's lease runs out and the message comes back.
    (leased,) = await store.claim_due_notifications(10, later.next_attempt_at)
    assert leased.id == later.id
    (again,) = await store.claim_due_notifications(
        10, later.next_attempt_at + timedelta(minutes=5)
    )
    assert (again.id, again.attempts) == (later.id, 2)


async def test_concurrent_claims_never_overlap(store: Store) -> None:
    ids = [
        (await store.enqueue_notification(channel="c", kind="k", payload={"i": i})).id
        for i in range(12)
    ]
    now = datetime.now(UTC) + timedelta(seconds=1)
    batches = await asyncio.gather(*(store.claim_due_notifications(5, now) for _ in range(4)))
    claimed = [n.id for batch in batches for n in batch]
    assert sorted(claimed) == ids
    assert all(len(batch) <= 5 for batch in batches)
