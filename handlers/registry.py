"""The command registry: every command declared once, for every transport.

A ``Command`` names itself, its aliases, its typed arguments, the role it needs and whether it
must be confirmed; its help text and usage line live in the message catalog
(``cmd.<name>.help`` / ``cmd.<name>.usage``) so both languages describe it, as do the paragraph
and the examples ``/help <name>`` shows (``cmd.<name>.about``, optional ``cmd.<name>.examples``,
one a line). Telegram's
``setMyCommands`` and ``/help`` are both built from ``Registry.menu``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Literal

from handlers.fmt import catalog
from handlers.i18n import Catalog
from handlers.reply import Reply

if TYPE_CHECKING:
    from handlers.auth import Principal
    from handlers.dispatcher import Dispatcher
    from trading.command_api import CommandApi

ArgKind = Literal["str", "int", "decimal", "money", "market", "choice", "key", "rest"]
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


class Role(IntEnum):
    """Viewer < operator < admin: a role may run every command of the roles below it."""

    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3


@dataclass(frozen=True, slots=True)
class ArgSpec:
    """One positional argument. ``money`` accepts ``100,000`` and ``10만``; ``market`` turns
    ``btc`` into ``KRW-BTC``; ``rest`` swallows the remaining words (must be last)."""

    name: str
    kind: ArgKind = "str"
    required: bool = True
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    default: Any = None


@dataclass(slots=True)
class Call:
    """One invocation, as a command handler sees it."""

    command: Command
    args: dict[str, Any]
    principal: Principal
    role: Role
    t: Catalog
    api: CommandApi
    dispatcher: Dispatcher
    now: datetime
    confirmed: bool = False

    @property
    def by(self) -> str:
        """Who did it, as the engine records it: ``telegram:12345``."""
        return f"{self.principal.transport}:{self.principal.user_id}"


Handler = Callable[[Call], Awaitable[Reply]]
#: whether a call must be confirmed; a callable sees the call (its arguments, the engine state)
ConfirmRule = bool | Callable[["Call"], bool]


@dataclass(frozen=True, slots=True)
class Command:
    """``handler`` does the work; for a confirmed command ``preview`` (validating, changing
    nothing) is shown first and ``handler`` runs only after the confirmation. ``standby``: it
    also runs on a standby instance (it only reads what the store holds); every other command
    is refused there, naming the leader."""

    name: str
    handler: Handler
    args: tuple[ArgSpec, ...] = ()
    role: Role = Role.VIEWER
    confirm: ConfirmRule = False
    preview: Handler | None = None
    aliases: tuple[str, ...] = ()
    refreshable: bool = False
    menu: bool = True
    role_when: Callable[[Mapping[str, Any]], Role] | None = None
    standby: bool = False

    def __post_init__(self) -> None:
        for name in (self.name, *self.aliases):
            if not COMMAND_RE.match(name):
                raise ValueError(f"command name {name!r} must match [a-z0-9_]{{1,32}}")
        if self.confirm is not False and self.preview is None:
            raise ValueError(f"/{self.name} must be confirmed, so it needs a preview")
        kinds = [a.kind for a in self.args]
        if "rest" in kinds[:-1]:
            raise ValueError(f"/{self.name}: a 'rest' argument must be the last")

    @classmethod
    def confirmed(
        cls,
        name: str,
        handler: Handler,
        preview: Handler,
        *args: ArgSpec,
        role: Role = Role.OPERATOR,
        aliases: tuple[str, ...] = (),
    ) -> Command:
        """A command that always asks first: ``preview`` is shown and ``handler`` runs only on
        Confirm. An operator's by default, as are the commands that change orders or settings."""
        return cls(
            name, handler, args=args, role=role, confirm=True, preview=preview, aliases=aliases
        )

    @property
    def help_key(self) -> str:
        return f"cmd.{self.name}.help"

    @property
    def usage_key(self) -> str:
        return f"cmd.{self.name}.usage"

    @property
    def about_key(self) -> str:
        return f"cmd.{self.name}.about"

    @property
    def examples_key(self) -> str:
        return f"cmd.{self.name}.examples"

    def required_role(self, args: Mapping[str, Any]) -> Role:
        """``role``, or more for some arguments (``/schedule add`` needs an operator)."""
        return self.role if self.role_when is None else max(self.role, self.role_when(args))

    def needs_confirm(self, call: Call) -> bool:
        rule = self.confirm
        return rule(call) if callable(rule) else bool(rule)

    def usage(self, t: Catalog) -> str:
        """``/sell <market> [percent]``, with argument names in the reader's language."""
        extra = t.t(self.usage_key)
        return f"/{self.name} {extra}".rstrip()

    def describe(self, t: Catalog) -> str:
        return t.t(self.help_key)


@dataclass
class Registry:
    _commands: dict[str, Command] = field(default_factory=dict)
    _names: dict[str, str] = field(default_factory=dict)

    def register(self, command: Command) -> Command:
        for name in (command.name, *command.aliases):
            if name in self._names:
                raise ValueError(f"command name {name!r} is already taken")
        self._commands[command.name] = command
        for name in (command.name, *command.aliases):
            self._names[name] = command.name
        return command

    def lookup(self, name: str) -> Command | None:
        canonical = self._names.get(name.lower())
        return None if canonical is None else self._commands[canonical]

    def names(self) -> list[str]:
        """Every name a command answers to (aliases too), for "did you mean"."""
        return list(self._names)

    def __iter__(self) -> Iterator[Command]:
        return iter(self._commands.values())

    def __len__(self) -> int:
        return len(self._commands)

    def allowed(self, role: Role) -> list[Command]:
        return [c for c in self._commands.values() if c.role <= role]

    def menu(self, role: Role, language: str) -> list[tuple[str, str]]:
        """``(command, description)`` pairs a user with ``role`` may run, for ``/help`` and
        Telegram's ``setMyCommands`` (``language`` = its ``language_code``)."""
        t = catalog(language)
        return [(c.name, c.describe(t)) for c in self.allowed(role) if c.menu]
