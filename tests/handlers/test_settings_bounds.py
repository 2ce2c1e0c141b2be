"""Issue #10.3: ``/set`` holds every setting to the bounds the config documents, in both
languages, changes nothing on a refusal, and a stored value that no longer validates is
dropped at start with an alert. One model defines them all: chat and the file agree."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import AppConfig, ConfigError, load_config
from bot.config.loader import apply_overrides
from bot.config.risk import RiskConfig
from handlers.commands import build_registry
from handlers.dispatcher import Dispatcher
from tests.engine.conftest import facade, paper_rig
from tests.handlers.conftest import ADMIN, OPERATOR, Rig, policies
from trading.engine.facade import PARAMS_KEY
from trading.events import SettingRejected
from trading.risk.settings import RiskSettings
from trading.settings import show, specs

# what issue #10 found accepted, stored and re-applied on start
OUT_OF_BOUNDS = [
    ("risk.max_slippage_bps", "1000000", "0 to 1,000"),
    ("risk.max_open_positions", "1e20", "1 to 50"),
    ("risk.position_size_krw", "1", "5,000 to 1,000,000,000"),
    ("risk.position_size_krw", "1E-30", "5,000 to 1,000,000,000"),
    ("risk.atr_period", "1e8", "1 to 500"),
    ("risk.atr_stop_mult", "1e6", "0 to 20"),
    ("risk.take_profit_pct", "1e6", "0 to 1,000"),
    ("risk.position_size_krw", "1E+999999", "5,000 to 1,000,000,000"),
    ("risk.volatility_halt_pct", "NaN", "0 to 100"),
    ("risk.volatility_halt_percentile", "150", "0 to 100"),
    ("risk.volatility_window_candles", "5", "20 to 20,000"),
    ("strategy.fast", "100000", "2 to 200"),
]


async def _unchanged(rig: Rig, before: dict[str, str]) -> None:
    assert rig.dispatcher.api.params() == before
    assert await rig.store.get_state(PARAMS_KEY, {}) == {}
    assert await rig.store.param_changes(5) == []


@pytest.mark.parametrize(("key", "value", "allowed"), OUT_OF_BOUNDS)
async def test_set_refuses_out_of_bounds_in_both_languages(rig, key, value, allowed):
    before = rig.dispatcher.api.params()
    en = await rig.say(OPERATOR, f"/set {key} {value}", "en")
    ko = await rig.say(OPERATOR, f"/set {key} {value}", "ko")

    assert not en.buttons
    assert not ko.buttons
    english, korean = en.plain_text(), ko.plain_text()
    assert f"{key} = {value[:20]}" in english
    assert allowed in english
    assert "Nothing was changed" in english
    assert f"{key} = {value[:20]}" in korean
    assert "아무것도 바꾸지 않았습니다" in korean
    assert len(english) < 500
    assert len(korean) < 500
    await _unchanged(rig, before)


async def test_risk_reply_stays_short_after_the_largest_allowed_size(rig):
    await rig.confirm(OPERATOR, "/set position_size_krw 1000000000", "en")
    assert len((await rig.say(OPERATOR, "/risk", "en")).plain_text()) < 2000


async def test_set_refuses_settings_that_only_change_on_restart(rig):
    before = rig.dispatcher.api.params()
    reply = await rig.say(ADMIN, "/set risk.manual_buy_max_krw 900000000", "en")
    assert "cannot change while the bot runs" in reply.plain_text()
    ko = await rig.say(ADMIN, "/set risk.manual_buy_max_krw 900000000", "ko")
    assert "실행 중에 바꿀 수 없습니다" in ko.plain_text()
    await _unchanged(rig, before)


async def test_a_rule_across_settings_is_refused_with_both_values(rig):
    reply = await rig.say(OPERATOR, "/set strategy.fast 25", "en")  # slow is 20
    assert "fast (25) must be less than slow (20)" in reply.plain_text()
    reply = await rig.say(OPERATOR, "/set risk.volatility_resume_pct 60", "ko")
    assert "volatility_halt_pct(50)보다 클 수 없습니다" in reply.plain_text()


async def test_set_the_volatility_percentile_live_or_refuse_it_from_the_catalog(rig):
    """Issue #13: the relative volatility halt is a live setting with its rule in both
    catalogs: the resume percentile may not be above the halt percentile."""
    was = show(rig.engine.engine.limits.volatility_halt_percentile)  # the rig's, not a default
    reply = await rig.confirm(OPERATOR, "/set risk.volatility_halt_percentile 99.5", "en")
    assert f"{was} → 99.5" in reply.plain_text()
    assert rig.dispatcher.api.params()["risk.volatility_halt_percentile"] == "99.5"
    before = rig.dispatcher.api.params()
    en = await rig.say(OPERATOR, "/set risk.volatility_halt_percentile 90", "en")
    assert en.plain_text().endswith(
        "risk.volatility_halt_percentile = 90: volatility_resume_percentile (95) must not be"
        " above volatility_halt_percentile (90). Nothing was changed."
    )
    ko = await rig.say(OPERATOR, "/set risk.volatility_halt_percentile 90", "ko")
    assert "volatility_resume_percentile(95)는 volatility_halt_percentile(90)보다" in (
        ko.plain_text()
    )
    assert rig.dispatcher.api.params() == before


async def test_chat_and_the_config_file_know_the_same_keys(rig):
    """``/set risk.slippage_mode limit`` worked in chat while the file refused the key."""
    reply = await rig.confirm(OPERATOR, "/set risk.slippage_mode limit", "en")
    assert "refuse → limit" in reply.plain_text()
    cfg = load_config(None, environ={"UPBIT_BOT_RISK__SLIPPAGE_MODE": "limit"})
    assert cfg.risk.slippage_mode == "limit"
    live = {k.removeprefix("risk.") for k in rig.dispatcher.api.params() if k.startswith("risk.")}
    assert live == {s.name for s in specs(RiskSettings) if s.kind != "other"}


def _candidates(spec) -> st.SearchStrategy[str]:
    if spec.choices:
        return st.sampled_from([*spec.choices, "maybe", "LIMIT", ""])
    low = float(spec.low if spec.low is not None else -10)
    high = float(spec.high if spec.high is not None else 10)
    span = max(high - low, 1.0)
    numbers = st.one_of(
        st.integers(int(low - span), int(high + span)).map(str),
        st.decimals(
            Decimal(str(low - span)), Decimal(str(high + span)), allow_nan=False, places=3
        ).map(str),
        st.sampled_from(["1e20", "-1", "abc", "1E+999999", "Infinity", str(spec.low)]),
    )
    return numbers


LIVE_RISK = [s for s in specs(RiskSettings) if s.live and s.kind != "other"]


@pytest.mark.parametrize("spec", LIVE_RISK, ids=[s.name for s in LIVE_RISK])
async def test_set_accepts_exactly_what_the_config_file_accepts(store, spec):
    events: list = []
    engine = await paper_rig(store, events)
    api = facade(engine, store, events)
    # the file as it would read with the engine's current limits: rules across keys agree too
    config = AppConfig(risk=RiskConfig.model_validate(engine.engine.limits.settings.model_dump()))

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(text=_candidates(spec))
    def agree(text: str) -> None:
        try:
            apply_overrides(config, {f"risk.{spec.name}": text})
            file_ok = True
        except ConfigError:
            file_ok = False
        try:
            api.preview_set(f"risk.{spec.name}", text)
            chat_ok = True
        except ValueError:
            chat_ok = False
        assert chat_ok == file_ok, (spec.name, text)

    agree()


async def test_a_stored_value_out_of_bounds_is_dropped_at_start_with_an_alert(store):
    """Bounds tightened in a new release: the stored override no longer validates."""
    await store.set_state(PARAMS_KEY, {"risk.max_slippage_bps": "1000000", "strategy.slow": "25"})
    events: list = []
    engine = await paper_rig(store, events)
    api = facade(engine, store, events)
    await api.restore()

    assert engine.engine.limits.max_slippage_bps == 50  # the config value applies
    assert engine.engine.strategy.params.slow == 25  # a valid override is still re-applied
    assert await store.get_state(PARAMS_KEY, {}) == {"strategy.slow": "25"}
    (alert,) = [e for e in events if isinstance(e, SettingRejected)]
    assert (alert.key, alert.stored, alert.applies) == ("risk.max_slippage_bps", "1000000", "50")
    assert alert.code == "setting_range_int"
    dispatcher = Dispatcher(build_registry(), api, _authorizer(), store, language="en")
    reply = await dispatcher.handle(OPERATOR, "/get max_slippage_bps", "en")
    assert reply is not None
    assert "risk.max_slippage_bps = 50" in reply.plain_text()


def _authorizer():
    from handlers.auth import Authorizer

    return Authorizer(policies())
