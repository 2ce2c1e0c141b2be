"""A restart must not reset a limit (issue #10, defect 1): the day's loss, the drawdown peak
and every tripped halt survive it, as a user sees them in ``/risk`` and ``/buy``, until a new
trading day or an admin's ``/reset`` lifts them."""

from __future__ import annotations

from tests.handlers.conftest import ADMIN, OPERATOR, VIEWER
from tests.handlers.instance import (
    DAILY,
    DAY1,
    DRAWDOWN,
    NEXT_DAY,
    Instance,
    breaches,
    buy,
    fall_from_the_peak,
    lose_the_day,
    minutes,
    sell_all,
)
from trading.events import HaltChanged, Paused

RISK_MEMORY_KEY = "engine.risk_memory"  # bot_state key (trading.engine.memory)


async def test_a_restart_keeps_the_days_loss_and_its_halt(store):
    first = await Instance.start(store, DAILY)
    await lose_the_day(first)
    allowed, lines = await first.risk(VIEWER)
    assert not allowed
    day_loss = lines["Daily loss ⛔"]
    assert day_loss.startswith("Daily loss 1")
    assert day_loss.endswith("of 5,000 KRW")
    await first.stop()

    again = await Instance.start(store, DAILY)  # a crash loop, a redeploy: same store
    await again.trade(99_000_000, DAY1 + minutes(10))
    allowed, lines = await again.risk(VIEWER)
    assert not allowed
    assert lines["Daily loss ⛔"] == day_loss  # the same loss, measured from the same open
    assert "refused" in await buy(again, "100000")
    assert breaches(again) == ["daily_loss"]
    await again.stop()


async def test_a_restart_keeps_the_drawdown_peak(store):
    first = await Instance.start(store, DRAWDOWN)
    await fall_from_the_peak(first)
    allowed, lines = await first.risk(VIEWER)
    assert not allowed
    drawdown = lines["Drawdown ⛔"]
    assert "(peak 10,19" in drawdown
    await first.stop()

    again = await Instance.start(store, DRAWDOWN)
    await again.trade(100_000_000, DAY1 + minutes(15))
    allowed, lines = await again.risk(VIEWER)
    assert not allowed
    assert lines["Drawdown ⛔"] == drawdown
    assert "refused" in await buy(again, "100000")
    assert breaches(again) == ["drawdown"]

    await again.trade(100_000_000, NEXT_DAY)  # the peak is all-time: still too deep tomorrow
    assert not (await again.risk(VIEWER))[0]
    await again.stop()


async def test_a_new_trading_day_after_a_restart_lifts_yesterdays_loss_halt(store):
    first = await Instance.start(store, DAILY)
    await lose_the_day(first)
    assert not (await first.risk(VIEWER))[0]
    await first.stop()

    again = await Instance.start(store, DAILY)
    await again.trade(99_000_000, NEXT_DAY)  # past midnight in bot.timezone
    allowed, lines = await again.risk(VIEWER)

    assert allowed
    assert lines["Daily loss"] == "Daily loss 0 of 5,000 KRW"  # measured from today's open
    lifted = [h for h in again.of(HaltChanged) if h.name == "daily_loss"]
    assert [(h.active, h.code) for h in lifted] == [(False, "daily_loss_lifted")]
    assert "sent" in await buy(again, "100000")
    await again.stop()


