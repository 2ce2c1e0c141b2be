"""A ``Reply`` as Telegram HTML: every dynamic value escaped, split under 4096 characters.

Telegram counts the limit after entity parsing, but escaping only lengthens the source, so
splitting the HTML source at 4096 is always safe. Splits fall on row boundaries; a table is
sent as ``<pre>`` so its columns line up, and a split inside it closes and reopens the block.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.reply import Reply, Severity

LIMIT = 4096
ICONS = {Severity.INFO: "", Severity.WARNING: "⚠️ ", Severity.CRITICAL: "🚨 "}


def _table_lines(reply: Reply) -> list[str]:
    if reply.table is None:
        return []
    rows = (reply.table.headers, *reply.table.rows)
    widths = [max(len(str(c)) for c in col) for col in zip(*rows, strict=False)]
    return ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)) for row in rows]


def to_html(reply: Reply, limit: int = LIMIT) -> list[str]:
    """The message texts to send, in order (one for all but the longest replies)."""
    head = [f"<b>{ICONS[reply.severity]}{escape(reply.title)}</b>"]
    body = [escape(line) for line in reply.lines]
    body += [f"{escape(label)}: <b>{escape(value)}</b>" for label, value in reply.fields]
    pre = [escape(line) for line in _table_lines(reply)]
    chunks: list[str] = []
    current: list[str] = []

    def size(lines: list[str]) -> int:
        return sum(len(x) + 1 for x in lines)

    for line in head + body:
        if current and size(current) + len(line) + 1 > limit:
            chunks.append("\n".join(current))
            current = []
        current.append(line[:limit])
    if pre:
        block: list[str] = []
        for line in pre:
            wrapped = "<pre>" + "\n".join([*block, line]) + "</pre>"
            if block and size(current) + len(wrapped) + 1 > limit:
                current.append("<pre>" + "\n".join(block) + "</pre>")
                chunks.append("\n".join(current))
                current, block = [], []
            block.append(line[: limit - 12])
        current.append("<pre>" + "\n".join(block) + "</pre>")
    if current:
        chunks.append("\n".join(current))
    return chunks


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in reply.buttons]]
    )
