"""Amounts as a trader types them (issue #12.4): commas only group thousands, and KRW is whole
won, so what the preview shows is what the order sends.

Before: ``/buy btc 50000,50`` dropped the comma (5,000,050 KRW), and ``/buy btc 5000.123456789``
previewed "5,000 KRW" while the order carried the fraction.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from handlers.commands import build_registry
from handlers.fmt import catalog
from handlers.parser import UsageError, parse, parse_money
from tests.engine.conftest import replay
from tests.handlers.conftest import OPERATOR, Rig

D = Decimal


@pytest.fixture
async def live(rig: Rig):
    rig.engine.loop.start()
    await replay(rig.engine, 5)
    yield rig
    await rig.engine.loop.stop()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("50,000", D(50_000)),
        ("1,234,567", D(1_234_567)),
        ("1,000만", D(10_000_000)),
        ("1억2,000만", D(120_000_000)),
        ("50000,50", None),
        ("5,0000", None),
        ("1,23,456", None),
        (",5000", None),
        ("5000,", None),
        ("50,,000", None),
        ("5_0000", None),
        ("1e5", None),
    ],
)
def test_only_grouping_commas_make_money(text, value):
    assert parse_money(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("/trades 1,0", "commas only group thousands"),
        ("/sell btc 50,5", "commas only group thousands"),
        ("/buy btc 50000,50", "commas only group thousands"),
    ],
)
def test_a_misplaced_comma_is_refused_for_every_number(text, message):
    with pytest.raises(UsageError) as info:
        parse(build_registry(), text, catalog("en"))
    assert message in info.value.message


async def test_a_misplaced_comma_is_refused_in_both_languages(live):
    en = await live.say(OPERATOR, "/buy btc 50000,50", "en")
    ko = await live.say(OPERATOR, "/buy btc 50000,50", "ko")

    assert not en.buttons
    assert not ko.buttons
    assert "'50000,50'" in en.plain_text()
    assert "commas only group thousands (50,000 or 1,234,567)" in en.plain_text()
    assert "쉼표는 세 자리 구분에만" in ko.plain_text()
    assert await live.store.recent_orders(10) == []


async def test_fractional_won_is_refused_in_both_languages(live):
    en = await live.say(OPERATOR, "/buy btc 5000.123456789", "en")
    ko = await live.say(OPERATOR, "/buy btc 5000.123456789", "ko")

    assert not en.buttons
    assert not ko.buttons
    assert "whole won" in en.plain_text()
    assert "5,000" in en.plain_text()  # the amount it could be
    assert "원 단위" in ko.plain_text()
    assert await live.store.recent_orders(10) == []


async def test_the_grouped_amount_previewed_is_the_amount_sent(live):
    preview = await live.say(OPERATOR, "/buy btc 50,000", "en")
    assert ("Amount", "50,000 KRW") in preview.fields

    done = await live.dispatcher.press(OPERATOR, preview.buttons[0].data, "en")

    assert done is not None
    assert "50,000" in done.plain_text()
    (order,) = await live.store.recent_orders(10)
    assert (order.side, order.ord_type, order.price) == ("bid", "price", D(50_000))
