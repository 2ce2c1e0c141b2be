"""/backtest and /optimize on a real paper engine fed the bundled candles, a real store holding
older downloaded candles, and a real notifier delivering the result to the asking chat only."""

from __future__ import annotations

import asyncio
import base64
import statistics
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from bot.config.loader import load_config
from handlers.commands.research import render
from handlers.events import ResearchFinished
from handlers.fmt import catalog
from handlers.registry import Role
from handlers.reply import Reply, Severity
from tests.engine.conftest import BUNDLED, replay
from tests.handlers.conftest import OPERATOR, VIEWER, Rig
from tests.notify.conftest import FakeSender, make_notifier, until
from trading.backtest.synthetic import random_walk
from trading.candle_file import read_candles
from trading.engine.facade import EngineFacade
from trading.engine.research import (
    OptimizeJob,
    OptimizeOutcome,
    ResearchDesk,
    run_job,
    spec_fields,
)
from trading.history.series import HistCandle
from trading.history.store_candles import StoreTarget
from trading.history.timeframes import parse_timeframe
from trading.strategies import build_strategy
from trading.upbit.market_rules import KRW_TICKS

PNG = b"\x89PNG\r\n\x1a\n"
STORED, LIVE = 600, 240  # minutes of the bundled file: the store's, then the engine's
JOB_LIMIT_S = 120.0


def api(rig: Rig) -> EngineFacade:
    return rig.dispatcher.api


@pytest.fixture
async def research(rig: Rig, tmp_path: Path) -> AsyncIterator[Rig]:
    """The engine has seen LIVE minutes; the store holds the STORED minutes before them."""
    target = StoreTarget(f"sqlite+aiosqlite:///{tmp_path / 'handlers.db'}")
    candles = [
        HistCandle(c.start, c.open, c.high, c.low, c.close, c.volume, c.close * c.volume, False)
        for c in islice(read_candles(BUNDLED), STORED)
    ]
    await target.write("KRW-BTC", parse_timeframe("1m"), candles)
    await target.close()
    rig.engine.loop.start()
    await replay(rig.engine, LIVE, from_minute=STORED)
    yield rig
    await api(rig).research.close()
    await rig.engine.loop.stop()


@dataclass(frozen=True)
class Shown:
    """A finished job's event and its result as the asker reads it (the bot renders it)."""

    event: ResearchFinished
    title: str
    lines: tuple[str, ...]
    fields: tuple[tuple[str, str], ...]
    chart_png: str  # base64, "" = no chart

    def __getattr__(self, name: str) -> Any:
        return getattr(self.event, name)


def shown(event: ResearchFinished) -> Shown:
    title, lines, fields, chart = render(catalog(event.lang), event.outcome)
    png = base64.b64encode(chart[0]).decode("ascii") if chart and chart[0] else ""
    return Shown(event, title, lines, fields, png)


def finished(rig: Rig) -> list[Shown]:
    return [shown(e) for e in rig.events if isinstance(e, ResearchFinished)]


async def result(rig: Rig) -> Shown:
    async with asyncio.timeout(JOB_LIMIT_S):
        await api(rig).research.wait()
    done = finished(rig)
    assert len(done) == 1, done
    return done[0]


async def heartbeat(stop: asyncio.Event, lags: list[float], every_s: float = 0.05) -> None:
    """What /healthz needs from the loop: a wake-up on time. Records how late each one was."""
    async with asyncio.timeout(JOB_LIMIT_S):
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(every_s)
            lags.append(time.perf_counter() - before - every_s)


async def measured(job: Awaitable[Any]) -> tuple[Any, list[float]]:
    stop, lags = asyncio.Event(), []
    beat = asyncio.create_task(heartbeat(stop, lags))
    try:
        value = await job
    finally:
        stop.set()
        await beat
    return value, lags


def fields(event: Shown) -> dict[str, str]:
    return dict(event.fields)


