"""Text -> (command, typed arguments), or a ``UsageError`` that shows the right usage line.

Accepted forms: ``/status``, ``status``, ``/status@MyBot`` (Telegram groups); Slack's
``/upbit status`` reaches here as ``status`` (the transport drops its own slash command).
Money takes ``100000``, ``100,000``, ``10만``, ``1억 2천만``-style ``1억2000만`` and ``5만원``,
in whole won (KRW has no smaller unit, and the order sends exactly what the preview shows);
markets take ``btc``, ``KRW-BTC`` or ``krw-btc``. A comma in any number only groups thousands
(``50,000``, ``1,234,567``): ``50000,50`` is refused, never read as 5,000,050.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from handlers.i18n import Catalog
from handlers.registry import ArgSpec, Command, Registry

MAX_COMMAND_CHARS = 1024
"""The longest message read as a command; anything longer is refused before it is parsed
(the longest real command, a ``/backtest`` with its parameters, is under 200)."""
_COMMAND_COLUMN = 64  # the audit log's command column
_UNITS = {"억": Decimal(100_000_000), "만": Decimal(10_000), "천": Decimal(1000)}
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)"  # grouped by thousands, or no commas at all
_MONEY_PART = re.compile(rf"({_DIGITS}(?:\.\d+)?)(억|만|천)?")
_NUMBER = re.compile(rf"[+-]?{_DIGITS}(?:\.\d*)?%?")
_MARKET = re.compile(r"^(?:(KRW|BTC|USDT)-)?([A-Z0-9]{1,15})$")
_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")


class UsageError(Exception):
    """Bad input: ``message`` says what is wrong, ``usage`` how to write it (both already in
    the reader's language). A handler may raise it with an empty usage; the dispatcher fills
    in the command's own. The offline commands (``bot/cli_*.py``) raise it too: one line on
    stderr, exit code 2."""

    def __init__(self, message: str, usage: str = "", command: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
        self.command = command


class NotForMe(Exception):
    """``/cmd@OtherBot``: a command for another bot in the same group; stay silent."""


@dataclass(frozen=True, slots=True)
class Parsed:
    command: Command
    args: dict[str, Any]
    words: tuple[str, ...]


def parse_money(text: str) -> Decimal | None:
    """``100,000``, ``10만``, ``1억2000만``, ``1.5억``, ``5만원`` -> Decimal; None if not money
    (a comma that does not group thousands included)."""
    raw = text.strip().lower()
    for suffix in ("krw", "원", "₩"):
        raw = raw.removesuffix(suffix).removeprefix(suffix)
    if not raw:
        return None
    total, pos = Decimal(0), 0
    for match in _MONEY_PART.finditer(raw):
        if match.start() != pos:
            return None
        number, unit = match.groups()
        total += Decimal(number.replace(",", "")) * (_UNITS[unit] if unit else 1)
        pos = match.end()
        if unit is None and pos != len(raw):
            return None
    return total if pos == len(raw) else None


def _ungroup(word: str) -> str | None:
    """A number word without its grouping commas; None when a comma groups no thousands."""
    if "," not in word:
        return word
    return word.replace(",", "") if _NUMBER.fullmatch(word) else None


def normalize_market(text: str) -> str | None:
    """``btc`` -> ``KRW-BTC``; ``KRW-ETH`` stays; None if it cannot be a market code."""
    match = _MARKET.match(text.strip().upper())
    if match is None:
        return None
    quote, base = match.groups()
    return f"{quote or 'KRW'}-{base}"


def command_name(text: str, bot_username: str | None = None) -> str:
    """The command word as the audit log names it, read without parsing the rest (work in
    proportion to the text, however long); raises ``NotForMe`` like ``split_command``."""
    words = text.split(maxsplit=1)
    head = words[0].removeprefix("/") if words else ""
    name, _, addressee = head.partition("@")
    if addressee and bot_username and addressee.lower() != bot_username.lower().lstrip("@"):
        raise NotForMe(addressee[:_COMMAND_COLUMN])
    return name[:_COMMAND_COLUMN].lower()


def split_command(text: str, bot_username: str | None = None) -> tuple[str, list[str]]:
    """The command word (lower case, without ``/`` and ``@bot``) and its argument words."""
    stripped = text.strip()
    try:
        words = shlex.split(stripped)
    except ValueError:  # an unbalanced quote: take the words as they are
        words = stripped.split()
    if not words:
        return "", []
    head = words[0].removeprefix("/")
    name, _, addressee = head.partition("@")
    if addressee and bot_username and addressee.lower() != bot_username.lower().lstrip("@"):
        raise NotForMe(addressee)
    return name.lower(), words[1:]


def parse(registry: Registry, text: str, t: Catalog, bot_username: str | None = None) -> Parsed:
    name, words = split_command(text, bot_username)
    if not name:
        raise UsageError(t.t("parse.empty"), "/help")
    command = registry.lookup(name)
    if command is None:
        raise UsageError(t.t("parse.unknown", name=name), "/help")
    return Parsed(command, parse_args(command, words, t), tuple(words))


def parse_args(command: Command, words: list[str], t: Catalog) -> dict[str, Any]:
    usage = command.usage(t)
    args: dict[str, Any] = {}
    rest = list(words)
    for spec in command.args:
        if spec.kind == "rest":
            if not rest and spec.required:
                raise UsageError(
                    t.t("parse.missing", arg=t.t(f"arg.{spec.name}")), usage, command.name
                )
            args[spec.name] = " ".join(rest) if rest else spec.default
            rest = []
            break
        if not rest:
            if spec.required:
                raise UsageError(
                    t.t("parse.missing", arg=t.t(f"arg.{spec.name}")), usage, command.name
                )
            args[spec.name] = spec.default
            continue
        args[spec.name] = convert(spec, rest.pop(0), t, usage, command.name)
    if rest:
        raise UsageError(t.t("parse.extra", words=" ".join(rest)), usage, command.name)
    return args


def convert(spec: ArgSpec, word: str, t: Catalog, usage: str, name: str) -> Any:
    def bad(key: str, **values: object) -> UsageError:
        arg = t.t(f"arg.{spec.name}")
        return UsageError(t.t(key, arg=arg, value=word, **values), usage, name)

    lowered = word.lower()
    if spec.choices and lowered in spec.choices:
        return lowered
    value: Any
    match spec.kind:
        case "choice":
            raise bad("parse.choice", choices="|".join(spec.choices))
        case "int":
            plain = _ungroup(word)
            if plain is None:
                raise bad("parse.grouping")
            try:
                value = int(plain)
            except ValueError:
                raise bad("parse.int") from None
        case "decimal":
            plain = _ungroup(word)
            if plain is None:
                raise bad("parse.grouping")
            try:
                value = Decimal(plain.removesuffix("%"))
            except InvalidOperation:
                raise bad("parse.number") from None
            if not value.is_finite():
                raise bad("parse.number")
        case "money":
            value = parse_money(word)
            if value is None:
                grouping = "," in word and parse_money(word.replace(",", "")) is not None
                raise bad("parse.grouping" if grouping else "parse.money")
            if value != value.to_integral_value():
                raise bad("parse.whole_krw", whole=f"{value.to_integral_value(ROUND_DOWN):,}")
            value = value.quantize(Decimal(1))  # 1.5억 is 150000000, not 150000000.0
        case "market":
            value = normalize_market(word)
            if value is None:
                raise bad("parse.market")
            return value
        case "key":
            if not _KEY.match(lowered):
                raise bad("parse.key")
            return lowered
        case _:
            return word
    if spec.min is not None and value < Decimal(str(spec.min)):
        raise bad("parse.range", min=_num(spec.min), max=_num(spec.max))
    if spec.max is not None and value > Decimal(str(spec.max)):
        raise bad("parse.range", min=_num(spec.min), max=_num(spec.max))
    return value


def _num(bound: float | None) -> str:
    if bound is None:
        return "∞"
    return f"{bound:,.0f}" if float(bound).is_integer() else str(bound)
