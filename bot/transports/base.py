"""What a transport is to the rest of the bot: a running ``Transport`` (start, stop, send) and
the ``TransportKind`` that builds it from its own config section.

A kind declares everything the bot needs to know of a platform without importing its library:
its config section (the ``[name]`` table, with the TOML shape and environment overrides of any
other section), the secrets it reads from the environment, its pacing limits, who may use it
(the auth ``Policy``), where pushes go (``targets``; none for a transport that only answers,
like an HTTP command API), what to check at start (``credentials``) and ``build``, which
imports the platform's library only when the transport is about to run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, SecretStr

if TYPE_CHECKING:
    from aiohttp import web

    from bot.config.sections import NotifyBase
    from bot.notify.pacing import Limits, Pacer
    from handlers.auth import Policy
    from handlers.dispatcher import Dispatcher
    from handlers.reply import Reply


Probe = Callable[[], Awaitable[None]]
#: a transport's share of the HTTP server: a response, or None when the path is not its own
RequestHandler = Callable[["web.Request"], Awaitable["web.StreamResponse | None"]]


class RouteMount(Protocol):
    """The running HTTP server as a transport sees it. The server starts before the
    transports exist (its probes answer during start-up), so a transport that answers HTTP
    mounts its handler when it starts and takes it away when it stops; requests under
    ``/api/v1/`` that no route of the server answers are offered to the mounted handlers."""

    def mount(self, name: str, handler: RequestHandler) -> None: ...

    def unmount(self, name: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Credential:
    """One token to ask its platform about at start (``bot.credentials.check_credentials``)."""

    platform: str  # the transport kind's name
    variable: str  # the environment variable it came from
    where: str  # the URL shown when the platform cannot be reached
    probe: Probe  # returns, or raises Refusal / Unanswered


class Transport(Protocol):
    """One running platform connection: commands in (to the dispatcher, answered on the same
    path: a chat reply, an HTTP response), pushes out through ``send``.

    ``pacer`` is the one its replies take and the notifier's pushes share (None: the notifier
    paces its pushes with the kind's limits). A transport with no push side raises
    ``PermanentSendError`` from ``send``; it is never asked, having no targets."""

    name: str

    @property
    def pacer(self) -> Pacer | None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, chat_id: str, reply: Reply, *, silent: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What the app gives a transport it builds: the one dispatcher, the transport's pacer,
    where to report a token the platform refuses while running (``report(variable, reason)``)
    and the bot's HTTP server to mount routes on (None: ``[http]`` is off)."""

    dispatcher: Dispatcher
    pacer: Pacer
    on_refused: Callable[[str, str], None] | None = None
    http: RouteMount | None = None


Secrets = Mapping[str, SecretStr | None]  # secret field -> its value (None: not set)


class TransportKind(Protocol):
    """A platform as a plug-in; ``section`` is always an instance of ``config``."""

    @property
    def name(self) -> str:
        """The config section, the notifier's and the audit log's transport name."""
        ...

    @property
    def title(self) -> str:
        """How people call it: "Telegram"."""
        ...

    @property
    def config(self) -> type[BaseModel]:
        """Its ``[name]`` section."""
        ...

    @property
    def secrets(self) -> Mapping[str, str]:
        """Secret field -> the only environment variable it is read from."""
        ...

    @property
    def file_secrets(self) -> Mapping[str, str]:
        """A key someone may put in ``[name]`` -> the variable to use instead."""
        ...

    @property
    def notify_fields(self) -> Mapping[str, Any]:
        """Its own ``[notify]`` keys: name -> (type, ``Field``)."""
        ...

    @property
    def limits(self) -> Limits:
        """The platform's published pace."""
        ...

    def paced(self, notify: NotifyBase) -> Limits:
        """``limits`` with what ``[notify]`` sets (per-chat pace, a global cap)."""
        ...

    def enabled(self, section: BaseModel, secrets: Secrets) -> bool:
        """Configured to run: on, with the secrets it cannot start without."""
        ...

    def problems(self, section: BaseModel, secrets: Secrets) -> list[str]:
        """Config lines naming what is missing for the section as set (empty: fine)."""
        ...

    def policy(self, section: BaseModel) -> Policy: ...

    def targets(self, section: BaseModel) -> Sequence[str]:
        """The chats pushes go to (empty: this transport takes no pushes)."""
        ...

    def credentials(self, section: BaseModel, secrets: Secrets) -> list[Credential]:
        """What to ask the platform at start, before anything trades."""
        ...

    def build(self, section: BaseModel, secrets: Secrets, context: BuildContext) -> Transport: ...


def secret(secrets: Secrets, field: str) -> str:
    """A secret's text ("" when unset); for ``build``, after ``enabled`` said it is there."""
    value = secrets.get(field)
    return "" if value is None else value.get_secret_value()
