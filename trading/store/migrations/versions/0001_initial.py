"""Initial schema: orders, attempts, fills, positions, snapshots, state, audit, notifications.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-24

Column types are spelled out here instead of importing ``trading.store.types`` so this
revision keeps meaning the same thing if the application types change later; they render the
same DDL (TEXT/NUMERIC for decimals, TIMESTAMP WITH TIME ZONE, JSON/JSONB).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECIMAL = sa.Text().with_variant(sa.Numeric(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _str(name: str, length: int, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _dec(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, DECIMAL, nullable=nullable)


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, TIMESTAMP, nullable=nullable)


def _json(name: str) -> sa.Column[object]:
    return sa.Column(name, JSON, nullable=False)


# Long on purpose: the initial schema, one create_table a table, frozen as released.
def upgrade() -> None:
    op.create_table(
        "orders",
        _id(),
        _str("intent_id", 64),
        _str("identifier", 64, nullable=True),
        _str("uuid", 64, nullable=True),
        _str("market", 20),
        _str("side", 3),
        _str("ord_type", 16),
        _dec("price", nullable=True),
        _dec("volume", nullable=True),
        _str("time_in_force", 16, nullable=True),
        _str("state", 16),
        _dec("executed_volume"),
        _dec("executed_funds"),
        _dec("paid_fee"),
        _str("strategy", 64, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint("side IN ('bid', 'ask')", name=op.f("ck_orders_side")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("identifier", name=op.f("uq_orders_identifier")),
        sa.UniqueConstraint("intent_id", name=op.f("uq_orders_intent_id")),
        sa.UniqueConstraint("uuid", name=op.f("uq_orders_uuid")),
    )
    op.create_index(op.f("ix_orders_state"), "orders", ["state"])
    op.create_index(op.f("ix_orders_market_created_at"), "orders", ["market", "created_at"])

    op.create_table(
        "order_attempts",
        _id(),
        _str("intent_id", 64),
        _str("identifier", 64),
        sa.Column("attempt", sa.Integer(), nullable=False),
        _str("outcome", 32),
        sa.Column("error", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.ForeignKeyConstraint(
            ["intent_id"],
            ["orders.intent_id"],
            name=op.f("fk_order_attempts_intent_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_attempts")),
        sa.UniqueConstraint("identifier", name=op.f("uq_order_attempts_identifier")),
    )
    op.create_index(
        op.f("ix_order_attempts_intent_id_attempt"),
        "order_attempts",
        ["intent_id", "attempt"],
        unique=True,
    )

    op.create_table(
        "fills",
        _id(),
        _str("trade_uuid", 64),
        _str("order_uuid", 64, nullable=True),
        _str("intent_id", 64, nullable=True),
        _str("market", 20),
        _str("side", 3),
        _dec("price"),
        _dec("volume"),
        _dec("funds"),
        _dec("fee"),
        sa.Column("is_maker", sa.Boolean(), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint("side IN ('bid', 'ask')", name=op.f("ck_fills_side")),
        sa.ForeignKeyConstraint(
            ["intent_id"],
            ["orders.intent_id"],
            name=op.f("fk_fills_intent_id_orders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fills")),
        sa.UniqueConstraint("trade_uuid", name=op.f("uq_fills_trade_uuid")),
    )
    op.create_index(op.f("ix_fills_order_uuid"), "fills", ["order_uuid"])
    op.create_index(op.f("ix_fills_intent_id"), "fills", ["intent_id"])
    op.create_index(op.f("ix_fills_market_created_at"), "fills", ["market", "created_at"])

    op.create_table(
        "positions",
        _id(),
        _str("market", 20),
        _str("state", 16),
        _dec("volume"),
        _dec("avg_price", nullable=True),
        _dec("stop_price", nullable=True),
        _ts("opened_at", nullable=True),
        _json("extra"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_positions")),
        sa.UniqueConstraint("market", name=op.f("uq_positions_market")),
    )

    op.create_table(
        "balance_snapshots",
        _id(),
        _str("currency", 16),
        _dec("balance"),
        _dec("locked"),
        _dec("avg_buy_price"),
        _ts("taken_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance_snapshots")),
    )
    op.create_index(
        op.f("ix_balance_snapshots_currency_taken_at"),
        "balance_snapshots",
        ["currency", "taken_at"],
    )
    op.create_index(op.f("ix_balance_snapshots_taken_at"), "balance_snapshots", ["taken_at"])

    op.create_table(
        "equity_snapshots",
        _id(),
        _dec("equity_krw"),
        _dec("cash_krw"),
        _ts("taken_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equity_snapshots")),
    )
    op.create_index(op.f("ix_equity_snapshots_taken_at"), "equity_snapshots", ["taken_at"])

    op.create_table(
        "bot_state",
        _str("key", 64),
        _json("value"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_bot_state")),
    )

    op.create_table(
        "parameter_changes",
        _id(),
        _ts("at"),
        _str("who", 128),
        _str("transport", 32),
        _str("key", 128),
        _json("old_value"),
        _json("new_value"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parameter_changes")),
    )
    op.create_index(op.f("ix_parameter_changes_at"), "parameter_changes", ["at"])
    op.create_index(op.f("ix_parameter_changes_key_at"), "parameter_changes", ["key", "at"])

    op.create_table(
        "audit_log",
        _id(),
        _ts("at"),
        _str("transport", 32),
        _str("user_id", 64, nullable=True),
        _str("chat_id", 64, nullable=True),
        _str("command", 64),
        _json("arguments"),
        _str("outcome", 32),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_user_id_at"), "audit_log", ["user_id", "at"])

    op.create_table(
        "notifications",
        _id(),
        _str("channel", 32),
        _str("kind", 64),
        _json("payload"),
        _ts("created_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_attempt_at"),
        _ts("sent_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(
        op.f("ix_notifications_sent_at_next_attempt_at"),
        "notifications",
        ["sent_at", "next_attempt_at"],
    )


def downgrade() -> None:
    for table in (
        "notifications",
        "audit_log",
        "parameter_changes",
        "bot_state",
        "equity_snapshots",
        "balance_snapshots",
        "positions",
        "fills",
        "order_attempts",
        "orders",
    ):
        op.drop_table(table)
