"""The dashboard: its static files, and the whole bot seen through headless Chromium."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft202012Validator

from bot.api.openapi import document
from tests.bot.conftest import free_port
from tests.http.browser import Dom, Page, cells, chromium_or_skip, rows, run_chromium
from tests.http.conftest import TOKEN as API_TOKEN
from tests.http.conftest import Served, Traded
from tests.http.test_universe_api import top_two

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "bot" / "web"
BUNDLED = ROOT / "bot" / "data" / "upbit_KRW-BTC_1m.csv"
REPLAY_MINUTES = 1440
TOKEN = "browser-token-0123456789abcdef"
COMMAND_TOKEN = "browser-command-0123456789abcdef"
HALT = "<b>lunch</b> & <script>alert(1)</script>"


async def test_the_page_and_its_assets_are_served_with_a_strict_policy(api: Served):
    page = await api.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp
    assert "connect-src 'self'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert '<script src="/dashboard/app.js">' in page.text
    script = await api.get("/dashboard/app.js")
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert script.text == (WEB / "app.js").read_text()
    style = await api.get("/dashboard/app.css")
    assert style.headers["Content-Type"].startswith("text/css")
    home = await api.get("/", follow_redirects=False)
    assert home.status_code == 302
    assert home.headers["Location"] == "/dashboard"


def test_the_script_never_writes_markup_and_fetches_only_this_origin():
    script = (WEB / "app.js").read_text()
    for banned in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert banned not in script
    html = (WEB / "dashboard.html").read_text()
    for text in (script, html, (WEB / "app.css").read_text()):
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in text


async def test_the_openapi_document_is_served_and_every_schema_is_valid(api: Served):
    response = await api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc == document()
    assert doc["openapi"].startswith("3.1")
    for name, schema in doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema), name
    api_paths = {p for p in doc["paths"] if p.startswith("/api/v1/") and "openapi" not in p}
    assert api_paths == {
        f"/api/v1/{n}"
        for n in ("status", "positions", "orders", "trades", "pnl", "risk", "settings", "audit")
    }
    for path in api_paths:
        assert set(doc["paths"][path]["get"]["responses"]) >= {"200", "400", "401", "503"}


#: the strategy and exits this page was written with (the defaults before issue #13): enough
#: fills for a full page in the replayed day, whatever the embedded defaults
PINNED = """\
atr_stop_mult = 2
stop_min_distance_pct = 1
take_profit_pct = 0
max_holding_minutes = 0
exit_profit_only = false
stop_cooldown_candles = 5
volatility_halt_percentile = 99
stoploss_guard_trades = 0

