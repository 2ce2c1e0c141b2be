"""What to backtest: the strategy, the risk limits and the paper account, in one frozen value."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from trading.domain.rules import MarketRules
from trading.risk.limits import RiskLimits
from trading.strategies import Strategy
from trading.timeframes import timeframe_seconds


@dataclass(frozen=True, slots=True)
class PaperAccount:
    """The simulated account a backtest runs on, as paper trading's (``[paper]``)."""

    start_krw: Decimal = Decimal(10_000_000)
    fee_rate: Decimal = Decimal("0.0005")
    slippage_bps: Decimal = Decimal(5)


DEFAULT_ACCOUNT = PaperAccount()


def spec_fields(
    limits: RiskLimits,
    timeframe: str,
    account: PaperAccount,
    *,
    rules: MarketRules,
    cooldown_candles: int,
    stop_cooldown_candles: int,
    plain: bool = False,
) -> dict[str, Any]:
    """``BacktestSpec``'s fields but the strategy: the one recipe of ``upbit-bot backtest`` and
    ``optimize`` (from the config) and chat's /backtest and /optimize (from the running bot).
    ``plain``: the switches of a comparison with other tools (no slippage, no cooldowns, no
    slippage check, same-candle re-entry); ``limits`` are then the caller's plain ones."""
    return {
        "limits": limits,
        "timeframe": timeframe,
        "start_krw": account.start_krw,
        "fee_rate": account.fee_rate,
        "slippage_bps": Decimal(0) if plain else account.slippage_bps,
        "cooldown_candles": 0 if plain else cooldown_candles,
        "stop_cooldown_candles": 0 if plain else stop_cooldown_candles,
        "slippage_check": not plain,
        "same_candle_reentry": plain,
        "rules": rules,
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestSpec:
    """One backtest. The stake is ``limits.position_size_krw``; ``fee_rate``, ``slippage_bps``
    and ``start_krw`` are the paper exchange's (``[paper]``), cooldowns the position rules'.

    Switches for comparing with other tools (every risk feature off): ``slippage_bps=0``,
    cooldowns 0, and in ``limits``: ``atr_stop_mult=0``, ``take_profit_pct=0``,
    ``volatility_halt_pct=0``, ``volatility_halt_percentile=0``, ``daily_loss_limit_krw=0``,
    ``max_drawdown_pct=0``, no ``halt_windows``; ``slippage_check=False`` skips the gate's
    expected-fill check (paper trading compares the next open with the signal close against
    ``max_slippage_bps``) and ``same_candle_reentry=True`` lifts the position rules' "no
    re-entry on the candle that exited" guard (a signal exit fills at the next open; without
    this, a cross back on that very candle is not taken).

    ``trade_from`` (epoch seconds): candles before it only warm the strategy, the ATR and the
    volatility filter up; no signal before it is acted on, and the result (equity, metrics,
    buy-and-hold) starts with the first candle at or after it. An out-of-sample window is
    judged this way, warmed up on the bars before it.
    """

    strategy: Strategy[Any]
    limits: RiskLimits
    timeframe: str
    start_krw: Decimal = DEFAULT_ACCOUNT.start_krw
    fee_rate: Decimal = DEFAULT_ACCOUNT.fee_rate
    slippage_bps: Decimal = DEFAULT_ACCOUNT.slippage_bps
    cooldown_candles: int = 0
    stop_cooldown_candles: int = 0
    slippage_check: bool = True
    same_candle_reentry: bool = False
    trade_from: int | None = None
    rules: MarketRules  # the venue's price grid and limits: the caller's (the wiring's)

    def __post_init__(self) -> None:
        timeframe_seconds(self.timeframe)  # raises ValueError naming a bad timeframe
        for name in ("start_krw", "fee_rate", "slippage_bps"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ValueError(f"{name} must be a finite Decimal >= 0, got {value!r}")
        if self.start_krw <= 0:
            raise ValueError("start_krw must be > 0")
        if self.cooldown_candles < 0 or self.stop_cooldown_candles < 0:
            raise ValueError("cooldowns cannot be negative")

    @property
    def timeframe_s(self) -> int:
        return timeframe_seconds(self.timeframe)
