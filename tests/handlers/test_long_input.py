"""A long message never reaches the parser (issue #12.4): the sender is checked first, and
the text is capped at ``MAX_COMMAND_CHARS`` before a word of it is parsed.

Before, every message went through ``shlex`` (whose work grows with the square of a long word)
before anyone asked who sent it, so a stranger could make the bot chew on 100 kB messages.
Whether the parser ran is observed, not timed: a profile hook counts the calls made into the
parser module and ``shlex`` while the dispatcher handles the message.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable
from types import FrameType
from typing import Any, TypeVar

import handlers.parser
from handlers.parser import MAX_COMMAND_CHARS
from tests.handlers.conftest import STRANGER, VIEWER, Rig

T = TypeVar("T")
PARSER_FILE, SHLEX = handlers.parser.__file__, sys.modules["shlex"].__file__
PARSER = {"parse", "split_command", "parse_args", "convert", "parse_money"}  # not command_name
HUGE = "/status " + "a" * 100_000  # 100 kB in one word: the parser's worst case


async def parser_calls(work: Awaitable[T]) -> tuple[T, int]:
    """``work``'s result and how many calls were made into the parser or ``shlex`` meanwhile
    (``command_name``, which only takes the first word for the audit, is not parsing)."""
    calls = 0

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls
        code = frame.f_code
        if event != "call":
            return
        if code.co_filename == SHLEX or (
            code.co_filename == PARSER_FILE and code.co_name in PARSER
        ):
            calls += 1

    sys.setprofile(profile)
    try:
        result = await work
    finally:
        sys.setprofile(None)
    return result, calls


async def audit(rig: Rig) -> list[tuple[str, str, str | None]]:
    return [(a.command, a.outcome, a.detail) for a in reversed(await rig.store.audit_log(10))]


async def test_the_counter_sees_the_parser_run(rig: Rig) -> None:
    reply, calls = await parser_calls(rig.say(VIEWER, "/status"))

    assert "KRW-BTC" in reply.plain_text()
    assert calls > 0


async def test_a_strangers_100_kb_message_is_refused_without_parsing(rig: Rig) -> None:
    reply, calls = await parser_calls(rig.say(STRANGER, HUGE))

    assert "not allowed" in reply.title
    assert calls == 0
    assert await audit(rig) == [("status", "denied", "unknown user")]
    (entry,) = await rig.store.audit_log(1)
    assert entry.arguments == {"text": HUGE[:200]}


async def test_a_users_100_kb_message_is_refused_as_too_long_without_parsing(rig: Rig) -> None:
    en, calls = await parser_calls(rig.say(VIEWER, HUGE, "en"))
    ko = await rig.say(VIEWER, HUGE, "ko")

    assert calls == 0
    assert en.ephemeral
    assert f"at most {MAX_COMMAND_CHARS:,} characters" in en.plain_text()
    assert "100,008" in en.plain_text()
    assert f"{MAX_COMMAND_CHARS:,}자" in ko.plain_text()
    assert [a[:2] for a in await audit(rig)] == [("status", "usage")] * 2


async def test_a_message_at_the_limit_is_parsed(rig: Rig) -> None:
    text = "/status" + " " * (MAX_COMMAND_CHARS - len("/status"))

    reply, calls = await parser_calls(rig.say(VIEWER, text))

    assert "KRW-BTC" in reply.plain_text()
    assert calls > 0


async def test_a_long_first_word_is_audited_within_the_command_column(rig: Rig) -> None:
    await rig.say(STRANGER, "/" + "x" * 500)

    (entry,) = await rig.store.audit_log(1)
    assert len(entry.command) <= 64  # the column's width (PostgreSQL would refuse more)
