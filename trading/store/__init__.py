"""Persistence: SQLAlchemy models, Alembic migrations and the ``Store`` API.

SQLite (aiosqlite) by default, PostgreSQL (asyncpg) by URL; the same models and migrations
serve both.
"""

from trading.domain.balance import Balance
from trading.store.db import create_engine, session_factory
from trading.store.migrate import current_revision, head_revision, upgrade
from trading.store.records import (
    OPEN_STATES,
    TERMINAL_STATES,
    AttemptRecord,
    AuditRecord,
    BalanceRecord,
    DuplicateIntentError,
    EquityRecord,
    FillRecord,
    IdentifierReusedError,
    NotificationRecord,
    OrderRecord,
    ParamChangeRecord,
    PositionRecord,
    StoreError,
    UnknownIntentError,
)
from trading.store.repository import Store

__all__ = [
    "OPEN_STATES",
    "TERMINAL_STATES",
    "AttemptRecord",
    "AuditRecord",
    "Balance",
    "BalanceRecord",
    "DuplicateIntentError",
    "EquityRecord",
    "FillRecord",
    "IdentifierReusedError",
    "NotificationRecord",
    "OrderRecord",
    "ParamChangeRecord",
    "PositionRecord",
    "Store",
    "StoreError",
    "UnknownIntentError",
    "create_engine",
    "current_revision",
    "head_revision",
    "session_factory",
    "upgrade",
]