[strategy.params]
fast = 10
slow = 30
"""


class BotProcess:
    """``python -m bot run`` in paper mode on the bundled replay, HTTP on a free port."""

    def __init__(self, cwd: Path, port: int) -> None:
        self.cwd = cwd
        self.port = port
        self.lines: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        # the first day of the bundled data: enough fills, and the replay ends in seconds
        with BUNDLED.open() as source:
            head = [line for _, line in zip(range(1 + REPLAY_MINUTES), source, strict=False)]
        replay = self.cwd / BUNDLED.name  # the name says the timeframe
        replay.write_text("".join(head))
        (self.cwd / "config.toml").write_text(
            f'[risk]\nhalt_windows = [{{ name = "{HALT}", start = "12:00", end = "13:00" }}]\n'
            + PINNED
        )
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "UPBIT_BOT_HTTP__PORT": str(self.port),
            "UPBIT_BOT_STORE__URL": f"sqlite+aiosqlite:///{self.cwd / 'bot.db'}",
            "UPBIT_BOT_API_TOKEN": TOKEN,
            "UPBIT_BOT_COMMAND_API__ENABLED": "true",
            "UPBIT_BOT_COMMAND_TOKENS": f"desk:operator:{COMMAND_TOKEN}",
            "UPBIT_BOT_BOT__REPLAY_FILE": str(replay),
        }
        for name in ("UPBIT_BOT_CONFIG", "UPBIT_BOT_ENV_FILE", "UPBIT_ACCESS_KEY"):
            env.pop(name, None)
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=self.cwd,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )

    async def wait_for(self, text: str, within_s: float) -> None:
        assert self.proc is not None
        assert self.proc.stderr is not None
        async with asyncio.timeout(within_s):
            while True:
                raw = await self.proc.stderr.readline()
                if not raw:
                    raise AssertionError(f"bot exited before {text!r}:\n" + "".join(self.lines))
                self.lines.append(raw.decode())
                if text in self.lines[-1]:
                    return

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            async with asyncio.timeout(15):
                await self.proc.communicate()
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


@pytest.fixture
async def running_bot(tmp_path: Path):
    chromium_or_skip()  # before the bot starts: no browser, no point
    bot = BotProcess(tmp_path, free_port())
    await bot.start()
    try:
        await bot.wait_for("feed finished after", within_s=60)
        yield bot
    finally:
        await bot.stop()


@pytest.mark.slow
async def test_the_dashboard_shows_the_running_bot_in_chromium(running_bot, tmp_path: Path):
    base = f"http://127.0.0.1:{running_bot.port}"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=10) as http:
        trades = (await http.get("/api/v1/trades?limit=20")).json()["trades"]
        positions = (await http.get("/api/v1/positions")).json()["positions"]
        pnl = (await http.get("/api/v1/pnl?days=30")).json()
        risk = (await http.get("/api/v1/risk")).json()
        status = (await http.get("/api/v1/status")).json()
        health = await http.get("/healthz")
        ready = await http.get("/readyz")
    # the probes, as the running bot wires them
    assert health.status_code == 200
    assert health.json()["checks"]["engine"] == {"ok": True, "detail": "engine task running"}
    assert ready.status_code == 200
    assert {k: v["detail"] for k, v in ready.json()["checks"].items() if k != "store"} == {
        "app": "app running",
        "market_data": "replay finished",
        "exchange": "not used (no Upbit REST client)",
    }
    assert len(trades) == 20, "the replay should have traded"
    loaded_at = datetime.now(UTC)
    shot = tmp_path / "dashboard.png"
    html = await run_chromium(
        f"{base}/#token={TOKEN}", tmp_path / "profile", "--dump-dom", budget_ms=4000
    )
    dom = Dom(html)

    assert not dom.by_id("main").hidden
    assert dom.by_id("auth").hidden  # the token from the URL was taken
    assert dom.by_id("message").hidden, dom.by_id("message").text  # no error shown
    assert dom.by_id("mode").text == "PAPER"
    assert dom.by_id("trading").text == status["trading"]
    updated = dom.by_id("updated").attrs["datetime"]
    assert abs(datetime.fromisoformat(updated) - loaded_at) < timedelta(seconds=60)

    # positions: one row per open position, or the "none" row
    shown = rows(dom.by_id("positions"))
    if positions:
        assert [r.attrs["data-market"] for r in shown] == [p["market"] for p in positions]
        assert cells(shown[0])[1] == positions[0]["state"]
    else:
        assert [cells(r) for r in shown] == [["no open positions"]]
    # recent fills: the same 20 fills, newest first, as the API gives them
    fills = rows(dom.by_id("fills"))
    assert [r.attrs["data-trade"] for r in fills] == [str(t["id"]) for t in trades]
    first = cells(fills[0])
    assert first[1] == trades[0]["market"]
    assert first[2] == ("buy" if trades[0]["side"] == "bid" else "sell")
    assert first[3] == f"{round(float(trades[0]['price'])):,}"
    assert cells(rows(dom.by_id("orders"))[0]) == ["no open orders"]
    # the equity curve: one path point per equity point of the API
    path = dom.by_id("equity-line")
    assert path.attrs["data-points"] == str(len(pnl["equity"]))
    assert len(pnl["equity"]) > 2
    assert path.attrs["d"].startswith("M0.0,")
    assert path.attrs["d"].count("L") == len(pnl["equity"]) - 1
    # risk limits and their use, as the API words them
    limits = dom.having("data-limit")
    assert [li.attrs["data-limit"] for li in limits] == [lim["name"] for lim in risk["limits"]]
    assert [li.text for li in limits] == [lim["text"] for lim in risk["limits"]]
    assert any("positions" in li.text for li in limits)
    # the halt window, whose name is markup, shows as text: nothing was injected
    [halt] = rows(dom.by_id("halts"))
    assert halt.attrs["data-halt"] == HALT
    assert cells(halt)[0] == HALT
    assert cells(halt)[1] == "12:00 - 13:00"
    assert not dom.tags("b")
    assert len(dom.tags("script")) == 1  # only the page's own

    # the same page as a picture: it renders something
    await run_chromium(
        f"{base}/dashboard#token={TOKEN}",
        tmp_path / "profile2",
        f"--screenshot={shot}",
        "--window-size=1280,1400",
        "--hide-scrollbars",
        budget_ms=4000,
    )
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 20_000


@pytest.mark.slow
async def test_the_dashboard_asks_again_for_a_wrong_token(running_bot, tmp_path: Path):
    base = f"http://127.0.0.1:{running_bot.port}"
    html = await run_chromium(
        f"{base}/dashboard#token=not-the-token", tmp_path / "profile", "--dump-dom"
    )
    dom = Dom(html)
    assert not dom.by_id("auth").hidden
    assert dom.by_id("main").hidden
    assert dom.by_id("message").text == "The API refused the token: enter it again."
    assert not rows(dom.by_id("fills"))  # nothing was shown


async def _press(page: Page, button: str) -> dict[str, str]:
    """Click ``button`` and wait for the control panel's answer: its status, outcome, text."""
    await page.evaluate("document.getElementById('answer').dataset.status = ''")
    await page.evaluate(f"document.getElementById('{button}').click()")
    await page.wait_until("document.getElementById('answer').dataset.status")
    answer: dict[str, str] = await page.evaluate(
        "(({dataset, textContent}) => ({...dataset, text: textContent}))"
        "(document.getElementById('answer'))"
    )
    return answer


