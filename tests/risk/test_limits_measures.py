"""RiskLimits from config-shaped data; ATR, realized volatility and book-walk fill prices."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from tests.risk.helpers import bar
from trading.risk.halts import HaltWindow
from trading.risk.limits import RiskLimits
from trading.risk.measures import atr, atr_pct, fill_price_from_asks, realized_vol_pct
from trading.risk.settings import RiskSettings

D = Decimal


def test_from_mapping_takes_the_config_section() -> None:
    limits = RiskLimits.from_mapping(
        {
            "position_size_krw": 20000,
            "max_drawdown_pct": 12.5,
            "take_profit_pct": "3",
            "volatility_halt_pct": 5,
            "cooldown_candles": 1,
            "halt_windows": [{"name": "m", "start": time(3, 50), "end": "04:10"}],
            "timezone": "Asia/Seoul",
        }
    )
    assert limits.position_size_krw == D(20000)
    assert limits.max_drawdown_pct == D("12.5")
    assert limits.take_profit_pct == D(3)
    assert limits.halt_windows == (HaltWindow(name="m", start=time(3, 50), end=time(4, 10)),)
    assert limits.fee_rate == D("0.0005")
    assert limits.min_order_krw == D(5000)
    assert limits.resume_pct == D(4)  # 80% of the 5% halt level
    assert str(limits.zone) == "Asia/Seoul"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"nope": 1}, "unknown setting 'nope'"),
        ({"position_size_krw": "abc"}, "position_size_krw = abc: must be a number from 5,000"),
        ({"position_size_krw": True}, "position_size_krw = true: must be a number"),
        ({"max_open_positions": 0}, "max_open_positions = 0: must be a whole number from 1 to 50"),
        ({"volatility_resume_pct": 6}, r"volatility_resume_pct \(6\) must not be above"),
        ({"slippage_mode": "maybe"}, "slippage_mode = maybe: must be one of refuse, limit"),
        ({"timezone": "Mars/Olympus"}, "timezone 'Mars/Olympus' is not an IANA zone"),
    ],
)
def test_from_mapping_refuses_bad_values(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RiskLimits.from_mapping(data)


def test_replace_validates() -> None:
    assert RiskLimits().replace(max_open_positions=5).max_open_positions == 5
    with pytest.raises(ValueError, match="atr_stop_mult"):
        RiskLimits().replace(atr_stop_mult=D(-1))
    assert RiskLimits().replace(atr_stop_mult=D(0)).atr_stop_mult == 0  # 0 = no ATR stop


def test_atr_uses_previous_close_for_gaps() -> None:
    bars = [bar(100, high=101, low=99), bar(110, high=111, low=108, i=1)]
    # second true range: max(3, |111-100|, |108-100|) = 11
    assert atr(bars, 1) == D(11)
    assert atr(bars, 2) == D(13) / 2
    assert atr(bars, 3) is None
    assert atr_pct(bars, 1) == D(10)


def test_realized_volatility() -> None:
    flat = [bar(100, i=i) for i in range(5)]
    assert realized_vol_pct(flat, 4) == D(0)
    closes = ("100", "110", "99", "108.9", "98.01")  # +10%, -10%, +10%, -10%
    zigzag = [bar(c, i=i) for i, c in enumerate(closes)]
    assert realized_vol_pct(zigzag, 4) == D(10)
    assert realized_vol_pct(zigzag, 5) is None


def test_fill_price_walks_the_asks() -> None:
    asks = [(D(100), D(1)), (D(200), D(1))]
    assert fill_price_from_asks(asks, D(50)) == D(100)
    assert fill_price_from_asks(asks, D(300)) == D(150)  # 1 + 1 units for 300 KRW
    assert fill_price_from_asks(asks, D(301)) is None


def test_the_bot_config_section_maps_onto_limits() -> None:
    """The ``[risk]`` section is the engine's settings: one model, no copy to drift."""
    from bot.config import AppConfig  # tests may import bot; trading never does

    cfg = AppConfig.model_validate(
        {
            "risk": {
                "halt_windows": [
                    {"name": "night", "start": "23:00", "end": "01:00", "days": ["fri"]},
                    {"name": "fomc", "start": "2025-06-19T02:30", "end": "2025-06-19T04:00"},
                ]
            }
        }
    )
    data = cfg.risk.model_dump() | {"timezone": cfg.bot.timezone}
    limits = RiskLimits.from_mapping(data)
    assert limits.halt_windows == cfg.risk.halt_windows
    assert limits.position_size_krw == cfg.risk.position_size_krw
    assert type(cfg.risk.halt_windows[0]) is HaltWindow  # one model for config and engine
    assert isinstance(cfg.risk, RiskSettings)
    assert isinstance(limits, RiskSettings)
