"""The REST pipeline: recording, faults, rate limits, handlers, ``Remaining-Req``.

Per request: record it -> injected delay -> "before" actions -> the exchange's own progress
(``on_arrival``: cancels accepted earlier complete) -> injected failure -> rate limit
(429/418) -> handler (``ApiError`` -> Upbit error body) -> "after" actions -> lost-response
fault -> ``Remaining-Req``.
Handlers return a JSON-able body (200) or ``(status, body)``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from .errors import ApiError, validation
from .faults import FaultInjector, FaultRule
from .jsonenc import dumps
from .ratelimit import Decision, RateLimiter, ban_message, header_value

REQUEST_BODY: ContextVar[dict[str, Any] | None] = ContextVar("REQUEST_BODY", default=None)
"""The parsed JSON body of the POST being handled (set by the pipeline)."""
Handler = Callable[[web.Request], Awaitable[Any]]
DEFAULT_FAIL = {
    500: ("internal_server_error", "서버 내부 오류가 발생했습니다."),
    502: ("bad_gateway", "Bad Gateway"),
    503: ("service_unavailable", "시스템 점검 중입니다."),
    504: ("gateway_timeout", "Gateway Timeout"),
}


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: str  # URL-decoded query string as received
    body: dict[str, Any] | None
    status: int | None  # None while pending or when the response was lost
    group: str
    time: float  # time.monotonic() at arrival
    headers: dict[str, str] | None = None
    #: the Upbit error name the handler answered with (``insufficient_funds_ask``, ...);
    #: None when it succeeded or an injected fault / rate limit answered instead
    error: str | None = None
    error_message: str | None = None

    @property
    def refused(self) -> bool:
        """The exchange itself refused it (a rule, the funds), not a fault or a rate limit."""
        return self.error is not None


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=dumps(body), content_type="application/json")


def _error(err: ApiError) -> web.Response:
    return json_response(err.body(), err.status)


class RestPipeline:
    def __init__(
        self,
        limiter: RateLimiter,
        faults: FaultInjector,
        *,
        plain_text_429: bool,
        stopping: asyncio.Event,
        on_arrival: Callable[[], None] = lambda: None,
    ) -> None:
        self.on_arrival = on_arrival
        self.limiter = limiter
        self.faults = faults
        self.plain_text_429 = plain_text_429
        self.stopping = stopping
        self.requests: list[RecordedRequest] = []
        self.groups: dict[tuple[str, str], str] = {}

    def add_routes(
        self, app: web.Application, routes: list[tuple[str, str, Handler, str]]
    ) -> None:
        for method, path, handler, group in routes:
            app.router.add_route(method, path, self._wrap(handler, group))
            self.groups[(method, path)] = group

    def too_many(self, decision: Decision) -> web.Response:
        if decision.status == 418:
            body = {
                "error": {
                    "name": "too_many_requests_blocked",
                    "message": ban_message(decision.ban_left),
                }
            }
            return json_response(body, 418)
        if self.plain_text_429:
            return web.Response(status=429, text="Too many API requests.")
        return json_response(
            {"error": {"name": "too_many_requests", "message": "Too many API requests."}}, 429
        )

    def _injected(self, rule: FaultRule) -> web.Response:
        if isinstance(rule.body, str):
            return web.Response(status=rule.status, text=rule.body)
        if rule.body is not None:
            return json_response(rule.body, rule.status)
        if rule.status == 429:
            return self.too_many(Decision(429, "", 0, 0))
        if rule.status == 418:
            return self.too_many(Decision(418, "", 0, 0, 3.0))
        name, message = DEFAULT_FAIL.get(rule.status, ("error", f"HTTP {rule.status}"))
        return json_response({"error": {"name": name, "message": message}}, rule.status)

    async def _hold(self, request: web.Request, close: bool) -> None:
        transport = request.transport
        if close or transport is None:
            if transport is not None:
                transport.abort()
            return
        while not self.stopping.is_set() and not transport.is_closing():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        transport.abort()

    def _wrap(self, handler: Handler, group: str) -> Handler:
        async def run(request: web.Request) -> web.StreamResponse:
            rec = RecordedRequest(
                request.method,
                request.path,
                unquote(request.rel_url.raw_query_string),
                None,
                None,
                group,
                time.monotonic(),
                dict(request.headers),
            )
            self.requests.append(rec)
            response, lost = await self._process(request, handler, group, rec)
            rec.status = None if lost else response.status
            return response

        return run

    async def _read_body(self, request: web.Request, rec: RecordedRequest) -> None:
        REQUEST_BODY.set(None)
        if request.method != "POST":
            return
        text = await request.text()
        if not text:
            REQUEST_BODY.set({})
            return
        if request.content_type != "application/json":
            raise validation("Content-Type은 application/json 이어야 합니다.")
        try:
            body = json.loads(text)
        except ValueError:
            raise validation("JSON 본문을 해석할 수 없습니다.") from None
        if not isinstance(body, dict):
            raise validation("JSON 본문은 객체여야 합니다.")
        REQUEST_BODY.set(body)
        rec.body = body

    async def _process(
        self, request: web.Request, handler: Handler, group: str, rec: RecordedRequest
    ) -> tuple[web.StreamResponse, bool]:
        method, path = request.method, request.path
        delay = self.faults.take("delay", method, path)
        if delay is not None:
            # a slow exchange still has the whole request: it acts on it late, even if the
            # client has given up by then (that is what makes a timed-out order ambiguous)
            await request.read()
            await asyncio.sleep(delay.seconds)
        before = self.faults.take("before", method, path)
        if before is not None and before.action is not None:
            before.action()
        self.on_arrival()
        fail = self.faults.take("fail", method, path)
        decision = Decision(0, group, 0, 0)
        if fail is not None:
            response = self._injected(fail)
        else:
            decision = self.limiter.check(group)
            if decision.status:
                response = self.too_many(decision)
            else:
                response = await self._call(request, handler, rec)
        after = self.faults.take("after", method, path)
        if after is not None and after.action is not None:
            after.action()
        response.headers["Remaining-Req"] = (
            header_value(decision) if decision.minute else header_value(self.limiter.peek(group))
        )
        lose = self.faults.take("lose", method, path) if fail is None else None
        if lose is not None:
            await self._hold(request, lose.close)
            return response, True
        return response, False

    async def _call(
        self, request: web.Request, handler: Handler, rec: RecordedRequest
    ) -> web.Response:
        try:
            await self._read_body(request, rec)
            result = await handler(request)
        except ApiError as err:
            rec.error, rec.error_message = str(err.name), err.message
            return _error(err)
        if isinstance(result, tuple):
            return json_response(result[1], result[0])
        return json_response(result)
