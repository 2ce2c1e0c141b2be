"""Issue #11.6 in chat: ``/buy`` and ``/risk`` against a paper engine whose view of Upbit's
warnings and delistings comes from the fake Upbit over loopback, through the real REST client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.engine.conftest import replay
from tests.fakes.upbit import FakeUpbit
from tests.handlers.conftest import ADMIN, OPERATOR, VIEWER, Rig
from trading.engine.lifecycle import MarketWatch
from trading.positions import PositionState
from trading.upbit.rest import UpbitRestClient


@pytest.fixture
async def watched(rig: Rig) -> AsyncIterator[tuple[Rig, FakeUpbit, MarketWatch]]:
    """A paper engine with a few real minutes of prices, watching the fake Upbit."""
    async with (
        FakeUpbit(rate_limits={"default": 1000}) as fake,
        UpbitRestClient(fake.rest_url, timeout_s=2.0) as client,
    ):
        watch = MarketWatch(rig.engine.engine, client, sink=rig.events.append)
        rig.engine.loop.start()
        await replay(rig.engine, 5)
        yield rig, fake, watch
        await rig.engine.loop.stop()


async def test_buy_into_a_warned_market_is_refused_before_the_press(watched) -> None:
    rig, fake, watch = watched
    fake.set_market_warning("KRW-BTC")
    await watch.poll()

    en = await rig.say(OPERATOR, "/buy btc 50만", "en")
    ko = await rig.say(OPERATOR, "/buy btc 50만", "ko")
    admin = await rig.say(ADMIN, "/buy btc 50만", "en")

    assert not en.buttons
    assert not ko.buttons
    assert not admin.buttons
    assert "KRW-BTC is under an Upbit investment warning (유의종목)" in en.plain_text()
    assert "KRW-BTC은(는) 업비트 투자유의(유의종목) 지정 마켓" in ko.plain_text()
    assert await rig.store.recent_orders(10) == []


async def test_buy_into_a_market_being_delisted_is_refused_and_risk_says_why(watched) -> None:
    rig, fake, watch = watched
    fake.set_market_state("KRW-BTC", delisting_date=rig.engine.engine.market_time().date())
    await watch.poll()
    day = rig.engine.engine.gate.lifecycle.statuses["KRW-BTC"].delisting_date

    en = await rig.say(OPERATOR, "/buy btc 50만", "en")
    risk_en = await rig.say(VIEWER, "/risk", "en")
    risk_ko = await rig.say(VIEWER, "/risk", "ko")

    assert f"Upbit delists KRW-BTC on {day}: no new entries." in en.plain_text()
    lines = dict(risk_en.fields)
    assert lines["Delisting ⛔"] == (
        f"No new entries into KRW-BTC ({day}): delisting scheduled or not tradeable"
    )
    assert lines["Upbit warning"] == "No market under an Upbit warning"
    assert "New entries are allowed." in risk_en.lines  # other markets: per market, not all
    assert dict(risk_ko.fields)["상장폐지 ⛔"] == (
        f"KRW-BTC ({day}): 상장폐지 예정 또는 거래 불가, 신규 진입 없음"
    )

    fake.set_market_state("KRW-BTC")  # the delisting is called off
    await watch.poll()
    again = await rig.say(OPERATOR, "/buy btc 50만", "en")
    assert again.buttons  # back to the usual preview


async def test_a_sale_before_a_delisting_shows_as_such_in_stats(watched) -> None:
    rig, fake, watch = watched
    await rig.confirm(OPERATOR, "/buy btc 50만", "en")
    await replay(rig.engine, 2, from_minute=5)
    assert rig.engine.engine.positions.get("KRW-BTC").state is PositionState.LONG
    await rig.confirm(ADMIN, "/set risk.exit_before_delisting_days 7", "en")
    soon = rig.engine.engine.market_time().date() + timedelta(days=5)
    fake.set_market_state("KRW-BTC", delisting_date=soon)

    await watch.poll()
    await replay(rig.engine, 3, from_minute=7)

    stats = await rig.say(VIEWER, "/stats", "en")
    assert stats.table is not None
    assert [row[0] for row in stats.table.rows] == ["before a delisting"], stats.plain_text()
    ko = await rig.say(VIEWER, "/stats", "ko")
    assert ko.table is not None
    assert ko.table.rows[0][0] == "상장폐지 전 매도"
