"""A ``Reply`` as Block Kit, with the plain text every Slack message also needs.

Dynamic values are escaped for mrkdwn (&, <, >). Slack's limits: 50 blocks, 3000 characters
per section, 10 fields per section, 150 characters in a header; a table goes in code blocks
split on row boundaries.
"""

from __future__ import annotations

from typing import Any

from handlers.reply import Reply, Severity

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
ICONS = {Severity.INFO: "", Severity.WARNING: ":warning: ", Severity.CRITICAL: ":rotating_light: "}


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _code_blocks(lines: list[str]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    current: list[str] = []
    for line in lines:
        if current and sum(len(x) + 1 for x in current) + len(line) + 8 > SECTION_LIMIT:
            blocks.append(_section("```" + "\n".join(current) + "```"))
            current = []
        current.append(escape(line[: SECTION_LIMIT - 8]))
    if current:
        blocks.append(_section("```" + "\n".join(current) + "```"))
    return blocks


def to_blocks(reply: Reply) -> list[dict[str, Any]]:
    title = (ICONS[reply.severity] + reply.title)[:HEADER_LIMIT]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title, "emoji": True}}
    ]
    if reply.lines:
        text = "\n".join(escape(line) for line in reply.lines)
        blocks += [
            _section(text[i : i + SECTION_LIMIT]) for i in range(0, len(text), SECTION_LIMIT)
        ]
    fields = [{"type": "mrkdwn", "text": f"*{escape(k)}*\n{escape(v)}"} for k, v in reply.fields]
    for i in range(0, len(fields), 10):
        blocks.append({"type": "section", "fields": fields[i : i + 10]})
    if reply.table is not None:
        rows = (reply.table.headers, *reply.table.rows)
        widths = [max(len(str(c)) for c in col) for col in zip(*rows, strict=False)]
        lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)) for r in rows]
        blocks += _code_blocks(lines)
    if reply.buttons:
        blocks.append(
            {
                "type": "actions",
                "block_id": "ubot_actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": b.label},
                        "action_id": f"ubot_{n}",
                        "value": b.data,
                    }
                    for n, b in enumerate(reply.buttons)
                ],
            }
        )
    return blocks[:50]


def fallback(reply: Reply) -> str:
    return reply.plain_text()[:SECTION_LIMIT]
