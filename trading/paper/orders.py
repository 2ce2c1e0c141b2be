"""Paper order records: mutable while the paper engine works on them, shown as Upbit ``Order``s.

They are kept in Upbit's own terms (``locked``, ``reserved_fee``, ``paid_fee``...) so the
``Order`` a caller reads is computed the way Upbit computes it, and they serialise to JSON with
Decimals as strings so a restart restores them to the last digit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from trading.exchange import OrdType, Side
from trading.paper.fill_model import floor8
from trading.upbit.models import Order, OrderState, OrderTrade

ZERO = Decimal(0)
__all__ = ["ZERO", "PaperFill", "PaperOrder", "PaperTrade", "floor8"]


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
    order_state_after: OrderState


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
    """``price`` is the unit price (limit) or the KRW budget (``price`` and ``best`` bids)."""

    uuid: str
    market: str
    side: Side
    ord_type: OrdType
    created_at: datetime
    seq: int
    identifier: str | None = None
    price: Decimal | None = None
    volume: Decimal | None = None
    time_in_force: str | None = None
    state: OrderState = "wait"
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
        return self.state in ("wait", "watch")

    @property
    def remaining_fee(self) -> Decimal:
        return max(ZERO, self.reserved_fee - self.paid_fee)

    def to_order(self, *, with_trades: bool = False) -> Order:
        trades = tuple(
            OrderTrade(
                market=self.market,
                uuid=t.uuid,
                price=t.price,
                volume=t.volume,
                funds=t.funds,
                side=self.side,
                created_at=t.at,
                trend=t.trend,
            )
            for t in (self.trades if with_trades else ())
        )
        return Order(
            uuid=self.uuid,
            market=self.market,
            side=self.side,
            ord_type=self.ord_type,
            state=self.state,
            created_at=self.created_at,
            identifier=self.identifier,
            price=self.price,
            volume=self.volume,
            remaining_volume=self.remaining_volume,
            executed_volume=self.executed_volume,
            executed_funds=self.executed_funds,
            reserved_fee=self.reserved_fee,
            remaining_fee=self.remaining_fee,
            paid_fee=self.paid_fee,
            locked=self.locked,
            trades_count=len(self.trades),
            time_in_force=self.time_in_force,
            trades=trades,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "market": self.market,
            "side": self.side,
            "ord_type": self.ord_type,
            "created_at": self.created_at.isoformat(),
            "seq": self.seq,
            "identifier": self.identifier,
            "price": _dec(self.price),
            "volume": _dec(self.volume),
            "time_in_force": self.time_in_force,
            "state": self.state,
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
            side=cast(Side, data["side"]),
            ord_type=cast(OrdType, data["ord_type"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            seq=int(data["seq"]),
            identifier=data.get("identifier"),
            price=_undec(data.get("price")),
            volume=_undec(data.get("volume")),
            time_in_force=data.get("time_in_force"),
            state=cast(OrderState, data["state"]),
            remaining_volume=_undec(data.get("remaining_volume")),
            executed_volume=Decimal(data["executed_volume"]),
            executed_funds=Decimal(data["executed_funds"]),
            reserved_fee=Decimal(data["reserved_fee"]),
            paid_fee=Decimal(data["paid_fee"]),
            locked=Decimal(data["locked"]),
            trades=[PaperTrade.from_json(t) for t in data.get("trades", [])],
        )
