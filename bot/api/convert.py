"""Engine and store records into the API's response models (money as exact text)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Literal

from bot.api import schemas as s
from bot.same_named import same_named
from handlers.commands.info import unrealized
from trading.command_api import EngineStatus, HaltStatus
from trading.engine.pnl import PnlRow
from trading.engine.tunables import SettingView
from trading.positions import Position, PositionState
from trading.risk.gate import RiskState
from trading.settings import show
from trading.store import AuditRecord, EquityRecord, FillRecord, OrderRecord

HIDDEN_STATES = (PositionState.FLAT, PositionState.COOLDOWN)


def money(value: Decimal) -> str:
    """Exact, never with an exponent: ``Decimal("1E+3")`` is ``"1000"``."""
    text = f"{value:f}"
    return "0" if text == "-0" else text


def maybe(value: Decimal | None) -> str | None:
    return None if value is None else money(value)


def utc(value: datetime) -> datetime:
    return value if value.tzinfo is None else value.astimezone(UTC)


def status(st: EngineStatus, *, app_state: str, version: str, uptime_s: float) -> s.StatusOut:
    trading = "kill_switch" if st.kill_switch else "paused" if st.paused_all else "active"
    return s.StatusOut(
        mode="live" if st.mode == "live" else "paper",
        app_state=app_state,
        version=version,
        uptime_s=round(uptime_s, 3),
        markets=list(st.markets),
        strategy=st.strategy,
        trading=trading,
        paused_markets=list(st.paused_markets),
        market_time=utc(st.market_time),
        equity_krw=money(st.equity_krw),
        free_krw=money(st.free_krw),
        open_positions=sum(p.state not in HIDDEN_STATES for p in st.positions),
        prices={m: money(p) for m, p in st.prices.items()},
        active_halts=list(st.active_halts),
        universe=universe(st),
    )


def universe(st: EngineStatus) -> s.UniverseOut:
    """``bot.markets = "top:N"``'s choice, or the fixed list (``st.markets``) saying it is one."""
    u = st.universe
    if u is None:
        return s.UniverseOut(
            chosen_by="fixed",
            top=None,
            markets=list(st.markets),
            held_outside=[],
            refreshed_at=None,
            refresh_every_s=None,
            changes=0,
            excluded=[],
        )
    return s.UniverseOut(
        chosen_by="top",
        top=u.top,
        markets=list(u.markets),
        held_outside=list(u.held_outside),
        refreshed_at=None if u.refreshed_at is None else utc(u.refreshed_at),
        refresh_every_s=u.every_s,
        changes=u.changes,
        excluded=[s.ExcludedOut(market=m, reason=_flag(r)) for m, r in u.excluded],
    )


def _flag(reason: str) -> Literal["warning", "delisting"]:
    return "warning" if reason == "warning" else "delisting"


def position(p: Position, last: Decimal | None) -> s.PositionOut:
    return s.PositionOut(
        market=p.market,
        state=p.state.value,
        volume=money(p.volume),
        avg_entry_price=maybe(p.avg_entry_price),
        last_price=maybe(last),
        stop_price=maybe(p.stop_price),
        take_profit_price=maybe(p.take_profit_price),
        unrealized_pnl_krw=maybe(unrealized(p, last)),
        opened_at=None if p.opened_at is None else utc(p.opened_at),
        intent_id=p.intent_id,
    )


def positions(st: EngineStatus) -> s.PositionsOut:
    return s.PositionsOut(
        positions=[
            position(p, st.prices.get(p.market))
            for p in st.positions
            if p.state not in HIDDEN_STATES
        ]
    )


def order(o: OrderRecord) -> s.OrderOut:
    return s.OrderOut(
        intent_id=o.intent_id,
        identifier=o.identifier,
        uuid=o.uuid,
        market=o.market,
        side="bid" if o.side == "bid" else "ask",
        ord_type=o.ord_type,
        price=maybe(o.price),
        volume=maybe(o.volume),
        state=o.state,
        is_open=o.is_open,
        executed_volume=money(o.executed_volume),
        executed_funds=money(o.executed_funds),
        paid_fee=money(o.paid_fee),
        strategy=o.strategy,
        reason=o.reason,
        created_at=utc(o.created_at),
        updated_at=utc(o.updated_at),
    )


def trade(f: FillRecord) -> s.TradeOut:
    return s.TradeOut(
        id=f.id,
        trade_uuid=f.trade_uuid,
        order_uuid=f.order_uuid,
        intent_id=f.intent_id,
        market=f.market,
        side="bid" if f.side == "bid" else "ask",
        price=money(f.price),
        volume=money(f.volume),
        funds=money(f.funds),
        fee=money(f.fee),
        is_maker=f.is_maker,
        created_at=utc(f.created_at),
    )


def pnl(equity: list[EquityRecord], current: EngineStatus, days: list[PnlRow]) -> s.PnlOut:
    points = [
        s.EquityPointOut(
            at=utc(e.taken_at), equity_krw=money(e.equity_krw), cash_krw=money(e.cash_krw)
        )
        for e in equity
    ]
    now = utc(current.market_time)
    if not points or points[-1].at <= now:
        points.append(
            s.EquityPointOut(
                at=now, equity_krw=money(current.equity_krw), cash_krw=money(current.free_krw)
            )
        )
    daily = [
        s.PnlDayOut(
            day=row.start,
            realized_krw=money(row.pnl_krw),
            fees_krw=money(row.fees_krw),
            sells=row.sells,
            wins=row.wins,
        )
        for row in days
    ]
    total = sum((row.pnl_krw for row in days), Decimal(0))
    return s.PnlOut(equity=points, daily=daily, realized_krw=money(total))


def _moment(value: time | datetime) -> str:
    return value.strftime("%H:%M") if isinstance(value, time) else value.isoformat()


def risk(state: RiskState, st: EngineStatus, halts: list[HaltStatus]) -> s.RiskOut:
    return s.RiskOut(
        entries_allowed=state.entries_allowed,
        kill_switch=st.kill_switch,
        paused_all=st.paused_all,
        paused_markets=list(st.paused_markets),
        limits=[
            s.LimitOut(
                name=item.name,
                text=item.text,
                blocking=item.blocking,
                code=item.code,
                values=dict(item.values),
            )
            for item in state.items
        ],
        halts=[
            s.HaltOut(
                name=h.window.name,
                start=_moment(h.window.start),
                end=_moment(h.window.end),
                days=list(h.window.days),
                recurring=h.window.recurring,
                active=h.active,
                ends_at=None if h.ends_at is None else utc(h.ends_at),
                next_start=None if h.next_start is None else utc(h.next_start),
            )
            for h in halts
        ],
    )


def audit(rows: list[AuditRecord], limit: int) -> s.AuditPageOut:
    entries = [
        s.AuditOut(**{**same_named(r, s.AuditOut.model_fields), "at": utc(r.at)}) for r in rows
    ]
    return s.AuditPageOut(
        entries=entries, next_before=entries[-1].id if len(entries) == limit else None
    )


def settings(views: list[SettingView]) -> s.SettingsOut:
    return s.SettingsOut(
        settings=[
            s.SettingOut(
                key=v.key,
                value=v.value,
                type=v.spec.kind,
                min=None if v.spec.low is None else show(v.spec.low),
                max=None if v.spec.high is None else show(v.spec.high),
                choices=list(v.spec.choices),
                optional=v.spec.optional,
                live=v.spec.live,
                description=v.spec.description,
            )
            for v in views
        ]
    )
