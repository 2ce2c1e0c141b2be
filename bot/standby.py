"""What a standby instance answers: read-only commands from the store, a refusal for the rest.

A standby runs no engine, so it reads what the leader writes (positions, open orders, fills,
the audit log) straight from the shared store, and tells who leads. Every command that would
trade or change the leader's state is refused with one line naming the leader. Only the
console (and HTTP) serve a standby: Telegram allows one ``getUpdates`` consumer per token (a
second gets 409 Conflict and would break the leader's polling), and the chat transports
start, with the notifier, when this instance takes over.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.commands import build_registry
from handlers.fmt import krw, price, short_when, volume
from handlers.parser import NotForMe, split_command
from handlers.reply import Reply, Severity, Table
from trading.store import Store, create_engine, session_factory

#: commands a standby answers (from the store); every other registered command is refused
READ_ONLY = ("help", "status", "positions", "orders", "trades", "health")
log = logging.getLogger("bot.standby")
HolderQuery = Callable[[], Awaitable[str | None]]


class StandbyDesk:
    """The standby's command desk over its own connection pool to the shared store."""

    def __init__(
        self,
        url: str,
        *,
        holder: HolderQuery,
        describe: str,
        on_audit: Callable[[str, str], None] | None = None,
    ) -> None:
        self._url = url
        self._on_audit = on_audit  # (command, outcome), as the dispatcher reports it
        self._holder = holder
        self._describe = describe
        self._db: AsyncEngine | None = None
        self._store: Store | None = None
        self._registry = build_registry()

    @property
    def store(self) -> Store:
        if self._store is None:
            self._db = create_engine(self._url)
            self._store = Store(session_factory(self._db))
        return self._store

    async def close(self) -> None:
        if self._db is not None:
            await self._db.dispose()
        self._db = self._store = None

    async def leader_text(self) -> str:
        holder = await self._holder()
        return holder if holder is not None else "nobody (a standby takes over within seconds)"

    async def answer(self, line: str) -> str | None:
        """``handle`` as console text; a store that cannot be read is said, not raised."""
        try:
            reply = await self.handle(line)
        except Exception as exc:
            log.warning("standby command failed: %s", exc)
            reply = _note(f"standby: cannot read the store ({type(exc).__name__})")
        return None if reply is None else reply.plain_text()

    async def handle(self, text: str) -> Reply | None:
        """One typed command; the same words as the leader's console."""
        try:
            name, args = split_command(text)
        except NotForMe:
            return None
        if not name:
            return None
        command = self._registry.lookup(name)
        if command is None:
            return _note(f"unknown command /{name}; type 'help'")
        if command.name not in READ_ONLY:
            await self._audit(command.name, "refused")
            leader = await self.leader_text()
            return _note(
                f"this instance is a standby; the leader is {leader}. "
                f"/{command.name} runs only on the leader."
            )
        reply = await getattr(self, f"_{command.name}")(args)
        await self._audit(command.name, "ok")
        assert isinstance(reply, Reply)
        return reply

    async def _audit(self, command: str, outcome: str) -> None:
        await self.store.audit(
            transport="console",
            user_id="console",
            chat_id="console",
            command=command,
            arguments={},
            outcome=outcome,
            detail="standby",
        )
        if self._on_audit is not None:
            self._on_audit(command, outcome)

    async def _help(self, _args: list[str]) -> Reply:
        lines = [f"/{name}" for name in READ_ONLY]
        lines.append("every other command runs only on the leader")
        return Reply("standby: read-only commands", tuple(lines))

    async def _status(self, _args: list[str]) -> Reply:
        store = self.store
        positions = await store.positions()
        open_orders = await store.open_orders()
        fields = (
            ("role", "STANDBY (read-only)"),
            ("leader", await self.leader_text()),
            ("lock", self._describe),
            ("open orders", str(len(open_orders))),
        )
        rows = tuple(
            (p.market, p.state, volume(p.volume), price(p.avg_price), price(p.stop_price))
            for p in positions
        )
        table = Table(("market", "state", "volume", "entry", "stop"), rows) if rows else None
        return Reply("status (standby)", fields=fields, table=table)

    async def _positions(self, _args: list[str]) -> Reply:
        rows = tuple(
            (p.market, p.state, volume(p.volume), price(p.avg_price), price(p.stop_price))
            for p in await self.store.positions()
            if p.state not in ("flat", "cooldown")
        )
        if not rows:
            return Reply("positions (standby)", ("no open position",))
        return Reply(
            "positions (standby)",
            table=Table(("market", "state", "volume", "entry", "stop"), rows),
        )

    async def _orders(self, _args: list[str]) -> Reply:
        rows = tuple(
            (o.intent_id, o.market, o.side, o.ord_type, o.state, short_when(o.created_at))
            for o in await self.store.open_orders()
        )
        if not rows:
            return Reply("orders (standby)", ("no open order",))
        cols = ("order", "market", "side", "type", "state", "time")
        return Reply("orders (standby)", table=Table(cols, rows))

    async def _trades(self, args: list[str]) -> Reply:
        count = int(args[0]) if args and args[0].isdigit() else 10
        rows = tuple(
            (
                short_when(f.created_at),
                f.market,
                f.side,
                price(f.price),
                volume(f.volume),
                krw(f.funds),
            )
            for f in await self.store.fills(limit=max(1, min(count, 100)))
        )
        if not rows:
            return Reply("trades (standby)", ("no trade yet",))
        cols = ("time", "market", "side", "price", "volume", "funds")
        return Reply("trades (standby)", table=Table(cols, rows))

    async def _health(self, _args: list[str]) -> Reply:
        return Reply(
            "health (standby)",
            fields=(("role", "standby"), ("leader", await self.leader_text())),
        )


def _note(text: str) -> Reply:
    return Reply(text, severity=Severity.WARNING, ephemeral=True)
