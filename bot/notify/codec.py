"""Events and replies as JSON for the persistent queue, and back.

The queue keeps the event itself, with the dataclasses it holds (a research outcome), not
its rendering, so a burst can be merged into one message at delivery time and the text
follows the language of the bot that delivers it. Ad-hoc pushes (the daily report) are
stored as a rendered ``Reply``, the image as base64.
"""

from __future__ import annotations

import base64
import dataclasses
import numbers
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
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data: dict[str, object] = {"type": type(value).__name__}
        for f in dataclasses.fields(value):
            data[f.name] = _encode(getattr(value, f.name))
        return data
    if isinstance(value, dict):  # plain JSON values (a research outcome's metrics, params)
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, numbers.Integral):  # numpy's, in a research outcome's metrics
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"cannot queue a {type(value).__name__}")


def encode_event(event: Event) -> dict[str, Any]:
    data = _encode(event)
    assert isinstance(data, dict)
    return data


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _fields(cls: type, data: dict[str, Any]) -> Any:
    """An instance of the dataclass ``cls`` from its encoded fields."""
    hints = _hints(cls)
    values = {
        f.name: _decode(hints[f.name], data[f.name])
        for f in dataclasses.fields(cls)
        if f.name in data
    }
    return cls(**values)


def _decode(hint: Any, value: object) -> object:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if isinstance(value, dict):  # one of several dataclasses: its name says which
            return _decode(next(o for o in options if o.__name__ == value["type"]), value)
        return _decode(options[0], value)
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return _fields(typing.cast(type, hint), value)
    if hint is bytes:
        return base64.b64decode(str(value))
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
    event = _fields(EVENT_TYPES[RENAMED.get(name, name)], data)
    assert isinstance(event, Event)
    return event


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