async def test_backtest_runs_in_the_background_and_posts_metrics_and_chart(research: Rig) -> None:
    reply = await research.say(VIEWER, "/backtest")
    assert reply.title == "Backtest started", reply.plain_text()
    text = reply.plain_text()
    assert "ma_cross KRW-BTC" in text
    assert f"{STORED + LIVE - 1:,} candles" in text or f"{STORED + LIVE:,} candles" in text
    assert f"Candles: {STORED:,} downloaded" in text, text
    assert "from the live history" in text

    event, lags = await measured(result(research))
    assert event.ok, event
    assert event.job == "backtest"
    assert (event.transport, event.chat_id, event.by) == ("telegram", "100", "telegram:3")
    got = fields(event)
    trades = int(got["Trades"].replace(",", ""))
    assert trades > 0
    assert got["Return"].endswith(" %")
    assert float(got["Max drawdown"].removesuffix(" %")) >= 0
    assert got["Fees"].endswith(" KRW")
    assert "Buy and hold" in got
    assert "Sharpe" in got
    assert "Profit factor" in got
    assert "fast=5, slow=20" in event.lines[0]  # the live parameters
    png = base64.b64decode(event.chart_png)
    assert png.startswith(PNG)
    assert len(png) > 5_000
    lag_max = max(lags)
    print(
        f"\nloop lag during /backtest: median {statistics.median(lags) * 1000:.1f} ms,"
        f" max {lag_max * 1000:.1f} ms over {len(lags)} beats"
    )
    assert len(lags) >= 5
    assert lag_max < 0.5
    assert api(research).research.running is None


async def test_backtest_arguments_override_strategy_params_and_days(research: Rig) -> None:
    reply = await research.say(VIEWER, "/backtest ma_cross btc 1 fast=3 strategy.slow=30", "ko")
    assert reply.title == "백테스트 시작", reply.plain_text()
    event = await result(research)
    assert event.ok
    assert "fast=3, slow=30" in event.lines[0]
    assert event.title == "백테스트: ma_cross"
    candles = int(event.lines[1].split("캔들 ")[1].split("개")[0].replace(",", ""))
    assert candles <= 1440 + 1  # one day of minutes at most


async def test_a_second_job_is_refused_while_one_runs(research: Rig) -> None:
    first = await research.say(VIEWER, "/backtest")
    assert first.title == "Backtest started"
    second = await research.say(OPERATOR, "/optimize 5")
    assert second.title == "A job is already running"
    assert second.ephemeral
    assert "started by telegram:3 at" in second.lines[0]
    assert "/backtest" in second.lines[0]
    await result(research)
    again = await research.say(VIEWER, "/backtest")
    assert again.title == "Backtest started"
    await api(research).research.wait()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/backtest nosuch", "'nosuch' is not a strategy"),
        ("/backtest ma_cross momentum", "'momentum' is given twice"),
        ("/backtest 0", "days must be between 1 and 90"),
        ("/backtest 91", "days must be between 1 and 90"),
        ("/backtest fast=", "a parameter is written key=value"),
        ("/backtest fast=abc", "fast"),
        ("/backtest bogus=1", "bogus"),
        ("/backtest fast=500", "fast"),
        (
            "/backtest eth",
            "'eth' is not a strategy (ma_cross|momentum|volatility_breakout),"
            " a market (KRW-BTC) or days",
        ),
        ("/optimize 101", "trials must be between 1 and 100"),
        ("/optimize fast=", "a parameter is written key=value"),
        ("/optimize fast=3 strategy.fast=4", "'strategy.fast' is given twice"),
        ("/optimize sharpe calmar", "'calmar' is given twice"),
    ],
)
async def test_bad_arguments_get_one_clear_line(research: Rig, text: str, expected: str) -> None:
    reply = await research.say(OPERATOR, text)
    assert reply.ephemeral
    assert reply.severity is Severity.WARNING
    assert expected in reply.plain_text(), reply.plain_text()
    assert "Traceback" not in reply.plain_text()
    assert "--space" not in reply.plain_text()
    assert api(research).research.running is None
    assert not finished(research)


