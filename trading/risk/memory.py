"""The risk layer's memory: what must outlive the process so a restart cannot reset a limit.

The breakers and the account view learn their state from the market as it goes (the day's
opening equity, the equity peak, a tripped halt, a market halted for volatility). Kept in
memory only, a crash loop, a redeploy or a failover to the standby would forget a day's losses
and approve entries again. ``RiskMemory`` is that state as one frozen value: the gate and the
account export it and take it back (``RiskGate.memory``/``restore``), and the engine side
stores it as JSON (``to_json``/``from_json``; Decimals as strings, days as ISO dates). The
gate never sees the store, so the backtester keeps using it synchronously, store-free.

Derived numbers (today's PnL, the drawdown in percent) are not part of it: they follow from
the next mark. The kill switch and pauses are kept with the pause state, not here.

Version 2 adds the protections (the recent closed trades they judge and their locks); a
version 1 value still reads, with no protection memory. Version 3 adds what each protection's
last trip counted (``ProtectionCount``); a version 2 value reads with none (``Protections.restore``
derives the counts of its locks from their end and pause).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from trading.domain import finite_decimal

#: Bumped when the JSON shape changes; an unknown version is refused like a malformed value.
VERSION = 3
#: Older shapes ``from_json`` still reads (what they lack starts empty).
READABLE = frozenset({1, 2, VERSION})

Values = tuple[tuple[str, str], ...]


class RiskMemoryError(ValueError):
    """A stored memory that cannot be read back; the message says which field and why."""


@dataclass(frozen=True, slots=True)
class HaltMemory:
    """One halt that lasts a trading day (daily loss, drawdown), as its breaker holds it.

    ``day``: the trading day the breaker is on (None before its first observation).
    ``reason``/``values``: the tripped halt's sentence and numbers (None/empty: not tripped).
    ``waived``: an admin lifted it for the rest of ``day`` (``/reset daily_loss``).
    """

    day: date | None = None
    reason: str | None = None
    values: Values = ()
    waived: bool = False

    @property
    def tripped(self) -> bool:
        return self.reason is not None


@dataclass(frozen=True, slots=True)
class VolatilityHalt:
    """A market halted for volatility, with the last level measured (its refusal shows it)."""

    market: str
    level: Decimal


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """A round trip as the protections judge it: ``at`` is the exit's market time (aware),
    ``profit`` its return after fees as a ratio (0.01 = 1 %), ``reason`` the exit reason."""

    market: str
    at: datetime
    profit: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class ProtectionLock:
    """Entries paused by ``protection`` into ``market`` (None: every market) until ``until``.

    ``reason`` is the English sentence (logs), ``code``/``values`` the same for the catalogs
    (``refusal.<code>``, ``halt_note.<code>``).
    """

    protection: str
    market: str | None
    until: datetime
    reason: str
    code: str
    values: Values = ()


@dataclass(frozen=True, slots=True)
class ProtectionCount:
    """``protection`` (on ``market``; None: every market) last tripped on the exit at
    ``through``: the trades closed up to then were counted and do not count for its next trip."""

    protection: str
    market: str | None
    through: datetime


@dataclass(frozen=True, slots=True)
class ProtectionMemory:
    """The trades the protections still look back on, their locks, and what each counted."""

    trades: tuple[ClosedTrade, ...] = ()
    locks: tuple[ProtectionLock, ...] = ()
    counted: tuple[ProtectionCount, ...] = ()


@dataclass(frozen=True, slots=True)
class GateMemory:
    """What the ``RiskGate`` learned: the equity peak, each stateful halt, the protections."""

    peak: Decimal | None = None
    daily_loss: HaltMemory = HaltMemory()
    drawdown: HaltMemory = HaltMemory()
    volatility: tuple[VolatilityHalt, ...] = ()
    protections: ProtectionMemory = ProtectionMemory()


@dataclass(frozen=True, slots=True)
class RiskMemory:
    """The gate's memory plus the account's day: ``day_open_equity`` is the equity the day's
    PnL (and so the daily loss) is measured from, on trading day ``day``."""

    day: date | None = None
    day_open_equity: Decimal | None = None
    gate: GateMemory = GateMemory()


def to_json(memory: RiskMemory) -> dict[str, Any]:
    """A JSON-ready mapping (``bot_state`` stores JSON, which has no exact decimal)."""
    gate = memory.gate
    return {
        "version": VERSION,
        "day": _day_out(memory.day),
        "day_open_equity": _dec_out(memory.day_open_equity),
        "peak": _dec_out(gate.peak),
        "daily_loss": _halt_out(gate.daily_loss),
        "drawdown": _halt_out(gate.drawdown),
        "volatility": [{"market": v.market, "level": str(v.level)} for v in gate.volatility],
        "protections": _protections_out(gate.protections),
    }


def from_json(raw: object) -> RiskMemory:
    """The memory ``to_json`` wrote; anything else raises ``RiskMemoryError`` naming the field."""
    data = _mapping(raw, "risk memory")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version not in READABLE:
        raise RiskMemoryError(f"version {version!r} is not one of {sorted(READABLE)}")
    volatility = data.get("volatility", [])
    if not isinstance(volatility, list):
        raise RiskMemoryError("volatility must be a list")
    halts = []
    for n, item in enumerate(volatility):
        entry = _mapping(item, f"volatility[{n}]")
        market = entry.get("market")
        if not isinstance(market, str) or not market:
            raise RiskMemoryError(f"volatility[{n}].market must be a market code")
        level = _dec_in(entry.get("level"), f"volatility[{n}].level")
        if level is None:
            raise RiskMemoryError(f"volatility[{n}].level is missing")
        halts.append(VolatilityHalt(market, level))
    return RiskMemory(
        day=_day_in(data.get("day"), "day"),
        day_open_equity=_dec_in(data.get("day_open_equity"), "day_open_equity"),
        gate=GateMemory(
            peak=_dec_in(data.get("peak"), "peak"),
            daily_loss=_halt_in(data.get("daily_loss"), "daily_loss"),
            drawdown=_halt_in(data.get("drawdown"), "drawdown"),
            volatility=tuple(halts),
            protections=_protections_in(data.get("protections"))
            if version >= 2
            else ProtectionMemory(),
        ),
    )


def _protections_out(memory: ProtectionMemory) -> dict[str, Any]:
    return {
        "trades": [
            {
                "market": t.market,
                "at": t.at.isoformat(),
                "profit": str(t.profit),
                "reason": t.reason,
            }
            for t in memory.trades
        ],
        "locks": [
            {
                "protection": lock.protection,
                "market": lock.market,
                "until": lock.until.isoformat(),
                "reason": lock.reason,
                "code": lock.code,
                "values": [[k, v] for k, v in lock.values],
            }
            for lock in memory.locks
        ],
        "counted": [
            {"protection": c.protection, "market": c.market, "through": c.through.isoformat()}
            for c in memory.counted
        ],
    }


def _protections_in(raw: object) -> ProtectionMemory:
    data = _mapping(raw, "protections")
    trades, locks = data.get("trades", []), data.get("locks", [])
    counted = data.get("counted", [])  # absent before version 3
    if not (isinstance(trades, list) and isinstance(locks, list) and isinstance(counted, list)):
        raise RiskMemoryError(
            "protections.trades, protections.locks and protections.counted must be lists"
        )
    out_trades = []
    for n, item in enumerate(trades):
        where = f"protections.trades[{n}]"
        entry = _mapping(item, where)
        profit = _dec_in(entry.get("profit"), f"{where}.profit")
        if profit is None:
            raise RiskMemoryError(f"{where}.profit is missing")
        out_trades.append(
            ClosedTrade(
                market=_text(entry.get("market"), f"{where}.market"),
                at=_moment_in(entry.get("at"), f"{where}.at"),
                profit=profit,
                reason=_text(entry.get("reason"), f"{where}.reason"),
            )
        )
    out_locks = []
    for n, item in enumerate(locks):
        where = f"protections.locks[{n}]"
        entry = _mapping(item, where)
        market = _market_or_all(entry.get("market"), where)
        out_locks.append(
            ProtectionLock(
                protection=_text(entry.get("protection"), f"{where}.protection"),
                market=market,
                until=_moment_in(entry.get("until"), f"{where}.until"),
                reason=_text(entry.get("reason"), f"{where}.reason"),
                code=_text(entry.get("code"), f"{where}.code"),
                values=_values_in(entry.get("values", []), where),
            )
        )
    out_counted = []
    for n, item in enumerate(counted):
        where = f"protections.counted[{n}]"
        entry = _mapping(item, where)
        out_counted.append(
            ProtectionCount(
                protection=_text(entry.get("protection"), f"{where}.protection"),
                market=_market_or_all(entry.get("market"), where),
                through=_moment_in(entry.get("through"), f"{where}.through"),
            )
        )
    return ProtectionMemory(tuple(out_trades), tuple(out_locks), tuple(out_counted))


def _market_or_all(raw: object, where: str) -> str | None:
    if raw is not None and not (isinstance(raw, str) and raw):
        raise RiskMemoryError(f"{where}.market must be a market code or null")
    return raw


def _text(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise RiskMemoryError(f"{where} must be non-empty text")
    return raw


def _moment_in(raw: object, where: str) -> datetime:
    if not isinstance(raw, str):
        raise RiskMemoryError(f"{where} must be an ISO time")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise RiskMemoryError(f"{where} = {raw!r} is not an ISO time") from None
    if moment.tzinfo is None:
        raise RiskMemoryError(f"{where} = {raw!r} has no time zone")
    return moment


def _halt_out(halt: HaltMemory) -> dict[str, Any]:
    return {
        "day": _day_out(halt.day),
        "reason": halt.reason,
        "values": [[k, v] for k, v in halt.values],
        "waived": halt.waived,
    }


def _halt_in(raw: object, where: str) -> HaltMemory:
    data = _mapping(raw, where)
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise RiskMemoryError(f"{where}.reason must be text or null")
    waived = data.get("waived", False)
    if not isinstance(waived, bool):
        raise RiskMemoryError(f"{where}.waived must be true or false")
    return HaltMemory(
        day=_day_in(data.get("day"), f"{where}.day"),
        reason=reason,
        values=_values_in(data.get("values", []), where),
        waived=waived,
    )


def _values_in(pairs: object, where: str) -> Values:
    if not isinstance(pairs, list):
        raise RiskMemoryError(f"{where}.values must be a list of [name, value] pairs")
    values = []
    for pair in pairs:
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        ):
            raise RiskMemoryError(f"{where}.values must be a list of [name, value] pairs")
        values.append((pair[0], pair[1]))
    return tuple(values)


def _mapping(raw: object, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise RiskMemoryError(f"{where} must be a JSON object, not {type(raw).__name__}")
    return raw


def _day_out(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _day_in(raw: object, where: str) -> date | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise RiskMemoryError(f"{where} must be an ISO date or null")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise RiskMemoryError(f"{where} = {raw!r} is not an ISO date") from None


def _dec_out(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dec_in(raw: object, where: str) -> Decimal | None:
    if raw is None:
        return None
    if not isinstance(raw, str):  # a float would have lost digits already
        raise RiskMemoryError(f"{where} must be a decimal string or null")
    try:
        return finite_decimal(raw)
    except ValueError as exc:
        raise RiskMemoryError(f"{where} = {raw!r} is {exc}") from None
