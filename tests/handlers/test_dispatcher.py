"""Dispatcher flows on a real paper engine: auth, audit, confirmations, errors."""

from __future__ import annotations

import pytest

from handlers.reply import Severity
from tests.handlers.conftest import ADMIN, CONSOLE, OPERATOR, STRANGER, VIEWER, Principal


async def outcomes(rig, n=50):
    return [(a.command, a.outcome) for a in reversed(await rig.store.audit_log(n))]


async def test_allowed_denied_and_usage_are_audited(rig):
    assert "Status" in (await rig.say(VIEWER, "/status")).title
    refused = await rig.say(STRANGER, "/status")
    assert refused.ephemeral
    assert "not allowed" in refused.title
    assert await rig.dispatcher.handle(STRANGER, "/flatten", "en") is None  # silent now
    usage = await rig.say(VIEWER, "/trades lots")
    assert usage.ephemeral
    assert "Usage: /trades [n]" in usage.plain_text()
    role = await rig.say(VIEWER, "/pause")
    assert "operator" in role.title
    assert await outcomes(rig) == [
        ("status", "ok"),
        ("status", "denied"),
        ("flatten", "denied"),
        ("trades", "usage"),
        ("pause", "denied"),
    ]
    entry = (await rig.store.audit_log(5))[-1]
    assert (entry.transport, entry.user_id, entry.chat_id) == ("telegram", "3", "100")


async def test_default_language_is_korean(rig):
    reply = await rig.dispatcher.handle(VIEWER, "/status")
    assert reply is not None
    assert reply.title == "상태"


async def test_set_confirm_by_same_user_once(rig):
    preview = await rig.say(OPERATOR, "/set fast 7")
    assert "strategy.fast: 5 → 7" in preview.plain_text()
    assert rig.engine.engine.strategy.params.fast == 5  # nothing changed yet
    yes, no = preview.buttons
    assert yes.data.startswith("cf:")
    assert no.data.startswith("cx:")

    other = await rig.dispatcher.press(ADMIN, yes.data, "en")
    assert other is not None
    assert other.ephemeral
    assert rig.engine.engine.strategy.params.fast == 5
    done = await rig.dispatcher.press(OPERATOR, yes.data, "en")
    assert done is not None
    assert "strategy.fast: 5 → 7" in done.plain_text()
    again = await rig.dispatcher.press(OPERATOR, yes.data, "en")
    assert again is not None
    assert "already used" in again.title
    assert rig.engine.engine.strategy.params.fast == 7
    history = await rig.store.param_changes(5)
    assert [(h.who, h.transport) for h in history] == [("telegram:2", "telegram")]
    assert ("set", "confirmed") in await outcomes(rig)


async def test_bad_value_changes_nothing(rig):
    reply = await rig.say(OPERATOR, "/set strategy.fast 1")
    assert reply.ephemeral
    assert not reply.buttons
    assert "fast" in reply.plain_text()
    assert rig.engine.engine.strategy.params.fast == 5
    assert (await outcomes(rig))[-1] == ("set", "error")


async def test_expired_and_cancelled_do_nothing(rig):
    preview = await rig.say(ADMIN, "/flatten")
    rig.clock.advance(61)
    late = await rig.dispatcher.press(ADMIN, preview.buttons[0].data, "en")
    assert late is not None
    assert "expired" in late.title
    assert not rig.engine.engine.kill_switch
    preview = await rig.say(ADMIN, "/flatten")
    cancelled = await rig.dispatcher.press(ADMIN, preview.buttons[1].data, "en")
    assert cancelled is not None
    assert "cancelled" in cancelled.title
    assert not rig.engine.engine.kill_switch
    assert [o for c, o in await outcomes(rig) if c == "flatten"] == [
        "confirm_pending",
        "expired",
        "confirm_pending",
        "cancelled",
    ]


