"""Typed Upbit REST payloads. Every price, volume and amount is an exact ``Decimal``.

Venue vocabulary (``bid``/``ask``, ``wait``/``done``) stays here; the engine maps it to its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from trading.timeframes import KST


def _decimal(value: object) -> object:
    if isinstance(value, float):  # never trust binary floats; go through their repr
        return Decimal(repr(value))
    return value


Dec = Annotated[Decimal, BeforeValidator(_decimal)]


def _utc_naive(value: object) -> object:
    """Upbit's ``candle_date_time_utc`` has no offset: it is UTC."""
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


def _epoch_ms(value: object) -> object:
    if isinstance(value, int | Decimal):
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    return value


def _upbit_date(value: object) -> object:
    """``delisting_date`` comes as null, ``""``, ``"2025-07-01"`` or ``{year, month, day}``
    depending on the endpoint and its age (reference §8.3)."""
    if value == "":
        return None
    if isinstance(value, Mapping):
        try:
            return date(int(value["year"]), int(value["month"]), int(value["day"]))
        except (KeyError, TypeError, ValueError):
            return value  # let the date validator name the bad value
    return value


UtcDatetime = Annotated[datetime, BeforeValidator(_utc_naive)]
UpbitDate = Annotated[date | None, BeforeValidator(_upbit_date)]
EpochMs = Annotated[datetime, BeforeValidator(_epoch_ms)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class MarketEvent(_Model):
    warning: bool = False
    caution: dict[str, bool] = Field(default_factory=dict)


class Market(_Model):
    """GET /v1/market/all?is_details=true."""

    market: str
    korean_name: str = ""
    english_name: str = ""
    market_event: MarketEvent = Field(default_factory=MarketEvent)

    @property
    def warning(self) -> bool:
        return self.market_event.warning

    @property
    def cautions(self) -> tuple[str, ...]:
        return tuple(k for k, v in self.market_event.caution.items() if v)


class Candle(_Model):
    """One candle of /v1/candles/*; ``start`` is the interval start in UTC."""

    market: str
    start: UtcDatetime = Field(alias="candle_date_time_utc")
    open: Dec = Field(alias="opening_price")
    high: Dec = Field(alias="high_price")
    low: Dec = Field(alias="low_price")
    close: Dec = Field(alias="trade_price")
    volume: Dec = Field(alias="candle_acc_trade_volume")
    quote_volume: Dec = Field(alias="candle_acc_trade_price")
    last_trade_at: EpochMs = Field(alias="timestamp")
    unit: int | None = None


class Ticker(_Model):
    market: str
    trade_price: Dec
    opening_price: Dec
    high_price: Dec
    low_price: Dec
    prev_closing_price: Dec
    change: Literal["RISE", "EVEN", "FALL"]
    signed_change_rate: Dec
    trade_volume: Dec
    acc_trade_price_24h: Dec
    acc_trade_volume_24h: Dec
    trade_timestamp: EpochMs
    timestamp: EpochMs


class TickerState(_Model):
    """The lifecycle fields of a ``GET /v1/ticker`` item: ``market_state`` (PREVIEW, ACTIVE,
    DELISTED) and ``delisting_date`` (set when a delisting is scheduled). Upbit's REST docs do
    not promise them (the WebSocket ticker's do), so both may be absent: "" and None."""

    market: str
    market_state: str = ""
    delisting_date: UpbitDate = None

    @field_validator("market_state", mode="before")
    @classmethod
    def _state(cls, value: object) -> object:
        return "" if value is None else value


class TickerValue(TickerState):
    """A ``GET /v1/ticker/all`` item as the market universe reads it: the 24-hour traded value
    in KRW (``acc_trade_price_24h``; 0 when absent) beside the lifecycle fields."""

    acc_trade_price_24h: Dec = Decimal(0)

    @field_validator("acc_trade_price_24h", mode="before")
    @classmethod
    def _value(cls, value: object) -> object:
        return 0 if value is None else value


class OrderbookUnit(_Model):
    ask_price: Dec
    bid_price: Dec
    ask_size: Dec
    bid_size: Dec


class Orderbook(_Model):
    market: str
    timestamp: EpochMs
    total_ask_size: Dec
    total_bid_size: Dec
    orderbook_units: tuple[OrderbookUnit, ...]
    level: Dec = Decimal(0)


class Instrument(_Model):
    market: str
    quote_currency: str
    tick_size: Dec


class TradeTick(_Model):
    market: str
    trade_price: Dec
    trade_volume: Dec
    ask_bid: Literal["ASK", "BID"]
    timestamp: EpochMs
    sequential_id: int


class Account(_Model):
    currency: str
    balance: Dec
    locked: Dec
    avg_buy_price: Dec = Decimal(0)
    unit_currency: str = "KRW"

    @property
    def total(self) -> Decimal:
        return self.balance + self.locked


class ChanceSide(_Model):
    currency: str
    min_total: Dec = Decimal(0)


class ChanceMarket(_Model):
    id: str
    bid_types: tuple[str, ...] = ()
    ask_types: tuple[str, ...] = ()
    bid: ChanceSide
    ask: ChanceSide
    max_total: Dec = Decimal(0)
    state: str = "active"


class OrderChance(_Model):
    """GET /v1/orders/chance: the fees and limits that apply to the next order."""

    bid_fee: Dec
    ask_fee: Dec
    maker_bid_fee: Dec | None = None
    maker_ask_fee: Dec | None = None
    market: ChanceMarket
    bid_account: Account
    ask_account: Account


class OrderTrade(_Model):
    market: str
    uuid: str
    price: Dec
    volume: Dec
    funds: Dec
    side: Literal["bid", "ask"]
    created_at: datetime
    trend: str | None = None


OrderState = Literal["wait", "watch", "done", "cancel"]


class Order(_Model):
    """The order object shared by every order endpoint (reference §5.1)."""

    uuid: str
    market: str
    side: Literal["bid", "ask"]
    ord_type: Literal["limit", "price", "market", "best"]
    state: OrderState
    created_at: datetime
    identifier: str | None = None
    price: Dec | None = None
    volume: Dec | None = None
    remaining_volume: Dec | None = None
    executed_volume: Dec = Decimal(0)
    executed_funds: Dec | None = None
    reserved_fee: Dec = Decimal(0)
    remaining_fee: Dec = Decimal(0)
    paid_fee: Dec = Decimal(0)
    locked: Dec = Decimal(0)
    trades_count: int = 0
    time_in_force: str | None = None
    trades: tuple[OrderTrade, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.state in ("wait", "watch")

    @property
    def has_fills(self) -> bool:
        """A market buy can end in ``cancel`` and still be filled: trust volumes, not state."""
        return self.executed_volume > 0 or self.trades_count > 0

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=KST)


class CancelAndNewResult(Order):
    """POST /v1/orders/cancel_and_new: the old order as it was when the cancel was accepted,
    plus the new order's ids. The new order exists only once the cancel completed, and never
    if the old one filled first (then Upbit may still name a uuid): look it up, don't trust
    the ids."""

    new_order_uuid: str | None = None
    new_order_identifier: str | None = None


class CancelledRef(_Model):
    uuid: str
    market: str
    identifier: str | None = None


class CancelGroup(_Model):
    count: int = 0
    orders: tuple[CancelledRef, ...] = ()


class BatchCancelResult(_Model):
    success: CancelGroup = Field(default_factory=CancelGroup)
    failed: CancelGroup = Field(default_factory=CancelGroup)
