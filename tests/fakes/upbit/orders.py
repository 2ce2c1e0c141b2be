"""Order records and their Upbit REST / myOrder representations (reference §5.1, §8.3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .jsonenc import dec_str, kst_iso

ZERO = Decimal(0)


@dataclass
class Fill:
    uuid: str
    price: Decimal
    volume: Decimal
    funds: Decimal
    fee: Decimal
    is_maker: bool
    side: str  # side of the order this fill belongs to
    trend: str  # "up" if the taker was a buyer, else "down"
    ts_ms: int

    def rest(self, market: str) -> dict[str, Any]:
        return {
            "market": market,
            "uuid": self.uuid,
            "price": dec_str(self.price),
            "volume": dec_str(self.volume),
            "funds": dec_str(self.funds),
            "trend": self.trend,
            "created_at": kst_iso(self.ts_ms, micro=True),
            "side": self.side,
        }


@dataclass
class FakeOrder:
    uuid: str
    market: str
    side: str
    ord_type: str
    price: Decimal | None
    volume: Decimal | None
    created_ms: int
    identifier: str | None = None
    time_in_force: str | None = None
    smp_type: str | None = None
    state: str = "wait"
    remaining_volume: Decimal | None = None
    executed_volume: Decimal = ZERO
    executed_funds: Decimal = ZERO
    reserved_fee: Decimal = ZERO
    paid_fee: Decimal = ZERO
    locked: Decimal = ZERO
    trades: list[Fill] = field(default_factory=list)
    seq: int = 0  # creation order (ties in created_ms)

    @property
    def sort_key(self) -> tuple[int, int]:
        return self.created_ms, self.seq

    @property
    def quote(self) -> str:
        return self.market.split("-", 1)[0]

    @property
    def base(self) -> str:
        return self.market.split("-", 1)[1]

    @property
    def remaining_fee(self) -> Decimal:
        return max(ZERO, self.reserved_fee - self.paid_fee)

    @property
    def is_open(self) -> bool:
        return self.state in ("wait", "watch")

    @property
    def trades_count(self) -> int:
        return len(self.trades)

    @property
    def avg_price(self) -> Decimal:
        return self.executed_funds / self.executed_volume if self.executed_volume else ZERO

    def rest(self, *, with_trades: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "uuid": self.uuid,
            "side": self.side,
            "ord_type": self.ord_type,
        }
        if self.price is not None:
            out["price"] = dec_str(self.price)
        out.update(
            {"state": self.state, "market": self.market, "created_at": kst_iso(self.created_ms)}
        )
        if self.volume is not None:
            out["volume"] = dec_str(self.volume)
        if self.remaining_volume is not None:
            out["remaining_volume"] = dec_str(self.remaining_volume)
        out.update(
            {
                "executed_volume": dec_str(self.executed_volume),
                "executed_funds": dec_str(self.executed_funds),
                "reserved_fee": dec_str(self.reserved_fee),
                "remaining_fee": dec_str(self.remaining_fee),
                "paid_fee": dec_str(self.paid_fee),
                "locked": dec_str(self.locked),
                "prevented_volume": "0",
                "prevented_locked": "0",
                "trades_count": self.trades_count,
            }
        )
        if self.time_in_force is not None:
            out["time_in_force"] = self.time_in_force
        if self.smp_type is not None:
            out["smp_type"] = self.smp_type
        if self.identifier is not None:
            out["identifier"] = self.identifier
        if with_trades:
            out["trades"] = [fill.rest(self.market) for fill in self.trades]
        return out

    def my_order(self, state: str, ts_ms: int, fill: Fill | None = None) -> dict[str, Any]:
        """DEFAULT-format myOrder message (numbers as Decimal -> JSON numbers)."""
        price = fill.price if fill else self.price
        volume = fill.volume if fill else self.volume
        return {
            "type": "myOrder",
            "code": self.market,
            "uuid": self.uuid,
            "ask_bid": self.side.upper(),
            "order_type": self.ord_type,
            "state": state,
            "trade_uuid": fill.uuid if fill else None,
            "price": price,
            "avg_price": self.avg_price,
            "volume": volume,
            "remaining_volume": self.remaining_volume,
            "executed_volume": self.executed_volume,
            "trades_count": self.trades_count,
            "reserved_fee": self.reserved_fee,
            "remaining_fee": self.remaining_fee,
            "paid_fee": self.paid_fee,
            "locked": self.locked,
            "executed_funds": self.executed_funds,
            "time_in_force": self.time_in_force,
            "trade_fee": fill.fee if fill else None,
            "is_maker": fill.is_maker if fill else None,
            "identifier": self.identifier,
            "smp_type": self.smp_type,
            "prevented_volume": ZERO,
            "prevented_locked": ZERO,
            "trade_timestamp": fill.ts_ms if fill else None,
            "order_timestamp": self.created_ms,
            "timestamp": ts_ms,
            "stream_type": "REALTIME",
        }
