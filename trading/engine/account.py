"""The account as the risk layer sees it: free KRW, equity, and PnL since the day began."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from trading.domain.balance import Balance
from trading.exchange import Exchange
from trading.positions import Position, PositionState
from trading.risk.decision import trading_day

ZERO = Decimal(0)
HOLDING = (PositionState.ENTERING, PositionState.LONG, PositionState.EXITING)


@dataclass(frozen=True, slots=True)
class Account:
    free_krw: Decimal
    locked_krw: Decimal
    holdings_krw: Decimal
    open_positions: int

    @property
    def equity(self) -> Decimal:
        return self.free_krw + self.locked_krw + self.holdings_krw


class AccountView:
    """Marks positions at the last price; remembers each day's opening equity for day PnL."""

    def __init__(self, exchange: Exchange, zone: ZoneInfo, quote: str = "KRW") -> None:
        self._exchange = exchange
        self._zone = zone
        self._quote = quote
        self.day: date | None = None
        self.day_open_equity: Decimal | None = None

    def restore(self, day: date | None, day_open_equity: Decimal | None) -> None:
        """After a restart: the day's opening equity as the last run measured it, so the
        day's loss goes on from there (an earlier day is replaced by the next mark's)."""
        self.day, self.day_open_equity = day, day_open_equity

    async def snapshot(
        self,
        positions: dict[str, Position],
        prices: dict[str, Decimal],
        accounts: Sequence[Balance] | None = None,
    ) -> Account:
        """``accounts``: balances the caller just read (None: read them now)."""
        read = await self._exchange.accounts() if accounts is None else accounts
        balances = {a.currency: a for a in read}
        cash = balances.get(self._quote)
        holdings = ZERO
        for market, position in positions.items():
            price = prices.get(market)
            if position.holding and price is not None:
                holdings += position.holding * price  # dust is money too, just no position
        return Account(
            free_krw=cash.free if cash else ZERO,
            locked_krw=cash.locked if cash else ZERO,
            holdings_krw=holdings,
            open_positions=sum(1 for p in positions.values() if p.state in HOLDING),  # not dust
        )

    def day_pnl(self, at: datetime, equity: Decimal) -> Decimal:
        """Equity change since the first mark of the current day (realized + unrealized)."""
        today = trading_day(at, self._zone)
        if today != self.day or self.day_open_equity is None:
            self.day, self.day_open_equity = today, equity
        return equity - self.day_open_equity
