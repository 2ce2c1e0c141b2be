"""The HTTP command API over a real server and paper engine: the dispatcher's roles,
confirmations, audit and catalogs, answered with HTTP statuses and documented bodies."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from bot.command_http.openapi import document
from tests.command_http.conftest import ADMIN_TOKEN, VIEWER_TOKEN, Served, bearer
from tests.handlers.conftest import Rig
from tests.handlers.test_standby import LEADER, standby

COMMANDS = "/api/v1/commands"


async def test_status_is_readable_with_a_viewer_token(served: Served) -> None:
    response = await served.call("POST", COMMANDS, VIEWER_TOKEN, json={"command": "/status"})
    assert response.status_code == 200, response.text
    body = served.valid(COMMANDS, response)
    assert body["ok"]
    assert body["outcome"] == "ok"
    assert body["confirmation"] is None
    assert body["fields"]
    assert body["text"].startswith(body["title"])
    entry = (await served.rig.store.audit_log(1))[0]
    assert (entry.transport, entry.user_id, entry.command, entry.outcome) == (
        "command_api",
        "wall",
        "status",
        "ok",
    )


async def test_pause_and_resume_through_the_rest_routes(served: Served) -> None:
    engine = served.rig.engine.engine
    paused = await served.call("POST", "/api/v1/pause", json={"lang": "en"})
    assert paused.status_code == 200, paused.text
    served.valid("/api/v1/pause", paused)
    assert engine.paused_all
    resumed = await served.call("POST", "/api/v1/resume", json={"lang": "en"})
    assert resumed.status_code == 200, resumed.text
    served.valid("/api/v1/resume", resumed)
    assert not engine.paused_all


@pytest.mark.parametrize(
    ("lang", "words"), [("en", "operator"), ("ko", "운영자")], ids=["en", "ko"]
)
async def test_a_viewer_is_refused_pause_in_the_asked_language(
    served: Served, lang: str, words: str
) -> None:
    response = await served.call(
        "POST", COMMANDS, VIEWER_TOKEN, json={"command": "/pause", "lang": lang}
    )
    assert response.status_code == 403, response.text
    body = served.valid(COMMANDS, response)
    assert not body["ok"]
    assert body["outcome"] == "denied"
    assert words in body["text"], body["text"]
    assert not served.rig.engine.engine.paused_all
    entry = (await served.rig.store.audit_log(1))[0]
    assert (entry.transport, entry.user_id, entry.outcome) == ("command_api", "wall", "denied")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic abc"}, bearer("not-a-token"), bearer(ADMIN_TOKEN + "x")],
    ids=["none", "basic", "wrong", "longer"],
)
async def test_a_missing_or_wrong_token_is_401_and_runs_nothing(
    served: Served, headers: dict[str, str]
) -> None:
    response = await served.client.post(COMMANDS, json={"command": "/pause"}, headers=headers)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers
    served.valid(COMMANDS, response)
    assert not served.rig.engine.engine.paused_all
    assert await served.rig.store.audit_log(5) == []


async def test_a_param_set_by_put_waits_for_its_confirmation(served: Served) -> None:
    path = "/api/v1/params/{key}"
    asked = await served.call("PUT", "/api/v1/params/fast", json={"value": 6, "lang": "en"})
    assert asked.status_code == 202, asked.text
    body = served.valid(path, asked, "put")
    assert body["ok"]
    assert body["outcome"] == "confirm_pending"
    confirmation = body["confirmation"]
    assert confirmation["id"]
    assert confirmation["expires_at"]
    done = await served.call("POST", f"/api/v1/confirmations/{confirmation['id']}")
    assert done.status_code == 200, done.text
    body = served.valid("/api/v1/confirmations/{id}", done)
    assert body["outcome"] == "confirmed"
    assert "strategy.fast: 5 → 6" in body["text"]
    again = await served.call("POST", f"/api/v1/confirmations/{confirmation['id']}")
    assert again.status_code == 410
    served.valid("/api/v1/confirmations/{id}", again)


async def test_a_confirmation_is_only_its_tokens(served: Served) -> None:
    asked = await served.call("POST", COMMANDS, json={"command": "/set fast 7"})
    pending = asked.json()["confirmation"]["id"]
    other = await served.call("POST", f"/api/v1/confirmations/{pending}", ADMIN_TOKEN)
    assert other.status_code == 403
    served.valid("/api/v1/confirmations/{id}", other)
    cancelled = await served.call("DELETE", f"/api/v1/confirmations/{pending}")
    assert cancelled.status_code == 200
    assert cancelled.json()["outcome"] == "cancelled"
    served.valid("/api/v1/confirmations/{id}", cancelled, "delete")


async def test_a_confirmation_expires(served: Served) -> None:
    asked = await served.call("POST", COMMANDS, json={"command": "/set fast 8", "lang": "ko"})
    assert asked.status_code == 202
    served.rig.clock.advance(61)
    late = await served.call("POST", f"/api/v1/confirmations/{asked.json()['confirmation']['id']}")
    assert late.status_code == 410, late.text
    body = served.valid("/api/v1/confirmations/{id}", late)
    assert body["outcome"] == "expired"
    assert not body["ok"]
    entry = (await served.rig.store.audit_log(1))[0]
    assert (entry.command, entry.outcome) == ("set", "expired")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"command": "/set nothing"}, 422),
        ({"command": "/nosuchcommand"}, 422),
        ({"command": ""}, 422),
        ({"command": "/status", "extra": 1}, 422),
        ({"command": "/status", "lang": "fr"}, 422),
    ],
)
async def test_bad_input_is_422(served: Served, body: dict[str, object], status: int) -> None:
    response = await served.call("POST", COMMANDS, json=body)
    assert response.status_code == status, response.text
    served.valid(COMMANDS, response)


@pytest.mark.parametrize(
    ("body", "expected", "english"),
    [
        ({"command": "", "lang": "ko"}, "command: 길이가 1 이상이어야 합니다", "at least"),
        ({"command": "/status", "extra": 1, "lang": "ko"}, "extra: 알 수 없는 항목", "Extra"),
        ({"command": 5, "lang": "ko"}, "command: 문자열이어야 합니다", "valid string"),
        ({"lang": "ko"}, "command: 값이 필요합니다", "Field required"),
    ],
)
async def test_a_422_explains_the_problem_in_the_asked_language(
    served: Served, body: dict[str, object], expected: str, english: str
) -> None:
    """pydantic's English ``msg`` never reaches the caller: the catalog's text does."""
    response = await served.call("POST", COMMANDS, json=body)
    assert response.status_code == 422, response.text
    detail = served.valid(COMMANDS, response)["error"]
    assert expected in detail
    assert english not in detail


async def test_a_body_that_is_not_json_is_400(served: Served) -> None:
    response = await served.call("POST", COMMANDS, content=b"{not json")
    assert response.status_code == 400
    served.valid(COMMANDS, response)


async def test_a_value_with_spaces_cannot_smuggle_words(served: Served) -> None:
    response = await served.call("PUT", "/api/v1/params/fast", json={"value": "6 slow 9"})
    assert response.status_code == 422
    served.valid("/api/v1/params/{key}", response, "put")


async def test_the_document_is_served_and_other_paths_stay_404(served: Served) -> None:
    doc = await served.client.get("/api/v1/commands/openapi.json")
    assert doc.status_code == 200
    assert doc.json() == document()
    for schema in document()["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    assert (await served.call("POST", "/api/v1/nothing")).status_code == 404
    wrong = await served.call("PUT", COMMANDS)
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "POST"
    served.valid(COMMANDS, wrong)


async def test_stopped_the_routes_are_gone(served: Served) -> None:
    await served.transport.stop()
    response = await served.call("POST", COMMANDS, json={"command": "/status"})
    assert response.status_code == 404


@pytest.mark.parametrize(("lang", "words"), [("en", "standby"), ("ko", "대기")], ids=["en", "ko"])
async def test_a_standby_refuses_pause_with_409_and_answers_status(
    rig: Rig, serve, lang: str, words: str
) -> None:
    served = await serve(standby(rig))
    refused = await served.call("POST", "/api/v1/pause", json={"lang": lang})
    assert refused.status_code == 409, refused.text
    body = served.valid("/api/v1/pause", refused)
    assert body["outcome"] == "refused"
    assert words in body["text"]
    assert LEADER in body["text"]
    status = await served.call("POST", COMMANDS, VIEWER_TOKEN, json={"command": "/status"})
    assert status.status_code == 200, status.text


async def test_a_param_is_named_by_its_full_key_too(served: Served) -> None:
    asked = await served.call("PUT", "/api/v1/params/strategy.fast", json={"value": "6"})
    assert asked.status_code == 202, asked.text
    assert "strategy.fast" in asked.json()["text"]


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", "outside risk.atr_stop_mult's bounds 0..20"),
        ("ko", "risk.atr_stop_mult의 범위 0..20"),
    ],
    ids=["en", "ko"],
)
async def test_optimize_refuses_a_risk_range_outside_its_bounds_over_http(
    served: Served, lang: str, words: str
) -> None:
    """/optimize risk.NAME=lo..hi goes through the same dispatcher as chat (issue #13)."""
    command = "/optimize 3 risk.atr_stop_mult=1..99"
    response = await served.call("POST", COMMANDS, json={"command": command, "lang": lang})
    body = served.valid(COMMANDS, response)
    assert not body["ok"], body
    assert words in body["text"], body["text"]
