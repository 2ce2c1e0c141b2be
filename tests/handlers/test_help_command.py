"""``/help <command>``: one command's usage, description and examples, from the catalogs.

Until issue #13 ``/help`` took no argument, so ``/help optimize`` answered "Too many words".
"""

from __future__ import annotations

import pytest

from handlers.auth import Principal
from handlers.commands import build_registry
from handlers.fmt import catalog
from handlers.i18n import LANGUAGES
from handlers.reply import Severity
from tests.handlers.conftest import CONSOLE, OPERATOR, VIEWER, Rig

SLACK_ADMIN = Principal("slack", "U1", "C1")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("who", "text"),
    [
        (OPERATOR, "/help optimize"),
        (OPERATOR, "/help /optimize"),
        (OPERATOR, "/help opt"),  # an alias names the same command
        (OPERATOR, "/help OPTIMIZE"),
        (CONSOLE, "help optimize"),
        # Slack: "/upbit help optimize" arrives as "help optimize"; a user who writes the
        # command as Slack does ("/upbit optimize") gets the same answer
        (SLACK_ADMIN, "help optimize"),
        (SLACK_ADMIN, "help /upbit optimize"),
        (SLACK_ADMIN, "help upbit optimize"),
    ],
)
async def test_help_of_one_command_shows_its_usage_description_and_examples(
    rig: Rig, language: str, who: Principal, text: str
) -> None:
    t = catalog(language)
    reply = await rig.say(who, text, language)
    shown = reply.plain_text()
    assert reply.severity is not Severity.WARNING, shown
    assert t.t("parse.extra", words="optimize") not in shown
    assert "/optimize" in reply.title, shown
    command = rig.dispatcher.registry.lookup("optimize")
    assert command is not None
    assert command.usage(t) in shown
    assert t.t("cmd.optimize.about") in shown
    for example in t.t("cmd.optimize.examples").splitlines():
        assert example in shown
    assert "/opt" in shown  # its alias


@pytest.mark.parametrize(
    ("language", "text", "expected", "close"),
    [
        ("en", "/help optimise", "There is no command /optimise", "/optimize"),
        ("ko", "/help optimise", "/optimise 명령은 없습니다", "/optimize"),
        ("en", "/help stauts", "There is no command /stauts", "/status"),
        ("ko", "/help stauts", "/stauts 명령은 없습니다", "/status"),
    ],
)
async def test_help_of_an_unknown_command_names_the_close_ones(
    rig: Rig, language: str, text: str, expected: str, close: str
) -> None:
    reply = await rig.say(OPERATOR, text, language)
    assert reply.severity is Severity.WARNING
    assert expected in reply.plain_text(), reply.plain_text()
    assert close in reply.plain_text()


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Send /help for the commands"), ("ko", "명령 목록은 /help")],
)
async def test_help_of_nothing_like_a_command_says_to_send_help(
    rig: Rig, language: str, expected: str
) -> None:
    reply = await rig.say(OPERATOR, "/help xyzzyq", language)
    assert reply.severity is Severity.WARNING
    assert expected in reply.plain_text(), reply.plain_text()


@pytest.mark.parametrize(("language", "needs"), [("en", "operator"), ("ko", "운영자")])
async def test_help_of_a_command_above_the_role_says_who_may_run_it(
    rig: Rig, language: str, needs: str
) -> None:
    """A viewer may read what /buy does; the help says it needs an operator."""
    reply = await rig.say(VIEWER, "/help buy", language)
    assert reply.severity is not Severity.WARNING, reply.plain_text()
    assert catalog(language).t("cmd.buy.about") in reply.plain_text()
    assert needs in reply.plain_text()


@pytest.mark.parametrize(
    ("language", "mention"), [("en", "/help <command>"), ("ko", "/help <명령>")]
)
async def test_plain_help_lists_the_commands_and_mentions_help_of_one(
    rig: Rig, language: str, mention: str
) -> None:
    reply = await rig.say(OPERATOR, "/help", language)
    shown = reply.plain_text()
    assert "/status" in shown
    assert "/optimize" in shown
    assert mention in shown


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_registered_command_has_its_help_texts(language: str) -> None:
    """Each command has a menu line, a usage entry and a paragraph for ``/help <command>``;
    examples, where a catalog has them, are one per line and start with the command."""
    t = catalog(language)
    for command in build_registry():
        assert t.t(command.help_key).strip(), command.name
        assert command.usage_key in t.messages, command.name
        about = t.t(command.about_key)
        assert about.strip(), command.name
        assert "\n" not in about.strip(), command.name  # one paragraph
        if command.examples_key in t.messages:
            for example in t.t(command.examples_key).splitlines():
                assert example.startswith(f"/{command.name}"), (command.name, example)
