"""A ``Reply`` as Telegram HTML: every dynamic value escaped, split under 4096 characters.

The reply is rendered whole, then cut by ``split_html``, which knows the markup: it cuts only
between tags and entities (never inside ``&amp;`` or ``<b>``), closes the tags open at a cut
and opens them again in the next chunk, and prefers the last line break that fits, so rows stay
whole and a table's ``<pre>`` continues in the next message. Only a single line longer than a
message is cut inside its text. Telegram counts its limit after parsing entities; the HTML
source is never shorter, and is measured in UTF-16 code units (an emoji counts twice), so a
chunk within ``LIMIT`` is within Telegram's limit however Telegram counts.
"""

from __future__ import annotations

import re
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.reply import Reply, Severity

LIMIT = 4096
"""Telegram's message limit: the one definition every split and check uses."""
ICONS = {Severity.INFO: "", Severity.WARNING: "⚠️ ", Severity.CRITICAL: "🚨 "}
_TOKEN = re.compile(r"<[^<>]*>|&#?[A-Za-z0-9]+;|\n|[^<&\n]+|[<&]")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _table_lines(reply: Reply) -> list[str]:
    if reply.table is None:
        return []
    rows = (reply.table.headers, *reply.table.rows)
    widths = [max(len(str(c)) for c in col) for col in zip(*rows, strict=False)]
    return ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)) for row in rows]


def to_html(reply: Reply, limit: int = LIMIT) -> list[str]:
    """The message texts to send, in order (one for all but the longest replies)."""
    lines = [f"<b>{ICONS[reply.severity]}{escape(reply.title)}</b>"]
    lines += [escape(line) for line in reply.lines]
    lines += [f"{escape(label)}: <b>{escape(value)}</b>" for label, value in reply.fields]
    table = _table_lines(reply)
    if table:
        lines.append("<pre>" + "\n".join(escape(line) for line in table) + "</pre>")
    return split_html("\n".join(lines), limit)


def split_html(html: str, limit: int = LIMIT) -> list[str]:
    """``html`` (well formed) as chunks of at most ``limit`` UTF-16 units, each well formed
    and with visible text; the line breaks the cuts fall on are dropped."""
    tokens = _TOKEN.findall(html)
    chunks: list[str] = []
    stack: list[tuple[str, str]] = []  # (name, opening tag) of the tags open here
    i = 0
    while i < len(tokens):
        while i < len(tokens) and tokens[i] == "\n":  # a cut fell here: no leading break
            i += 1
        opened = "".join(tag for _, tag in stack)
        parts, size, visible = [opened], utf16_len(opened), False
        closing = _closing(stack)
        # the last line break in this chunk: (parts before it, token after it, open tags)
        cut: tuple[int, int, list[tuple[str, str]], bool] | None = None
        while i < len(tokens):
            token = tokens[i]
            width = utf16_len(token)
            tag = _TAG.match(token) if token.startswith("<") and len(token) > 1 else None
            after = stack
            if tag is not None:
                after = stack[:-1] if tag.group(1) else [*stack, (tag.group(2).lower(), token)]
            if size + width + utf16_len(_closing(after)) > limit:
                if token == "\n":  # the break itself is the cut
                    i += 1
                elif cut is not None and cut[3]:
                    del parts[cut[0] :]
                    i, stack, closing = cut[1], cut[2], _closing(cut[2])
                elif token[0] not in "<&":  # plain text (a tag or an entity stays whole)
                    room = limit - size - utf16_len(closing)
                    head = _prefix(token, room)
                    if head:  # a line longer than a message: cut inside its text
                        parts.append(head)
                        visible = visible or not head.isspace()
                        tokens[i] = token[len(head) :]
                break
            if token == "\n":
                cut = (len(parts), i + 1, stack, visible)
            elif tag is None:
                visible = visible or not token.isspace()
            parts.append(token)
            size += width
            stack, closing = after, _closing(after)
            i += 1
        if visible:
            chunks.append("".join(parts) + closing)
        elif i < len(tokens) and not parts[1:]:
            raise ValueError(f"cannot fit {tokens[i][:20]!r} in {limit} characters")
    return chunks


def _closing(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def _prefix(text: str, room: int) -> str:
    """The longest start of ``text`` that is at most ``room`` UTF-16 units."""
    if room <= 0:
        return ""
    if utf16_len(text) == len(text):
        return text[:room]
    out, used = 0, 0
    for ch in text:
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > room:
            break
        out += 1
    return text[:out]


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in reply.buttons]]
    )
