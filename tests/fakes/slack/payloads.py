"""Builders for the payloads Slack sends to apps, and Slack's request signing (v0)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

VERIFICATION_TOKEN = "fake-verification-token"


def sign(signing_secret: str, timestamp: str, body: str | bytes) -> str:
    """``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` (X-Slack-Signature)."""
    raw = body.encode() if isinstance(body, str) else body
    base = b"v0:" + timestamp.encode() + b":" + raw
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def signed_request(
    kind: str,
    payload: dict[str, Any],
    signing_secret: str,
    *,
    bad_signature: bool = False,
    timestamp: int | str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """Body + headers exactly as Slack sends them over HTTP.

    ``kind``: ``"slash"`` (form fields), ``"interactive"`` (``payload=<json>`` form field) or
    ``"event"`` (a JSON body)."""
    if kind == "slash":
        body = urlencode({k: "" if v is None else str(v) for k, v in payload.items()})
        ctype = "application/x-www-form-urlencoded"
    elif kind == "interactive":
        body = urlencode({"payload": json.dumps(payload)})
        ctype = "application/x-www-form-urlencoded"
    elif kind == "event":
        body = json.dumps(payload)
        ctype = "application/json"
    else:
        raise ValueError(f"unknown kind {kind!r} (slash|interactive|event)")
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = sign(signing_secret, ts, body)
    if bad_signature:
        signature = sign(signing_secret + "-wrong", ts, body)
    headers = {
        "Content-Type": ctype,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    return body.encode(), headers


def trigger_id() -> str:
    return f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:32]}"


def slash_payload(
    *,
    command: str,
    text: str,
    user_id: str,
    user_name: str,
    channel_id: str,
    channel_name: str,
    team_id: str,
    team_domain: str,
    api_app_id: str,
    response_url: str,
) -> dict[str, Any]:
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id(),
    }


def block_actions_payload(
    *,
    user_id: str,
    user_name: str,
    channel_id: str,
    channel_name: str,
    team_id: str,
    team_domain: str,
    api_app_id: str,
    message_ts: str,
    message: dict[str, Any] | None,
    is_ephemeral: bool,
    action_id: str,
    value: str | None,
    block_id: str,
    response_url: str,
    action_type: str = "button",
) -> dict[str, Any]:
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": action_type,
        "action_ts": f"{time.time():.6f}",
    }
    if value is not None:
        action["value"] = value
    if action_type == "button":
        action["text"] = {"type": "plain_text", "text": action_id, "emoji": True}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": trigger_id(),
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }
    if message is not None:
        payload["message"] = message
    return payload


def find_block_id(blocks: list[dict[str, Any]] | None, action_id: str) -> str | None:
    """The ``block_id`` of the block holding an element with ``action_id`` (if posted)."""
    for block in blocks or []:
        elements = list(block.get("elements") or [])
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for el in elements:
            if isinstance(el, dict) and el.get("action_id") == action_id:
                return block.get("block_id")
    return None