async def test_undo_and_schedule_round_trip(rig):
    await rig.confirm(OPERATOR, "/set risk.position_size_krw 250000")
    undone = await rig.confirm(OPERATOR, "/undo")
    assert "250000 → 1000000" in undone.plain_text()
    added = await rig.confirm(OPERATOR, "/schedule add fomc 03:00 04:00 wed,thu")
    assert "fomc: 03:00–04:00 (wed,thu)" in added.plain_text()
    listing = await rig.say(VIEWER, "/schedule")
    assert "fomc" in listing.plain_text()
    denied = await rig.say(VIEWER, "/schedule remove fomc")
    assert "operator" in denied.title
    bad = await rig.say(OPERATOR, "/schedule add x 03:00")
    assert "Usage: /schedule" in bad.plain_text()
    bad_day = await rig.say(OPERATOR, "/schedule add x 03:00 04:00 someday")
    assert "someday" in bad_day.plain_text()
    await rig.confirm(OPERATOR, "/schedule remove fomc")
    assert rig.dispatcher.api.schedule() == []


async def test_refresh_button_reruns_with_auth(rig):
    reply = await rig.say(VIEWER, "/pnl week 3")
    refresh = reply.buttons[0]
    assert refresh.data == "rf:pnl week 3"
    again = await rig.dispatcher.press(VIEWER, refresh.data, "en")
    assert again is not None
    assert again.table is not None
    assert len(again.table.rows) == 3
    assert await rig.dispatcher.press(STRANGER, refresh.data, "en") is not None  # refusal
    assert (await outcomes(rig))[-1] == ("pnl", "denied")


async def test_a_forward_never_runs_whoever_passes_it_on(rig):
    note = await rig.dispatcher.handle(ADMIN, "/pause", "en", forwarded=True)
    assert note is not None
    assert note.ephemeral
    assert note.title.startswith("Forwarded messages never run")
    assert not rig.engine.engine.paused_all
    stranger = await rig.dispatcher.handle(STRANGER, "/pause", "en", forwarded=True)
    assert stranger is not None
    assert stranger.title == note.title  # told it is a forward, once an hour like any refusal
    assert await rig.dispatcher.handle(STRANGER, "/pause", "en", forwarded=True) is None
    assert not rig.engine.engine.paused_all
    assert [(a.outcome, a.detail) for a in reversed(await rig.store.audit_log(5))] == [
        ("denied", "forwarded"),
        ("denied", "unknown user; forwarded"),
        ("denied", "unknown user; forwarded"),
    ]
    typed = await rig.say(ADMIN, "/pause")  # the same words typed by the admin do run
    assert not typed.ephemeral
    assert rig.engine.engine.paused_all


async def test_facade_errors_and_bugs_are_replies(rig, monkeypatch):
    reply = await rig.say(OPERATOR, "/pause KRW-DOGE")
    assert reply.ephemeral
    assert "not traded by this bot" in reply.plain_text()

    async def boom(*_a, **_k):
        raise RuntimeError("kaput")

    monkeypatch.setattr(rig.dispatcher.api, "orders", boom)
    crash = await rig.say(VIEWER, "/orders")
    assert crash.severity is Severity.CRITICAL
    assert "kaput" not in crash.plain_text()
    assert (await outcomes(rig))[-1] == ("orders", "error")


async def test_console_is_admin_and_slack_ids_work(rig):
    assert "admin" in (await rig.say(CONSOLE, "/whoami")).plain_text()
    slack = Principal("slack", "U1", "C1")
    assert "Audit log" in (await rig.say(slack, "/audit 3")).title
    assert (await rig.say(Principal("slack", "U1", "C2"), "/status")).ephemeral


@pytest.mark.parametrize("language", ["ko", "en"])
async def test_help_lists_only_what_the_role_may_run(rig, language):
    viewer = (await rig.say(VIEWER, "/help", language)).plain_text()
    admin = (await rig.say(ADMIN, "/help", language)).plain_text()
    assert "/status" in viewer
    assert "/buy" not in viewer
    assert "/flatten" in admin
    assert "/audit" in admin