async def test_optimize_needs_an_operator(research: Rig) -> None:
    reply = await research.say(VIEWER, "/optimize 5")
    assert "needs the operator role" in reply.plain_text()
    assert api(research).research.running is None


async def test_optimize_reports_best_params_and_set_lines_the_real_set_accepts(
    research: Rig,
) -> None:
    reply = await research.say(OPERATOR, "/optimize 5 profit")
    assert reply.title == "Optimization started", reply.plain_text()
    event, lags = await measured(result(research))
    assert event.ok, event.lines
    assert event.job == "optimize"
    assert event.title == "Optimization: ma_cross"
    head = event.lines[0]
    assert "objective profit" in head
    assert "5 trial(s) complete" in head or "pruned" in head
    assert event.lines[1].startswith("Best parameters (in-sample): fast=")
    assert any(line.startswith("In-sample ") for line in event.lines)
    assert any(line.startswith("Out-of-sample ") for line in event.lines)
    assert fields(event)["Metric"] == "in-sample | out-of-sample"
    assert " | " in fields(event)["Return"]
    assert base64.b64decode(event.chart_png).startswith(PNG)
    print(f"\nloop lag during /optimize: max {max(lags) * 1000:.1f} ms")
    assert max(lags) < 0.5
    # nothing was applied: the live parameters are still the engine's
    assert api(research).get("strategy.fast") == "5"
    assert api(research).get("strategy.slow") == "20"
    commands = [line for line in event.lines if line.startswith("/set strategy.")]
    assert commands, event.lines
    best = dict(pair.split("=") for pair in event.lines[1].split(": ", 1)[1].split(", "))
    for line in commands:
        done = await research.confirm(OPERATOR, line)
        assert done.title == "Parameter changed" or "→" in done.plain_text(), done.plain_text()
    for key, value in best.items():
        assert api(research).get(f"strategy.{key}") == value


async def test_time_limit_stops_the_job(research: Rig) -> None:
    facade = api(research)
    facade.research = ResearchDesk(time_limit_s=0.2)
    reply = await research.say(OPERATOR, "/optimize 100")
    assert reply.title == "Optimization started"
    event = await result(research)
    assert not event.ok
    assert event.title == "/optimize failed"
    assert "0.2 s limit" in event.lines[0]


async def test_close_cancels_a_running_job(research: Rig) -> None:
    reply = await research.say(VIEWER, "/backtest")
    assert reply.title == "Backtest started"
    started = time.perf_counter()
    await api(research).research.close()
    assert time.perf_counter() - started < 10
    event = finished(research)[0]
    assert not event.ok
    assert "the bot is stopping" in event.lines[0]
    assert api(research).research.running is None


async def test_the_result_goes_to_the_asking_chat_only_with_its_chart(
    research: Rig, store: Any
) -> None:
    await research.say(VIEWER, "/backtest")
    event = await result(research)
    telegram, slack = FakeSender(), FakeSender()
    notifier = make_notifier(
        store,
        {"telegram": telegram, "slack": slack},
        {"telegram": ["100", "200"], "slack": ["C1"]},
    )
    await notifier.start()
    try:
        await notifier.on_event(event.event)
        await until(lambda: bool(telegram.sent))
        await asyncio.sleep(0.1)
    finally:
        await notifier.stop()
    assert [s.chat for s in telegram.sent] == ["100"]
    assert not slack.sent
    delivered: Reply = telegram.sent[0].reply
    assert delivered.title.endswith("Backtest: ma_cross")
    assert delivered.image is not None
    assert delivered.image.data.startswith(PNG)
    assert dict(delivered.fields)["Trades"] == fields(event)["Trades"]


async def test_catalogs_cover_the_new_commands(research: Rig) -> None:
    for language in ("ko", "en"):
        menu = dict(research.dispatcher.menu(Role.OPERATOR, language))
        assert menu["backtest"]
        assert menu["optimize"]


