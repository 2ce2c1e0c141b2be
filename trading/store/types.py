"""Column types that keep money and time exact on both SQLite and PostgreSQL.

Prices and volumes on Upbit carry up to 8+ decimals and KRW amounts reach 10^12; a float or a
fixed-scale NUMERIC(38,18) silently rounds some of them. PostgreSQL stores them in an
unconstrained NUMERIC (arbitrary precision, still summable in SQL); SQLite has no decimal type
and would coerce NUMERIC text to REAL, so there they are TEXT. Datetimes are always stored as
UTC and always come back timezone-aware, because SQLite drops the offset.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, Text
from sqlalchemy.types import TypeDecorator, TypeEngine


class ExactDecimal(TypeDecorator[Decimal]):
    """A ``Decimal`` that round-trips digit for digit; floats are refused because they are
    already inexact by the time they reach the store."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(f"ExactDecimal needs a Decimal or int, got {type(value).__name__}")
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError(f"ExactDecimal cannot store {number}")
        if dialect.name == "postgresql":
            return number
        # Plain notation keeps the file readable ("0.00000001", not "1E-8"); same value.
        return format(number, "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value
        return Decimal(str(value))


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC; naive datetimes are refused because their
    meaning depends on the machine's clock settings."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("UTCDateTime refuses naive datetimes; pass a timezone-aware one")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The default for every timestamp column."""
    return datetime.now(UTC)
