"""Validation of ``parse_mode="HTML"`` text the way the Bot API does it.

Returns the plain text and the entities (offsets/lengths in UTF-16 code units, as Telegram
reports them).  Supported tags are exactly Telegram's: ``b strong i em u ins s strike del
span(class="tg-spoiler") tg-spoiler a(href) code pre blockquote(expandable) tg-emoji(emoji-id)``.
Only ``&lt; &gt; &amp; &quot;`` and numeric entities are understood.

Strictness compared with real Telegram: an unsupported tag, an unbalanced/mismatched tag, a ``<``
that does not start a tag and an unknown named entity are errors in both.  A bare ``&`` that
starts no entity is accepted literally by Telegram; with ``strict_ampersand=True`` (the default
of :class:`FakeTelegram`) the fake rejects it, because it means the bot forgot to escape.  A bare
``>`` is accepted (as by Telegram).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, bad_request

ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_START = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")
_END = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_ATTR = re.compile(r"\s+([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")
_CLOSE = re.compile(r"\s*>")
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]*);")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _error(message: str) -> ApiError:
    return bad_request(f"can't parse entities: {message}")


@dataclass
class _Open:
    tag: str
    offset: int
    attrs: dict[str, str] = field(default_factory=dict)


def _decode_entities(value: str) -> str:
    def repl(m: re.Match[str]) -> str:
        body = m.group(1)
        if body.startswith(("#x", "#X")):
            return chr(int(body[2:], 16))
        if body.startswith("#"):
            return chr(int(body[1:]))
        return NAMED_ENTITIES.get(body, m.group(0))

    return _ENTITY.sub(repl, value)


def parse_html(source: str, *, strict_ampersand: bool = True) -> tuple[str, list[dict[str, Any]]]:
    out: list[str] = []
    pos16 = 0
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i, n = 0, len(source)

    def byte_offset(idx: int) -> int:
        return len(source[:idx].encode())

    def emit(chunk: str) -> None:
        nonlocal pos16
        out.append(chunk)
        pos16 += utf16_len(chunk)

    while i < n:
        ch = source[i]
        if ch == "&":
            m = _ENTITY.match(source, i)
            if m is not None:
                body = m.group(1)
                if body.startswith("#"):
                    code = int(body[2:], 16) if body[1] in "xX" else int(body[1:])
                    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF or code == 0:
                        raise _error(f"Invalid character entity at byte offset {byte_offset(i)}")
                    emit(chr(code))
                elif body in NAMED_ENTITIES:
                    emit(NAMED_ENTITIES[body])
                else:
                    raise _error(
                        f'Unsupported HTML entity "&{body};" at byte offset {byte_offset(i)}'
                    )
                i = m.end()
                continue
            if strict_ampersand:
                raise _error(
                    f"Character '&' is reserved and must be escaped as &amp; "
                    f"at byte offset {byte_offset(i)}"
                )
            emit("&")
            i += 1
            continue
        if ch != "<":
            j = i
            while j < n and source[j] not in "<&":
                j += 1
            emit(source[i:j])
            i = j
            continue
        if source.startswith("</", i):
            m = _END.match(source, i)
            if m is None:
                raise _error(f"Unexpected end tag at byte offset {byte_offset(i)}")
            tag = m.group(1).lower()
            if not stack:
                raise _error(f"Unexpected end tag at byte offset {byte_offset(i)}")
            top = stack[-1]
            if top.tag != tag:
                raise _error(
                    f'Unmatched end tag at byte offset {byte_offset(i)}, expected "</{top.tag}>",'
                    f' found "</{tag}>"'
                )
            stack.pop()
            _close(top, pos16, stack, entities)
            i = m.end()
            continue
        m = _START.match(source, i)
        if m is None:
            raise _error(f'Unsupported start tag "" at byte offset {byte_offset(i)}')
        tag = m.group(1).lower()
        if tag not in ENTITY_TYPES:
            raise _error(f'Unsupported start tag "{tag}" at byte offset {byte_offset(i)}')
        j = m.end()
        attrs: dict[str, str] = {}
        while True:
            am = _ATTR.match(source, j)
            if am is None:
                break
            value = am.group(2) or ""
            if value[:1] in "\"'":
                value = value[1:-1]
            attrs[am.group(1).lower()] = _decode_entities(value)
            j = am.end()
        cm = _CLOSE.match(source, j)
        if cm is None:
            raise _error(f"Unclosed start tag at byte offset {byte_offset(i)}")
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise _error('Tag "span" must have class "tg-spoiler"')
        if tag == "tg-emoji" and not attrs.get("emoji-id"):
            raise _error("Custom emoji entity must contain a tg-emoji identifier")
        if (
            stack
            and stack[-1].tag in ("code", "pre")
            and not (tag == "code" and stack[-1].tag == "pre")
        ):
            raise _error(
                f'Can\'t use tag "{tag}" inside "{stack[-1].tag}" at byte offset {byte_offset(i)}'
            )
        stack.append(_Open(tag, pos16, attrs))
        i = cm.end()
    if stack:
        raise _error(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close(item: _Open, end16: int, stack: list[_Open], entities: list[dict[str, Any]]) -> None:
    length = end16 - item.offset
    if length <= 0:
        return
    entity: dict[str, Any] = {
        "type": ENTITY_TYPES[item.tag],
        "offset": item.offset,
        "length": length,
    }
    if item.tag == "a":
        href = item.attrs.get("href", "")
        if not href:
            return
        entity["url"] = href
    elif item.tag == "tg-emoji":
        entity["custom_emoji_id"] = item.attrs["emoji-id"]
    elif item.tag == "blockquote" and "expandable" in item.attrs:
        entity["type"] = "expandable_blockquote"
    elif item.tag == "code" and stack and stack[-1].tag == "pre":
        language = item.attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1].attrs["language"] = language.removeprefix("language-")
            return
    elif item.tag == "pre" and item.attrs.get("language"):
        entity["language"] = item.attrs["language"]
    entities.append(entity)