def test_optimize_stops_searching_in_time_and_reports_the_best_so_far(research: Rig) -> None:
    """The child's own clock: no trial starts that would end after ``stop_by``."""
    frame = random_walk(20_000, 3, start_price=13_000_000.0, ticks=KRW_TICKS)
    job = OptimizeJob(
        strategy="ma_cross",
        objective="sharpe",
        trials=100,
        spec=spec_fields(api(research).engine),
        market="KRW-BTC",
        frame=frame,
        current={"fast": 5, "slow": 20, "kind": "sma"},
        stop_by=time.time() + 2.0,
    )
    started = time.perf_counter()
    outcome = run_job(job)
    took = time.perf_counter() - started
    assert isinstance(outcome, OptimizeOutcome)
    assert 1 <= outcome.trials_run < 100  # it stopped at the limit, not at the last trial
    assert outcome.trials_asked == 100
    assert sum(outcome.trials) == outcome.trials_run
    assert took < 60, took  # a hang, not a speed: a busy CI machine may be slow
    assert outcome.best_params["fast"] < outcome.best_params["slow"]  # type: ignore[operator]
    assert outcome.png.startswith(PNG)
    title, lines, _, _ = render(catalog("en"), outcome)
    assert title == "Optimization: ma_cross"
    assert lines[1] == (
        f"Stopped at the time limit after {outcome.trials_run} of 100 trials; the best of those:"
    )


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "/optimize risk.bogus=1..2", "risk.bogus is not a risk setting"),
        ("ko", "/optimize risk.bogus=1..2", "risk.bogus은(는) 리스크 설정이 아닙니다"),
        ("en", "/optimize risk.atr_stop_mult=1..99", "outside risk.atr_stop_mult's bounds 0..20"),
        ("ko", "/optimize risk.atr_stop_mult=1..99", "risk.atr_stop_mult의 범위 0..20"),
        (
            "en",
            "/optimize risk.atr_stop_mult=2..x",
            "risk.atr_stop_mult=2..x: expected a value, lo..hi or a list a,b within 0..20",
        ),
        (
            "ko",
            "/optimize risk.atr_period=a..b",
            "risk.atr_period=a..b: 1..500 안의 값 하나, 하한..상한, 또는 목록 a,b",
        ),
        ("en", "/optimize risk.trailing_stop=maybe", "expected one of true|false, or a,b"),
        ("en", "/optimize risk.atr_period=2..5 risk.atr_period=3..4", "given twice"),
        # number lists: each number within bounds, a grouped thousand is ambiguous
        ("en", "/optimize risk.atr_stop_mult=2,30", "risk.atr_stop_mult=2,30 is outside"),
        ("ko", "/optimize risk.atr_stop_mult=2,30", "risk.atr_stop_mult의 범위 0..20"),
        ("en", "/optimize risk.atr_period=7,x", "risk.atr_period=7,x: expected a value"),
        ("ko", "/optimize risk.atr_period=7,2.5", "risk.atr_period=7,2.5: 1..500 안의 값"),
        (
            "en",
            "/optimize risk.daily_loss_limit_krw=50,000",
            "the comma may group thousands or separate choices",
        ),
        ("ko", "/optimize risk.daily_loss_limit_krw=50,000", "쉼표가 세 자리 구분인지"),
        ("en", "/optimize fast=9,1000", "fast=9,1000 is outside fast's bounds 2..200"),
    ],
)
async def test_optimize_refuses_a_bad_risk_range_in_the_users_language(
    research: Rig, language: str, text: str, expected: str
) -> None:
    reply = await research.say(OPERATOR, text, language)
    assert reply.severity is Severity.WARNING
    assert expected in reply.plain_text(), reply.plain_text()
    assert "Traceback" not in reply.plain_text()
    assert api(research).research.running is None


