"""Pushes through the real transports to the fake Telegram and Slack, from a real engine."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from bot.notify import NotifyPolicy
from bot.notify.notifier import Notifier
from bot.slack.kind import SLACK_LIMITS
from bot.slack.transport import SlackTransport
from bot.telegram.kind import TELEGRAM_LIMITS
from bot.telegram.transport import TelegramTransport
from handlers.auth import Authorizer
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from handlers.i18n import Catalog
from tests.engine.conftest import facade, paper_rig, replay
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import FakeTelegram
from trading.bus import EventBus
from trading.events import OrderFilled, PositionClosed

pytestmark = pytest.mark.slow
CHAT, CHANNEL = "100", "C0100CHAN"


class Tee(list):
    """The engine's event sink: keeps every event and publishes it on the bus."""

    def __init__(self, bus: EventBus) -> None:
        super().__init__()
        self.bus = bus

    def append(self, event) -> None:
        super().append(event)
        self.bus.publish(event)


async def run_scenario(store, *, outage: bool = False, telegram_429: bool = False):
    """With ``outage`` both chats are down until the replay has ended: it ends only if trading
    never waits for a chat (no clock involved), and everything is delivered once they are up."""
    bus = EventBus()
    events = Tee(bus)
    rig = await paper_rig(store, events)
    api = facade(rig, store, events)
    dispatcher = Dispatcher(build_registry(), api, Authorizer({}), store, language="en")
    async with FakeTelegram() as tg, FakeSlack() as slack:
        telegram = TelegramTransport(
            token=tg.token, dispatcher=dispatcher, base_url=tg.base_url, poll_timeout_s=1
        )
        slack_tx = SlackTransport(
            bot_token=slack.bot_token,
            app_token=slack.app_token,
            dispatcher=dispatcher,
            api_url=slack.api_url,
        )
        notifier = Notifier(
            store,
            {"telegram": telegram, "slack": slack_tx},
            {"telegram": [CHAT], "slack": [CHANNEL]},
            NotifyPolicy(),
            Catalog.load("en"),
            paper=True,
            coalesce_s=0.2,
            backoff_base_s=0.2,
            backoff_max_s=1.0,
            poll_s=0.05,
            limits={"telegram": TELEGRAM_LIMITS, "slack": SLACK_LIMITS},
        )
        for transport in (telegram, slack_tx):
            await transport.start()
        notifier.subscribe(bus)
        await notifier.start()
        if telegram_429:
            tg.faults.fail_next("sendMessage", 429, retry_after=1)
        if outage:
            tg.faults.down()
            slack.faults.down()
        rig.loop.start()
        await replay(rig, 240)  # trading goes on whatever the chats do
        await rig.loop.stop()
        delivered_in_outage = len(tg.sent) + len(slack.messages(CHANNEL))
        tg.faults.up()
        slack.faults.up()
        deadline = time.monotonic() + 30
        while (await store.pending_notifications()) and time.monotonic() < deadline:  # noqa: ASYNC110 - polls the store
            await asyncio.sleep(0.2)
        await notifier.stop()
        for transport in (telegram, slack_tx):
            await transport.stop()
        await bus.stop()
        tg_texts = [c.text or "" for c in tg.sent if c.method == "sendMessage"]
        slack_texts = [m.text for m in slack.messages(CHANNEL)]
        pending = await store.pending_notifications()
        return list(events), tg_texts, slack_texts, delivered_in_outage, pending


PNL = re.compile(r"Realized PnL ([+-]?[\d,]+) KRW")  # a gain shows as "+5,282"
FILLS = re.compile(r"Fills: (?:<b>)?(\d+)")


def accounted(texts: list[str], events: list) -> None:
    """Every fill is in some message (one each, or merged as "Fills: N") and the realized PnL
    the chat shows adds up to the engine's, to the won per message (each rounds once)."""
    fills = sum(int(m.group(1)) if (m := FILLS.search(t)) else 1 for t in texts if "Filled ·" in t)
    shown = [int(m.group(1).replace(",", "")) for t in texts for m in PNL.finditer(t)]
    closed = [e.pnl_krw for e in events if isinstance(e, PositionClosed)]
    assert fills == len([e for e in events if isinstance(e, OrderFilled)])
    assert abs(sum(shown) - sum(closed)) <= len(shown)


async def test_every_fill_is_pushed_to_both_platforms(store):
    events, tg_texts, slack_texts, _, pending = await run_scenario(store)

    assert any(isinstance(e, PositionClosed) for e in events)
    assert pending == 0
    accounted(tg_texts, events)
    accounted(slack_texts, events)


async def test_retry_after_and_an_outage_lose_nothing(store):
    events, tg_texts, slack_texts, delivered_in_outage, pending = await run_scenario(
        store, outage=True, telegram_429=True
    )

    # the whole replay ran while both chats were down, and then nothing was lost
    assert any(isinstance(e, OrderFilled) for e in events)
    assert delivered_in_outage == 0
    assert pending == 0
    accounted(tg_texts, events)
    accounted(slack_texts, events)
