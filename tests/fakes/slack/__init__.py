"""A strict in-process fake of Slack for tests: Web API, Socket Mode, response_url, file uploads
and HTTP-mode request signing, served by aiohttp on 127.0.0.1 (free port).

Use the REAL slack_sdk / slack-bolt clients against it::

    async with FakeSlack() as slack:  # bot_token="xoxb-test", app_token="xapp-test",
        # signing_secret="shhh", team_id="T1", bot_user_id="UBOT" (all keyword-overridable)
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        app = AsyncApp(client=client)            # token comes from the client
        handler = AsyncSocketModeHandler(app, slack.app_token)  # slack_bolt.adapter.socket_mode
        await handler.connect_async()            # never start_async(); close_async() at the end
        await slack.wait_connected()
        env_id = await slack.slash_command("U1", "C1", "price KRW-BTC")   # command="/upbit"
        ack = await slack.wait_ack(env_id)                               # ack.latency, ack.late
        msg = await slack.wait_for(lambda: slack.messages("C1")[0])

Test-side API (``FakeSlack``):

* ``api_url`` (``http://127.0.0.1:PORT/api/`` - with the trailing slash), ``base_url``, ``port``.
* Slack -> app (Socket Mode; each waits up to ``connect_timeout`` for an open connection and
  returns the envelope id; ``wait_ack(envelope_id, timeout=5.0) -> Ack``):
  ``slash_command(user_id, channel_id, text, *, command="/upbit")`` (payload: command, text,
  user_id, user_name, channel_id, channel_name, team_id, team_domain, api_app_id, response_url,
  trigger_id, token), ``press_button(user_id, channel_id, message_ts, action_id, value,
  *, block_id=None)`` (``block_actions``: user.id, channel.id, container.message_ts,
  message (not for ephemeral messages), actions[{action_id, block_id, value, type, action_ts}],
  response_url, trigger_id; raises LookupError unless the message exists and holds that
  action_id), ``send_event(event_dict)`` (events_api event_callback),
  ``send_disconnect(reason)`` (``{"type": "disconnect"}``).
* HTTP mode: ``await post_signed(url, kind, payload, *, signing_secret=None, bad_signature=False,
  timestamp=None, retry_num=None, retry_reason="http_timeout", timeout=5.0) -> HttpReply(status,
  text, headers, elapsed, late, json())``; kind "slash" (form fields) | "interactive"
  (``payload=<json>``) | "event" (JSON body).  The same payload and timestamp post the same
  bytes again (a replay); ``retry_num`` sends Slack's own retry: the same body signed anew
  with X-Slack-Retry-Num/-Reason.  Build
  payloads with ``slash_payload(user_id, channel_id, text, command="/upbit")`` and
  ``block_actions_payload(user_id, channel_id, message_ts, action_id, value)`` (their
  response_url points at the fake).  A non-empty 200 reply to a slash command is recorded in
  ``responses`` (source "http") like Slack would show it.
* Records: ``messages(channel_id, include_deleted=False) -> list[Message]`` (text, blocks,
  attachments, ts, thread_ts, ``ephemeral_user``/``ephemeral``, source = chat.postMessage |
  chat.postEphemeral | response_url | ack, ``edits`` = older versions, ``deleted``,
  ``all_text()``), ``message(channel_id, ts)``, ``all_messages()``; ``uploads`` (Upload:
  file_id, filename, length, data bytes, title, channels, initial_comment, thread_ts);
  ``responses`` (ResponsePost: body, response_type, text, source "response_url"|"ack"|"http",
  channel_id, user_id, envelope_id, status); ``acks`` (Ack: envelope_id, type, latency, late
  (> 3 s), payload); ``envelopes``; ``requests`` (ApiRequest: method, params, token, body_kind,
  status, ok, error) and ``calls(method)``; ``protocol_errors`` (bad/unknown/duplicate acks);
  ``connections`` (open sockets), ``total_connections`` (ever accepted).
* Waiting (all bounded): ``wait_for(predicate, timeout=5.0)`` (returns the truthy value;
  IndexError/KeyError mean "not yet"; TimeoutError otherwise), ``wait_ack``,
  ``wait_connected(timeout=5.0, total=1)``.
* Setup: ``add_user(user_id, name)``, ``add_channel(channel_id, name)`` (once any channel is
  added - or ``channels={...}`` given - only those exist; otherwise any C/D/G id exists and a
  U id posts to its DM), ``limits`` (RateLimiter: ``enabled``, ``per_channel_rate``,
  ``per_channel_burst``, ``reset()``).

Web API (``/api/<method>``; query, form or JSON bodies; token from ``Authorization: Bearer`` or a
``token`` param): auth.test, apps.connections.open (xapp token only), chat.postMessage,
chat.postEphemeral, chat.update (omitted blocks are kept, ``[]`` removes), chat.delete,
files.getUploadURLExternal -> POST bytes (raw or multipart) to upload_url (answers
``OK - <n>``) -> files.completeUploadExternal, users.info, conversations.open.  Errors are HTTP 200
``{"ok": false, "error": ...}``: not_authed, invalid_auth, token_revoked, not_allowed_token_type,
channel_not_found, no_text, msg_too_long, invalid_blocks (>50 blocks, section text > 3000,
header > 150), message_not_found, user_not_found, invalid_arguments, file_not_found,
unknown_method.  Rate limits: chat.postMessage per channel ~1/s with a burst of 4; other
methods per token per minute by tier (T1 apps.connections.open 20, T3 chat.update 50,
T4 100); over the limit -> HTTP 429 ``{"ok": false, "error": "ratelimited"}`` + ``Retry-After``.
``response_url`` takes JSON (or form) bodies, at most 5 uses (then 404 ``used_url``); it
honours response_type in_channel/ephemeral, replace_original and delete_original.

Faults (``slack.faults``): ``fail_next(method, error=None, status=None, retry_after=None,
count=1)`` (method "*" = any API method, "upload" = the upload_url POST, "response_url" = the
next response_url post, 429 only; status 429 implies error ratelimited + Retry-After),
``down(seconds | None, *, refuse=False, drop_sockets=False)`` (503 from every endpoint, or
dropped TCP connections with refuse=True), ``up()``,
``drop_socket()`` (close every Socket Mode connection; returns how many), ``clear()``.

Flood waits (``slack.flood``, :mod:`tests.fakes.flood`): a 429 closes that channel for exactly
``Retry-After`` seconds; a post into it (chat.postMessage/postEphemeral/update, response_url)
before then is answered 429 again and kept in ``slack.flood.early``; ``slack.flood.sends`` has
every post's time.
"""

from .faults import Faults
from .payloads import sign, signed_request
from .ratelimit import RateLimiter
from .records import Ack, ApiRequest, Envelope, HttpReply, Message, ResponsePost, Upload
from .server import FakeSlack

__all__ = [
    "Ack",
    "ApiRequest",
    "Envelope",
    "FakeSlack",
    "Faults",
    "HttpReply",
    "Message",
    "RateLimiter",
    "ResponsePost",
    "Upload",
    "sign",
    "signed_request",
]