async def test_optimize_searches_risk_settings_and_offers_them_like_strategy_params(
    research: Rig,
) -> None:
    text = "/optimize 4 risk.atr_stop_mult=4..8 risk.atr_period=3..9"
    reply = await research.say(OPERATOR, text)
    assert reply.title == "Optimization started", reply.plain_text()
    assert "risk.atr_stop_mult=4..8" in reply.plain_text()
    event = await result(research)
    assert event.ok, event.lines
    risk_line = next(line for line in event.lines if line.startswith("Best risk settings"))
    best = dict(pair.split("=") for pair in risk_line.split(": ", 1)[1].split(", "))
    assert set(best) == {"risk.atr_stop_mult", "risk.atr_period"}
    assert 4 <= float(best["risk.atr_stop_mult"]) <= 8
    assert 3 <= int(best["risk.atr_period"]) <= 9
    commands = [line for line in event.lines if line.startswith("/set risk.")]
    assert len(commands) == 2, event.lines  # both differ from the live 2.66 / 14
    for line in commands:
        done = await research.confirm(OPERATOR, line)
        assert "→" in done.plain_text() or done.title == "Parameter changed", done.plain_text()
    for key, value in best.items():
        assert api(research).get(key) == value


async def test_optimize_usage_names_pins_and_ranges_in_both_languages(research: Rig) -> None:
    forms = (
        ("en", "[NAME=value|lo..hi ...] [risk.NAME=value|lo..hi|a,b ...]"),
        ("ko", "[이름=값|하한..상한 ...] [risk.이름=값|하한..상한|a,b ...]"),
    )
    for language, words in forms:
        reply = await research.say(OPERATOR, "/optimize nosuch", language)
        usage = reply.plain_text().splitlines()[-1]
        assert usage.endswith(words), reply.plain_text()
        helped = await research.say(OPERATOR, "/help", language)
        assert words in helped.plain_text(), helped.plain_text()


# -- pinning a value during the search (issue #13) -----------------------------------------------


def best_of(line: str) -> dict[str, str]:
    """``Best ...: a=1, b=2`` (either language) as a dict."""
    return dict(pair.split("=") for pair in line.split(": ", 1)[1].split(", "))


