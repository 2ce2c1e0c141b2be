"""Console commands for the local operator, on the engine facade.

A stand-in until the transport-neutral command layer (issue #4) serves the console, Telegram
and Slack alike; it calls the same facade those will, so nothing here is engine logic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from trading.engine.facade import EngineFacade
from trading.engine.pnl import Period
from trading.errors import UpbitError

if TYPE_CHECKING:
    from bot.app import App

USER = "console"
HELP = """commands:
  status                      positions, equity, pauses
  pause [market] / resume [market]
  params / get KEY / set KEY VALUE / undo / history
  pnl [day|week|month] [n]    realized PnL per period
  trades [n] / orders
  buy MARKET KRW / sell MARKET [percent] / close [MARKET] / cancel [ORDER|all]
  flatten                     kill switch: cancel orders, sell everything, stop entries
  quit"""


class ConsoleCommands:
    def __init__(self, app: App) -> None:
        self._app = app
        self._table: dict[str, Callable[[list[str]], Awaitable[list[str]]]] = {
            "help": self._help,
            "status": self._status,
            "pause": self._pause,
            "resume": self._resume,
            "params": self._params,
            "get": self._get,
            "set": self._set,
            "undo": self._undo,
            "history": self._history,
            "pnl": self._pnl,
            "trades": self._trades,
            "orders": self._orders,
            "buy": self._buy,
            "sell": self._sell,
            "close": self._close,
            "cancel": self._cancel,
            "flatten": self._flatten,
        }

    @property
    def api(self) -> EngineFacade:
        trader = self._app.trader
        if trader is None or trader.facade is None:
            raise LookupError("the engine is not running")
        return trader.facade

    async def run(self, words: list[str]) -> list[str]:
        name, args = words[0].lower(), words[1:]
        handler = self._table.get(name)
        if handler is None:
            return [f"unknown command {name!r}; try help"]
        try:
            return await handler(args)
        except (ValueError, KeyError, LookupError, InvalidOperation, UpbitError) as exc:
            return [f"error: {exc}"]

    async def _help(self, _args: list[str]) -> list[str]:
        return HELP.splitlines()

    async def _status(self, _args: list[str]) -> list[str]:
        return await self._app.status_lines()

    async def _pause(self, args: list[str]) -> list[str]:
        await self.api.pause(args[0] if args else None, by=USER)
        return [f"paused {args[0] if args else 'all markets'}"]

    async def _resume(self, args: list[str]) -> list[str]:
        await self.api.resume(args[0] if args else None, by=USER)
        return [f"resumed {args[0] if args else 'all markets'}"]

    async def _params(self, _args: list[str]) -> list[str]:
        return [f"{key} = {value}" for key, value in self.api.params().items()]

    async def _get(self, args: list[str]) -> list[str]:
        key = _need(args, 1, "get KEY")[0]
        return [f"{key} = {self.api.get(key)}"]

    async def _set(self, args: list[str]) -> list[str]:
        key, value = _need(args, 2, "set KEY VALUE")
        change = await self.api.set(key, value, by=USER, transport="console")
        return [f"{change.key}: {change.old} -> {change.new}"]

    async def _undo(self, _args: list[str]) -> list[str]:
        change = await self.api.undo(by=USER, transport="console")
        return [f"undone: {change.key}: {change.old} -> {change.new}"]

    async def _history(self, _args: list[str]) -> list[str]:
        rows = await self.api.history()
        return [
            f"{r.at:%m-%d %H:%M} {r.who}: {r.key} {r.old_value} -> {r.new_value}" for r in rows
        ]

    async def _pnl(self, args: list[str]) -> list[str]:
        periods: dict[str, Period] = {"day": "day", "week": "week", "month": "month"}
        period = periods.get(args[0] if args else "day")
        if period is None:
            raise ValueError("usage: pnl [day|week|month] [n]")
        rows = await self.api.pnl(period, int(args[1]) if len(args) > 1 else 7)
        return [f"{r.start}  {r.pnl_krw:>14,.0f} KRW  {r.sells} sells, {r.wins} won" for r in rows]

    async def _trades(self, args: list[str]) -> list[str]:
        fills = await self.api.trades(int(args[0]) if args else 10)
        return [
            f"{f.created_at:%m-%d %H:%M} {f.market} {f.side} {f.volume.normalize():f} "
            f"@ {f.price:,.0f} fee {f.fee:,.2f}"
            for f in fills
        ] or ["no trades yet"]

    async def _orders(self, _args: list[str]) -> list[str]:
        rows = await self.api.orders()
        return [f"{r.intent_id} {r.market} {r.side} {r.ord_type} {r.state}" for r in rows] or [
            "no open orders"
        ]

    async def _buy(self, args: list[str]) -> list[str]:
        market, krw = _need(args, 2, "buy MARKET KRW")
        sent = await self.api.buy(market.upper(), Decimal(krw), by=USER)
        return [f"buy {market.upper()} {krw} KRW: {'sent' if sent else 'refused (see log)'}"]

    async def _sell(self, args: list[str]) -> list[str]:
        market = _need(args, 1, "sell MARKET [percent]")[0].upper()
        percent = Decimal(args[1]) if len(args) > 1 else Decimal(100)
        sent = await self.api.sell(market, percent, by=USER)
        return [f"sell {percent}% of {market}: {'sent' if sent else 'nothing to sell'}"]

    async def _close(self, args: list[str]) -> list[str]:
        sent = await self.api.close(args[0].upper() if args else None, by=USER)
        return [f"exits sent: {', '.join(sent) or 'none'}"]

    async def _cancel(self, args: list[str]) -> list[str]:
        target = None if not args or args[0] == "all" else args[0]
        return [f"cancelled {await self.api.cancel(target)} order(s)"]

    async def _flatten(self, _args: list[str]) -> list[str]:
        report = await self.api.flatten(by=USER)
        return [
            f"flattened: {report.cancelled_orders} order(s) cancelled, "
            f"exits {', '.join(report.exits) or 'none'}; entries stay off until 'resume'"
        ]


def _need(args: list[str], count: int, usage: str) -> list[str]:
    if len(args) < count:
        raise ValueError(f"usage: {usage}")
    return args[:count]
