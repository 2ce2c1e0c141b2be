"""Alembic environment for both SQLite (aiosqlite) and PostgreSQL (asyncpg).

``trading.store.migrate`` hands over an open connection in ``config.attributes["connection"]``
so migrations run inside the caller's event loop; the alembic CLI path (no connection given)
builds an async engine from ``-x url=...`` (or ``sqlalchemy.url``) and runs it with
``asyncio.run``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from trading.store.db import create_engine
from trading.store.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )


def _run_with_connection(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_with_connection)
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=_cli_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with_connection(connection)
        return
    url = _cli_url()
    if not url:
        raise RuntimeError("pass -x url=... or set sqlalchemy.url, or hand over a connection")
    asyncio.run(_run_async(url))


def _cli_url() -> str | None:
    url: str | None = context.get_x_argument(as_dictionary=True).get("url")
    return url or config.get_main_option("sqlalchemy.url")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
