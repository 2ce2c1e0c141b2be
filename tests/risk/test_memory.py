"""The risk layer's memory: exported from the gate, through JSON and back, digit for digit."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal as D

import pytest

from tests.risk.helpers import SEOUL, Recorder, bar
from trading.events import HaltChanged
from trading.risk.gate import RiskContext, RiskGate
from trading.risk.limits import RiskLimits
from trading.risk.memory import (
    GateMemory,
    HaltMemory,
    RiskMemory,
    RiskMemoryError,
    VolatilityHalt,
    from_json,
    to_json,
)
from trading.upbit.market_rules import UpbitMarketRules

LIMITS = RiskLimits(
    daily_loss_limit_krw=D(50_000),
    max_drawdown_pct=D(20),
    volatility_period=2,
    volatility_halt_pct=D(5),
)
FULL = RiskMemory(
    day=date(2025, 6, 20),
    day_open_equity=D("10000000.123456789"),
    gate=GateMemory(
        peak=D("10500000.5"),
        daily_loss=HaltMemory(
            day=date(2025, 6, 20),
            reason="daily loss 60,000 KRW reached the 50,000 KRW limit: no new entries until x",
            values=(("loss", "60,000"), ("limit", "50,000"), ("until", "x")),
            waived=False,
        ),
        drawdown=HaltMemory(day=date(2025, 6, 19), waived=True),
        volatility=(VolatilityHalt("KRW-BTC", D("6.25")), VolatilityHalt("KRW-ETH", D(7))),
    ),
)


def seoul(day: int, hour: int) -> datetime:
    return datetime(2025, 6, day, hour, tzinfo=SEOUL)


def ctx(equity: int, day_pnl: int) -> RiskContext:
    return RiskContext(free_krw=D(equity), open_positions=0, equity=D(equity), day_pnl=D(day_pnl))


@pytest.mark.parametrize("memory", [FULL, RiskMemory()])
def test_json_round_trip_is_exact(memory):
    text = json.dumps(to_json(memory))  # what the store keeps: plain JSON

    assert from_json(json.loads(text)) == memory


def test_decimals_are_strings_and_days_iso():
    raw = to_json(FULL)

    assert raw["day_open_equity"] == "10000000.123456789"
    assert raw["peak"] == "10500000.5"
    assert raw["daily_loss"]["day"] == "2025-06-20"
    assert raw["volatility"][0] == {"market": "KRW-BTC", "level": "6.25"}


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"version": 99}, "version"),
        ({"peak": 12.5}, "peak"),
        ({"peak": "NaN"}, "peak"),
        ({"day_open_equity": "lots"}, "day_open_equity"),
        ({"day": "20/06/2025"}, "day"),
        ({"daily_loss": None}, "daily_loss"),
        ({"daily_loss": {"waived": "yes"}}, "daily_loss.waived"),
        ({"drawdown": {"values": [["a"]]}}, "drawdown.values"),
        ({"volatility": [{"market": "KRW-BTC"}]}, "volatility[0].level"),
        ({"volatility": {"KRW-BTC": "6"}}, "volatility"),
    ],
)
def test_malformed_values_are_refused_naming_the_field(change, names):
    raw = {**to_json(FULL), **change}

    with pytest.raises(RiskMemoryError, match=names.replace("[", r"\[").replace("]", r"\]")):
        from_json(raw)


def test_not_an_object_is_refused():
    with pytest.raises(RiskMemoryError):
        from_json(["not", "a", "memory"])


def test_gate_export_and_restore_carry_every_halt():
    sink = Recorder()
    gate = RiskGate(LIMITS, sink=sink, rules=UpbitMarketRules())
    gate.observe(seoul(20, 9), ctx(10_000_000, 0))
    gate.observe(seoul(20, 10), ctx(7_900_000, -60_000))  # daily loss and drawdown trip
    for i, (high, low) in enumerate([(101, 99), (120, 80), (130, 70)]):
        gate.on_bar(bar(100, high=high, low=low, i=i))  # volatility far above 5%
    memory = gate.memory()
    assert memory.daily_loss.tripped
    assert memory.drawdown.tripped
    assert memory.peak == D(10_000_000)
    assert [v.market for v in memory.volatility] == ["KRW-BTC"]

    again = RiskGate(LIMITS, rules=UpbitMarketRules())
    again.restore(from_json(to_json(RiskMemory(gate=memory))).gate)
    assert again.memory() == memory
    request_ctx = ctx(7_900_000, -60_000)
    state = again.state(seoul(20, 11), request_ctx)
    assert not state.entries_allowed
    assert again.volatility.check("KRW-BTC", LIMITS) == gate.volatility.check("KRW-BTC", LIMITS)


def test_a_restored_halt_of_yesterday_is_lifted_and_announced_by_the_next_look():
    sink = Recorder()
    gate = RiskGate(LIMITS, sink=sink, rules=UpbitMarketRules())
    gate.restore(
        GateMemory(
            peak=D(10_000_000),
            daily_loss=HaltMemory(day=date(2025, 6, 20), reason="lost", values=(("x", "1"),)),
        )
    )

    gate.observe(seoul(21, 0), ctx(9_990_000, 0))

    assert gate.daily_loss.trip_reason is None
    assert [(h.active, h.code) for h in sink.of(HaltChanged)] == [(False, "daily_loss_lifted")]
