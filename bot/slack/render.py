"""A ``Reply`` as Block Kit, with the plain text every Slack message also needs.

Dynamic values are escaped for mrkdwn (&, <, >). Slack's limits: 50 blocks, 3000 characters
per section, 10 fields per section, 150 characters in a header; a table goes in code blocks
split on row boundaries.
"""

from __future__ import annotations

from typing import Any

from handlers.reply import Reply, Severity

SECTION_LIMIT = 3000
BLOCKS_PER_MESSAGE = 12  # x 3000 characters stays under the 40,000 of one message
HEADER_LIMIT = 150
TEXT_LIMIT = 39_000  # Slack truncates a message's text at 40,000 characters
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


def to_messages(reply: Reply) -> list[tuple[str, list[dict[str, Any]]]]:
    """The Slack messages for one reply, in order: (fallback text, blocks) each within
    Slack's limits. Nothing is cut: a long reply becomes several messages."""
    title = (ICONS[reply.severity] + reply.title)[:HEADER_LIMIT]
    header = {"type": "header", "text": {"type": "plain_text", "text": title, "emoji": True}}
    body: list[dict[str, Any]] = []
    if reply.lines:
        body += _code_free_sections([escape(line) for line in reply.lines])
    fields = [{"type": "mrkdwn", "text": f"*{escape(k)}*\n{escape(v)}"} for k, v in reply.fields]
    for i in range(0, len(fields), 10):
        body.append({"type": "section", "fields": fields[i : i + 10]})
    if reply.table is not None:
        rows = (reply.table.headers, *reply.table.rows)
        widths = [max(len(str(c)) for c in col) for col in zip(*rows, strict=False)]
        lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)) for r in rows]
        body += _code_blocks([escape(line) for line in lines])
    actions = []
    if reply.buttons:
        actions.append(
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
    pages = [body[i : i + BLOCKS_PER_MESSAGE] for i in range(0, len(body), BLOCKS_PER_MESSAGE)]
    pages = pages or [[]]
    messages = []
    for n, page in enumerate(pages):
        blocks = ([header] if n == 0 else []) + page
        if n == len(pages) - 1:
            blocks += actions
        # the text is parsed like mrkdwn (a raw ``<!channel>`` would notify everyone)
        text = (
            escape(reply.plain_text())
            if len(pages) == 1
            else _fallback(escape(title) if n == 0 else "", page)
        )
        messages.append((text[:TEXT_LIMIT], blocks))
    return messages


def _code_free_sections(lines: list[str]) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = []
    current: list[str] = []
    for line in lines:
        if current and sum(len(x) + 1 for x in current) + len(line) > SECTION_LIMIT:
            sections.append(_section("\n".join(current)))
            current = []
        current.append(line[:SECTION_LIMIT])
    if current:
        sections.append(_section("\n".join(current)))
    return sections


def _fallback(title: str, blocks: list[dict[str, Any]]) -> str:
    """The notification text: the title and the blocks' text (Slack truncates at 40,000)."""
    parts = [title] if title else []
    for block in blocks:
        if "text" in block:
            parts.append(block["text"]["text"].strip("`"))
        parts += [f["text"] for f in block.get("fields", ())]
    return "\n".join(parts)
