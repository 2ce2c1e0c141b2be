"""The transport registry: every kind brings its section, secrets and [notify] keys into the
config, the config never loads a platform's library, and the app builds what is enabled."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import SECRET_ENV, AppConfig, NotifyConfig, load_config
from bot.config.loader import SECRET_KEYS
from bot.transports.registry import build_all, credentials_of, pacers_from_config, policies
from bot.transports.wiring import TRANSPORTS
from handlers.auth import Authorizer
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from trading.store import Store, create_engine, session_factory, upgrade

ENV = {
    "TELEGRAM_BOT_TOKEN": "123:ABCDEFGHIJ",
    "SLACK_BOT_TOKEN": "xoxb-1",
    "SLACK_APP_TOKEN": "xapp-1",
    "UPBIT_BOT_TELEGRAM__ENABLED": "true",
    "UPBIT_BOT_TELEGRAM__ALLOWED_CHAT_IDS": "[42]",
    "UPBIT_BOT_SLACK__ENABLED": "true",
    "UPBIT_BOT_SLACK__NOTIFY_CHANNEL_IDS": '["C0123ABCD"]',
}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'transports.db'}"
    await upgrade(url)
    engine = create_engine(url)
    yield Store(session_factory(engine))
    await engine.dispose()


def test_every_kind_brings_its_section_secrets_and_notify_keys() -> None:
    for kind in TRANSPORTS:
        assert kind.name in AppConfig.model_fields
        assert kind.name in NotifyConfig.model_fields  # notify.<name> = { kind = level }
        assert set(kind.notify_fields) <= set(NotifyConfig.model_fields)
        assert set(kind.secrets.items()) <= set(SECRET_ENV.items())
        for key, env in kind.file_secrets.items():
            assert SECRET_KEYS[(kind.name, key)] == env
    # the environment variables are those of before the registry, and the command API's
    assert set(SECRET_ENV.values()) == {
        "UPBIT_ACCESS_KEY",
        "UPBIT_SECRET_KEY",
        "TELEGRAM_BOT_TOKEN",
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "UPBIT_BOT_API_TOKEN",
        "UPBIT_BOT_COMMAND_TOKENS",
    }


def test_reading_the_config_loads_no_platform_library() -> None:
    code = (
        "import sys; from bot.config import load_config; "
        "load_config(None, environ={'TELEGRAM_BOT_TOKEN': '1:x', "
        "'UPBIT_BOT_TELEGRAM__ENABLED': '1'}); "
        "print(sorted(m for m in ('telegram', 'slack_bolt', 'slack_sdk') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_the_enabled_kinds_are_built_with_their_pacers_and_targets(store: Store) -> None:
    cfg = load_config(None, environ=ENV)
    pacers = pacers_from_config(cfg.notify)
    authorizer = Authorizer(policies(cfg), on_alert=lambda _: None)
    # the transports only read the dispatcher's commands when built; no engine is needed
    dispatcher = Dispatcher(build_registry(), None, authorizer, store)  # type: ignore[arg-type]

    built = build_all(cfg, dispatcher, pacers, lambda _name: None)

    assert [(t.name, chats) for t, chats in built] == [
        ("telegram", ["42"]),
        ("slack", ["C0123ABCD"]),
    ]
    assert all(t.pacer is pacers[t.name] for t, _ in built)  # replies and pushes share one
    assert pacers["telegram"].limits.global_max == cfg.notify.telegram_per_s
    assert [c.variable for c in credentials_of(cfg)] == [
        "TELEGRAM_BOT_TOKEN",
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
    ]
