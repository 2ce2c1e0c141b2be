"""Commands in, replies and pushes out, through slack-bolt's ``AsyncApp`` inside our loop.

Everything posted into a channel, a command's answer (``response_url``) or a push
(``chat.postMessage``), goes through the transport's ``Pacer`` (shared with the notifier):
about one message a second per channel, and a 429 ``Retry-After`` honoured exactly for that
channel, the refused post sent again after it.

Socket Mode by default (``connect_async``/``close_async``, never ``start_async``, which would
sleep forever); HTTP mode serves bolt's signed-request endpoint from aiohttp instead, and runs
each signed request once (``ReplayGuard``: a replay gets 401, a retry of Slack's an empty 200,
neither runs). Every listener acks first and works after, so Slack's 3-second limit holds
however slow the engine is. Errors and refusals are ephemeral. ``send`` is the notifier's
``ChatSender``: it maps Slack's answers to RetryAfter / TransientSendError /
PermanentSendError and never retries. A refused token on any Web API call (``WatchedWebClient``)
goes to ``on_refused``; a push then stays queued (transient), not dropped.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.notify.pacing import Pacer
from bot.notify.render import mark_delayed
from bot.notify.sender import PermanentSendError, RetryAfter, TransientSendError
from bot.slack.flood import api_call, partial_call, webhook_call
from bot.slack.kind import SLACK_LIMITS
from bot.slack.render import to_messages
from bot.slack.replay import ReplayGuard, Seen
from bot.slack.verify import SignedRequests
from bot.slack.watched import WatchedWebClient, refused_reason
from handlers.auth import Principal
from handlers.dispatcher import Dispatcher
from handlers.reply import Reply

log = logging.getLogger(__name__)


class SlackTransport:
    name = "slack"

    def __init__(
        self,
        *,
        bot_token: str,
        dispatcher: Dispatcher,
        pacer: Pacer | None = None,
        app_token: str = "",
        signing_secret: str = "",
        api_url: str = "https://slack.com/api/",
        socket_mode: bool = True,
        command: str = "/upbit",
        listen: str = "127.0.0.1",
        port: int = 3000,
        replays: ReplayGuard | None = None,
        on_refused: Callable[[str, str], None] | None = None,
    ) -> None:
        """``on_refused(variable, reason)``: Slack refused a token (revoked, deactivated)."""
        if socket_mode and not app_token:
            raise ValueError("Socket Mode needs SLACK_APP_TOKEN")
        if not socket_mode and not signing_secret:
            raise ValueError("HTTP mode needs SLACK_SIGNING_SECRET")
        self._dispatcher = dispatcher
        # the notifier's pacer for this transport (``pacers_from_config``): one pace, one
        # Retry-After wait per channel for replies and pushes
        self.pacer = pacer or Pacer(SLACK_LIMITS)
        self._app_token = app_token
        self._socket_mode = socket_mode
        self._listen, self.port = listen, port
        self._on_refused = on_refused
        # bolt's Socket Mode handler opens its connections through this client too
        self.client: AsyncWebClient = WatchedWebClient(
            token=bot_token, base_url=api_url, on_refused=self._refused
        )
        # bolt checks signatures only on HTTP requests, but insists on a secret either way;
        # ours is bolt's check refusing a non-numeric timestamp with 401 (bolt's said 500)
        secret = signing_secret or secrets.token_hex()
        self.app = AsyncApp(
            client=self.client,
            signing_secret=secret,
            request_verification_enabled=False,
            before_authorize=SignedRequests(secret),
        )
        self.app.command(command)(self._on_command)
        # individual commands (/pnl, /status...) answer too where the Slack app defines them
        for name in (c.name for c in dispatcher.registry):
            if f"/{name}" != command:
                self.app.command(f"/{name}")(self._on_named_command)
        self.app.action(re.compile(r"^ubot_\d+$"))(self._on_action)
        self._replays = replays or ReplayGuard()
        if not socket_mode:  # after bolt's signature check, before any listener
            self.app.middleware(self._once)
        self._handler: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        if self._handler is not None or self._runner is not None:
            raise RuntimeError("SlackTransport is already started")
        if self._socket_mode:
            self._handler = AsyncSocketModeHandler(self.app, self._app_token)
            await self._handler.connect_async()
        else:
            runner = web.AppRunner(self.app.web_app(path="/slack/events"))
            await runner.setup()
            site = web.TCPSite(runner, self._listen, self.port)
            await site.start()
            self._runner = runner
            if self.port == 0:
                server = site._server
                assert server is not None
                self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        log.info("slack: %s", "socket mode" if self._socket_mode else f"http :{self.port}")

    async def stop(self) -> None:
        handler, self._handler = self._handler, None
        if handler is not None:
            await handler.close_async()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    def _refused(self, api_method: str, reason: str) -> None:
        if self._on_refused is not None:
            app = api_method == "apps.connections.open"
            self._on_refused("SLACK_APP_TOKEN" if app else "SLACK_BOT_TOKEN", reason)

    # -- incoming ------------------------------------------------------------------------------

    async def _once(self, req: Any, next_: Any) -> Any:
        """HTTP mode: run a correctly signed request only the first time its body arrives.

        A valid signature stays valid for 5 minutes, so the same bytes posted again (a replay)
        would run the command again: refused with 401 and ``X-Slack-No-Retry``. Slack's own
        retries (``X-Slack-Retry-Num``) carry the same body: one already accepted is answered
        with an empty 200, so Slack stops retrying and nothing runs or replies twice."""
        timestamp = float(_header(req, "x-slack-request-timestamp") or 0)
        seen = self._replays.check(req.raw_body.encode(), timestamp)
        if seen is Seen.NEW:
            return await next_()
        retry = _header(req, "x-slack-retry-num")
        log.warning(
            "slack: %s request sent at %d not run (seen %s)",
            f"retry {retry} of a" if retry else "a replayed",
            timestamp,
            seen.value,
        )
        if retry:
            return BoltResponse(status=200, body="")
        return BoltResponse(
            status=401, body={"error": "replayed request"}, headers={"X-Slack-No-Retry": "1"}
        )

    async def _on_command(self, ack: Any, command: dict[str, Any], respond: Any) -> None:
        await ack()  # first, within Slack's 3 s; the work comes after
        who = Principal(
            "slack", command["user_id"], command["channel_id"], command.get("user_name", "")
        )
        reply = await self._dispatcher.handle(who, command.get("text") or "help")
        if reply is not None:
            await self._respond(command["channel_id"], respond, reply, replace=False)

    async def _on_named_command(self, ack: Any, command: dict[str, Any], respond: Any) -> None:
        name = command["command"].lstrip("/")
        await self._on_command(
            ack, {**command, "text": f"{name} {command.get('text') or ''}"}, respond
        )

    async def _on_action(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        await ack()
        channel = (body.get("channel") or {}).get("id") or body["user"]["id"]
        who = Principal("slack", body["user"]["id"], channel)
        reply = await self._dispatcher.press(who, action.get("value", ""))
        if reply is not None:
            await self._respond(channel, respond, reply, replace=not reply.ephemeral)

    async def _respond(self, channel: str, respond: Any, reply: Reply, *, replace: bool) -> None:
        """A command's answer through its ``response_url``, each post through the channel's
        pacer like a push: a 429 is waited out and sent again, never dropped; held up
        materially, the answer says so."""
        t = self._dispatcher.catalog()
        kind = "ephemeral" if reply.ephemeral else "in_channel"

        async def post(text: str, blocks: Any, first: bool) -> None:
            await webhook_call(
                lambda: respond(
                    text=text,
                    blocks=blocks,
                    response_type=kind,
                    replace_original=replace and first,
                )
            )

        async def first_part(flood_delay: float) -> None:
            # held up: the note goes into the first post, sent now
            text, blocks = to_messages(mark_delayed(reply, flood_delay, "Slack", t))[0]
            await post(text, blocks, True)

        await self.pacer.send(channel, first_part)
        for text, blocks in to_messages(reply)[1:]:

            async def later(_flood_delay: float, m: str = text, b: Any = blocks) -> None:
                await post(m, b, False)

            await self.pacer.send(channel, later)
        if reply.image is not None and not reply.ephemeral:
            await self.client.files_upload_v2(
                content=reply.image.data,
                filename=reply.image.filename,
                title=reply.image.caption or reply.title,
            )

    # -- outgoing ------------------------------------------------------------------------------

    async def send(self, chat_id: str, reply: Reply, *, silent: bool) -> None:
        """The notifier's ``ChatSender`` (Slack has no silent delivery; ``silent`` is ignored).
        The notifier's ``pacer.send`` (the same pacer as here) booked the first post; each
        later part takes its own slot and waits out its own 429, since the parts before it
        are out."""
        try:
            for n, (text, blocks) in enumerate(to_messages(reply)):

                async def post(m: str = text, b: Any = blocks) -> object:
                    return await self.client.chat_postMessage(channel=chat_id, text=m, blocks=b)

                if n == 0:
                    await api_call(post)
                else:
                    await self.pacer.send(chat_id, partial_call(post))
            if reply.image is not None:
                await self.client.files_upload_v2(
                    channel=chat_id,
                    content=reply.image.data,
                    filename=reply.image.filename,
                    title=reply.image.caption or reply.title,
                )
        except SlackApiError as exc:
            status = exc.response.status_code
            if status == 429:
                raise RetryAfter(float(exc.response.headers.get("Retry-After", 1))) from exc
            if status >= 500 or refused_reason(exc):  # refused: kept for a new token
                raise TransientSendError(str(exc)) from exc
            raise PermanentSendError(str(exc)) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientSendError(str(exc)) from exc


def _header(req: Any, name: str) -> str:
    """One header of a bolt request (bolt keeps them lower-cased, as lists)."""
    values = req.headers.get(name) or [""]
    return str(values[0])
