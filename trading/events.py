"""Frozen events that the Upbit adapter and the engine emit.

Components take an ``EventSink``, a plain callable that must not block; the engine's bus fans
events out to the store, metrics and notifier. Events are past tense and carry data, never chat
markup. ``critical`` events (orders, fills, positions, risk, halts) must never be dropped by a
slow subscriber; the rest (candles, signals, feed health) may be, oldest first.

Each event class says what it is to the rest of the bot in class attributes, so that adding an
event is one class here, one render function (``bot.notify.messages``) and its catalog texts:
``kind`` (the push kind users switch in ``notify.events``: stored in configs and the queue,
never renamed), ``level`` (that kind's default: on, silent or off), ``critical``, and
``metric``, the Prometheus series that counts it ("" = none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import ClassVar, Literal

from trading.domain import Bar

#: how a push kind is delivered by default: with sound, silently, or not at all
Level = Literal["on", "silent", "off"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every event; ``at`` is timezone-aware UTC. Subclasses declare the class
    attributes below (the module docstring says what each means); ``queued`` is False only
    for events that are never pushed and carry objects the queue cannot store."""

    at: datetime = field(default_factory=_now)
    kind: ClassVar[str]
    level: ClassVar[Level]
    critical: ClassVar[bool] = False
    metric: ClassVar[str] = ""
    queued: ClassVar[bool] = True


EventSink = Callable[[Event], None]


