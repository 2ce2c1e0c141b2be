"""UPBIT_BOT_COMMAND_TOKENS: names, roles and tokens, its config lines, and the kind's checks;
no line ever shows a token."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from bot.command_http.kind import COMMAND_API, CommandApiConfig
from bot.command_http.tokens import parse_tokens
from bot.config import load_config
from bot.config.errors import ConfigError
from handlers.registry import Role

GOOD = "a" * 24
OTHER = "b" * 24


def test_several_tokens_each_with_a_name_and_a_role() -> None:
    tokens, problems = parse_tokens(f"ci:operator:{GOOD}, wall : VIEWER : {OTHER}")
    assert problems == []
    assert [(t.name, t.role) for t in tokens.tokens] == [
        ("ci", Role.OPERATOR),
        ("wall", Role.VIEWER),
    ]
    assert tokens.match(OTHER) is tokens.tokens[1]
    assert tokens.match(GOOD + "x") is None
    assert tokens.match("") is None


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("ci:operator", "entry 1 is not name:role:token"),
        (f"ci:boss:{GOOD}", "entry 1 (ci): role 'boss' is not one of viewer, operator, admin"),
        ("ci:admin:short-secret-99", "entry 1 (ci): the token must be at least 24 characters"),
        (f"c i:admin:{GOOD}", "entry 1: the name must be 1-32 letters"),
        (f"ci:admin:{GOOD},ci:viewer:{OTHER}", "entry 2 (ci): this name is used twice"),
        (f"ci:admin:{GOOD},cd:viewer:{GOOD}", "entry 2 (cd): this token is used twice"),
        (f"ci:admin:{GOOD},", "entry 2 is empty"),
    ],
)
def test_each_wrong_entry_is_one_clear_line_without_its_token(text: str, line: str) -> None:
    _, problems = parse_tokens(text)
    assert len(problems) == 1, problems
    assert line in problems[0], problems
    assert problems[0].startswith("UPBIT_BOT_COMMAND_TOKENS: ")
    assert GOOD not in problems[0]
    assert "short-secret-99" not in problems[0]


def test_the_kind_runs_only_when_enabled_with_tokens() -> None:
    on, off = CommandApiConfig(enabled=True), CommandApiConfig()
    tokens = {"command_tokens": SecretStr(f"ci:admin:{GOOD}")}
    assert COMMAND_API.enabled(on, tokens)
    assert not COMMAND_API.enabled(off, tokens)
    assert not COMMAND_API.enabled(on, {"command_tokens": None})
    assert COMMAND_API.problems(on, {"command_tokens": None}) == [
        "command_api.enabled = true: requires UPBIT_BOT_COMMAND_TOKENS in the environment or .env"
    ]
    assert COMMAND_API.targets(on) == []
    assert COMMAND_API.credentials(on, tokens) == []


def test_the_config_refuses_bad_tokens_with_its_lines() -> None:
    env = {"UPBIT_BOT_COMMAND_API__ENABLED": "1", "UPBIT_BOT_COMMAND_TOKENS": f"ci:boss:{GOOD}"}
    with pytest.raises(ConfigError) as caught:
        load_config(None, environ=env)
    assert "role 'boss'" in str(caught.value)
    assert GOOD not in str(caught.value)
    env["UPBIT_BOT_COMMAND_TOKENS"] = f"ci:admin:{GOOD}"
    cfg = load_config(None, environ=env)
    assert COMMAND_API.enabled(cfg.section_of(COMMAND_API), cfg.secrets.of(COMMAND_API))