@pytest.mark.parametrize(
    ("language", "started", "best_risk", "apply"),
    [
        ("en", "Optimization started", "Best risk settings", "To apply them"),
        ("ko", "최적화 시작", "최적 리스크 설정", "적용하려면"),
    ],
)
async def test_optimize_pins_a_risk_setting_and_a_strategy_parameter(
    research: Rig, language: str, started: str, best_risk: str, apply: str
) -> None:
    """``risk.NAME=2.5`` and ``fast=4`` hold one value in every trial; the rest is searched,
    and the reply offers the ``/set`` lines that take the bot to the result."""
    text = "/optimize 3 risk.atr_stop_mult=2.5 fast=4 risk.trailing_stop=true"
    reply = await research.say(OPERATOR, text, language)
    assert reply.title == started, reply.plain_text()
    assert "risk.atr_stop_mult=2.5" in reply.plain_text()
    event = await result(research)
    assert event.ok, event.lines
    params = best_of(event.lines[1])
    assert params["fast"] == "4"  # pinned
    assert params["kind"] in ("sma", "ema")
    assert 4 < int(params["slow"]) <= 500  # searched, above the pinned fast
    risk_line = next(line for line in event.lines if line.startswith(best_risk))
    assert best_of(risk_line) == {"risk.atr_stop_mult": "2.5", "risk.trailing_stop": "true"}
    assert any(line.startswith(apply) for line in event.lines), event.lines
    assert "/set risk.atr_stop_mult 2.5" in event.lines  # the rig runs 3
    assert "/set risk.trailing_stop true" in event.lines  # the rig runs false
    assert "/set strategy.fast 4" in event.lines  # the rig runs 5
    done = await research.confirm(OPERATOR, "/set risk.atr_stop_mult 2.5", language)
    assert "2.5" in done.plain_text()
    assert api(research).get("risk.atr_stop_mult") == "2.5"


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "/optimize risk.atr_stop_mult=99", "risk.atr_stop_mult=99 is outside"),
        ("ko", "/optimize risk.atr_stop_mult=99", "risk.atr_stop_mult의 범위 0..20"),
        (
            "en",
            "/optimize risk.atr_period=2.5",
            "risk.atr_period=2.5: expected a value, lo..hi or a list a,b",
        ),
        (
            "ko",
            "/optimize risk.atr_period=2.5",
            "risk.atr_period=2.5: 1..500 안의 값 하나, 하한..상한",
        ),
        ("en", "/optimize risk.slippage_mode=wait", "expected one of refuse|limit, or a,b"),
        ("en", "/optimize risk.minimal_roi=0:3", "risk.minimal_roi cannot be searched"),
        ("en", "/optimize fast=500", "fast=500 is outside fast's bounds 2..200"),
        ("ko", "/optimize fast=500", "fast의 범위 2..200"),
        ("en", "/optimize fast=1..9", "fast=1..9 is outside fast's bounds 2..200"),
        (
            "en",
            "/optimize fast=abc",
            "fast=abc: expected a value, lo..hi or a list a,b within 2..200",
        ),
        ("ko", "/optimize fast=abc", "fast=abc: 2..200 안의 값 하나, 하한..상한"),
        ("en", "/optimize kind=wma", "kind=wma: expected one of sma|ema, or a,b"),
        ("ko", "/optimize kind=wma", "kind=wma: sma|ema 중 하나"),
        ("en", "/optimize bogus=1", "bogus is not a parameter of ma_cross (known: fast, slow"),
        ("ko", "/optimize bogus=1", "bogus은(는) ma_cross의 파라미터가 아닙니다"),
        ("en", "/optimize momentum fast=4", "fast is not a parameter of momentum"),
        (
            "en",
            "/optimize fast=5 slow=20 kind=sma",
            "Nothing is left to search: every parameter of ma_cross is pinned",
        ),
        ("ko", "/optimize fast=5 slow=20 kind=sma", "탐색할 것이 없습니다"),
    ],
)
async def test_optimize_refuses_a_bad_pin_coded_and_loses_nothing(
    research: Rig, language: str, text: str, expected: str
) -> None:
    before = api(research).params()
    quota = research.dispatcher.research_quota
    quota.settings = quota.settings.model_copy(update={"jobs_per_hour": 1})
    reply = await research.say(OPERATOR, text, language)
    assert reply.severity is Severity.WARNING
    assert expected in reply.plain_text(), reply.plain_text()
    assert "Traceback" not in reply.plain_text()
    assert "--param" not in reply.plain_text()
    assert "--space" not in reply.plain_text()
    assert api(research).research.running is None
    assert api(research).params() == before
    # the refusal used none of the hour's one job: a good request still starts
    again = await research.say(OPERATOR, "/optimize 1 fast=4", language)
    assert again.severity is not Severity.WARNING, again.plain_text()
    await result(research)


# -- another strategy than the running one (issue #13) --------------------------------------------


