"""Downloaded candle history (``upbit-bot download --to-store``).

Revision ID: 0002_candles
Revises: 0001_initial
Create Date: 2026-11-24

One row per (market, timeframe, start); the primary key is what upserts conflict on, so a
re-run overwrites a candle instead of duplicating it. Types are spelled out as in 0001.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_candles"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECIMAL = sa.Text().with_variant(sa.Numeric(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
_PRICES = ("open", "high", "low", "close", "volume", "value")


def upgrade() -> None:
    op.create_table(
        "candles",
        sa.Column("market", sa.String(length=20), nullable=False),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("start", TIMESTAMP, nullable=False),
        *(sa.Column(name, DECIMAL, nullable=False) for name in _PRICES),
        sa.Column("filled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("market", "timeframe", "start", name=op.f("pk_candles")),
    )


def downgrade() -> None:
    op.drop_table("candles")
