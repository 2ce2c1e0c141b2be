"""``to_html`` splits only where Telegram can parse both halves, within its one limit.

Every chunk is checked with the fake Bot API's own HTML parser (strict: the same errors as
Telegram's "can't parse entities"), and the text the chunks carry is the reply's text: nothing
cut off, nothing added but the line breaks the splits replace.
"""

from __future__ import annotations

import re

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from bot.telegram.render import LIMIT, to_html
from handlers.reply import Reply, Table
from tests.fakes.telegram.html import parse_html, utf16_len

# ``&<>`` and text that grows when escaped, emoji (two UTF-16 units), Korean, newlines
ALPHABET = st.sampled_from(["&", "<", ">", '"', "a", "b", " ", "\n", "원", "🚀", "é"])
TEXT = st.text(ALPHABET, max_size=60) | st.text(ALPHABET, min_size=900, max_size=9000)


def plain_chunks(chunks: list[str]) -> list[str]:
    """What Telegram shows of each chunk; raises like Telegram on a chunk it cannot parse."""
    out = []
    for chunk in chunks:
        assert utf16_len(chunk) <= LIMIT, utf16_len(chunk)
        plain, _ = parse_html(chunk)
        assert plain.strip(), repr(chunk)  # Telegram refuses an empty message
        out.append(plain)
    return out


def squeeze(text: str) -> str:
    """The text without line breaks and blanks (a split may turn one into the other)."""
    return re.sub(r"\s+", "", text)


@settings(max_examples=80, phases=(Phase.explicit, Phase.reuse, Phase.generate))  # shrinking
@given(  # texts of thousands of characters takes minutes; the failing example is shown whole
    title=TEXT,
    lines=st.lists(TEXT, max_size=4),
    fields=st.lists(st.tuples(TEXT, TEXT), max_size=3),
    rows=st.lists(st.tuples(TEXT, TEXT), max_size=4),
)
def test_every_chunk_is_valid_html_within_the_limit_and_nothing_is_lost(
    title: str,
    lines: list[str],
    fields: list[tuple[str, str]],
    rows: list[tuple[str, str]],
) -> None:
    table = Table(("h1", "h2"), tuple(rows)) if rows else None
    reply = Reply(title or "t", tuple(lines), tuple(fields), table)

    chunks = to_html(reply)

    shown = "".join(plain_chunks(chunks))
    assert squeeze(shown) == squeeze(reply.plain_text())


def test_a_long_line_of_ampersands_is_not_cut_inside_an_entity() -> None:
    """The issue's case: 5,000 ``&`` are 25,000 characters of ``&amp;``; the old cut at 4096
    left ``&am`` at the end of the line (and dropped the rest)."""
    reply = Reply("fills", ("&" * 5000, "<b>" * 2000))

    chunks = to_html(reply)

    shown = plain_chunks(chunks)
    assert "".join(shown).count("&") == 5000
    assert "".join(shown).count("<b>") == 2000
    assert len(chunks) > 1


def test_a_long_bold_value_is_closed_and_reopened_across_chunks() -> None:
    reply = Reply("t", fields=(("note", "x&y " * 3000),))

    chunks = to_html(reply)

    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.count("<b>") == chunk.count("</b>")
    assert squeeze("".join(plain_chunks(chunks))) == squeeze(reply.plain_text())


def test_a_table_splits_on_rows_and_reopens_pre() -> None:
    rows = tuple((str(n), "x&" * 30) for n in range(300))
    reply = Reply("report", table=Table(("n", "text"), rows))
    whole_rows = set(reply.plain_text().splitlines()[1:])

    chunks = to_html(reply)

    assert len(chunks) > 1
    for chunk in chunks:
        plain, entities = parse_html(chunk)
        assert [e["type"] for e in entities][-1] == "pre"
        table_lines = plain.splitlines()[1:] if chunk is chunks[0] else plain.splitlines()
        assert set(table_lines) <= whole_rows  # no row cut in two


def test_a_short_reply_is_one_chunk() -> None:
    reply = Reply("Status", ("a & b",), (("Mode", "<paper>"),))

    assert to_html(reply) == ["<b>Status</b>\na &amp; b\nMode: <b>&lt;paper&gt;</b>"]