async def _set_param(page: Page, key: str, value: str) -> dict[str, str]:
    await page.evaluate(
        f"document.getElementById('param-key').value = '{key}';"
        f"document.getElementById('param-value').value = '{value}'"
    )
    await page.evaluate("document.getElementById('answer').dataset.status = ''")
    await page.evaluate("document.getElementById('param-form').requestSubmit()")
    await page.wait_until("document.getElementById('answer').dataset.status")
    answer: dict[str, str] = await page.evaluate(
        "(({dataset, textContent}) => ({...dataset, text: textContent}))"
        "(document.getElementById('answer'))"
    )
    return answer


def _shown(ident: str) -> str:
    return f"!document.getElementById('{ident}').hidden"


@pytest.mark.slow
async def test_the_dashboard_pauses_resumes_and_sets_a_parameter_with_its_confirmation(
    running_bot, tmp_path: Path
):
    base = f"http://127.0.0.1:{running_bot.port}"
    async with Page.open(f"{base}/dashboard#token={TOKEN}", tmp_path / "cdp") as page:
        await page.wait_until("document.getElementById('updated').dateTime")
        before = await page.evaluate("document.getElementById('trading').textContent")
        assert not await page.evaluate(_shown("controls"))  # no command token yet
        await page.evaluate(
            f"document.getElementById('command-token').value = '{COMMAND_TOKEN}';"
            "document.getElementById('command-auth').requestSubmit()"
        )
        await page.wait_until(_shown("controls"))

        paused = await _press(page, "pause")
        assert paused["status"] == "200", paused
        assert paused["outcome"] == "ok"
        await page.wait_until("document.getElementById('trading').textContent === 'paused'")
        resumed = await _press(page, "resume")
        assert resumed["status"] == "200", resumed
        await page.wait_until(f"document.getElementById('trading').textContent === '{before}'")

        asked = await _set_param(page, "strategy.fast", "12")
        assert asked["status"] == "202", asked
        assert asked["outcome"] == "confirm_pending"
        await page.wait_until(_shown("pending"))
        until = await page.evaluate("document.getElementById('pending-until').textContent")
        assert until.startswith("confirm before ")
        done = await _press(page, "confirm")
        assert done["status"] == "200", done
        assert done["outcome"] == "confirmed"
        assert "strategy.fast: 10 → 12" in done["text"]
        assert not await page.evaluate(_shown("pending"))

        await _set_param(page, "strategy.fast", "13")
        cancelled = await _press(page, "cancel")
        assert cancelled["outcome"] == "cancelled", cancelled
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=10) as http:
        settings = (await http.get("/api/v1/settings")).json()
        audit = (await http.get("/api/v1/audit?limit=10")).json()
    fast = [s for s in settings["settings"] if s["key"] == "strategy.fast"]
    assert fast[0]["value"] == "12", fast
    mine = [(e["transport"], e["user_id"], e["command"], e["outcome"]) for e in audit["entries"]]
    assert ("command_api", "desk", "set", "confirmed") in mine
    assert ("command_api", "desk", "pause", "ok") in mine


async def test_the_dashboard_shows_the_market_universe_in_chromium(
    api: Served, traded: Traded, tmp_path: Path
):
    """top:2 chosen, BTC held outside it, DOGE and OLD left out: the Markets panel says how the
    markets were chosen and when, and each market's part (a fixed list: tests/http/conftest)."""
    chromium_or_skip()
    base = f"http://127.0.0.1:{api.server.port}"
    html = await run_chromium(
        f"{base}/dashboard#token={API_TOKEN}", tmp_path / "fixed", "--dump-dom", budget_ms=4000
    )
    fixed = Dom(html)
    assert fixed.by_id("universe-rule").text == "fixed list (bot.markets)"
    assert [cells(r) for r in rows(fixed.by_id("universe"))] == [["KRW-BTC", "in the universe"]]

    await top_two(traded)
    html = await run_chromium(
        f"{base}/dashboard#token={API_TOKEN}", tmp_path / "top", "--dump-dom", budget_ms=4000
    )
    dom = Dom(html)
    assert dom.by_id("message").hidden, dom.by_id("message").text
    assert dom.by_id("universe-rule").text == (
        "top 2 by 24-hour traded value, refreshed 2026-12-07 09:30:00 UTC (every 600 s),"
        " 1 change(s)"
    )
    shown = rows(dom.by_id("universe"))
    assert [r.attrs["data-market"] for r in shown] == [
        "KRW-ETH",
        "KRW-XRP",
        "KRW-BTC",
        "KRW-DOGE",
        "KRW-OLD",
    ]
    assert [cells(r)[1] for r in shown] == [
        "in the universe",
        "in the universe",
        "held outside: exits only",
        "left out: warning",
        "left out: delisting",
    ]
