"""Every refusal the risk layer can give reads in Korean and English, numbers filled in."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from handlers.i18n import Catalog
from trading.events import HaltChanged
from trading.risk import checks
from trading.risk.breakers import DailyLossBreaker, DrawdownBreaker, ScheduleGuard
from trading.risk.decision import Denied
from trading.risk.gate import RiskContext, RiskGate
from trading.risk.halts import SEOUL, HaltSchedule, HaltWindow
from trading.risk.lifecycle import MarketStatus, deny_closing, deny_warned
from trading.risk.limits import RiskLimits
from trading.upbit.market_rules import UpbitMarketRules

ROOT = Path(__file__).resolve().parents[2] / "trading"
LIMITS = RiskLimits(max_open_positions=3, daily_loss_limit_krw=D(50_000), max_drawdown_pct=D(20))
NOW = datetime(2025, 6, 19, 3, tzinfo=UTC)


def emitted_codes() -> set[str]:
    """Every ``code="..."`` the trading package can put on a refusal."""
    found: set[str] = set()
    for path in ROOT.rglob("*.py"):
        found |= set(re.findall(r'code="([a-z_]+)"', path.read_text(encoding="utf-8")))
    return found | {"daily_loss", "drawdown"}  # breakers pass their own name as the code


def denials() -> list[Denied]:
    rules = UpbitMarketRules()
    out = [
        checks.check_kill_switch(True),
        checks.check_paused(True),
        checks.check_open_positions(3, LIMITS),
        checks.check_position_size(D(1000), LIMITS),
        checks.check_position_size(D(2_000_000_000), LIMITS),
        checks.check_balance(D(100_000), D(3_000), LIMITS),
        checks.check_slippage(
            market="KRW-BTC",
            signal_price=D(100_000_000),
            size_krw=D(100_000),
            expected_fill=None,
            limits=LIMITS,
            rules=rules,
        ),
        checks.check_slippage(
            market="KRW-BTC",
            signal_price=D(100_000_000),
            size_krw=D(100_000),
            expected_fill=D(101_000_000),
            limits=LIMITS,
            rules=rules,
        ),
    ]
    loss = DailyLossBreaker()
    loss.observe(NOW, D(-60_000), LIMITS)
    drawdown = DrawdownBreaker(peak=D(10_000_000))
    drawdown.observe(NOW, D(7_000_000), LIMITS)
    out += [loss.check(NOW, LIMITS), drawdown.check(NOW, LIMITS)]
    out += [
        deny_closing(MarketStatus("KRW-XRP", delisting_date=date(2025, 7, 1))),
        deny_closing(MarketStatus("KRW-XRP", state="PREVIEW")),
        deny_closing(MarketStatus("KRW-XRP", listed=False)),
        deny_warned(MarketStatus("KRW-XRP", warning=True)),
        deny_warned(MarketStatus("KRW-XRP", cautions=("PRICE_FLUCTUATIONS",))),
    ]
    assert all(isinstance(d, Denied) for d in out)
    return [d for d in out if isinstance(d, Denied)]


NAMESPACES = ("refusal", "risk_usage", "halt_note")


@pytest.mark.parametrize("language", ["ko", "en"])
def test_every_code_has_a_message(language):
    messages = Catalog.load(language).messages

    missing = sorted(
        c for c in emitted_codes() if not any(f"{ns}.{c}" in messages for ns in NAMESPACES)
    )

    assert missing == []


@pytest.mark.parametrize("language", ["ko", "en"])
def test_every_risk_line_and_halt_note_renders(language):
    catalog = Catalog.load(language)
    halts: list = []
    gate = RiskGate(LIMITS, sink=halts.append, rules=UpbitMarketRules())
    ctx = RiskContext(
        free_krw=D(1_000_000),
        open_positions=1,
        equity=D(9_000_000),
        day_pnl=D(-60_000),
        paused=True,
    )
    gate.observe(NOW, ctx)
    guard = ScheduleGuard(
        HaltSchedule((HaltWindow(name="fomc", start="11:00", end="13:00"),), SEOUL), halts.append
    )
    guard.observe(NOW)
    guard.observe(NOW + timedelta(hours=3))

    lines = list(gate.state(NOW, ctx).items)
    gate.lifecycle.update(
        [
            MarketStatus("KRW-XRP", delisting_date=date(2025, 7, 1)),
            MarketStatus("KRW-ETH", cautions=("PRICE_FLUCTUATIONS",)),
        ]
    )
    lines += [i for i in gate.state(NOW, ctx).items if i.name in ("delisting", "market_warning")]
    assert {"delisting_on", "market_warning_on", "delisting_none"} <= {i.code for i in lines}
    for item in lines:
        text = catalog.t(f"risk_usage.{item.code}", **dict(item.values))
        assert all(v in text for _, v in item.values if v != "-"), (item.code, text)
    codes = {h.code for h in halts if isinstance(h, HaltChanged)}
    assert {"daily_loss", "window_started", "window_ended"} <= codes
    for halt in halts:
        if isinstance(halt, HaltChanged):
            catalog.t(f"halt_note.{halt.code}", **dict(halt.values))


@pytest.mark.parametrize("language", ["ko", "en"])
def test_every_refusal_renders_with_its_numbers(language):
    catalog = Catalog.load(language)

    for denied in denials():
        text = catalog.t(f"refusal.{denied.code}", **dict(denied.values))
        for _, value in denied.values:
            assert value in text, (denied.code, value, text)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_an_admins_reset_and_the_waived_line_render_with_their_numbers(language):
    catalog = Catalog.load(language)
    halts: list = []
    gate = RiskGate(LIMITS, sink=halts.append, rules=UpbitMarketRules())
    ctx = RiskContext(free_krw=D(1), open_positions=0, equity=D(7_000_000), day_pnl=D(-60_000))
    gate.drawdown.peak = D(10_000_000)
    gate.observe(NOW, ctx)  # both trip
    gate.daily_loss.reset(NOW, by="telegram:1")
    gate.drawdown.reset_peak(NOW, D(7_000_000), by="slack:U1")

    notes = [h for h in halts if isinstance(h, HaltChanged) and not h.active]
    assert [h.code for h in notes] == ["daily_loss_reset", "drawdown_rebased"]
    for halt in notes:
        text = catalog.t(f"halt_note.{halt.code}", **dict(halt.values))
        assert all(v in text for _, v in halt.values), text
    waived = next(i for i in gate.state(NOW, ctx).items if i.name == "daily_loss")
    assert waived.code == "daily_loss_waived"
    text = catalog.t(f"risk_usage.{waived.code}", **dict(waived.values))
    assert "60,000" in text
    assert "unreadable" in catalog.t("halt_note.risk_memory_lost", error="unreadable")
