"""A burst of 1,000 events pushed to Telegram and Slack: all delivered, no platform limit hit.

Real transports (python-telegram-bot, slack_sdk) to the fakes with their flood limits ON;
the notifier's persistent queue, pacing and coalescing in between. 1,000 distinct risk
breaches (critical: never dropped) are published at once; the run ends when the queue in the
store is empty. Counted: events whose text reached each platform, 429 answers from each fake.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

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
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import FakeTelegram
from trading.bus import EventBus
from trading.engine.build import EngineSpec, assemble
from trading.engine.facade import EngineFacade
from trading.events import RiskBreached
from trading.risk.limits import RiskLimits
from trading.store import Store, create_engine, session_factory, upgrade
from trading.strategies import build_strategy
from trading.upbit.market_rules import UpbitMarketRules

CHAT, CHANNEL = "100", "C0100CHAN"


@dataclass(frozen=True)
class BurstRun:
    events: int
    seconds: float
    telegram_seen: int
    slack_seen: int
    telegram_messages: int
    slack_messages: int
    telegram_429: int
    slack_429: int


async def _run(count: int, workdir: Path) -> BurstRun:
    url = f"sqlite+aiosqlite:///{workdir / 'burst.db'}"
    await upgrade(url)
    db = create_engine(url)
    store = Store(session_factory(db))
    rig = await assemble(
        EngineSpec(markets=("KRW-BTC",), timeframe="1m", paper=True),
        strategy=build_strategy("ma_cross", "", {}),
        limits=RiskLimits(),
        store=store,
        sink=lambda _event: None,
        rules=UpbitMarketRules(),
    )
    api = EngineFacade(rig.engine, store, sink=lambda _event: None, mode="paper")
    dispatcher = Dispatcher(build_registry(), api, Authorizer({}), store, language="en")
    bus = EventBus()
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
        for transport in (telegram, slack_tx):
            await transport.start()
        notifier = Notifier(
            store,
            {"telegram": telegram, "slack": slack_tx},
            {"telegram": [CHAT], "slack": [CHANNEL]},
            NotifyPolicy(),
            Catalog.load("en"),
            paper=True,
            coalesce_s=1.0,
            poll_s=0.05,
            limits={"telegram": TELEGRAM_LIMITS, "slack": SLACK_LIMITS},
        )
        notifier.subscribe(bus)
        await notifier.start()
        start = time.monotonic()
        for n in range(count):
            bus.publish(RiskBreached(check="burst", market="KRW-BTC", reason=f"burst-{n:04d}"))
        await asyncio.sleep(0.5)
        deadline = start + 300
        while await store.pending_notifications() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        seconds = time.monotonic() - start
        await notifier.stop()
        for transport in (telegram, slack_tx):
            await transport.stop()
        await bus.stop()
        tg_text = "\n".join(c.text or "" for c in tg.sent if c.method == "sendMessage")
        slack_text = "\n".join(m.text for m in slack.messages(CHANNEL))
        markers = [f"burst-{n:04d}" for n in range(count)]
        result = BurstRun(
            events=count,
            seconds=seconds,
            telegram_seen=sum(1 for m in markers if m in tg_text),
            slack_seen=sum(1 for m in markers if m in slack_text),
            telegram_messages=sum(1 for c in tg.sent if c.method == "sendMessage"),
            slack_messages=len(slack.messages(CHANNEL)),
            telegram_429=sum(1 for r in tg.requests if r.status == 429),
            slack_429=sum(1 for r in slack.requests if getattr(r, "status", 200) == 429),
        )
    await db.dispose()
    return result


def run_once(count: int = 1000) -> BurstRun:
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_run(count, Path(tmp)))
