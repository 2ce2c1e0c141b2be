"""The chat-command recipe of docs/architecture.md ("Recipe: add a chat command"), done: its
worked example.

``/feesum <market>`` (the fills and the fees paid in one market) is written here step by
step, as the recipe says, with the file edits it asks for made in-process so nothing else is
touched: the handler reads only ``call.api`` (1), refuses with a coded ``Refused`` (2; a new
code would join ``trading.refusal.Code``), is a ``Command`` with its arguments, role and
``standby=True`` registered beside the built-ins (3; a module's ``COMMANDS`` in the tree), and
its texts are added to both loaded catalogs (4; the TOML files in the tree). Then (5) it is
tested at chat level against the paper rig: the reply in both languages, the refusal, and the
same command served by a standby's dispatcher from the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from handlers.auth import Authorizer
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from handlers.fmt import catalog, krw
from handlers.i18n import LANGUAGES
from handlers.registry import ArgSpec, Call, Command, Role
from handlers.reply import Reply
from tests.engine.conftest import replay
from tests.handlers.conftest import OPERATOR, VIEWER, Rig, policies
from trading.command_api import Refused
from trading.standby_api import StandbyApi

# 1. the handler: reads only through ``call.api``


async def feesum(call: Call) -> Reply:
    t, market = call.t, call.args["market"]
    fills = [f for f in await call.api.trades(10_000) if f.market == market]
    if not fills:
        # 2. a refusal is coded; the dispatcher renders ``refusal.<code>`` in the user's language
        raise Refused("feesum_none", f"no fills in {market} yet", market=market)
    paid = sum((f.fee for f in fills), Decimal(0))
    return Reply(
        t.t("feesum.title", market=market),
        fields=((t.t("feesum.fills"), str(len(fills))), (t.t("feesum.fees"), krw(paid))),
    )


# 3. the command: a viewer's read of what the store holds, so it runs on a standby too
FEESUM = Command("feesum", feesum, args=(ArgSpec("market", "market"),), standby=True)

# 4. its texts, the same keys in both languages
TEXTS = {
    "en": {
        "cmd.feesum.help": "Fills and fees paid in one market",
        "cmd.feesum.usage": "/feesum <market>",
        "cmd.feesum.about": "Counts the fills in one market and the fees they paid, in KRW.",
        "cmd.feesum.examples": "/feesum btc",
        "feesum.title": "Fees in {market}",
        "feesum.fills": "Fills",
        "feesum.fees": "Fees paid (KRW)",
        "refusal.feesum_none": "No fills in {market} yet.",
    },
    "ko": {
        "cmd.feesum.help": "한 마켓의 체결 수와 낸 수수료",
        "cmd.feesum.usage": "/feesum <마켓>",
        "cmd.feesum.about": "한 마켓의 체결 수와 그 체결에 낸 수수료(원)를 보여 줍니다.",
        "cmd.feesum.examples": "/feesum btc",
        "feesum.title": "{market} 수수료",
        "feesum.fills": "체결",
        "feesum.fees": "낸 수수료 (원)",
        "refusal.feesum_none": "{market}에는 아직 체결이 없습니다.",
    },
}


@pytest.fixture
def texts(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(TEXTS) == set(LANGUAGES)
    assert all(set(v) == set(TEXTS["en"]) for v in TEXTS.values())
    for language, entries in TEXTS.items():
        for key, text in entries.items():
            monkeypatch.setitem(catalog(language).messages, key, text)


def with_feesum(dispatcher: Dispatcher) -> Dispatcher:
    dispatcher.registry.register(FEESUM)
    return dispatcher


@pytest.fixture
async def traded(rig: Rig, texts: None) -> AsyncIterator[Rig]:
    """The paper leader, with /feesum, after a manual buy on the bundled data."""
    with_feesum(rig.dispatcher)
    rig.engine.loop.start()
    await replay(rig.engine, 30)
    await rig.confirm(OPERATOR, "/buy btc 1000000", "en")
    await replay(rig.engine, 2, from_minute=30)
    yield rig
    await rig.engine.loop.stop()


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_new_command_answers_in_both_languages(traded: Rig, language: str) -> None:
    reply = await traded.say(VIEWER, "/feesum btc", language)
    text = reply.plain_text()
    assert reply.title == TEXTS[language]["feesum.title"].format(market="KRW-BTC")
    assert TEXTS[language]["feesum.fees"] in text
    [fill] = await traded.store.fills(limit=10)
    assert krw(fill.fee) in text
    menu = dict(traded.dispatcher.menu(Role.VIEWER, language))
    assert menu["feesum"] == TEXTS[language]["cmd.feesum.help"]
    helped = (await traded.say(VIEWER, "/help feesum", language)).plain_text()
    assert TEXTS[language]["cmd.feesum.about"] in helped
    assert "/feesum btc" in helped


@pytest.mark.parametrize("language", LANGUAGES)
async def test_its_refusal_is_rendered_from_the_catalog(traded: Rig, language: str) -> None:
    reply = await traded.say(VIEWER, "/feesum eth", language)
    assert reply.ephemeral
    assert TEXTS[language]["refusal.feesum_none"].format(market="KRW-ETH") in reply.plain_text()
    usage = await traded.say(VIEWER, "/feesum", language)
    assert TEXTS[language]["cmd.feesum.usage"] in usage.plain_text()


async def test_a_standby_serves_it_from_the_store(traded: Rig) -> None:
    async def holder() -> str | None:
        return "host-a:4242"

    api = StandbyApi(traded.store, holder=holder, lock="sqlite (sole leader)", mode="paper")
    standby = with_feesum(
        Dispatcher(build_registry(), api, Authorizer(policies()), traded.store, language="ko")
    )
    reply = await standby.handle(VIEWER, "/feesum btc", "en")
    assert reply is not None
    assert reply.title == "Fees in KRW-BTC"
    assert not reply.ephemeral
