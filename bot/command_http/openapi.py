"""The command API's OpenAPI 3.1 document (``GET /api/v1/commands/openapi.json``), built from
its models like the read-only API's (``bot.api.openapi``), whose error body it shares."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot.api.openapi import envelope, ref
from bot.api.schemas import ErrorOut
from bot.command_http import schemas as s

MODELS: list[type[BaseModel]] = [s.AnswerOut, ErrorOut]
BODIES: list[type[BaseModel]] = [s.CommandIn, s.MarketIn, s.ParamIn, s.In]


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(model)}}}


def _answer(description: str) -> dict[str, Any]:
    return _json(s.AnswerOut, description)


RESPONSES: dict[str, Any] = {
    "200": _answer("the command ran (or was cancelled); its reply"),
    "202": _answer("the command needs confirming: its preview and confirmation id"),
    "400": _json(ErrorOut, "the body is not a JSON object"),
    "401": _json(ErrorOut, "missing or wrong bearer token"),
    "403": _answer("the token's role may not run this command (the reply says which role)"),
    "405": _json(ErrorOut, "a command route with another method (Allow names it)"),
    "409": _answer("refused: a standby, or the engine refused (the reply says why)"),
    "410": _answer("the confirmation is unknown, used or expired"),
    "422": _answer("the command line is wrong (the reply shows its usage)"),
    "500": _answer("an internal error (logged by the bot)"),
}
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}


def _op(op_id: str, summary: str, body: type[BaseModel], *params: dict[str, Any]) -> Any:
    content = {"application/json": {"schema": ref(body)}}
    responses = {**RESPONSES, "422": {**RESPONSES["422"]}}
    responses["422"]["content"] = {
        "application/json": {"schema": {"oneOf": [ref(s.AnswerOut), ref(ErrorOut)]}}
    }
    responses["422"]["description"] += "; or a body field is wrong"
    return {
        "operationId": op_id,
        "summary": summary,
        "parameters": list(params),
        "requestBody": {"required": body is s.CommandIn or body is s.ParamIn, "content": content},
        "responses": responses,
    }


@cache
def document() -> dict[str, Any]:
    _, defs = models_json_schema(
        [(m, "serialization") for m in MODELS] + [(b, "validation") for b in BODIES],
        ref_template="#/components/schemas/{model}",
    )
    confirmation = "/api/v1/confirmations/{id}"
    paths = {
        "/api/v1/commands": {
            "post": _op("runCommand", "Run a command line as chat would", s.CommandIn)
        },
        confirmation: {
            "post": _op("confirm", "Confirm a pending command (its token only)", s.In, ID),
            "delete": _op("cancel", "Cancel a pending command", s.In, ID),
        },
        confirmation + "/cancel": {
            "post": _op("cancelByPost", "Cancel a pending command", s.In, ID)
        },
        "/api/v1/pause": {"post": _op("pause", "/pause [market]", s.MarketIn)},
        "/api/v1/resume": {"post": _op("resume", "/resume [market]", s.MarketIn)},
        "/api/v1/params/{key}": {"put": _op("setParam", "/set key value", s.ParamIn, KEY)},
    }
    return envelope(
        title="upbit-bot command API",
        description=(
            "Commands through the chat dispatcher: the token's role, confirmations and "
            "audit as chat. Replies in the asked language (lang: ko or en)."
        ),
        paths=paths,
        schemas=defs["$defs"],
        bearer="one token of UPBIT_BOT_COMMAND_TOKENS (name:role:token,...)",
    )
