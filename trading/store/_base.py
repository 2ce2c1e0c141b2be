"""Plumbing shared by the store's method groups: sessions, row conversion, dialect inserts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from trading.store.db import SQLITE_BEGIN
from trading.store.models import Base
from trading.store.retention import Retention
from trading.store.types import utcnow

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")

InsertWithConflict = postgresql.Insert | sqlite.Insert


def to_record(record_type: type[R], row: Base) -> R:
    """Copy the columns a record declares off an ORM row (datetimes normalized to UTC, as
    they would read back from the database)."""
    values = {f.name: getattr(row, f.name) for f in fields(record_type)}
    for name, value in values.items():
        if isinstance(value, datetime):
            values[name] = value.astimezone(UTC)
    return record_type(**values)


class StoreBase:
    """Holds the session factory; every public method is one committed unit of work.

    ``clock`` stamps the rows retention prunes by time (audit entries, notifications, state,
    snapshots, fills without a time of their own): the wall clock, or a simulated one (the
    soak benchmark), so what is written and what retention deletes agree on "now".
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self.clock = clock

    @property
    def url(self) -> str | None:
        """The database URL, password included, for work that needs its own connection (a
        thread, a process); None if the sessions are not bound to one engine."""
        bind = self._sessions.kw.get("bind")
        return None if bind is None else str(bind.url.render_as_string(hide_password=False))

    def retention(self, keep: Mapping[str, timedelta], **options: Any) -> Retention:
        """Deletes rows older than ``keep[table]`` in short batches (see ``Retention``)."""
        return Retention(self._sessions, keep, **{"clock": self.clock, **options})

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: BEGIN IMMEDIATE on SQLite (ignored by PostgreSQL)."""
        async with self._sessions() as session, session.begin():
            await session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
            yield session

    async def _add(self, record_type: type[R], row: Base) -> R:
        """Insert one row in its own transaction and return it as a record."""
        async with self._tx() as session:
            session.add(row)
        return to_record(record_type, row)

    async def _newest(
        self,
        record_type: type[R],
        query: Select[Any],
        limit: int,
        *order: InstrumentedAttribute[Any],
    ) -> list[R]:
        """The history listings' one read: ``query``'s rows newest first by the ``order``
        columns (a time, then the id for ties), at most ``limit``, as records."""
        async with self._sessions() as session:
            rows = await session.scalars(query.order_by(*(c.desc() for c in order)).limit(limit))
            return [to_record(record_type, row) for row in rows]

    @staticmethod
    def _insert(session: AsyncSession, model: type[Base]) -> InsertWithConflict:
        """An INSERT that understands ON CONFLICT on both supported dialects."""
        if session.get_bind().dialect.name == "postgresql":
            return postgresql.insert(model)
        return sqlite.insert(model)
