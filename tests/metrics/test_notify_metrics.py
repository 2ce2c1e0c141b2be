"""Notifier series through the real Telegram transport and the fake Bot API: the queue grows
during an outage, failures are counted, and everything is delivered afterwards."""

from __future__ import annotations

import asyncio

from bot.metrics import Metrics
from bot.notify import NotifyPolicy
from bot.notify.notifier import Notifier
from bot.telegram.kind import TELEGRAM_LIMITS
from bot.telegram.transport import TelegramTransport
from handlers.auth import Authorizer
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from handlers.i18n import Catalog
from tests.engine.conftest import facade, paper_rig
from tests.fakes.telegram import FakeTelegram
from tests.metrics.conftest import value
from trading.events import Event, RiskBreached
from trading.store import Store

CHAT = "100"


async def test_queue_depth_failures_and_sent_per_transport(metrics: Metrics, store: Store) -> None:
    events: list[Event] = []
    rig = await paper_rig(store, events)
    dispatcher = Dispatcher(
        build_registry(), facade(rig, store, events), Authorizer({}), store, language="en"
    )
    async with FakeTelegram() as tg:
        telegram = TelegramTransport(
            token=tg.token, dispatcher=dispatcher, base_url=tg.base_url, poll_timeout_s=1
        )
        notifier = Notifier(
            store,
            {"telegram": telegram},
            {"telegram": [CHAT]},
            NotifyPolicy(),
            Catalog.load("en"),
            paper=True,
            coalesce_s=0.0,
            backoff_base_s=0.1,
            backoff_max_s=0.3,
            poll_s=0.05,
            limits={"telegram": TELEGRAM_LIMITS},
        )
        metrics.sources.notifier = lambda: notifier
        await telegram.start()
        await notifier.start()
        try:
            tg.faults.down()  # until told otherwise
            for n in range(3):
                await notifier.on_event(
                    RiskBreached(check="max_open", market=None, reason=f"refusal {n}")
                )
            depth = "upbit_bot_notify_queue_depth"
            assert value(metrics, depth, transport="telegram") == 3
            for _ in range(100):  # bounded: 5 s
                if value(metrics, "upbit_bot_notify_failures_total", transport="telegram") >= 2:
                    break
                await asyncio.sleep(0.05)
            assert value(metrics, "upbit_bot_notify_failures_total", transport="telegram") >= 2
            assert value(metrics, "upbit_bot_notify_sent_total", transport="telegram") == 0
            assert value(metrics, depth, transport="telegram") == 3  # nothing lost

            tg.faults.up()
            for _ in range(200):  # bounded: 10 s
                if value(metrics, depth, transport="telegram") == 0:
                    break
                await asyncio.sleep(0.05)
            assert value(metrics, depth, transport="telegram") == 0
            sent = value(metrics, "upbit_bot_notify_sent_total", transport="telegram")
            assert value(metrics, "upbit_bot_notify_dropped_total", transport="telegram") == 0
        finally:
            await notifier.stop()
            await telegram.stop()
    # a burst of one kind waiting together goes out merged: sent counts messages
    delivered = [c for c in tg.sent if c.method == "sendMessage"]
    assert 1 <= sent == len(delivered) <= 3
    assert sum((c.text or "").count("refusal") for c in delivered) >= 3
