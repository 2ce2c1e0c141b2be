"""The command API's tokens: ``UPBIT_BOT_COMMAND_TOKENS="name:role:token,name2:role2:token2"``.

Each token names a principal (audited as ``command_api``/``name``) and its role (``viewer``,
``operator``, ``admin``: the roles of chat). A problem is a config line that names the entry
by position and name, never its token; ``match`` compares against every token in constant
time, so response timing tells nothing of a guess.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field

from handlers.registry import Role

VARIABLE = "UPBIT_BOT_COMMAND_TOKENS"
MIN_TOKEN_CHARS = 24
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_ROLES = {role.name.lower(): role for role in Role}


@dataclass(frozen=True, slots=True)
class ApiToken:
    name: str
    role: Role
    secret: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class ApiTokens:
    tokens: tuple[ApiToken, ...]

    def match(self, given: str) -> ApiToken | None:
        """The token ``given`` is, or None; every token is compared (no early exit)."""
        raw = given.encode(errors="surrogateescape")
        found = None
        for token in self.tokens:
            if hmac.compare_digest(raw, token.secret) and found is None:
                found = token
        return found


def parse_tokens(text: str) -> tuple[ApiTokens, list[str]]:
    """The tokens of ``text`` and the config lines for the entries that are wrong."""
    tokens: list[ApiToken] = []
    problems: list[str] = []
    for number, entry in enumerate((e.strip() for e in text.split(",")), start=1):
        where = f"{VARIABLE}: entry {number}"
        if not entry:
            problems.append(f"{where} is empty (entries are name:role:token, comma-separated)")
            continue
        name, role, secret = _split(entry)
        if secret is None:
            problems.append(f"{where} is not name:role:token")
            continue
        where += f" ({name})" if _NAME.match(name) else ""
        line = _check(name, role, secret, tokens)
        if line is not None:
            problems.append(f"{where}: {line}")
            continue
        tokens.append(ApiToken(name, _ROLES[role], secret.encode()))
    return ApiTokens(tuple(tokens)), problems


def _split(entry: str) -> tuple[str, str, str | None]:
    parts = entry.split(":", 2)
    if len(parts) != 3:
        return "", "", None
    return parts[0].strip(), parts[1].strip().lower(), parts[2].strip()


def _check(name: str, role: str, secret: str, seen: list[ApiToken]) -> str | None:
    if not _NAME.match(name):
        return "the name must be 1-32 letters, digits, '_', '.' or '-'"
    if role not in _ROLES:
        return f"role {role!r} is not one of {', '.join(_ROLES)}"
    if len(secret) < MIN_TOKEN_CHARS or any(c.isspace() for c in secret):
        return f"the token must be at least {MIN_TOKEN_CHARS} characters, no spaces"
    if any(t.name == name for t in seen):
        return "this name is used twice"
    if any(hmac.compare_digest(t.secret, secret.encode()) for t in seen):
        return "this token is used twice"
    return None