def ignore_event(_event: Event) -> None:
    """Default sink for components used on their own."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitBanned(Event):
    """Upbit answered 418: every call of ``group`` waits until ``until``."""

    kind: ClassVar[str] = "rate_limit"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    group: str
    until: datetime
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitBanLifted(Event):
    kind: ClassVar[str] = "rate_limit"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = False

    group: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CircuitStateChanged(Event):
    """The REST circuit breaker moved between closed, open and half_open."""

    kind: ClassVar[str] = "circuit"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True
    metric: ClassVar[str] = "upbit_bot_circuit_opens"

    name: str
    old: str
    new: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderResubmitted(Event):
    """An order attempt was confirmed absent on the exchange and re-sent under a new identifier."""

    kind: ClassVar[str] = "order_resubmitted"
    level: ClassVar[Level] = "silent"
    critical: ClassVar[bool] = True

    intent_id: str
    old_identifier: str
    new_identifier: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedConnected(Event):
    kind: ClassVar[str] = "feed_connected"
    level: ClassVar[Level] = "off"
    critical: ClassVar[bool] = False

    stream: str
    url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedStalled(Event):
    """No message for ``silent_for_s`` seconds; the connection is being replaced."""

    kind: ClassVar[str] = "feed"
    level: ClassVar[Level] = "silent"
    critical: ClassVar[bool] = False

    stream: str
    silent_for_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedGapped(Event):
    """Messages between the two times may be missing: the engine resyncs over REST."""

    kind: ClassVar[str] = "feed"
    level: ClassVar[Level] = "silent"
    critical: ClassVar[bool] = False

    stream: str
    disconnected_at: datetime
    reconnected_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedFailed(Event):
    """Upbit refused the handshake (``name`` = ``"HTTP 401"``) or sent an error frame."""

    kind: ClassVar[str] = "feed"
    level: ClassVar[Level] = "silent"
    critical: ClassVar[bool] = False

    stream: str
    name: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedRecovered(Event):
    kind: ClassVar[str] = "feed"
    level: ClassVar[Level] = "silent"
    critical: ClassVar[bool] = False

    stream: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CandleClosed(Event):
    kind: ClassVar[str] = "candle"
    level: ClassVar[Level] = "off"
    critical: ClassVar[bool] = False
    queued: ClassVar[bool] = False

    bar: Bar


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalRaised(Event):
    kind: ClassVar[str] = "signal"
    level: ClassVar[Level] = "off"
    critical: ClassVar[bool] = False

    market: str
    action: Literal["enter", "exit"]
    price: Decimal
    strategy: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPlaced(Event):
    kind: ClassVar[str] = "order_placed"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True
    metric: ClassVar[str] = "upbit_bot_orders"

    intent_id: str
    identifier: str
    uuid: str
    market: str
    side: Literal["bid", "ask"]
    ord_type: str
    price: Decimal | None
    volume: Decimal | None
    paper: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilled(Event):
    """A fill; ``complete`` tells whether the order has nothing left to fill."""

    kind: ClassVar[str] = "fill"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True
    metric: ClassVar[str] = "upbit_bot_fills"

    intent_id: str
    identifier: str
    market: str
    side: Literal["bid", "ask"]
    price: Decimal
    volume: Decimal
    fee: Decimal
    trade_uuid: str
    complete: bool
    paper: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelled(Event):
    kind: ClassVar[str] = "cancelled"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True
    metric: ClassVar[str] = "upbit_bot_orders"

    intent_id: str
    identifier: str
    market: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderBecameUncertain(Event):
    """An order was sent but its outcome is unknown (timeout, lost response): reconciliation
    settles it; until then nobody should assume either way."""

    kind: ClassVar[str] = "order_uncertain"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True
    metric: ClassVar[str] = "upbit_bot_orders"

    intent_id: str
    market: str
    side: Literal["bid", "ask"]
    ord_type: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected(Event):
    kind: ClassVar[str] = "rejected"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True
    metric: ClassVar[str] = "upbit_bot_orders"

    intent_id: str
    market: str
    name: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionOpened(Event):
    kind: ClassVar[str] = "position_opened"
    level: ClassVar[Level] = "off"
    critical: ClassVar[bool] = True

    market: str
    volume: Decimal
    avg_price: Decimal
    stop_price: Decimal | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionClosed(Event):
    kind: ClassVar[str] = "position_closed"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True
    metric: ClassVar[str] = "upbit_bot_trades_closed"

    market: str
    volume: Decimal
    entry_price: Decimal
    exit_price: Decimal
    pnl_krw: Decimal
    fees_krw: Decimal
    reason: str
    #: what the round trip's entry cost, buy fees included: its return is pnl_krw / cost_krw
    #: (0: not known, an event from before this field)
    cost_krw: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class StopMoved(Event):
    kind: ClassVar[str] = "stop_moved"
    level: ClassVar[Level] = "off"
    critical: ClassVar[bool] = True

    market: str
    old: Decimal | None
    new: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskBreached(Event):
    """A risk check refused something; ``reason`` is the sentence users read."""

    kind: ClassVar[str] = "risk"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True
    metric: ClassVar[str] = "upbit_bot_risk_breaches"

    check: str
    market: str | None
    reason: str
    code: str = ""  # catalog key refusal.<code>; values fill it (chat renders it translated)
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class HaltChanged(Event):
    kind: ClassVar[str] = "halt"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    name: str
    active: bool
    reason: str
    code: str = ""  # catalog key halt_note.<code>; values fill it (chat renders it translated)
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtectionTripped(Event):
    """A protection (``stoploss_guard``, ``drawdown_guard``, ``low_profit``) paused entries
    into ``market`` (None: every market) until ``until``, market time; ``at`` is the exit that
    tripped it. ``reason`` is English (logs); ``code``/``values`` render ``halt_note.<code>``."""

    kind: ClassVar[str] = "protection"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    protection: str
    market: str | None
    until: datetime
    reason: str
    code: str = ""
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtectionLifted(Event):
    """A protection's pause ended (its time ran out, or it was switched off)."""

    kind: ClassVar[str] = "protection"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    protection: str
    market: str | None
    reason: str
    code: str = ""
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketStatusChanged(Event):
    """Upbit changed what it says about a market the bot holds: its investment warning
    (유의종목) or caution flags (``warned``), or its delisting (``closing``: a date, a state
    other than ACTIVE, or gone from the market list), set or lifted. ``was_*`` is the previous
    reading (False on the first one). ``exit_on`` is the day ``risk.exit_before_delisting_days``
    sells the position (None: the rule is off, or Upbit gave no date)."""

    kind: ClassVar[str] = "market_status"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    market: str
    warned: bool
    was_warned: bool
    closing: bool
    was_closing: bool
    warning: bool = False
    cautions: tuple[str, ...] = ()
    delisting_date: date | None = None
    state: str = ""  # PREVIEW | ACTIVE | DELISTED; "" = Upbit did not say
    listed: bool = True
    exit_on: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UniverseChanged(Event):
    """``bot.markets = "top:N"`` chose its markets (``first``: at start) or changed them.

    Per market (``joined`` and ``left``): ``ranks`` is its place by 24-hour traded value among
    the eligible markets ("0": excluded), ``values`` that value in KRW, and for a leaver
    ``why``: ``rank`` (out-traded), ``warning`` (Upbit's investment warning or caution),
    ``delisting`` (scheduled or not tradeable) or ``unlisted``. ``held``: leavers with a
    position, which is kept and exited by its own rules (no new entries)."""

    kind: ClassVar[str] = "universe"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    top: int
    markets: tuple[str, ...]
    joined: tuple[str, ...] = ()
    left: tuple[str, ...] = ()
    why: tuple[tuple[str, str], ...] = ()
    ranks: tuple[tuple[str, str], ...] = ()
    values: tuple[tuple[str, str], ...] = ()
    held: tuple[str, ...] = ()
    first: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Paused(Event):
    kind: ClassVar[str] = "pause"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    market: str | None
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Resumed(Event):
    kind: ClassVar[str] = "pause"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    market: str | None
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ParameterChanged(Event):
    kind: ClassVar[str] = "param"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    key: str
    old: str
    new: str
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingRejected(Event):
    """A live change stored by an earlier run no longer validates (bounds tightened in a new
    release, a strategy swapped): it was dropped at start and ``applies`` is in force."""

    kind: ClassVar[str] = "param"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    key: str
    stored: str
    applies: str
    reason: str  # English, for logs
    code: str = ""  # the refusal's catalog code, for chat
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class BookAdjusted(Event):
    """The account holds less of ``market``'s coin than the book (the owner sold or withdrew
    some by hand): the book adopted the exchange's number. ``book`` and ``exchange`` are the
    holdings (position plus dust) before and after; ``state`` the position's state after."""

    kind: ClassVar[str] = "book"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True
    metric: ClassVar[str] = "upbit_bot_book_adjustments"

    market: str
    book: Decimal
    exchange: Decimal
    state: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrdersSuspended(Event):
    """Upbit refused ``refusals`` order requests for ``market`` within ``window_s``: the bot
    sends no more orders there (entries, exits and stops alike) until an operator resumes it,
    because Upbit blocks keys that keep making refused requests. ``reasons``: Upbit's names."""

    kind: ClassVar[str] = "suspended"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    market: str
    refusals: int
    window_s: int
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconciled(Event):
    """What start-up reconciliation found, so chat can show what was recovered."""

    kind: ClassVar[str] = "reconciled"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    checked: int
    settled: tuple[str, ...]
    never_placed: tuple[str, ...]
    adopted: tuple[str, ...]
    foreign: int
    mismatches: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSettled(Event):
    """An order reached its end (filled, cancelled or rejected), announced exactly once.

    Fills come first as ``OrderFilled``; this is the one signal that no more will follow.
    """

    kind: ClassVar[str] = "order_settled"
    level: ClassVar[Level] = "off"
    critical: ClassVar[bool] = True

    intent_id: str
    market: str
    side: Literal["bid", "ask"]
    state: str
    executed_volume: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayFinished(Event):
    """A paper replay of recorded candles (``make run``) reached the end of its data: what
    the bot did over it, beside holding the market over the same prints.

    Percentages are percent of the account's equity at the replay's start (``start_krw``);
    ``buy_and_hold_pct`` is the market's price change from the first to the last print, before
    fees. ``max_drawdown_pct`` is of the equity marked every few hundred prints. ``exits``
    counts closed trades by exit reason (``stop``, ``signal``, ...), most frequent first.
    """

    kind: ClassVar[str] = "replay_summary"
    level: ClassVar[Level] = "on"
    critical: ClassVar[bool] = True

    markets: tuple[str, ...]
    first: datetime  # market time of the first and the last print
    last: datetime
    trades: int
    wins: int
    win_rate_pct: float
    start_krw: Decimal
    end_krw: Decimal
    return_pct: float
    max_drawdown_pct: float
    fees_krw: Decimal
    buy_and_hold_pct: float
    exits: tuple[tuple[str, int], ...] = ()
    open_positions: int = 0

    @property
    def pnl_krw(self) -> Decimal:
        return self.end_krw - self.start_krw