async def test_reset_daily_loss_lifts_it_for_the_day_and_a_restart_keeps_that(store):
    first = await Instance.start(store, DAILY)
    await lose_the_day(first)
    assert not (await first.risk(VIEWER))[0]

    refused = await first.say(OPERATOR, "/reset daily_loss")
    assert not refused.buttons  # admins only
    preview, done = await first.confirm(ADMIN, "/reset daily_loss")
    text = preview.plain_text()
    assert "Lift the daily loss halt for the rest of the day?" in text
    assert "Daily loss 1" in text
    assert "of 5,000 KRW" in text
    assert done.title == "Daily loss halt lifted until the end of 2025-06-20"
    reset = [h for h in first.of(HaltChanged) if h.code == "daily_loss_reset"]
    assert [h.values for h in reset] == [(("by", "telegram:1"),)]
    audit = await first.store.audit_log(5)
    assert ("reset", "confirmed") in [(a.command, a.outcome) for a in audit]
    assert "sent" in await buy(first, "1000000")
    await sell_all(first, 98_000_000, DAY1 + minutes(20))  # lost more: waived for today
    allowed, lines = await first.risk(VIEWER)
    assert allowed
    waived = lines["Daily loss"]
    assert "halt lifted by an admin" in waived
    await first.stop()

    again = await Instance.start(store, DAILY)
    await again.trade(98_000_000, DAY1 + minutes(25))
    allowed, lines = await again.risk(VIEWER)
    assert allowed
    assert lines["Daily loss"] == waived
    assert "sent" in await buy(again, "100000")
    await again.trade(97_000_000, NEXT_DAY)  # the waiver ends with the day
    assert (await again.risk(VIEWER))[0]
    await again.stop()


async def test_reset_daily_loss_refuses_when_nothing_is_tripped(store):
    bot = await Instance.start(store, DAILY)
    await bot.trade(100_000_000, DAY1)
    reply = await bot.say(ADMIN, "/reset daily_loss")
    assert not reply.buttons
    assert "not tripped" in reply.plain_text()
    await bot.stop()


async def test_reset_drawdown_rebases_the_peak_and_a_restart_keeps_it(store):
    first = await Instance.start(store, DRAWDOWN)
    await fall_from_the_peak(first)
    assert not (await first.risk(VIEWER))[0]

    preview, done = await first.confirm(ADMIN, "/reset drawdown")
    text = preview.plain_text()
    assert "Re-base the drawdown peak to the current equity?" in text
    assert "Peak 10,19" in text
    assert "→ 9,99" in text
    assert "The drawdown halt is lifted" in text
    assert done.title.startswith("Drawdown peak re-based to 9,99")
    rebased = [h for h in first.of(HaltChanged) if h.code == "drawdown_rebased"]
    assert len(rebased) == 1
    assert dict(rebased[0].values)["by"] == "telegram:1"
    allowed, lines = await first.risk(VIEWER)
    assert allowed
    assert "(peak 9,99" in lines["Drawdown"]
    await first.stop()

    again = await Instance.start(store, DRAWDOWN)
    await again.trade(100_000_000, DAY1 + minutes(15))
    allowed, lines = await again.risk(VIEWER)
    assert allowed
    assert "(peak 9,99" in lines["Drawdown"]
    assert "sent" in await buy(again, "100000")
    await again.stop()


async def test_the_kill_switch_survives_a_restart(store):
    first = await Instance.start(store, DAILY)
    await first.trade(100_000_000, DAY1)
    await first.confirm(ADMIN, "/flatten")
    await first.stop()

    again = await Instance.start(store, DAILY)
    await again.trade(100_000_000, DAY1 + minutes(1))
    allowed, lines = await again.risk(VIEWER)
    assert not allowed
    assert lines["Trading ⛔"] == "The kill switch is on."
    assert "refused" in await buy(again, "100000")
    assert breaches(again) == ["kill_switch"]
    await again.stop()


async def test_an_unreadable_memory_alerts_and_starts_paused(store):
    await store.set_state(RISK_MEMORY_KEY, {"version": 1, "peak": 12.5})  # a float: corrupt

    bot = await Instance.start(store, DAILY)  # must start

    alerts = [h for h in bot.of(HaltChanged) if h.name == "risk_memory"]
    assert [(h.active, h.code) for h in alerts] == [(True, "risk_memory_lost")]
    assert "peak" in dict(alerts[0].values)["error"]
    assert [p.by for p in bot.of(Paused)] == ["risk-memory"]
    await bot.trade(100_000_000, DAY1)
    allowed, lines = await bot.risk(VIEWER)
    assert not allowed
    assert lines["Trading ⛔"] == "Trading is paused."
    await bot.say(OPERATOR, "/resume")
    assert "sent" in await buy(bot, "100000")
    stored = await store.get_state(RISK_MEMORY_KEY)
    assert stored["peak"] is not None  # overwritten by a good value
    assert isinstance(stored["peak"], str)
    await bot.stop()
