"""What a standby instance answers: the same dispatcher and commands as the leader, over a
read-only ``StandbyApi`` on the shared store.

A standby runs no engine, so it reads what the leader writes (positions, open orders, fills,
the audit log) straight from the shared store, and tells who leads. A command that does not
declare ``standby=True`` is refused by the dispatcher, naming the leader, in the bot's
language. Only the console (and HTTP) serve a standby: Telegram allows one ``getUpdates``
consumer per token (a second gets 409 Conflict and would break the leader's polling), and the
chat transports start, with the notifier, when this instance takes over.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.console import Console
from handlers.auth import Authorizer
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from trading.standby_api import StandbyApi
from trading.store import Store, create_engine, session_factory

log = logging.getLogger("bot.standby")
HolderQuery = Callable[[], Awaitable[str | None]]


class StandbyDesk:
    """The standby's console desk over its own connection pool to the shared store."""

    def __init__(
        self,
        url: str,
        *,
        holder: HolderQuery,
        describe: str,
        on_audit: Callable[[str, str], None] | None = None,
        language: str = "ko",
        mode: str = "paper",
        strategy: str = "-",
    ) -> None:
        self._url = url
        self._on_audit = on_audit  # (command, outcome), as the dispatcher reports it
        self._holder = holder
        self._describe = describe
        self._language = language
        self._mode = mode
        self._strategy = strategy
        self._db: AsyncEngine | None = None
        self._store: Store | None = None
        self._console: Console | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._db = create_engine(self._url)
            self._store = Store(session_factory(self._db))
        return self._store

    @property
    def dispatcher(self) -> Dispatcher:
        return self._desk().dispatcher

    def _desk(self) -> Console:
        if self._console is None:
            api = StandbyApi(
                self.store,
                holder=self._holder,
                lock=self._describe,
                mode=self._mode,
                strategy=self._strategy,
            )
            dispatcher = Dispatcher(
                build_registry(),
                api,
                Authorizer({}),  # the console is the local admin; no chat is served here
                self.store,
                language=self._language,
                mode=self._mode,
                on_audit=self._on_audit,
            )
            self._console = Console(dispatcher)
        return self._console

    async def close(self) -> None:
        if self._db is not None:
            await self._db.dispose()
        self._db = self._store = None
        self._console = None

    async def answer(self, line: str) -> str | None:
        """One typed line, as the console prints it; a store that cannot be read is said,
        not raised."""
        desk = self._desk()
        try:
            return await desk.line(line)
        except Exception as exc:
            log.warning("standby command failed: %s", exc)
            t = desk.dispatcher.catalog()
            return t.t("standby.unreadable", error=type(exc).__name__)
