"""The exits of issue #13 from chat: ``/set`` switches trailing, the ROI table and the
exit-signal rules live, ``/params`` and ``/risk`` show them in both languages, refusals come
from the catalogs, and ``/stats`` names every exit reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from handlers.commands.reports import exit_kind
from tests.handlers.conftest import OPERATOR, VIEWER, Rig
from trading.risk.stops import Trail, TrailingStop
from trading.upbit.market_rules import UpbitMarketRules


async def test_trailing_is_switched_on_and_shown(rig: Rig) -> None:
    reply = await rig.confirm(OPERATOR, "/set risk.trailing_stop true", "en")
    assert "risk.trailing_stop: false → true" in reply.plain_text()
    await rig.confirm(OPERATOR, "/set risk.trailing_stop_positive_pct 1", "en")
    await rig.confirm(OPERATOR, "/set risk.trailing_stop_positive_offset_pct 2", "en")
    await rig.confirm(OPERATOR, "/set risk.trailing_only_offset_is_reached true", "en")
    limits = rig.engine.engine.limits
    assert limits.trailing_stop
    assert limits.trailing_stop_positive_pct == D(1)
    assert limits.trailing_stop_positive_offset_pct == D(2)
    assert limits.trailing_only_offset_is_reached

    params = rig.dispatcher.api.params()
    assert params["risk.trailing_stop"] == "true"
    en = (await rig.say(VIEWER, "/risk", "en")).plain_text()
    assert "Trailing 1% under the highest close once it is 2% over the entry (not before)" in en
    ko = (await rig.say(VIEWER, "/risk", "ko")).plain_text()
    assert "최고 종가가 진입가보다 2% 높아지면 그 1% 아래로 추적 (그 전에는 추적 안 함)" in ko


async def test_roi_table_holding_time_and_exit_signal_from_chat(rig: Rig) -> None:
    await rig.confirm(OPERATOR, "/set risk.max_holding_minutes 600", "en")
    # the rig pins the exits of before the walk-forward's defaults (exit_profit_only off)
    reply = await rig.confirm(OPERATOR, "/set risk.exit_profit_only true", "en")
    assert "risk.exit_profit_only: false → true" in reply.plain_text()
    assert rig.engine.engine.limits.exit_profit_only
    await rig.confirm(OPERATOR, "/set risk.exit_profit_offset_pct 0.5", "en")
    await rig.confirm(OPERATOR, "/set risk.minimal_roi 0:3,60:1,240:0", "en")
    limits = rig.engine.engine.limits
    assert limits.minimal_roi == ((0, D(3)), (60, D(1)), (240, D(0)))
    assert limits.max_holding_minutes == 600
    assert rig.dispatcher.api.params()["risk.minimal_roi"] == "0:3,60:1,240:0"

    en = (await rig.say(VIEWER, "/risk", "en")).plain_text()
    assert "ROI table 0 min: 3%, 60 min: 1%, 240 min: 0%" in en
    assert "Sell after 600 min held" in en
    assert "exit signals sell only above 0.5% profit" in en
    ko = (await rig.say(VIEWER, "/risk", "ko")).plain_text()
    assert "600분 보유 후 매도" in ko
    assert "수익 0.5% 초과일 때만 매도" in ko

    # /undo of the table goes back to none and a second /undo redoes it, through the text
    # /params shows
    await rig.confirm(OPERATOR, "/undo", "en")
    assert rig.engine.engine.limits.minimal_roi == ()
    assert rig.dispatcher.api.params()["risk.minimal_roi"] == "none"
    await rig.confirm(OPERATOR, "/undo", "en")
    assert rig.engine.engine.limits.minimal_roi == ((0, D(3)), (60, D(1)), (240, D(0)))


@pytest.mark.parametrize(
    ("text", "english", "korean"),
    [
        (
            "/set risk.minimal_roi 0:1,30:2",
            "the ROI table is refused (the profit must not rise with time",
            "ROI 표를 받을 수 없습니다",
        ),
        (
            "/set risk.trailing_stop_positive_pct 3",
            "trailing_stop_positive_offset_pct (1) must not be below"
            " trailing_stop_positive_pct (3)",
            "trailing_stop_positive_offset_pct(1)는 trailing_stop_positive_pct(3)보다 작을 수",
        ),
        ("/set risk.trailing_stop maybe", "risk.trailing_stop = maybe", "risk.trailing_stop"),
        ("/set risk.stop_loss_pct 60", "0 to 50", "risk.stop_loss_pct = 60"),
    ],
)
async def test_refusals_come_from_the_catalogs(
    rig: Rig, text: str, english: str, korean: str
) -> None:
    await rig.confirm(OPERATOR, "/set risk.trailing_stop_positive_offset_pct 1", "en")
    before = rig.dispatcher.api.params()
    en = (await rig.say(OPERATOR, text, "en")).plain_text()
    ko = (await rig.say(OPERATOR, text, "ko")).plain_text()
    assert english in en
    assert "Nothing was changed" in en
    assert korean in ko
    assert "아무것도 바꾸지 않았습니다" in ko
    assert rig.dispatcher.api.params() == before


def test_stats_names_every_exit_reason_from_the_order_text() -> None:
    """The texts the exits put on their sell orders, read back by ``/stats``."""
    rules = UpbitMarketRules()
    stop = TrailingStop.open(
        market="KRW-BTC",
        entry_price=D(100_000_000),
        atr=D(500_000),
        atr_mult=D(2),
        rules=rules,
        fallback_pct=D(2),
        min_distance_pct=D("0.2"),
        roi=((0, D(1)),),
        max_holding_minutes=5,
        trail=Trail(),
    )
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    stop.entered_at = t0
    stop.deadline = t0 + timedelta(minutes=5)
    hits = {
        "stop": stop.should_exit(D(98_000_000), t0),
        "roi": stop.should_exit(D(102_000_000), t0),
        "time": stop.should_exit(D(100_000_000), t0 + timedelta(minutes=5)),
    }
    for kind, hit in hits.items():
        assert hit is not None
        assert (hit.kind, exit_kind(hit.text)) == (kind, kind)
    stop.trailed = True
    trailing = stop.should_exit(D(98_000_000), t0)
    assert trailing is not None
    assert exit_kind(trailing.text) == "trailing"


def test_the_roi_table_from_the_file_and_the_environment(tmp_path) -> None:
    """``minimal_roi`` as a TOML table of pairs, as JSON or as chat's text in the
    environment: the same table; a bad one is refused by the file as by chat."""
    from bot.config import ConfigError, load_config

    path = tmp_path / "config.toml"
    path.write_text("[risk]\nminimal_roi = [[0, 3], [60, 1.5], [240, 0]]\n", encoding="utf-8")
    table = ((0, D(3)), (60, D("1.5")), (240, D(0)))
    assert load_config(path, environ={}).risk.minimal_roi == table
    for text in ("0:3,60:1.5,240:0", "[[0, 3], [60, 1.5], [240, 0]]"):
        environ = {"UPBIT_BOT_RISK__MINIMAL_ROI": text}
        assert load_config(None, environ=environ).risk.minimal_roi == table
    path.write_text("[risk]\nminimal_roi = [[60, 1], [0, 3]]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="minutes must rise"):
        load_config(path, environ={})
