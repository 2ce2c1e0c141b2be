"""RiskGate: the fixed order, one RiskBreached per denial, exits never blocked, /risk summary."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, time, timedelta
from decimal import Decimal
from typing import Any

from tests.risk.helpers import T0, Recorder, bar
from trading.events import HaltChanged, RiskBreached
from trading.risk import ORDER, EntryRequest, RiskContext, RiskGate, RiskLimits
from trading.risk.decision import Approved, Denied
from trading.risk.halts import HaltWindow
from trading.risk.lifecycle import MarketStatus
from trading.risk.memory import ClosedTrade
from trading.upbit.market_rules import UpbitMarketRules

D = Decimal
LUNCH = HaltWindow(name="lunch", start=time(9, 30), end=time(11, 0))  # T0 is 10:00 in Seoul
DELISTS = date(2025, 7, 1)
REQ = EntryRequest(market="KRW-BTC", signal_price=D(95_000_000), krw=D(100000), bar_time=T0)


def good_ctx(**changes: Any) -> RiskContext:
    ctx = RiskContext(
        free_krw=D(1_000_000),
        open_positions=0,
        equity=D(1_000_000),
        day_pnl=D(0),
        estimate_fill=lambda market, krw: D(95_000_000),
    )
    return dataclasses.replace(ctx, **changes)


def test_all_clear_is_approved_without_events() -> None:
    sink = Recorder()
    gate = RiskGate(RiskLimits(), sink=sink, rules=UpbitMarketRules())
    assert gate.check_entry(REQ, good_ctx()) == Approved()
    assert sink.events == []


def test_checks_run_in_the_documented_order() -> None:
    sink = Recorder()
    limits = RiskLimits(halt_windows=(LUNCH,), stoploss_guard_trades=1, volatility_halt_pct=D(5))
    gate = RiskGate(limits, sink=sink, peak_equity=D(1_000_000), rules=UpbitMarketRules())
    gate.trade_closed(ClosedTrade("KRW-ETH", T0 - timedelta(minutes=1), D("-0.01"), "stop"))
    for i in range(15):  # 20% candles: volatility far above 5%
        gate.on_bar(bar(100, high=110, low=90, start=T0 - timedelta(minutes=20), i=i))
    ctx = good_ctx(
        kill_switch=True,
        paused=True,
        day_pnl=D(-60000),
        equity=D(700_000),
        open_positions=3,
        free_krw=D(0),
        estimate_fill=lambda market, krw: D(99_000_000),
    )
    req = dataclasses.replace(REQ, krw=D(3000))
    gate.lifecycle.update([MarketStatus("KRW-BTC", warning=True, delisting_date=DELISTS)])
    seen = []
    for check in ORDER:
        decision = gate.check_entry(req, ctx)
        assert isinstance(decision, Denied)
        seen.append(decision.check)
        # fix what was just refused, then ask again
        if check == "kill_switch":
            ctx = dataclasses.replace(ctx, kill_switch=False)
        elif check == "paused":
            ctx = dataclasses.replace(ctx, paused=False)
        elif check == "halt_window":
            gate.schedule.remove("lunch")
        elif check == "daily_loss":
            ctx = dataclasses.replace(ctx, day_pnl=D(0))
            gate.daily_loss.reset(T0)
        elif check == "drawdown":
            gate.drawdown.reset_peak(T0, D(700_000))
        elif check == "protection":
            gate.update_limits(gate.limits.replace(stoploss_guard_trades=0))
        elif check == "volatility":
            gate.update_limits(gate.limits.replace(volatility_halt_pct=D(0)))
        elif check == "delisting":
            gate.lifecycle.update([MarketStatus("KRW-BTC", warning=True)])
        elif check == "market_warning":
            gate.lifecycle.update([MarketStatus("KRW-BTC")])
        elif check == "max_positions":
            ctx = dataclasses.replace(ctx, open_positions=0)
        elif check == "position_size":
            req = REQ
        elif check == "balance":
            ctx = dataclasses.replace(ctx, free_krw=D(1_000_000))
        else:
            ctx = good_ctx()
    assert tuple(seen) == ORDER
    assert gate.check_entry(req, ctx) == Approved()
    breaches = sink.of(RiskBreached)
    assert [b.check for b in breaches] == list(ORDER)
    assert all(b.market == "KRW-BTC" and b.at == T0 for b in breaches)
    assert breaches[2].reason == (
        "no new entries during halt window 'lunch' until 2025-06-20 11:00 Asia/Seoul"
    )


def test_exits_pass_while_entries_are_halted() -> None:
    sink = Recorder()
    gate = RiskGate(RiskLimits(halt_windows=(LUNCH,)), sink=sink, rules=UpbitMarketRules())
    assert gate.check_entry(REQ, good_ctx(kill_switch=True)).ok is False
    assert gate.check_entry(REQ, good_ctx()) == Denied(
        "halt_window",
        "no new entries during halt window 'lunch' until 2025-06-20 11:00 Asia/Seoul",
    )
    assert gate.check_exit("KRW-BTC") == Approved()
    assert len(sink.of(RiskBreached)) == 2


def test_slippage_limit_mode_through_the_gate_and_no_book_skips_it() -> None:
    gate = RiskGate(RiskLimits(slippage_mode="limit"), rules=UpbitMarketRules())
    decision = gate.check_entry(REQ, good_ctx(estimate_fill=lambda m, k: D(96_000_000)))
    assert isinstance(decision, Approved)
    assert decision.limit_price == D(95_475_000)
    assert gate.check_entry(REQ, good_ctx(estimate_fill=None)) == Approved()


def test_halt_window_start_and_end_are_announced_from_candles() -> None:
    sink = Recorder()
    gate = RiskGate(RiskLimits(halt_windows=(LUNCH,)), sink=sink, rules=UpbitMarketRules())
    gate.on_bar(bar(100, start=T0 - timedelta(minutes=40)))  # ends 09:21
    gate.on_bar(bar(100, start=T0 - timedelta(minutes=30)))  # ends 09:31
    gate.on_bar(bar(100, start=T0 + timedelta(minutes=60)))  # ends 11:01
    assert [(e.name, e.active, e.reason) for e in sink.of(HaltChanged)] == [
        (
            "halt_window:lunch",
            True,
            "halt window 'lunch' started: no new entries until 2025-06-20 11:00 Asia/Seoul",
        ),
        ("halt_window:lunch", False, "halt window 'lunch' ended"),
    ]
    assert sink.of(HaltChanged)[0].at == (T0 - timedelta(minutes=29)).astimezone(UTC)


def test_state_summarizes_every_limit() -> None:
    limits = RiskLimits(  # pinned: the text of these limits, not of the defaults
        volatility_halt_percentile=D(99),
        stop_cooldown_candles=5,
        stoploss_guard_trades=0,
        atr_stop_mult=D(2),
        stop_min_distance_pct=D(1),
        take_profit_pct=D(0),
        max_holding_minutes=0,
        exit_profit_only=False,
    )
    gate = RiskGate(limits, peak_equity=D(1_000_000), rules=UpbitMarketRules())
    state = gate.state(T0, good_ctx(open_positions=2, day_pnl=D(-12000), equity=D(968_000)))
    assert state.entries_allowed
    assert [i.text for i in state.items] == [
        "trading active",
        "2 of 3 positions",
        "position size 100,000 KRW (Upbit minimum 5,000 KRW)",
        "daily loss 12,000 of 50,000 KRW",
        "drawdown 3.2% of 20% (peak 1,000,000 KRW)",
        "slippage up to 50 bps, then refuse",
        "volatility halt at percentile 99 of the last 1440 candles, resume below percentile 95"
        " (halted: none)",
        "no market is being delisted",
        "no market is under an Upbit warning",
        "halt windows: 0 scheduled, none active",
        "cooldown 1 candle(s) after an exit, 5 after a stop (cooling down, candles left: -)",
        "stoploss guard off",
        "drawdown guard off",
        "low-profit guard off",
        "initial stop 2 ATR below the entry (at least 1% below)",
        "trailing off: the stop stays where it was set",
        "take-profit off",
        "ROI table off",
        "no holding time limit",
        "exit signals sell",
    ]
    paused = gate.state(T0, good_ctx(paused=True, open_positions=3))
    assert not paused.entries_allowed
    assert [i.name for i in paused.items if i.blocking] == ["trading", "max_positions"]


def test_upbit_flags_refuse_entries_into_that_market_only() -> None:
    """A delisting or a warning refuses entries into the flagged market (one RiskBreached each,
    the catalog code set), never into another one, never an exit; /risk shows both without
    blocking entries everywhere."""
    sink = Recorder()
    gate = RiskGate(RiskLimits(), sink=sink, rules=UpbitMarketRules())
    gate.lifecycle.update(
        [
            MarketStatus("KRW-XRP", delisting_date=DELISTS),
            MarketStatus("KRW-ETH", cautions=("PRICE_FLUCTUATIONS",)),
            MarketStatus("KRW-DOGE", listed=False),
            MarketStatus("KRW-BTC", state="ACTIVE"),
        ]
    )
    asks = {m: dataclasses.replace(REQ, market=m) for m in ("KRW-XRP", "KRW-ETH", "KRW-DOGE")}

    decisions = {m: gate.check_entry(r, good_ctx()) for m, r in asks.items()}

    assert gate.check_entry(REQ, good_ctx()) == Approved()
    assert gate.check_exit("KRW-XRP") == Approved()
    assert {m: (d.check, d.code, d.values) for m, d in decisions.items()} == {  # type: ignore[union-attr]
        "KRW-XRP": ("delisting", "delisting", (("market", "KRW-XRP"), ("date", "2025-07-01"))),
        "KRW-ETH": (
            "market_warning",
            "market_caution",
            (("market", "KRW-ETH"), ("flags", "PRICE_FLUCTUATIONS")),
        ),
        "KRW-DOGE": (
            "delisting",
            "market_inactive",
            (("market", "KRW-DOGE"), ("state", "unlisted")),
        ),
    }
    assert [(b.check, b.market) for b in sink.of(RiskBreached)] == [
        ("delisting", "KRW-XRP"),
        ("market_warning", "KRW-ETH"),
        ("delisting", "KRW-DOGE"),
    ]
    state = gate.state(T0, good_ctx())
    lines = {i.name: i for i in state.items}
    assert state.entries_allowed
    assert lines["delisting"].blocking
    assert lines["market_warning"].blocking
    assert lines["delisting"].values == (("markets", "KRW-DOGE (unlisted), KRW-XRP (2025-07-01)"),)
    assert lines["market_warning"].values == (("markets", "KRW-ETH (PRICE_FLUCTUATIONS)"),)