@pytest.mark.parametrize(
    ("language", "why", "then"),
    [
        (
            "en",
            "The bot runs ma_cross, and no chat command switches the strategy",
            "Then, once it runs momentum, set the risk settings",
        ),
        (
            "ko",
            "봇은 ma_cross 전략을 실행 중이며, 채팅 명령으로는 전략을 바꿀 수 없습니다",
            "그다음 재시작해 momentum 전략이 돌아가면 리스크 설정을 적용하세요",
        ),
    ],
)
async def test_optimize_of_another_strategy_offers_the_config_that_runs_it(
    research: Rig, tmp_path: Path, language: str, why: str, then: str
) -> None:
    """No chat command switches the strategy (it is chosen at start), so the reply says so and
    gives the ``[strategy]`` tables that run the result, which the real config loader takes,
    and the ``/set risk.`` lines to apply after the restart."""
    before = api(research).params()
    reply = await research.say(OPERATOR, "/optimize momentum 3 risk.atr_stop_mult=3..4", language)
    assert reply.severity is not Severity.WARNING, reply.plain_text()
    event = await result(research)
    assert event.ok, event.lines
    lines = list(event.lines)
    assert any(line.startswith(why) for line in lines), lines
    assert not any(line.startswith("/set strategy.") for line in lines), lines
    start = lines.index("[strategy]")
    end = next(i for i in range(start, len(lines)) if lines[i].startswith(then))
    snippet = "\n".join(lines[start:end]) + "\n"
    config = tmp_path / "config.toml"
    config.write_text(snippet, encoding="utf-8")
    dotenv = tmp_path / ".env"
    dotenv.write_text("", encoding="utf-8")
    loaded = load_config(config, environ={}, dotenv=dotenv)
    assert loaded.strategy.name == "momentum"
    assert loaded.strategy.file == ""
    params = best_of(lines[1])
    assert {k: str(v) for k, v in loaded.strategy.params.items()} == params
    built = build_strategy(loaded.strategy.name, loaded.strategy.file, loaded.strategy.params)
    assert built.name == "momentum"
    risk_commands = [line for line in lines[end:] if line.startswith("/set risk.")]
    assert [c.split()[1] for c in risk_commands] == ["risk.atr_stop_mult"], lines
    # nothing was applied: the bot still runs ma_cross with its own limits
    assert api(research).engine.strategy.name == "ma_cross"
    assert api(research).params() == before


# -- values a trader would type; a list of numbers (issue #13) ------------------------------------


def _places(text: str) -> int:
    return len(text.partition(".")[2])


@pytest.mark.parametrize(
    ("language", "best_risk"), [("en", "Best risk settings"), ("ko", "최적 리스크 설정")]
)
async def test_optimize_proposes_a_decimal_setting_on_a_short_grid(
    research: Rig, language: str, best_risk: str
) -> None:
    """``risk.atr_stop_mult`` has no fixed decimal places: searched as a float it came out as
    ``3.5986584841970366``. On the grid of 2..5 (steps of 0.1) the best prints short, and
    ``/set`` takes and echoes exactly that value."""
    reply = await research.say(OPERATOR, "/optimize 4 risk.atr_stop_mult=2..5", language)
    assert reply.severity is not Severity.WARNING, reply.plain_text()
    event = await result(research)
    assert event.ok, event.lines
    risk_line = next(line for line in event.lines if line.startswith(best_risk))
    value = best_of(risk_line)["risk.atr_stop_mult"]
    assert _places(value) <= 1, risk_line
    assert 2 <= float(value) <= 5
    line = f"/set risk.atr_stop_mult {value}"
    if value != "3":  # the rig runs 3: no /set line when the best is what runs
        assert line in event.lines, event.lines
        done = await research.confirm(OPERATOR, line, language)
        assert value in done.plain_text(), done.plain_text()
        assert api(research).get("risk.atr_stop_mult") == value


@pytest.mark.parametrize(
    ("language", "best_risk"), [("en", "Best risk settings"), ("ko", "최적 리스크 설정")]
)
async def test_optimize_takes_a_number_list_as_a_choice(
    research: Rig, language: str, best_risk: str
) -> None:
    """``risk.atr_stop_mult=2,3.5`` was refused ("expected a value or lo..hi"): it is a choice
    among those numbers, as ``a,b`` is for a bool or a choice setting."""
    reply = await research.say(OPERATOR, "/optimize 3 risk.atr_stop_mult=2,3.5", language)
    assert reply.severity is not Severity.WARNING, reply.plain_text()
    event = await result(research)
    assert event.ok, event.lines
    risk_line = next(line for line in event.lines if line.startswith(best_risk))
    assert best_of(risk_line)["risk.atr_stop_mult"] in ("2", "3.5"), risk_line
