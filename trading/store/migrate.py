"""Run Alembic migrations from code, inside the caller's event loop.

The script location is resolved from this file, so it works from an installed package and
from any working directory; no alembic.ini is read.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from trading.store.db import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x75706269745F6D67  # "upbit_mg": held for the migration's transaction


def alembic_config(url: str | None = None) -> Config:
    """A programmatic Alembic config pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolation would eat a literal '%' in a password.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision shipped with this code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, revision: str) -> str | None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
    return _current(connection)


async def upgrade(url: str, revision: str = "head") -> str:
    """Bring the database at ``url`` to ``revision``; a no-op if it is already there."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # two instances starting together on one database migrate one after the other
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            result = await connection.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()
    if result is None:
        raise RuntimeError(f"upgrade to {revision!r} left no revision stamped")
    return result


async def current_revision(url: str) -> str | None:
    """The revision stamped in the database, or None for a database never migrated."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current)
    finally:
        await engine.dispose()
