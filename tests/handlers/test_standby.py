"""A standby answers through the same dispatcher and commands as the leader, from the store,
and refuses what only the leader may do, in the asker's language; the command API's refusals
all have a catalog entry in each language."""

from __future__ import annotations

import string

import pytest

from handlers.auth import Authorizer
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from handlers.fmt import catalog
from handlers.i18n import LANGUAGES
from tests.engine.conftest import replay
from tests.handlers.conftest import OPERATOR, VIEWER, Rig, policies
from trading.refusal import Code
from trading.standby_api import StandbyApi

LEADER = "host-a:4242"


@pytest.fixture
async def traded(rig: Rig):
    """The leader has traded the bundled data: fills, positions and audit rows are stored."""
    rig.engine.loop.start()
    await replay(rig.engine, 1500)
    yield rig
    await rig.engine.loop.stop()


def standby(rig: Rig) -> Dispatcher:
    """A second instance's dispatcher: the same store, no engine."""

    async def holder() -> str | None:
        return LEADER

    api = StandbyApi(rig.store, holder=holder, lock="sqlite (sole leader)", mode="paper")
    return Dispatcher(build_registry(), api, Authorizer(policies()), rig.store, language="ko")


async def say(dispatcher: Dispatcher, who, text: str, language: str) -> str:
    reply = await dispatcher.handle(who, text, language)
    assert reply is not None
    return reply.plain_text()


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_standby_answers_status_from_the_store(traded: Rig, language: str) -> None:
    t = catalog(language)
    desk = standby(traded)
    text = await say(desk, VIEWER, "/status", language)
    assert text.startswith(t.t("status.title"))
    assert f"{t.t('standby.role')}: {t.t('standby.role_value')}" in text
    assert f"{t.t('standby.leader')}: {LEADER}" in text
    held = [p.market for p in await traded.store.positions() if p.volume > 0]
    for market in held:
        assert market in text  # the leader's positions, as stored
    trades = await say(desk, VIEWER, "/trades 3", language)
    assert "KRW-BTC" in trades
    health = await say(desk, VIEWER, "/health", language)
    assert LEADER in health


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_control_command_on_a_standby_is_refused(traded: Rig, language: str) -> None:
    desk = standby(traded)
    reply = await desk.handle(OPERATOR, "/pause", language)
    assert reply is not None
    assert reply.ephemeral
    expected = catalog(language).t("refusal.standby", leader=LEADER, command="pause")
    assert reply.title == expected
    assert not traded.engine.engine.paused_all  # the leader was not touched
    entry = (await traded.store.audit_log(1))[0]
    assert (entry.command, entry.outcome) == ("pause", "refused")
    # the standby's /help lists only what it answers
    help_text = await say(desk, OPERATOR, "/help", language)
    assert "/status" in help_text
    assert "/pause" not in help_text


async def test_a_facade_refusal_is_rendered_in_korean(traded: Rig) -> None:
    reply = await traded.say(OPERATOR, "/pause doge", "ko")
    ko = catalog("ko").t(
        "refusal.market_unknown",
        market="KRW-DOGE",
        known=", ".join(traded.dispatcher.api.markets),
    )
    assert reply.lines == (ko,)
    assert "not traded" not in reply.plain_text()


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("code", list(Code))
def test_each_refusal_code_has_both_translations(code: Code) -> None:
    texts = [catalog(language).messages.get(f"refusal.{code.value}") for language in LANGUAGES]
    assert all(texts), f"refusal.{code.value} is missing in a language"
    assert len({frozenset(_fields(text or "")) for text in texts}) == 1  # the same values
