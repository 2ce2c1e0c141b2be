"""The OpenAPI 3.1 description, built from the response models so it cannot drift from them.

Pydantic writes JSON Schema 2020-12, which is OpenAPI 3.1's own schema dialect; the tests
validate every response the server gives against this document.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot.api import schemas as s

MARKET = {
    "type": "string",
    "pattern": "^[A-Za-z]{2,5}-[A-Za-z0-9]{1,15}$",
    "examples": ["KRW-BTC"],
}
PARAMS: dict[str, dict[str, Any]] = {
    "limit": {
        "description": "how many rows (newest first)",
        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
    },
    "market": {"description": "only this market (one the bot trades)", "schema": MARKET},
    "days": {
        "description": "how many days of realized PnL, up to today",
        "schema": {"type": "integer", "minimum": 1, "maximum": 366, "default": 30},
    },
    "points": {
        "description": "at most this many equity points (the newest)",
        "schema": {"type": "integer", "minimum": 2, "maximum": 5000, "default": 1000},
    },
    "before": {
        "description": "page back: the next_before of the previous page",
        "schema": {"type": "integer", "minimum": 1},
    },
}
# path, operation id, response model, query parameters, summary
ENDPOINTS: list[tuple[str, str, type[BaseModel], tuple[str, ...], str]] = [
    ("status", "getStatus", s.StatusOut, (), "Mode, trading state, equity and prices"),
    ("positions", "getPositions", s.PositionsOut, (), "Open positions with unrealized PnL"),
    ("orders", "getOrders", s.OrdersOut, ("limit", "market"), "Open and recent orders"),
    ("trades", "getTrades", s.TradesOut, ("limit", "market"), "Fills, newest first"),
    ("pnl", "getPnl", s.PnlOut, ("days", "points"), "Equity curve and realized PnL per day"),
    ("risk", "getRisk", s.RiskOut, (), "Risk limits and their use, halt windows"),
    ("settings", "getSettings", s.SettingsOut, (), "Every setting: value, type, bounds, live"),
    ("audit", "getAudit", s.AuditPageOut, ("limit", "before"), "The chat command audit log"),
]
MODELS: list[type[BaseModel]] = [s.ErrorOut, s.ProbeOut, *(e[2] for e in ENDPOINTS)]


def ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(model)}}}


ERRORS = {
    "400": _json(s.ErrorOut, "a query parameter is wrong (the error says which)"),
    "401": _json(s.ErrorOut, "missing or wrong bearer token"),
    "500": _json(s.ErrorOut, "an internal error (logged by the bot)"),
    "503": _json(s.ErrorOut, "API disabled (no token set), engine not started or store down"),
}


def _probe(summary: str, fails: str) -> dict[str, Any]:
    return {
        "get": {
            "operationId": summary.split()[0].lower(),
            "summary": summary,
            "security": [],
            "responses": {
                "200": _json(s.ProbeOut, "every check passed"),
                "503": _json(s.ProbeOut, fails),
            },
        }
    }


@cache
def document() -> dict[str, Any]:
    _, defs = models_json_schema(
        [(m, "serialization") for m in MODELS], ref_template="#/components/schemas/{model}"
    )
    paths: dict[str, Any] = {
        "/healthz": _probe("Liveness: the event loop answers and the engine task runs", "dead"),
        "/readyz": _probe(
            "Readiness: fresh market data, store, exchange, app running", "not ready"
        ),
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "the OpenAPI 3.1 description"}},
            }
        },
    }
    for name, op_id, model, query, summary in ENDPOINTS:
        paths[f"/api/v1/{name}"] = {
            "get": {
                "operationId": op_id,
                "summary": summary,
                "parameters": [
                    {"name": q, "in": "query", "required": False, **PARAMS[q]} for q in query
                ],
                "responses": {"200": _json(model, summary), **ERRORS},
            }
        }
    return envelope(
        title="upbit-bot operations API",
        description="Read-only. Money and amounts are exact decimals as strings.",
        paths=paths,
        schemas=defs["$defs"],
        bearer="the value of UPBIT_BOT_API_TOKEN",
    )


def envelope(
    *, title: str, description: str, paths: dict[str, Any], schemas: Any, bearer: str
) -> dict[str, Any]:
    """An OpenAPI 3.1 document of ``paths`` behind one bearer token (``bearer`` says which)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1", "description": description},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": bearer}
            },
        },
    }
