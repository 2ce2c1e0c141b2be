"""Issue #10, as a user meets it in chat: ``/buy`` goes through the signal's gate and size
(10.2), only an admin lifts a kill switch, with a confirmation (10.4), and ``/undo`` undoes
the change its preview showed or nothing (10.5)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.engine.conftest import replay
from tests.handlers.conftest import ADMIN, OPERATOR, Rig
from trading.positions import PositionState

D = Decimal


@pytest.fixture
async def live(rig: Rig):
    """A paper engine with a few real minutes of prices and no position yet."""
    rig.engine.loop.start()
    await replay(rig.engine, 5)
    yield rig
    await rig.engine.loop.stop()


async def _orders(rig: Rig) -> int:
    return len(await rig.store.recent_orders(100))


# -- 10.2: /buy is held to the position size --------------------------------------------------


async def test_buy_above_the_position_size_is_refused_before_the_press(live):
    """``/buy btc 900만`` with a 1,000,000 KRW size once filled about 91% of equity."""
    en = await live.say(OPERATOR, "/buy btc 900만", "en")
    ko = await live.say(OPERATOR, "/buy btc 900만", "ko")
    assert not en.buttons
    assert not ko.buttons
    assert "A 9,000,000 KRW buy is above the position size of 1,000,000 KRW" in en.plain_text()
    assert "1회 주문 금액 1,000,000 KRW" in ko.plain_text()
    admin = await live.say(ADMIN, "/buy btc 900만", "en")  # no manual limit configured
    assert not admin.buttons
    assert await _orders(live) == 0


async def test_buy_within_the_position_size_fills(live):
    bought = await live.confirm(OPERATOR, "/buy btc 50만", "en")
    assert "sent" in bought.plain_text()
    await replay(live.engine, 2, from_minute=5)
    position = live.engine.engine.positions.get("KRW-BTC")
    assert position.state is PositionState.LONG
    assert position.entry_volume * position.avg_entry_price <= D(500_000)


async def test_a_second_buy_into_a_held_market_is_refused_with_the_reason(live):
    await live.confirm(OPERATOR, "/buy btc 50만", "en")
    await replay(live.engine, 2, from_minute=5)
    again = await live.confirm(OPERATOR, "/buy btc 50만", "en")
    assert "already has a position (long)" in again.plain_text()
    assert await _orders(live) == 1


async def test_buy_while_paused_is_refused_by_the_gate(live):
    await live.say(OPERATOR, "/pause")
    refused = await live.confirm(OPERATOR, "/buy btc 50만", "en")
    assert "Trading is paused" in refused.plain_text()
    assert await _orders(live) == 0


async def test_an_admin_may_buy_up_to_the_manual_limit_and_sees_it(live):
    engine = live.engine.engine
    limits = engine.limits.replace(manual_buy_max_krw=D(3_000_000))
    engine.limits = limits
    engine.gate.update_limits(limits)

    operator = await live.say(OPERATOR, "/buy btc 200만", "en")
    assert not operator.buttons  # operators stay at the position size
    over = await live.say(ADMIN, "/buy btc 400만", "en")
    assert "above the manual buy limit of 3,000,000 KRW" in over.plain_text()
    preview = await live.say(ADMIN, "/buy btc 200만", "en")
    text = preview.plain_text()
    assert "Amount: 2,000,000 KRW" in text
    assert "an admin's /buy may go up to 3,000,000 KRW" in text
    reply = await live.dispatcher.press(ADMIN, preview.buttons[0].data, "en")
    assert reply is not None
    assert "sent" in reply.plain_text()


# -- 10.4: the kill switch is an admin's to lift ------------------------------------------------


async def test_an_operator_cannot_lift_the_admins_kill_switch(live):
    await live.confirm(ADMIN, "/flatten", "en")
    engine = live.engine.engine
    assert engine.kill_switch

    refused = await live.say(OPERATOR, "/resume", "en")
    assert not refused.buttons
    assert "only an admin can lift it" in refused.plain_text()
    assert "telegram:1" in refused.plain_text()  # who turned it on
    ko = await live.say(OPERATOR, "/resume", "ko")
    assert "관리자만" in ko.plain_text()
    assert engine.kill_switch
    assert engine.paused_all
    buy = await live.confirm(OPERATOR, "/buy btc 50만", "en")
    assert "kill switch is on" in buy.plain_text()
    assert await _orders(live) == 0


async def test_an_admin_lifts_the_kill_switch_only_with_a_confirmation(live):
    await live.confirm(ADMIN, "/flatten", "en")
    engine = live.engine.engine
    preview = await live.say(ADMIN, "/resume", "en")
    assert preview.buttons  # asks first
    assert engine.kill_switch
    lifted = await live.dispatcher.press(ADMIN, preview.buttons[0].data, "en")
    assert lifted is not None
    assert "Kill switch lifted" in lifted.plain_text()
    assert not engine.kill_switch
    assert not engine.paused_all


async def test_the_kill_switch_and_who_set_it_survive_a_restart(live, store):
    from tests.engine.conftest import facade, paper_rig

    await live.confirm(ADMIN, "/flatten", "en")
    again = await paper_rig(store, [])
    api = facade(again, store, [])
    await api.restore()
    assert again.engine.kill_switch
    assert api.kill_switch_by() == "telegram:1"


async def test_a_market_resume_leaves_the_kill_switch_on(live):
    await live.confirm(ADMIN, "/flatten", "en")
    reply = await live.say(OPERATOR, "/resume btc", "en")
    assert not reply.buttons
    assert live.engine.engine.kill_switch


# -- 10.5: /undo undoes what its preview showed, or nothing -------------------------------------


async def test_undo_confirms_the_change_it_previewed_or_changes_nothing(rig):
    api = rig.dispatcher.api
    await rig.confirm(OPERATOR, "/set strategy.fast 7", "en")
    preview = await rig.say(OPERATOR, "/undo", "en")
    assert "strategy.fast: 7 → 5" in preview.plain_text()
    await rig.confirm(ADMIN, "/set risk.max_open_positions 2", "en")  # someone else, meanwhile

    pressed = await rig.dispatcher.press(OPERATOR, preview.buttons[0].data, "en")
    assert pressed is not None
    assert "no longer the newest" in pressed.plain_text()
    assert api.get("strategy.fast") == "7"
    assert api.get("risk.max_open_positions") == "2"  # the newer change was not reverted


async def test_two_undo_previews_of_one_change_undo_it_once(rig):
    api = rig.dispatcher.api
    await rig.confirm(OPERATOR, "/set strategy.fast 7", "en")
    first = await rig.say(OPERATOR, "/undo", "en")
    second = await rig.say(ADMIN, "/undo", "ko")
    done = await rig.dispatcher.press(OPERATOR, first.buttons[0].data, "en")
    assert done is not None
    assert "undone" in done.title
    assert api.get("strategy.fast") == "5"
    again = await rig.dispatcher.press(ADMIN, second.buttons[0].data, "ko")
    assert again is not None
    assert "되돌리지 않았습니다" in again.plain_text()
    assert api.get("strategy.fast") == "5"  # not redone
