"""Every command against a paper engine that has really traded the bundled data."""

from __future__ import annotations

import pytest

from handlers.commands import build_registry
from handlers.fmt import catalog
from handlers.i18n import load_messages
from handlers.registry import COMMAND_RE, Role
from tests.engine.conftest import replay
from tests.handlers.conftest import ADMIN, OPERATOR, VIEWER
from trading.positions import PositionState

READ = [
    "help",
    "status",
    "balance",
    "positions",
    "orders",
    "trades 5",
    "pnl",
    "pnl week 3",
    "pnl month",
    "performance",
    "stats",
    "report",
    "risk",
    "health",
    "version",
    "whoami",
    "params",
    "get fast",
    "get",
    "history",
    "schedule",
]


@pytest.fixture
async def traded(rig):
    rig.engine.loop.start()
    await replay(rig.engine, 1500)
    yield rig
    await rig.engine.loop.stop()


async def test_read_commands_in_both_languages(traded):
    for language in ("ko", "en"):
        for text in READ:
            reply = await traded.say(VIEWER, f"/{text}", language)
            assert not reply.ephemeral, (text, reply.plain_text())
            assert reply.plain_text()
    en = {t: (await traded.say(VIEWER, f"/{t}", "en")).plain_text() for t in READ}
    assert "Equity:" in en["status"]
    assert " KRW" in en["status"]
    assert "KRW-BTC" in en["trades 5"]
    assert "Win rate" in en["pnl"]
    assert "KRW-BTC" in en["performance"]
    assert "Round trips" in en["stats"]
    assert "New entries are allowed." in en["risk"]
    assert "KRW-BTC feed" in en["health"]
    assert "strategy.fast = 5" in en["get fast"]
    assert "Simulated balances" in en["balance"]
    admin = await traded.say(ADMIN, "/audit 5", "en")
    assert admin.table is not None
    assert len(admin.table.rows) == 5


async def test_buy_sell_close_flatten_with_confirmation(traded):
    api = traded.dispatcher.api
    await traded.say(OPERATOR, "/resume")
    preview = await traded.say(OPERATOR, "/buy btc 10만", "en")
    text = preview.plain_text()
    assert "Mode: PAPER" in text
    assert "Amount: 100,000 KRW" in text
    assert "Expected slippage" in text
    bought = await traded.dispatcher.press(OPERATOR, preview.buttons[0].data, "en")
    assert bought is not None
    assert "sent" in bought.title or "refused" in bought.title
    await replay(traded.engine, 5, from_minute=1500)
    position = api.engine.positions.get("KRW-BTC")
    if position.state is PositionState.LONG:
        sold = await traded.confirm(OPERATOR, "/sell btc 50", "en")
        assert "50%" in sold.title
        await replay(traded.engine, 2, from_minute=1505)
    flat = await traded.confirm(ADMIN, "/flatten", "en")
    assert "Flattened" in flat.title
    await replay(traded.engine, 2, from_minute=1507)
    assert api.engine.kill_switch
    assert api.engine.positions.get("KRW-BTC").volume == 0
    nothing = await traded.say(OPERATOR, "/close all", "en")
    assert nothing.ephemeral
    denied = await traded.say(OPERATOR, "/flatten", "en")
    assert "admin" in denied.title


def test_both_languages_have_the_same_keys():
    ko, en = load_messages("ko"), load_messages("en")
    assert set(ko) == set(en)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_menu_fits_telegram(language):
    registry = build_registry()
    menu = registry.menu(Role.ADMIN, language)
    assert 0 < len(menu) <= 100
    for name, description in menu:
        assert COMMAND_RE.match(name)
        assert 3 <= len(description) <= 256
    viewer = {name for name, _ in registry.menu(Role.VIEWER, language)}
    assert "buy" not in viewer
    assert "status" in viewer
    for command in registry:
        assert command.usage(catalog(language)).startswith(f"/{command.name}")


def test_readme_lists_every_chat_command():
    """The README's command table stays true: every registered command is in it."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("### Chat commands") : readme.index("## Commands")]
    missing = [c.name for c in build_registry() if f"`/{c.name}" not in table]
    assert not missing, missing
