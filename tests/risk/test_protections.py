"""Protections (issue #13): stoploss guard, drawdown guard and low-profit guard, judged per
closed trade in market time; their locks, events, refusals, /risk lines and memory."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from handlers.i18n import Catalog
from tests.risk.helpers import T0, Recorder
from trading.events import ProtectionLifted, ProtectionTripped
from trading.risk.decision import Approved, Denied
from trading.risk.gate import RiskContext, RiskGate
from trading.risk.limits import RiskLimits
from trading.risk.memory import (
    ClosedTrade,
    RiskMemory,
    RiskMemoryError,
    from_json,
    to_json,
)
from trading.risk.protections import Protections, summed_drawdown
from trading.risk.tape import TradeTape, losing_stop
from trading.upbit.market_rules import UpbitMarketRules

D = Decimal


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def trade(
    minute: int, profit: str = "-0.01", reason: str = "stop", market: str = "KRW-BTC"
) -> ClosedTrade:
    return ClosedTrade(market, T0 + minutes(minute), D(profit), reason)


def rig(**settings: Any) -> tuple[Protections, RiskLimits, Recorder]:
    sink = Recorder()
    return Protections(sink), RiskLimits(**settings), sink


GUARD = {
    "stoploss_guard_trades": 3,
    "stoploss_guard_lookback_minutes": 60,
    "stoploss_guard_pause_minutes": 30,
}


def test_only_the_stoploss_guard_is_on_by_default() -> None:
    protections, limits, _ = rig()
    assert limits.stoploss_guard_trades == RiskLimits().stoploss_guard_trades > 0
    for minute in range(RiskLimits().stoploss_guard_trades):
        protections.on_trade_closed(trade(minute, profit="0.01", reason="signal"), limits)
    protections.on_trade_closed(trade(10, profit="-0.5", reason="signal"), limits)
    assert protections.locks == {}  # no drawdown guard, no low-profit guard
    for minute in range(RiskLimits().stoploss_guard_trades):
        protections.on_trade_closed(trade(20 + minute), limits)
    assert list(protections.locks) == [("stoploss_guard", None)]


def test_all_off_nothing_locks() -> None:
    protections, limits, sink = rig(stoploss_guard_trades=0)
    for minute in range(10):
        protections.on_trade_closed(trade(minute), limits)
    assert protections.locks == {}
    assert sink.events == []
    assert protections.check("KRW-BTC", T0 + minutes(10), limits) == Approved()


def test_the_third_losing_stop_in_the_window_pauses_every_market_until_its_end() -> None:
    protections, limits, sink = rig(**GUARD)
    protections.on_trade_closed(trade(0), limits)
    protections.on_trade_closed(trade(10, reason="trailing"), limits)  # by value: trailing
    assert protections.locks == {}
    protections.on_trade_closed(trade(20, market="KRW-ETH"), limits)

    [tripped] = sink.of(ProtectionTripped)
    assert (tripped.protection, tripped.market) == ("stoploss_guard", None)
    assert tripped.at == T0 + minutes(20)  # the exit that tripped it, market time
    assert tripped.until == T0 + minutes(50)
    assert tripped.code == "stoploss_guard"
    assert tripped.reason == (
        "3 losing stop exits within 60 min: no new entries until 2025-06-20 10:50 Asia/Seoul"
    )
    denied = protections.check("KRW-XRP", T0 + minutes(49), limits)
    assert isinstance(denied, Denied)
    assert (denied.check, denied.code) == ("protection", "stoploss_guard")
    assert dict(denied.values)["until"] == "2025-06-20 10:50 Asia/Seoul"

    assert protections.check("KRW-XRP", T0 + minutes(50), limits) == Approved()
    [lifted] = sink.of(ProtectionLifted)
    assert (lifted.code, lifted.at) == ("stoploss_guard_lifted", T0 + minutes(50))


@pytest.mark.parametrize(
    ("third", "why"),
    [
        (trade(61), "the first stop left the 60 min window"),
        (trade(20, profit="0.002"), "a stop in profit is no loss"),
        (trade(20, reason="signal"), "not a stop"),
        (trade(20, reason="take_profit"), "not a stop"),
    ],
)
def test_what_the_stoploss_guard_does_not_count(third: ClosedTrade, why: str) -> None:
    protections, limits, _ = rig(**GUARD)
    protections.on_trade_closed(trade(0), limits)
    protections.on_trade_closed(trade(10), limits)
    protections.on_trade_closed(third, limits)
    assert protections.locks == {}, why


def test_per_market_the_guard_counts_and_pauses_one_market() -> None:
    protections, limits, sink = rig(**GUARD, stoploss_guard_per_market=True)
    for minute, market in ((0, "KRW-BTC"), (1, "KRW-ETH"), (2, "KRW-BTC"), (3, "KRW-ETH")):
        protections.on_trade_closed(trade(minute, market=market), limits)
    assert protections.locks == {}
    protections.on_trade_closed(trade(4), limits)

    [tripped] = sink.of(ProtectionTripped)
    assert (tripped.market, tripped.code) == ("KRW-BTC", "stoploss_guard_market")
    assert isinstance(protections.check("KRW-BTC", T0 + minutes(5), limits), Denied)
    assert protections.check("KRW-ETH", T0 + minutes(5), limits) == Approved()
    assert not protections.blocks_all()


def test_a_later_trip_extends_the_lock_and_says_so() -> None:
    protections, limits, sink = rig(**{**GUARD, "stoploss_guard_trades": 1})
    protections.on_trade_closed(trade(0), limits)
    protections.on_trade_closed(trade(10), limits)
    assert [e.until for e in sink.of(ProtectionTripped)] == [T0 + minutes(30), T0 + minutes(40)]
    assert sink.of(ProtectionLifted) == []


DRAWDOWN_GUARD = {
    "drawdown_guard_pct": D(1),
    "drawdown_guard_trades": 2,
    "drawdown_guard_lookback_minutes": 240,
    "drawdown_guard_pause_minutes": 30,
}


def test_a_close_during_a_lock_that_is_no_new_trip_leaves_the_lock_alone() -> None:
    """Positions open in other markets when the drawdown guard paused every market close
    while it holds: judged on the whole lookback, each loss pushed the lock further and said
    so again (four trips for one drawdown, failed before issue #13's fix)."""
    sink = Recorder()
    gate = RiskGate(RiskLimits(**DRAWDOWN_GUARD), sink=sink, rules=UpbitMarketRules())
    gate.trade_closed(trade(0, "-0.011", "signal"))
    gate.trade_closed(trade(1, "-0.011", "signal", "KRW-ETH"))  # 2.2 % down: every market
    for minute, market in ((5, "KRW-XRP"), (10, "KRW-SOL"), (20, "KRW-ADA")):
        gate.trade_closed(trade(minute, "-0.003", "signal", market))

    [tripped] = sink.of(ProtectionTripped)
    [lock] = gate.protections.active("drawdown_guard")
    assert lock.until == tripped.until == T0 + minutes(31)
    assert isinstance(gate.protections.check("KRW-BTC", T0 + minutes(30), gate.limits), Denied)
    assert gate.protections.check("KRW-BTC", T0 + minutes(31), gate.limits) == Approved()


def test_the_trades_after_a_trip_trip_it_again_on_their_own() -> None:
    """After a trip only the trades closed after it count: one more loss is not a second
    trip, two are (their own drawdown over the limit), with the numbers of the new trades."""
    protections, limits, sink = rig(**DRAWDOWN_GUARD)
    protections.on_trade_closed(trade(0, "-0.011", "signal"), limits)
    protections.on_trade_closed(trade(1, "-0.011", "signal"), limits)
    protections.on_trade_closed(trade(40, "-0.008", "signal"), limits)
    assert len(sink.of(ProtectionTripped)) == 1
    protections.on_trade_closed(trade(41, "-0.004", "signal"), limits)

    first, second = sink.of(ProtectionTripped)
    assert dict(first.values)["drawdown"] == "2.2"
    assert (dict(second.values)["trades"], dict(second.values)["drawdown"]) == ("2", "1.2")
    assert second.until == T0 + minutes(71)


def test_a_count_older_than_every_window_is_forgotten() -> None:
    protections, limits, _ = rig(
        **{**GUARD, "stoploss_guard_trades": 2},
        drawdown_guard_lookback_minutes=60,
        low_profit_lookback_minutes=60,
    )
    protections.on_trade_closed(trade(0), limits)
    protections.on_trade_closed(trade(1), limits)
    assert protections.counted == {("stoploss_guard", None): T0 + minutes(1)}
    protections.on_trade_closed(trade(62, reason="signal"), limits)
    assert protections.counted == {}


def test_switching_a_protection_off_lifts_its_lock_at_the_next_look() -> None:
    protections, limits, sink = rig(**{**GUARD, "stoploss_guard_trades": 1})
    protections.on_trade_closed(trade(0), limits)
    off = limits.replace(stoploss_guard_trades=0)
    assert protections.check("KRW-BTC", T0 + minutes(1), off) == Approved()
    assert sink.of(ProtectionLifted)[0].at == T0 + minutes(1)


def test_summed_drawdown_is_how_far_the_running_sum_ends_below_its_best() -> None:
    assert summed_drawdown([D("-0.02"), D("-0.015"), D("0.01")]) == D("0.025")
    assert summed_drawdown([D("0.03"), D("-0.01"), D("0.05"), D("-0.02")]) == D("0.02")
    assert summed_drawdown([D("0.01"), D("0.02")]) == 0


def test_the_tape_answers_every_window_as_a_walk_over_it_would() -> None:
    """Counts, sums, losing stops and drawdowns from two bisects equal a naive recount, for
    windows that grow and shrink (a live /set) and across the cuts of forgotten trades."""
    rng = random.Random(13)
    tape, trades = TradeTape(), []
    for n in range(3000):
        reason = rng.choice(("stop", "trailing", "signal", "take_profit"))
        t = trade(n, str(D(rng.randint(-300, 200)) / 10000), reason)
        tape.add(t)
        trades.append(t)
        minutes_back = rng.choice((5, 40, 200)) if n % 500 < 250 else 40
        cutoff = t.at - minutes(minutes_back)
        window = [x for x in trades if x.at > cutoff]
        start = tape.since(cutoff)
        assert tape.count(start) == len(window)
        assert tape.total(start) == sum((x.profit for x in window), D(0))
        assert tape.losing_stops(start) == sum(losing_stop(x) for x in window)
        assert tape.drawdown(start) == summed_drawdown(x.profit for x in window)
        tape.forget(t.at - minutes(200))
    assert len(tape.trades) < 3000  # the forgotten trades were cut


def test_the_drawdown_guard_needs_its_trades_then_pauses_every_market() -> None:
    protections, limits, sink = rig(
        drawdown_guard_pct=D("2.4"),
        drawdown_guard_trades=3,
        drawdown_guard_lookback_minutes=60,
        drawdown_guard_pause_minutes=120,
    )
    protections.on_trade_closed(trade(0, "-0.015", "signal"), limits)
    protections.on_trade_closed(trade(5, "-0.015", "signal", "KRW-ETH"), limits)
    assert protections.locks == {}  # 3% down, but only 2 trades
    protections.on_trade_closed(trade(10, "0.005", "take_profit"), limits)  # 2.5% down

    [tripped] = sink.of(ProtectionTripped)
    assert (tripped.protection, tripped.market, tripped.code) == (
        "drawdown_guard",
        None,
        "drawdown_guard",
    )
    assert dict(tripped.values)["drawdown"] == "2.5"
    assert tripped.until == T0 + minutes(130)
    assert protections.blocks_all()


def test_the_low_profit_guard_pauses_the_market_that_earned_too_little() -> None:
    protections, limits, sink = rig(
        low_profit_trades=2,
        low_profit_pct=D("0.5"),
        low_profit_lookback_minutes=60,
        low_profit_pause_minutes=60,
    )
    protections.on_trade_closed(trade(0, "0.002", "signal"), limits)
    protections.on_trade_closed(trade(1, "0.001", "signal", "KRW-ETH"), limits)
    protections.on_trade_closed(trade(2, "0.02", "signal", "KRW-ETH"), limits)  # ETH +2.1 %
    assert protections.locks == {}
    protections.on_trade_closed(trade(3, "0.002", "signal"), limits)  # BTC +0.4 % < 0.5 %

    [tripped] = sink.of(ProtectionTripped)
    assert (tripped.market, tripped.code) == ("KRW-BTC", "low_profit")
    assert dict(tripped.values)["profit"] == "0.4"
    assert isinstance(protections.check("KRW-BTC", T0 + minutes(4), limits), Denied)
    assert protections.check("KRW-ETH", T0 + minutes(4), limits) == Approved()


def test_a_late_report_counts_at_the_last_exits_time() -> None:
    protections, limits, _ = rig(**GUARD)
    protections.on_trade_closed(trade(10), limits)
    protections.on_trade_closed(trade(5), limits)
    assert [t.at for t in protections.trades] == [T0 + minutes(10), T0 + minutes(10)]


def test_old_trades_are_forgotten_beyond_the_longest_lookback() -> None:
    protections, limits, _ = rig(
        stoploss_guard_lookback_minutes=60,
        drawdown_guard_lookback_minutes=30,
        low_profit_lookback_minutes=10,
    )
    protections.on_trade_closed(trade(0), limits)
    protections.on_trade_closed(trade(59), limits)
    protections.on_trade_closed(trade(61), limits)
    assert [t.at for t in protections.trades] == [T0 + minutes(59), T0 + minutes(61)]


def test_the_gate_refuses_through_the_protection_check_and_the_memory_round_trips() -> None:
    sink = Recorder()
    limits = RiskLimits(**{**GUARD, "stoploss_guard_trades": 1, "stoploss_guard_per_market": True})
    gate = RiskGate(limits, sink=sink, rules=UpbitMarketRules())
    gate.trade_closed(trade(0, market="KRW-ETH"))
    memory = RiskMemory(gate=gate.memory())

    stored = from_json(to_json(memory))  # JSON, as the store keeps it
    again = RiskGate(limits, rules=UpbitMarketRules())
    again.restore(stored.gate)

    assert stored == memory
    assert again.protections.counted == {("stoploss_guard", "KRW-ETH"): T0}
    [lock] = again.protections.active("stoploss_guard")
    assert (lock.market, lock.until) == ("KRW-ETH", T0 + minutes(30))
    assert [t.market for t in again.protections.trades] == ["KRW-ETH"]


def test_a_version_2_memory_still_reads_with_nothing_counted() -> None:
    gate = RiskGate(RiskLimits(**{**GUARD, "stoploss_guard_trades": 1}), rules=UpbitMarketRules())
    gate.trade_closed(trade(0))
    raw = to_json(RiskMemory(gate=gate.memory()))
    assert raw["protections"]["counted"] == [
        {"protection": "stoploss_guard", "market": None, "through": (T0).isoformat()}
    ]
    raw["version"] = 2
    del raw["protections"]["counted"]
    read = from_json(raw).gate.protections
    assert (len(read.trades), len(read.locks), read.counted) == (1, 1, ())
    again = RiskGate(gate.limits, rules=UpbitMarketRules())
    again.restore(from_json(raw).gate)  # its lock tells what its trip counted
    assert again.protections.counted == {("stoploss_guard", None): T0}


def test_a_version_1_memory_still_reads_with_no_protections() -> None:
    raw = to_json(RiskMemory())
    raw["version"] = 1
    del raw["protections"]
    assert from_json(raw) == RiskMemory()
    broken = to_json(RiskMemory())
    broken["protections"]["locks"] = [{"protection": "low_profit", "until": "soon"}]
    with pytest.raises(RiskMemoryError, match="until"):
        from_json(broken)


def _ctx() -> RiskContext:
    return RiskContext(
        free_krw=D(1_000_000),
        open_positions=0,
        equity=D(1_000_000),
        day_pnl=D(0),
        cooling=(("KRW-BTC", 3),),
    )


@pytest.mark.parametrize("language", ["ko", "en"])
def test_every_protection_text_renders_with_its_numbers(language: str) -> None:
    catalog = Catalog.load(language)
    sink = Recorder()
    settings: dict[str, Any] = {
        "stoploss_guard_trades": 1,
        "drawdown_guard_pct": D(1),
        "drawdown_guard_trades": 1,
        "low_profit_trades": 1,
        "low_profit_pct": D(1),
    }
    lines = []
    for per_market in (False, True):
        gate = RiskGate(
            RiskLimits(**settings, stoploss_guard_per_market=per_market),
            rules=UpbitMarketRules(),
            sink=sink,
        )
        lines += gate.state(T0, _ctx()).items  # on, nothing locked
        gate.trade_closed(trade(0, "-0.02"))  # trips all three
        denied = gate.protections.check("KRW-BTC", T0, gate.limits)
        assert isinstance(denied, Denied)
        text = catalog.t(f"refusal.{denied.code}", **dict(denied.values))
        assert all(v in text for _, v in denied.values), text
        lines += gate.state(T0 + minutes(1), _ctx()).items  # locked
        gate.state(T0 + timedelta(days=1), _ctx())  # every lock lifted
    lines += (
        RiskGate(RiskLimits(cooldown_candles=0, stop_cooldown_candles=0), rules=UpbitMarketRules())
        .state(T0, _ctx())
        .items
    )

    codes = {i.code for i in lines}
    assert {"stoploss_guard_locked", "stoploss_guard_market_on", "low_profit_on"} <= codes
    assert {"drawdown_guard_locked", "cooldown_on", "cooldown_off", "low_profit_off"} <= codes
    for item in lines:
        text = catalog.t(f"risk_usage.{item.code}", **dict(item.values))
        assert all(v in text for _, v in item.values if v != "-"), (item.code, text)
    events = sink.of(ProtectionTripped) + sink.of(ProtectionLifted)
    assert len({e.code for e in events}) == 8  # 4 trip codes, 4 lift codes
    for event in events:
        text = catalog.t(f"halt_note.{event.code}", **dict(event.values))
        assert all(v in text for _, v in event.values), (event.code, text)
