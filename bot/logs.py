"""Logging set-up: plain or JSON lines, and a redactor that masks every secret on the way out.

Redaction runs on the formatted text (message, arguments, traceback, stack), not on the
record, so a secret inside an exception message or a library's request line (httpx logs
``/bot<TOKEN>/getUpdates``) is masked too. Each configured secret is masked in the forms it
travels in: as is, URL-encoded, and base64 (a JWT or a basic-auth header carries it that way).
Patterns catch what the config does not list: a password in a URL (the store URL), Telegram
and Slack tokens, bearer tokens, and what Slack's libraries print at DEBUG (a whole slash
command: its ``token``, the verification token, and its ``response_url``, which lets anyone
post into the channel for half an hour), whether as JSON, a dict or a form body; and the
random part of any capability URL (a path segment of 20+ letters and digits, as Slack's
response and webhook URLs end with), where slack_sdk logs the URL it posts to.

A warning that repeats is rate-limited (``RepeatLimiter``, ``RepeatFilter``): asyncio logs every
failed ``accept()`` with a traceback, and at the open-file limit that was 185,000 lines in 15 s.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import quote, quote_plus

MASK = "***"
#: Shorter values would mask ordinary words; real secrets are far longer.
MIN_SECRET_LEN = 4
#: Shortest base64 run worth masking (shorter runs appear in ordinary text by chance).
MIN_BASE64_LEN = 8
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # scheme://user:password@host -> scheme://user:***@host (PostgreSQL URLs, proxies)
    (re.compile(r"(://[^:/@\s]+:)[^@/\s]+@"), rf"\g<1>{MASK}@"),
    # Telegram bot tokens: <bot id>:<35 characters>
    (re.compile(r"(?<!\d)(\d{5,}:)[A-Za-z0-9_-]{30,}"), rf"\g<1>{MASK}"),
    # Slack bot, user, app and refresh tokens
    (re.compile(r"\bx(?:ox[abeoprs]|app)-[A-Za-z0-9-]{6,}"), MASK),
    # Authorization: Bearer <token>
    (re.compile(r"(\bBearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), rf"\g<1>{MASK}"),
    # "token": "...", 'response_url': '...', token=...& (JSON, a dict's repr, a form body)
    (
        re.compile(r"""(\b(?:token|response_url)\\?["']?\s*[:=]\s*\\?["']?)[^"'&\s,}\\]+"""),
        rf"\g<1>{MASK}",
    ),
    # a capability URL's random segment: /response/<32 hex>, /commands/T1/42/<24 chars>
    (
        re.compile(r"/(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{20,}(?![\w.-])"),
        f"/{MASK}",
    ),
)


def _base64_runs(raw: bytes) -> set[str]:
    """The base64 characters that encode ``raw`` wherever it sits in a longer input.

    base64 works on 3-byte groups, so ``raw`` encodes one of three ways depending on its
    offset; for each, keep the characters made only of ``raw``'s bits (standard and URL-safe
    alphabets)."""
    runs: set[str] = set()
    for shift in range(3):
        text = base64.b64encode(b"\0" * shift + raw).decode()
        start = -(-8 * shift // 6)  # first character past the filler's bits
        end = 8 * (shift + len(raw)) // 6  # last character wholly inside raw
        run = text[start:end]
        if len(run) >= MIN_BASE64_LEN:
            runs.add(run)
            runs.add(run.replace("+", "-").replace("/", "_"))
    return runs


def secret_forms(secret: str) -> set[str]:
    """Every text form of ``secret`` the redactor masks."""
    if len(secret) < MIN_SECRET_LEN:
        return set()
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}
    return forms | _base64_runs(secret.encode())


class Redactor:
    """Masks known secret values (in every form) and secret-shaped patterns in text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            forms |= secret_forms(secret)
        # longest first: a form that contains another must go whole
        self._forms = sorted(forms, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class RepeatLimiter:
    """Lets ``burst`` lines of one kind out per ``window_s`` and counts the rest.

    ``admit(key)`` is None for a line to drop, else how many of its kind were dropped since
    the last that went out (so that line can say so). At most ``max_keys`` kinds are
    remembered, the least recently seen forgotten first.
    """

    def __init__(
        self,
        *,
        burst: int = 3,
        window_s: float = 60.0,
        max_keys: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._burst = burst
        self._window_s = window_s
        self._max_keys = max_keys
        self._clock = clock
        #: key -> [window start, lines out in this window, lines dropped since the last out]
        self._seen: OrderedDict[Hashable, list[float]] = OrderedDict()

    def admit(self, key: Hashable) -> int | None:
        now = self._clock()
        state = self._seen.pop(key, None)
        if state is None or now - state[0] >= self._window_s:
            dropped = 0 if state is None else int(state[2])
            state = [now, 0, dropped]
        self._seen[key] = state
        while len(self._seen) > self._max_keys:
            self._seen.popitem(last=False)
        if state[1] >= self._burst:
            state[2] += 1
            return None
        state[1] += 1
        dropped, state[2] = int(state[2]), 0
        return dropped


class RepeatFilter(logging.Filter):
    """Rate-limits repeated WARNING-and-above lines (same logger, level, first line of the
    formatted message and exception, so the same warning about two orders is two kinds); the
    first line out after a quiet spell says how many like it were suppressed. Lower levels
    pass untouched: debug output is asked for and must be complete."""

    def __init__(self, limiter: RepeatLimiter | None = None) -> None:
        super().__init__()
        self._limiter = limiter or RepeatLimiter()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        first = record.getMessage().partition("\n")[0]
        exc = record.exc_info[1] if record.exc_info else None
        why = "" if exc is None else f"{type(exc).__name__}: {exc}"
        dropped = self._limiter.admit((record.name, record.levelno, first, why))
        if dropped is None:
            return False
        if dropped:
            record.msg = f"{record.getMessage()} [{dropped} more like this suppressed]"
            record.args = None
        return True


class PlainFormatter(logging.Formatter):
    """``time level logger: message`` with everything (traceback included) redacted."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self._redactor.redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``msg`` and, if any, ``exc``
    and ``stack``. Values are redacted before encoding, so JSON escaping cannot hide a secret
    from the redactor."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        redact = self._redactor.redact
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exc"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)


def _log_uncaught(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    """An exception nobody caught still goes out through the redacting handler."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    logging.getLogger("bot").critical("uncaught exception", exc_info=(kind, value, tb))


def setup_logging(level: str, *, json_lines: bool, secrets: Iterable[str] = ()) -> None:
    """Route every log line through one stderr handler that redacts ``secrets``.

    Libraries stay at WARNING, except httpx's request lines at DEBUG: they show what was
    called, and their URLs (Telegram's carry the bot token) are redacted like everything else.
    """
    redactor = Redactor(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(redactor) if json_lines else PlainFormatter(redactor))
    handler.addFilter(RepeatFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet = max(logging.WARNING, root.level)
    for noisy in ("httpx", "httpcore", "websockets", "aiosqlite", "alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(quiet)
    if root.level <= logging.DEBUG:
        logging.getLogger("httpx").setLevel(logging.INFO)
    logging.captureWarnings(True)  # a warning's text is printed through the redactor too
    sys.excepthook = _log_uncaught
