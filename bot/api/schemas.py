"""The JSON API's response bodies as pydantic models: the OpenAPI schemas come from these.

Money and amounts are strings holding the exact Decimal (``"1234.5"``, never a float, never
an exponent): a JSON number would be read as a binary float by most clients. Times are ISO 8601
in UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Money = Annotated[
    str,
    Field(
        pattern=r"^-?[0-9]+(\.[0-9]+)?$",
        description="an exact decimal as text (KRW or a coin amount)",
        examples=["1234567.5"],
    ),
]


class Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ErrorOut(Out):
    error: str = Field(description="one sentence saying what is wrong")


class CheckOut(Out):
    ok: bool
    detail: str


class ProbeOut(Out):
    """``/healthz`` and ``/readyz``: every check, and the names of those that failed."""

    status: Literal["ok", "fail"]
    checks: dict[str, CheckOut]
    failed: list[str]


class ExcludedOut(Out):
    market: str
    reason: Literal["warning", "delisting"] = Field(
        description="warning: Upbit's investment warning or caution; delisting: scheduled, or"
        " not tradeable"
    )


class UniverseOut(Out):
    """The markets new entries may go into, and how they were chosen."""

    chosen_by: Literal["fixed", "top"] = Field(
        description='fixed: the list in bot.markets; top: bot.markets = "top:N", the N KRW'
        " markets of the highest 24-hour traded value, chosen again on a schedule"
    )
    top: int | None = Field(description="N of top:N; null for a fixed list")
    markets: list[str] = Field(description="the universe: new entries go only here")
    held_outside: list[str] = Field(
        description="markets that left the universe with a position: traded until it exits"
    )
    refreshed_at: datetime | None = Field(description="the last choice; null for a fixed list")
    refresh_every_s: float | None = Field(description="bot.universe_refresh_s; null if fixed")
    changes: int = Field(description="choices since start that changed it (not the first)")
    excluded: list[ExcludedOut] = Field(
        description="KRW markets the last choice left out for an Upbit flag"
    )


class StatusOut(Out):
    mode: Literal["paper", "live"]
    app_state: str = Field(description="new, starting, running, stopping or stopped")
    version: str
    uptime_s: float
    markets: list[str]
    strategy: str
    trading: Literal["active", "paused", "kill_switch"]
    paused_markets: list[str]
    market_time: datetime = Field(description="the market's clock (a replay runs on its own)")
    equity_krw: Money
    free_krw: Money
    open_positions: int
    prices: dict[str, Money]
    active_halts: list[str]
    universe: UniverseOut


class PositionOut(Out):
    market: str
    state: str = Field(description="entering, long, exiting (flat markets are left out)")
    volume: Money
    avg_entry_price: Money | None
    last_price: Money | None
    stop_price: Money | None
    take_profit_price: Money | None
    unrealized_pnl_krw: Money | None
    opened_at: datetime | None
    intent_id: str | None = Field(description="the order the position waits on, if any")


class PositionsOut(Out):
    positions: list[PositionOut]


class OrderOut(Out):
    intent_id: str
    identifier: str | None
    uuid: str | None
    market: str
    side: Literal["bid", "ask"]
    ord_type: str
    price: Money | None
    volume: Money | None
    state: str
    is_open: bool
    executed_volume: Money
    executed_funds: Money
    paid_fee: Money
    strategy: str | None
    reason: str | None
    created_at: datetime
    updated_at: datetime


class OrdersOut(Out):
    open: list[OrderOut] = Field(description="orders still watched, oldest first")
    recent: list[OrderOut] = Field(description="the newest orders in any state, newest first")


class TradeOut(Out):
    id: int
    trade_uuid: str
    order_uuid: str | None
    intent_id: str | None
    market: str
    side: Literal["bid", "ask"]
    price: Money
    volume: Money
    funds: Money
    fee: Money
    is_maker: bool | None
    created_at: datetime


class TradesOut(Out):
    trades: list[TradeOut] = Field(description="fills, newest first")


class EquityPointOut(Out):
    at: datetime
    equity_krw: Money
    cash_krw: Money


class PnlDayOut(Out):
    day: date = Field(description="a day in the bot's time zone")
    realized_krw: Money = Field(description="realized PnL after fees, by average cost")
    fees_krw: Money = Field(description="every fee paid that day, buys and sells")
    sells: int
    wins: int


class PnlOut(Out):
    equity: list[EquityPointOut] = Field(
        description="stored equity snapshots, oldest first, then the current equity"
    )
    daily: list[PnlDayOut] = Field(description="realized PnL per day, oldest first")
    realized_krw: Money = Field(description="the sum of ``daily``")


class LimitOut(Out):
    name: str
    text: str = Field(description="an English sentence: the limit and how much of it is used")
    blocking: bool = Field(description="true: this limit stops new entries now")
    code: str
    values: dict[str, str]


class HaltOut(Out):
    name: str
    start: str
    end: str
    days: list[str]
    recurring: bool
    active: bool
    ends_at: datetime | None
    next_start: datetime | None


class RiskOut(Out):
    entries_allowed: bool
    kill_switch: bool
    paused_all: bool
    paused_markets: list[str]
    limits: list[LimitOut]
    halts: list[HaltOut]


class SettingOut(Out):
    key: str = Field(description="``strategy.<name>`` or ``risk.<name>``, as /set takes it")
    value: str = Field(description="the value in force, as text (decimals without exponent)")
    type: Literal["int", "decimal", "float", "bool", "choice", "str", "table", "other"]
    min: str | None = Field(description="the lowest allowed value (inclusive)")
    max: str | None = Field(description="the highest allowed value (inclusive)")
    choices: list[str]
    optional: bool = Field(description="``none`` is allowed (a value derived from others)")
    live: bool = Field(description="may change while the bot runs (/set); else config + restart")
    description: str


class SettingsOut(Out):
    settings: list[SettingOut]


class AuditOut(Out):
    id: int
    at: datetime
    transport: str
    user_id: str | None
    chat_id: str | None
    command: str
    arguments: Any
    outcome: str
    detail: str | None


class AuditPageOut(Out):
    entries: list[AuditOut] = Field(description="newest first")
    next_before: int | None = Field(
        description="pass as ?before= for the next (older) page; null on the last page"
    )
