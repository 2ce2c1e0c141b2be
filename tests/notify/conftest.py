"""A real SQLite store, a recording fake ChatSender and fast pacing limits for the notifier."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from bot.notify import Limits, NotifyPolicy, TransientSendError
from bot.notify.notifier import Notifier
from handlers.i18n import Catalog
from handlers.reply import Reply
from trading import events as ev
from trading.store import Store, create_engine, session_factory, upgrade

#: scaled-down platform limits so bursts finish in about a second
FAST = Limits(
    min_interval_s=0.01,
    per_chat_max=20,
    per_chat_window_s=0.5,
    global_max=30,
    global_window_s=0.25,
)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'notify.db'}"
    await upgrade(url)
    engine = create_engine(url)
    yield Store(session_factory(engine))
    await engine.dispose()


@dataclass
class Sent:
    chat: str
    reply: Reply
    silent: bool
    at: float


class FakeSender:
    """Records every delivered message with its monotonic time; ``script`` holds exceptions
    to raise on the next calls (None = succeed); ``down`` fails every call."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.calls: list[tuple[str, float]] = []
        self.script: deque[Exception | None] = deque()
        self.down = False
        self.hang = False

    async def send(self, chat_id: str, reply: Reply, *, silent: bool) -> None:
        now = time.monotonic()
        self.calls.append((chat_id, now))
        if self.script:
            exc = self.script.popleft()
            if exc is not None:
                raise exc
        if self.down:
            raise TransientSendError("chat API unreachable")
        if self.hang:
            await asyncio.sleep(3600)
        self.sent.append(Sent(chat_id, reply, silent, now))

    def to(self, chat: str) -> list[Sent]:
        return [s for s in self.sent if s.chat == chat]


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def until(predicate: Callable[[], bool], limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def make_notifier(
    store: Store,
    senders: dict[str, Any],
    targets: dict[str, list[str]],
    *,
    language: str = "en",
    policy: NotifyPolicy | None = None,
    **options: Any,
) -> Notifier:
    settings: dict[str, Any] = {
        "paper": True,
        "limits": {name: FAST for name in senders},
        "coalesce_s": 0.05,
        "poll_s": 0.01,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
        "stop_grace_s": 2.0,
        "max_queue": 100_000,
    }
    settings.update(options)
    return Notifier(
        store, senders, targets, policy or NotifyPolicy(), Catalog.load(language), **settings
    )


def fill(
    intent: str,
    n: int,
    *,
    side: str = "bid",
    complete: bool = False,
    price: str = "143250000",
    market: str = "KRW-BTC",
    paper: bool = True,
    at: datetime | None = None,
) -> ev.OrderFilled:
    return ev.OrderFilled(
        at=at or AT,
        intent_id=intent,
        identifier=f"ubot-{intent}",
        market=market,
        side=side,  # type: ignore[arg-type]
        price=D(price),
        volume=D("0.001"),
        fee=D("71.625"),
        trade_uuid=f"{intent}-t{n}",
        complete=complete,
        paper=paper,
    )


def field(reply: Reply, label: str) -> str:
    return dict(reply.fields)[label]


AT = datetime(2025, 6, 19, 3, 3, 5, tzinfo=UTC)  # 12:03:05 KST
