"""Builders shared by the risk tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

from trading.domain import Bar
from trading.events import Event

SEOUL = ZoneInfo("Asia/Seoul")
E = TypeVar("E", bound=Event)
T0 = datetime(2025, 6, 20, 1, 0, tzinfo=UTC)  # Friday 10:00 in Seoul


def bar(
    close: str | int | Decimal,
    *,
    high: str | int | Decimal | None = None,
    low: str | int | Decimal | None = None,
    open_: str | int | Decimal | None = None,
    market: str = "KRW-BTC",
    start: datetime = T0,
    i: int = 0,
) -> Bar:
    c = Decimal(close)
    return Bar(
        market=market,
        timeframe="1m",
        start=start + timedelta(minutes=i),
        open=Decimal(open_) if open_ is not None else c,
        high=Decimal(high) if high is not None else c,
        low=Decimal(low) if low is not None else c,
        close=c,
        volume=Decimal(1),
    )


class Recorder:
    """An EventSink that keeps what it was given."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]
