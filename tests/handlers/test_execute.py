"""A caller that authenticates on its own (an API token) runs commands through the same
dispatcher: its role, confirmations and audit as chat's, no chat policy needed."""

from __future__ import annotations

from handlers.auth import Principal
from handlers.confirm import CONFIRM_PREFIX
from handlers.registry import Role
from tests.handlers.conftest import Rig

API_USER = Principal("http", "ci-token", "http", "ci")


async def test_execute_runs_a_read_command_for_an_authenticated_caller(rig: Rig) -> None:
    reply = (await rig.dispatcher.execute(API_USER, Role.VIEWER, "/status", "en")).reply
    assert reply.title == "Status"
    entry = (await rig.store.audit_log(1))[0]
    assert (entry.transport, entry.user_id, entry.command, entry.outcome) == (
        "http",
        "ci-token",
        "status",
        "ok",
    )


async def test_execute_checks_the_role_and_confirms_like_chat(rig: Rig) -> None:
    denied = (await rig.dispatcher.execute(API_USER, Role.VIEWER, "/pause", "ko")).reply
    assert denied.ephemeral
    assert not rig.engine.engine.paused_all
    preview = (await rig.dispatcher.execute(API_USER, Role.OPERATOR, "/set fast 6", "en")).reply
    token = preview.buttons[0].data.removeprefix(CONFIRM_PREFIX)
    done = await rig.dispatcher.settle(
        API_USER, Role.OPERATOR, token, confirming=True, language="en"
    )
    assert "strategy.fast: 5 → 6" in done.reply.plain_text()


async def test_each_step_answers_with_the_outcome_it_was_audited_with(rig: Rig) -> None:
    d = rig.dispatcher
    assert (await d.execute(API_USER, Role.VIEWER, "/status", "en")).outcome == "ok"
    denied = await d.execute(API_USER, Role.VIEWER, "/pause", "en")
    assert denied.outcome == "denied"
    usage = await d.execute(API_USER, Role.OPERATOR, "/set nothing", "en")
    assert usage.outcome == "usage"
    asked = await d.execute(API_USER, Role.OPERATOR, "/set fast 6", "en")
    assert asked.outcome == "confirm_pending"
    token = asked.reply.buttons[0].data.removeprefix(CONFIRM_PREFIX)
    settle = d.settle(API_USER, Role.OPERATOR, token, confirming=True, language="en")
    assert (await settle).outcome == "confirmed"
    again = d.settle(API_USER, Role.OPERATOR, token, confirming=True, language="en")
    assert (await again).outcome == "expired"
    entries = [entry.outcome for entry in await rig.store.audit_log(10)]
    assert sorted(entries) == sorted(
        ["ok", "denied", "usage", "confirm_pending", "confirmed", "expired"]
    )
