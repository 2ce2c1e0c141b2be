"""The HTTP command API: requests in, each answered with its command's reply as JSON.

Every route runs a command line through the one dispatcher (``execute``/``settle``) as the
token's principal and role: the same parsing, roles, standby rule, confirmations, audit and
catalogs as chat. The HTTP status follows the audited outcome (``STATUS``). The routes are
mounted on the bot's HTTP server while the transport runs (``BuildContext.http``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot.api.auth import REALM
from bot.command_http import schemas as s
from bot.command_http.openapi import document
from bot.command_http.tokens import ApiToken, ApiTokens
from bot.notify.pacing import Pacer
from bot.notify.sender import PermanentSendError
from bot.transports.base import RouteMount
from handlers.auth import Principal
from handlers.confirm import CONFIRM_PREFIX
from handlers.dispatcher import Answer, Dispatcher
from handlers.i18n import Catalog
from handlers.invalid import problems
from handlers.reply import Reply, Severity

log = logging.getLogger(__name__)
NO_STORE = {"Cache-Control": "no-store"}
#: audited outcome -> HTTP status (an internal error, severity critical, is a 500)
STATUS = {
    "ok": 200,
    "confirmed": 200,
    "cancelled": 200,
    "confirm_pending": 202,
    "usage": 422,
    "denied": 403,
    "refused": 409,
    "error": 409,
    "expired": 410,
}
ID = r"(?P<id>[0-9a-f]{1,32})"
M = TypeVar("M", bound=BaseModel)
Route = Callable[[web.Request, ApiToken, dict[str, str]], Awaitable[web.Response]]


def error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = json.dumps({"error": message})
    return web.json_response(text=body, status=status, headers={**NO_STORE, **(headers or {})})


class CommandHttpTransport:
    """``POST /api/v1/commands`` and its REST conveniences (pause, resume, params)."""

    def __init__(
        self, name: str, tokens: ApiTokens, dispatcher: Dispatcher, http: RouteMount | None
    ) -> None:
        self.name = name
        self._tokens = tokens
        self._dispatcher = dispatcher
        self._http = http
        self._routes: list[tuple[str, re.Pattern[str], Route]] = [
            ("POST", re.compile(r"/api/v1/commands"), self._command),
            ("POST", re.compile(rf"/api/v1/confirmations/{ID}"), self._confirm),
            ("POST", re.compile(rf"/api/v1/confirmations/{ID}/cancel"), self._cancel),
            ("DELETE", re.compile(rf"/api/v1/confirmations/{ID}"), self._cancel),
            ("POST", re.compile(r"/api/v1/pause"), self._verb("pause")),
            ("POST", re.compile(r"/api/v1/resume"), self._verb("resume")),
            ("PUT", re.compile(r"/api/v1/params/(?P<key>[A-Za-z0-9_.]{1,64})"), self._param),
        ]

    @property
    def pacer(self) -> Pacer | None:
        return None

    async def start(self) -> None:
        if self._http is None:
            log.warning("command_api: [http] is off, so the command API has nowhere to answer")
            return
        self._http.mount(self.name, self.handle)
        log.info("command API on /api/v1/commands (%d tokens)", len(self._tokens.tokens))

    async def stop(self) -> None:
        if self._http is not None:
            self._http.unmount(self.name)

    async def send(self, chat_id: str, reply: Reply, *, silent: bool) -> None:
        raise PermanentSendError("the HTTP command API takes no pushes")

    async def handle(self, request: web.Request) -> web.StreamResponse | None:
        """The response for a command route; None for any other path."""
        if request.path == "/api/v1/commands/openapi.json" and request.method == "GET":
            return web.json_response(document())
        allowed = []
        for method, pattern, route in self._routes:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            if method != request.method:
                allowed.append(method)
                continue
            token = self._token(request)
            if isinstance(token, web.Response):
                return token
            return await route(request, token, match.groupdict())
        if allowed:
            return error(405, f"use {', '.join(allowed)}", {"Allow": ", ".join(allowed)})
        return None

    def _token(self, request: web.Request) -> ApiToken | web.Response:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return error(401, "missing bearer token", {"WWW-Authenticate": REALM})
        token = self._tokens.match(given.strip())
        if token is None:
            challenge = f'{REALM}, error="invalid_token"'
            return error(401, "wrong bearer token", {"WWW-Authenticate": challenge})
        return token

    # -- routes --------------------------------------------------------------------------------

    async def _command(
        self, request: web.Request, token: ApiToken, _path: dict[str, str]
    ) -> web.Response:
        body = await _body(request, s.CommandIn, self._dispatcher.catalog)
        if isinstance(body, web.Response):
            return body
        return await self._run(token, body.command, body.lang)

    def _verb(self, verb: str) -> Route:
        async def route(
            request: web.Request, token: ApiToken, _path: dict[str, str]
        ) -> web.Response:
            body = await _body(request, s.MarketIn, self._dispatcher.catalog)
            if isinstance(body, web.Response):
                return body
            line = f"/{verb} {body.market}" if body.market else f"/{verb}"
            return await self._run(token, line, body.lang)

        return route

    async def _param(
        self, request: web.Request, token: ApiToken, path: dict[str, str]
    ) -> web.Response:
        body = await _body(request, s.ParamIn, self._dispatcher.catalog)
        if isinstance(body, web.Response):
            return body
        value = str(body.value).lower() if isinstance(body.value, bool) else str(body.value)
        if not value or re.search(r"[\s\"'\\]", value):
            t = self._dispatcher.catalog(body.lang)
            return error(422, t.t("invalid.one_word", field="value", value=value[:40]))
        return await self._run(token, f"/set {path['key']} {value}", body.lang)

    async def _confirm(
        self, request: web.Request, token: ApiToken, path: dict[str, str]
    ) -> web.Response:
        return await self._settle(request, token, path["id"], confirming=True)

    async def _cancel(
        self, request: web.Request, token: ApiToken, path: dict[str, str]
    ) -> web.Response:
        return await self._settle(request, token, path["id"], confirming=False)

    async def _settle(
        self, request: web.Request, token: ApiToken, pending: str, *, confirming: bool
    ) -> web.Response:
        body = await _body(request, s.In, self._dispatcher.catalog)
        if isinstance(body, web.Response):
            return body
        d = self._dispatcher
        step = d.settle(
            _principal(self.name, token),
            token.role,
            pending,
            confirming=confirming,
            language=body.lang,
        )
        return self._respond(await d.audited(step))

    async def _run(self, token: ApiToken, line: str, lang: str | None) -> web.Response:
        d = self._dispatcher
        answer = await d.audited(d.execute(_principal(self.name, token), token.role, line, lang))
        return self._respond(answer)

    def _respond(self, answer: Answer) -> web.Response:
        reply = answer.reply
        status = STATUS.get(answer.outcome, 200)
        if answer.outcome == "error" and reply.severity is Severity.CRITICAL:
            status = 500
        out = s.AnswerOut(
            ok=status < 300,
            outcome=answer.outcome,
            title=reply.title,
            text=replace(reply, buttons=()).plain_text(),
            lines=list(reply.lines),
            fields=[s.FieldOut(label=k, value=v) for k, v in reply.fields],
            table=None
            if reply.table is None
            else s.TableOut(
                headers=list(reply.table.headers), rows=[list(r) for r in reply.table.rows]
            ),
            severity=reply.severity.value,
            confirmation=self._confirmation(reply),
        )
        return web.json_response(text=out.model_dump_json(), status=status, headers=NO_STORE)

    def _confirmation(self, reply: Reply) -> s.ConfirmationOut | None:
        for button in reply.buttons:
            if button.data.startswith(CONFIRM_PREFIX):
                d = self._dispatcher
                expires = d.wall_clock() + timedelta(seconds=d.confirmations.ttl_s)
                return s.ConfirmationOut(
                    id=button.data.removeprefix(CONFIRM_PREFIX), expires_at=expires
                )
        return None


def _principal(transport: str, token: ApiToken) -> Principal:
    """The audit's sender: this transport, the token's name."""
    return Principal(transport, token.name, "api", token.name)


async def _body(
    request: web.Request, model: type[M], catalog: Callable[[str | None], Catalog]
) -> M | web.Response:
    """The request's JSON body as ``model`` (an empty body is ``{}``), or a 400/422 whose
    validation problems are in the asked language (``catalog(lang)``; else the bot's)."""
    raw = await request.read()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return error(400, "the body is not JSON")
    if not isinstance(data, dict):
        return error(400, "the body must be a JSON object")
    if "lang" not in data and request.query.get("lang"):
        data["lang"] = request.query["lang"]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lang = data.get("lang")
        return error(422, problems(catalog(lang if isinstance(lang, str) else None), exc))
