"""The PnL report on a paper engine with real trades, its chart, and its schedule."""

from __future__ import annotations

import asyncio
import struct
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from bot.report import PNG_SIGNATURE, ReportScheduler, build_report, daily_trigger
from handlers.i18n import Catalog
from tests.engine.conftest import facade, paper_rig, replay
from tests.notify.conftest import FakeSender, make_notifier, until
from trading.bus import EventBus
from trading.events import PositionClosed

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
async def traded(store):
    """A paper engine after 20 hours of the bundled real KRW-BTC data, with an equity
    snapshot every 200 minutes of market time."""
    events: list = []
    rig = await paper_rig(store, events)
    api = facade(rig, store, events)
    scheduler = ReportScheduler(facade=api, store=store, catalog=Catalog.load("en"), push=_no_push)
    rig.loop.start()
    for chunk in range(6):
        await replay(rig, 200, from_minute=chunk * 200)
        await scheduler.snapshot()
    await rig.loop.stop()
    return api, events


async def _no_push(_reply) -> None:
    return None


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_the_weekly_report_adds_up_the_trades(store, traded) -> None:
    api, events = traded
    closed = [e for e in events if isinstance(e, PositionClosed)]
    assert len(closed) >= 2
    now = api.engine.market_time()

    reply = await build_report(api, store, "week", Catalog.load("en"), now)

    fields = dict(reply.fields)
    assert reply.title == "[PAPER] Weekly report"
    assert set(fields) >= {
        "Realized PnL",
        "Unrealized PnL",
        "Fees",
        "Trades",
        "Win rate",
        "Max drawdown",
        "Equity",
    }
    realized = D(fields["Realized PnL"].removesuffix(" KRW").replace(",", ""))
    assert abs(realized - sum(e.pnl_krw for e in closed)) <= 1
    wins = sum(1 for e in closed if e.pnl_krw > 0)
    fills = await store.fills(limit=10_000)
    sells = sum(1 for f in fills if f.side == "ask")
    assert fields["Trades"] == f"{len(fills) - sells} buys · {sells} sells"
    assert fields["Win rate"].endswith(f"({wins}/{sells})")
    assert fields["Max drawdown"].endswith(" KRW)")
    assert reply.table is not None
    assert reply.table.rows[0][0] == "KRW-BTC"
    assert reply.image is not None
    assert png_size(reply.image.data) == (800, 400)
    assert len(reply.image.data) > 5_000


async def test_korean_daily_report_without_trades_says_so(store, traded) -> None:
    api, _ = traded
    later = api.engine.market_time() + timedelta(days=3)

    reply = await build_report(api, store, "day", Catalog.load("ko"), later)

    assert reply.title == "[모의] 일일 리포트"
    assert "이 기간에는 거래가 없습니다." in reply.lines
    assert dict(reply.fields)["실현 손익"] == "0원"
    assert reply.image is None  # no snapshot in the window: nothing to draw
    assert "자산 곡선 데이터가 아직 없습니다." in reply.lines


async def test_bad_period_is_refused(store) -> None:
    with pytest.raises(ValueError, match="day, week or month"):
        await build_report(None, store, "year", Catalog.load("en"), datetime.now(UTC))  # type: ignore[arg-type]


def test_the_daily_trigger_fires_at_nine_in_seoul() -> None:
    trigger = daily_trigger(time(9, 0), SEOUL)

    after_nine = datetime(2025, 6, 19, 0, 30, tzinfo=UTC)  # 09:30 KST
    before_nine = datetime(2025, 6, 18, 23, 59, tzinfo=UTC)  # 08:59 KST on the 19th
    assert trigger.get_next_fire_time(None, after_nine) == datetime(
        2025, 6, 20, 9, 0, tzinfo=SEOUL
    )
    assert trigger.get_next_fire_time(None, before_nine) == datetime(
        2025, 6, 19, 9, 0, tzinfo=SEOUL
    )


async def test_the_scheduler_runs_in_our_loop_and_the_job_pushes_the_report(store, traded) -> None:
    api, _ = traded
    sender = FakeSender()
    notifier = make_notifier(store, {"telegram": sender}, {"telegram": ["7"]})
    now = api.engine.market_time()
    scheduler = ReportScheduler(
        facade=api,
        store=store,
        catalog=Catalog.load("en"),
        push=notifier.push,
        daily_time=time(9, 0),
        clock=lambda: now,
    )
    bus = EventBus()
    scheduler.subscribe(bus)
    scheduler.start()
    await notifier.start()
    try:
        next_run = scheduler.next_daily_run()
        assert next_run is not None
        assert next_run.tzinfo is not None
        local = next_run.astimezone(SEOUL)
        assert (local.hour, local.minute) == (9, 0)
        assert timedelta(0) < next_run - datetime.now(UTC) <= timedelta(days=1)

        reply = await scheduler.daily_job()  # what the trigger runs at 09:00
        await until(lambda: len(sender.sent) == 1)
        assert sender.sent[0].reply.title == "[PAPER] Daily report"
        assert sender.sent[0].reply.image is not None
        assert sender.sent[0].reply.image.data == reply.image.data  # type: ignore[union-attr]

        before = scheduler.snapshots
        bus.publish(
            PositionClosed(
                market="KRW-BTC",
                volume=D(1),
                entry_price=D(1),
                exit_price=D(1),
                pnl_krw=D(0),
                fees_krw=D(0),
                reason="signal",
            )
        )
        await until(lambda: scheduler.snapshots == before + 1)
    finally:
        await scheduler.stop()
        await notifier.stop()
        await bus.stop()
        await asyncio.sleep(0)
