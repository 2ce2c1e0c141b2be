"""What a backtest returns: every trade (exact Decimal), the equity curve (float) and metrics."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Literal

import numpy as np
from numpy.typing import NDArray

ExitKind = Literal["signal", "stop", "trailing", "take_profit", "roi", "time", "end"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    """One round trip. Prices, volume, fees and PnL are what the paper exchange would book.

    ``exit_reason`` ``"end"``: still open when the data ran out, marked at the last close
    with no exit fee (``exit_fee`` 0); it counts in the equity curve and the trade list.
    """

    market: str
    entry_at: datetime
    exit_at: datetime
    entry_price: Decimal
    exit_price: Decimal
    volume: Decimal
    entry_fee: Decimal
    exit_fee: Decimal
    pnl_krw: Decimal
    return_pct: float
    exit_reason: ExitKind

    def as_dict(self) -> dict[str, object]:
        """JSON-safe: Decimals as exact strings, times as ISO 8601."""
        return {
            "market": self.market,
            "entry_at": self.entry_at.isoformat(),
            "exit_at": self.exit_at.isoformat(),
            "entry_price": str(self.entry_price),
            "exit_price": str(self.exit_price),
            "volume": str(self.volume),
            "entry_fee": str(self.entry_fee),
            "exit_fee": str(self.exit_fee),
            "pnl_krw": str(self.pnl_krw),
            "return_pct": self.return_pct,
            "exit_reason": self.exit_reason,
        }


@dataclass(frozen=True, slots=True)
class BuyAndHold:
    """Spend ``start_krw`` split evenly across the markets at their first open, hold to the
    last close (no fees): the benchmark a strategy has to beat."""

    return_pct: float
    per_market: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class Metrics:
    """Summary numbers; percentages are percent. ``None`` where a ratio is undefined
    (no losing trade for ``profit_factor``, no drawdown for ``calmar``, flat equity for
    ``sharpe``/``sortino``)."""

    trades: int
    win_rate: float
    total_return_pct: float
    annualized_return_pct: float
    max_drawdown_pct: float
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    profit_factor: float | None
    exposure_pct: float
    fees_krw: float
    final_equity_krw: float
    buy_and_hold_return_pct: float
    #: share of the (market-)candles after which the volatility filter held entries back
    volatility_halted_pct: float = 0.0

    def as_dict(self) -> dict[str, float | int | None]:
        """JSON-safe values (no NaN or infinity)."""
        out: dict[str, float | int | None] = {}
        for key, value in asdict(self).items():
            if isinstance(value, float) and not math.isfinite(value):
                value = None
            out[key] = value
        return out


@dataclass(frozen=True)
class BacktestResult:
    """``times``/``equity``: each candle of the union timeline and the equity marked at its
    close. ``trades`` are built on first access (an optimizer reading only ``metrics``
    never pays for thousands of ``Trade`` objects), in entry order."""

    times: NDArray[np.int64]
    equity: NDArray[np.float64]
    metrics: Metrics
    buy_and_hold: BuyAndHold
    make_trades: Callable[[], tuple[Trade, ...]] = field(repr=False, compare=False)

    @cached_property
    def trades(self) -> tuple[Trade, ...]:
        return self.make_trades()

    @property
    def drawdown_pct(self) -> NDArray[np.float64]:
        """Drawdown below the running peak after each bar, in percent (>= 0)."""
        peak = np.maximum.accumulate(self.equity)
        return np.asarray((peak - self.equity) / peak * 100.0, dtype=np.float64)
