"""Events and replies as JSON for the persistent queue, and back.

The queue keeps the event itself (not its rendering) so a burst can be merged into one message
at delivery time and the text follows the language of the bot that delivers it. Ad-hoc pushes
(the daily report) are stored as a rendered ``Reply``, the image as base64.
"""

from __future__ import annotations

import base64
import dataclasses
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bot.notify.kinds import EVENT_KINDS
from handlers.reply import Button, Image, Reply, Severity, Table
from trading.events import Event

EVENT_TYPES: dict[str, type[Event]] = {cls.__name__: cls for cls in EVENT_KINDS}
#: rows queued before these events were named in the past tense (issue #14) still decode
RENAMED: dict[str, str] = {
    "RiskBreach": "RiskBreached",
    "FeedStale": "FeedStalled",
    "FeedGap": "FeedGapped",
    "FeedError": "FeedFailed",
    "OrderUncertain": "OrderBecameUncertain",
    "BotError": "PartFailed",
}


def _encode(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot queue a {type(value).__name__}")


def encode_event(event: Event) -> dict[str, Any]:
    data: dict[str, Any] = {"type": type(event).__name__}
    for f in dataclasses.fields(event):
        data[f.name] = _encode(getattr(event, f.name))
    return data


_HINTS: dict[str, dict[str, Any]] = {}


def _hints(cls: type[Event]) -> dict[str, Any]:
    hints = _HINTS.get(cls.__name__)
    if hints is None:
        hints = _HINTS[cls.__name__] = typing.get_type_hints(cls)
    return hints


def _decode(hint: Any, value: object) -> object:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode(options[0], value)
    if hint is Decimal:
        return Decimal(str(value))
    if hint is datetime:
        return datetime.fromisoformat(str(value))
    if hint is date:
        return date.fromisoformat(str(value))
    if origin is tuple and isinstance(value, list):
        (item, *_) = typing.get_args(hint)
        return tuple(_decode(item, v) for v in value)
    return value


def decode_event(data: dict[str, Any]) -> Event:
    name = data["type"]
    cls = EVENT_TYPES[RENAMED.get(name, name)]
    hints = _hints(cls)
    values: dict[str, Any] = {
        f.name: _decode(hints[f.name], data[f.name])
        for f in dataclasses.fields(cls)
        if f.name in data
    }
    return cls(**values)


def encode_reply(reply: Reply) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": reply.title,
        "lines": list(reply.lines),
        "fields": [list(f) for f in reply.fields],
        "severity": reply.severity.value,
    }
    if reply.table is not None:
        data["table"] = {
            "headers": list(reply.table.headers),
            "rows": [list(r) for r in reply.table.rows],
        }
    if reply.image is not None:
        data["image"] = {
            "filename": reply.image.filename,
            "caption": reply.image.caption,
            "data": base64.b64encode(reply.image.data).decode("ascii"),
        }
    if reply.buttons:
        data["buttons"] = [[b.label, b.data] for b in reply.buttons]
    return data


def decode_reply(data: dict[str, Any]) -> Reply:
    table = data.get("table")
    image = data.get("image")
    return Reply(
        title=data["title"],
        lines=tuple(data.get("lines", ())),
        fields=tuple((str(k), str(v)) for k, v in data.get("fields", ())),
        table=None
        if table is None
        else Table(tuple(table["headers"]), tuple(tuple(r) for r in table["rows"])),
        image=None
        if image is None
        else Image(image["filename"], base64.b64decode(image["data"]), image.get("caption", "")),
        buttons=tuple(Button(label, value) for label, value in data.get("buttons", ())),
        severity=Severity(data.get("severity", "info")),
    )
