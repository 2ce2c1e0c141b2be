"""Paper order records: mutable while the paper engine works on them, reported as neutral
``OrderReport``s.

They keep the lock and fee amounts of the venue the paper exchange simulates (Upbit:
``locked``, ``reserved_fee``, ``paid_fee``...), so balances move the way they would live, and
they serialise to JSON with Decimals as strings (sides, types and states in the store's codes,
``trading.domain.orders``) so a restart restores them to the last digit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from trading.domain.orders import (
    SIDE_CODE,
    SIDE_FROM_CODE,
    STATUS_CODE,
    STATUS_FROM_CODE,
    TYPE_CODE,
    TYPE_FROM_CODE,
    FillReport,
    OrderReport,
    OrderStatus,
    OrderType,
    Side,
)

ZERO = Decimal(0)
__all__ = ["ZERO", "PaperFill", "PaperOrder", "PaperTrade"]


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)  # str(Decimal) round-trips exactly


def _undec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


@dataclass(frozen=True, slots=True)
class PaperFill:
    """One simulated execution; the same facts the live bot reads from the myOrder stream."""

    order_uuid: str
    identifier: str | None
    market: str
    side: Side
    price: Decimal
    volume: Decimal
    funds: Decimal
    fee: Decimal
    is_maker: bool
    trade_uuid: str
    at: datetime
    order_state_after: OrderStatus

    def report(self) -> FillReport:
        return FillReport(
            trade_id=self.trade_uuid,
            order_id=self.order_uuid,
            identifier=self.identifier,
            market=self.market,
            side=self.side,
            price=self.price,
            volume=self.volume,
            funds=self.funds,
            fee=self.fee,
            is_maker=self.is_maker,
            at=self.at,
        )


@dataclass(slots=True)
class PaperTrade:
    uuid: str
    price: Decimal
    volume: Decimal
    funds: Decimal
    fee: Decimal
    is_maker: bool
    trend: str
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "price": str(self.price),
            "volume": str(self.volume),
            "funds": str(self.funds),
            "fee": str(self.fee),
            "is_maker": self.is_maker,
            "trend": self.trend,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PaperTrade:
        return cls(
            uuid=data["uuid"],
            price=Decimal(data["price"]),
            volume=Decimal(data["volume"]),
            funds=Decimal(data["funds"]),
            fee=Decimal(data["fee"]),
            is_maker=bool(data["is_maker"]),
            trend=data["trend"],
            at=datetime.fromisoformat(data["at"]),
        )


@dataclass(slots=True)
class PaperOrder:
    """``price`` is the unit price (limit) or the budget (market and best buys: a
    ``SubmitOrder``'s ``funds``), as the simulated venue keeps it."""

    uuid: str
    market: str
    side: Side
    type: OrderType
    created_at: datetime
    seq: int
    identifier: str | None = None
    price: Decimal | None = None
    volume: Decimal | None = None
    time_in_force: str | None = None
    state: OrderStatus = OrderStatus.OPEN
    remaining_volume: Decimal | None = None
    executed_volume: Decimal = ZERO
    executed_funds: Decimal = ZERO
    reserved_fee: Decimal = ZERO
    paid_fee: Decimal = ZERO
    locked: Decimal = ZERO
    trades: list[PaperTrade] = field(default_factory=list)

    @property
    def quote(self) -> str:
        return self.market.split("-", 1)[0]

    @property
    def base(self) -> str:
        return self.market.split("-", 1)[1]

    @property
    def is_budget(self) -> bool:
        """A bid sized by KRW to spend instead of by volume (market and best buys)."""
        return self.remaining_volume is None

    @property
    def is_open(self) -> bool:
        return self.state.is_open

    @property
    def has_fills(self) -> bool:
        return self.executed_volume > 0 or bool(self.trades)

    @property
    def remaining_fee(self) -> Decimal:
        return max(ZERO, self.reserved_fee - self.paid_fee)

    def to_report(self, *, with_fills: bool = False) -> OrderReport:
        """The order as the ``Exchange`` protocol shows it; a lookup carries its fills. The
        venue reports only the order's total fee, so a trade's fee is its own here."""
        budget = self.is_budget
        return OrderReport(
            order_id=self.uuid,
            identifier=self.identifier,
            market=self.market,
            side=self.side,
            type=self.type,
            status=self.state,
            created_at=self.created_at,
            price=None if budget else self.price,
            volume=self.volume,
            funds=self.price if budget else None,
            executed_volume=self.executed_volume,
            executed_funds=self.executed_funds,
            paid_fee=self.paid_fee,
            time_in_force=self.time_in_force,
            fill_count=len(self.trades),
            fills=tuple(self._fill(t) for t in self.trades) if with_fills else (),
        )

    def _fill(self, trade: PaperTrade) -> FillReport:
        return FillReport(
            trade_id=trade.uuid,
            order_id=self.uuid,
            identifier=self.identifier,
            market=self.market,
            side=self.side,
            price=trade.price,
            volume=trade.volume,
            funds=trade.funds,
            fee=trade.fee,
            is_maker=None,
            at=trade.at,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "market": self.market,
            "side": SIDE_CODE[self.side],
            "ord_type": TYPE_CODE[self.side, self.type],
            "created_at": self.created_at.isoformat(),
            "seq": self.seq,
            "identifier": self.identifier,
            "price": _dec(self.price),
            "volume": _dec(self.volume),
            "time_in_force": self.time_in_force,
            "state": STATUS_CODE[self.state],
            "remaining_volume": _dec(self.remaining_volume),
            "executed_volume": str(self.executed_volume),
            "executed_funds": str(self.executed_funds),
            "reserved_fee": str(self.reserved_fee),
            "paid_fee": str(self.paid_fee),
            "locked": str(self.locked),
            "trades": [t.to_json() for t in self.trades],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PaperOrder:
        return cls(
            uuid=data["uuid"],
            market=data["market"],
            side=SIDE_FROM_CODE[data["side"]],
            type=TYPE_FROM_CODE[data["ord_type"]],
            created_at=datetime.fromisoformat(data["created_at"]),
            seq=int(data["seq"]),
            identifier=data.get("identifier"),
            price=_undec(data.get("price")),
            volume=_undec(data.get("volume")),
            time_in_force=data.get("time_in_force"),
            state=STATUS_FROM_CODE[data["state"]],
            remaining_volume=_undec(data.get("remaining_volume")),
            executed_volume=Decimal(data["executed_volume"]),
            executed_funds=Decimal(data["executed_funds"]),
            reserved_fee=Decimal(data["reserved_fee"]),
            paid_fee=Decimal(data["paid_fee"]),
            locked=Decimal(data["locked"]),
            trades=[PaperTrade.from_json(t) for t in data.get("trades", [])],
        )
