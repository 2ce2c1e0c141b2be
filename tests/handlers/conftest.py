"""A real paper engine behind a real dispatcher, on a migrated SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from handlers.auth import Authorizer, Policy, Principal
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from handlers.reply import Reply
from tests.engine.conftest import facade, paper_rig
from trading.engine.build import EngineRig
from trading.events import Event
from trading.store import Store, create_engine, session_factory, upgrade

ADMIN = Principal("telegram", "1", "100", "alice")
OPERATOR = Principal("telegram", "2", "100", "bob")
VIEWER = Principal("telegram", "3", "100", "carol")
STRANGER = Principal("telegram", "666", "100", "mallory")
CONSOLE = Principal.console()


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Rig:
    engine: EngineRig
    dispatcher: Dispatcher
    store: Store
    clock: Clock
    events: list[Event]
    alerts: list[str] = field(default_factory=list)

    async def say(self, who: Principal, text: str, language: str | None = "en") -> Reply:
        reply = await self.dispatcher.handle(who, text, language)
        assert reply is not None
        return reply

    async def confirm(self, who: Principal, text: str, language: str | None = "en") -> Reply:
        preview = await self.say(who, text, language)
        assert preview.buttons, preview.plain_text()
        reply = await self.dispatcher.press(who, preview.buttons[0].data, language)
        assert reply is not None
        return reply


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'handlers.db'}"
    await upgrade(url)
    engine = create_engine(url)
    yield Store(session_factory(engine))
    await engine.dispose()


def policies() -> dict[str, Policy]:
    return {
        "telegram": Policy.of(chats=[100], admins=[1], operators=[2], viewers=[3]),
        "slack": Policy.of(chats=["C1"], admins=["U1"]),
    }


@pytest.fixture
async def rig(store: Store) -> Rig:
    events: list[Event] = []
    engine = await paper_rig(store, events)
    api = facade(engine, store, events)
    clock = Clock()
    alerts: list[str] = []
    authorizer = Authorizer(policies(), on_alert=alerts.append, alert_after=3, clock=clock)
    dispatcher = Dispatcher(
        build_registry(), api, authorizer, store, language="ko", clock=clock, version="0.1.0"
    )
    return Rig(engine, dispatcher, store, clock, events, alerts)
