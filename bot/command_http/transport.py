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
#: a route's own step, given the request's body already parsed into its model
Step = Callable[[ApiToken, dict[str, str], M], Awaitable[web.Response]]


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
        confirmation = rf"/api/v1/confirmations/{ID}"
        param = r"/api/v1/params/(?P<key>[A-Za-z0-9_.]{1,64})"
        self._routes = [
            self._route("POST", r"/api/v1/commands", s.CommandIn, self._command),
            self._route("POST", confirmation, s.In, self._confirm),
            self._route("POST", f"{confirmation}/cancel", s.In, self._cancel),
            self._route("DELETE", confirmation, s.In, self._cancel),
            self._route("POST", r"/api/v1/pause", s.MarketIn, self._verb("pause")),
            self._route("POST", r"/api/v1/resume", s.MarketIn, self._verb("resume")),
            self._route("PUT", param, s.ParamIn, self._param),
        ]

    def _route(
        self, method: str, pattern: str, model: type[M], step: Step[M]
    ) -> tuple[str, re.Pattern[str], Route]:
        """A route that parses the request's body into ``model`` (a 400/422 in the asked
        language if it does not fit) before its ``step`` runs, so no step parses or sees a
        body it did not declare."""

        async def route(
            request: web.Request, token: ApiToken, path: dict[str, str]
        ) -> web.Response:
            body = await _body(request, model, self._dispatcher.catalog)
            if isinstance(body, web.Response):
                return body
            return await step(token, path, body)

        return method, re.compile(pattern), route

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
        self, token: ApiToken, _path: dict[str, str], body: s.CommandIn
    ) -> web.Response:
        return await self._run(token, body.command, body.lang)

    def _verb(self, verb: str) -> Step[s.MarketIn]:
        async def step(token: ApiToken, _path: dict[str, str], body: s.MarketIn) -> web.Response:
            line = f"/{verb} {body.market}" if body.market else f"/{verb}"
            return await self._run(token, line, body.lang)

        return step

    async def _param(self, token: ApiToken, path: dict[str, str], body: s.ParamIn) -> web.Response:
        value = str(body.value).lower() if isinstance(body.value, bool) else str(body.value)
        if not value or re.search(r"[\s\"'\\]", value):
            t = self._dispatcher.catalog(body.lang)
            return error(422, t.t("invalid.one_word", field="value", value=value[:40]))
        return await self._run(token, f"/set {path['key']} {value}", body.lang)

    async def _confirm(self, token: ApiToken, path: dict[str, str], body: s.In) -> web.Response:
        return await self._settle(token, path["id"], body, confirming=True)

    async def _cancel(self, token: ApiToken, path: dict[str, str], body: s.In) -> web.Response:
        return await self._settle(token, path["id"], body, confirming=False)

    async def _settle(
        self, token: ApiToken, pending: str, body: s.In, *, confirming: bool
    ) -> web.Response:
        answer = await self._dispatcher.settle(
            _principal(self.name, token),
            token.role,
            pending,
            confirming=confirming,
            language=body.lang,
        )
        return self._respond(answer)

    async def _run(self, token: ApiToken, line: str, lang: str | None) -> web.Response:
        principal = _principal(self.name, token)
        return self._respond(await self._dispatcher.execute(principal, token.role, line, lang))

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
