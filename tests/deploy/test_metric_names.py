"""The names the dashboard and the alerts use are the names a running bot exposes.

The bot runs for real (paper mode on the fake Upbit's market data, Telegram on its fake, so
REST, WebSocket, notifier and command series all exist) and ``/metrics`` is read with
prometheus_client's own parser.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from decimal import Decimal as D

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.bot.test_run_e2e import ROOT, Bot
from tests.deploy.promql import HISTOGRAMS, METRICS, metric_names
from tests.deploy.test_monitoring import _exprs
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upbit import FakeUpbit

pytestmark = pytest.mark.slow
CHAT, ADMIN = 100, 7
ACCESS, SECRET = "metrics-access", "metrics-secret-0123456789abcdefghij"


def _exposed(text: str) -> dict[str, set[str]]:
    """Sample name -> label names (families without samples: their counter/gauge name)."""
    out: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        names = {family.name + "_total"} if family.type == "counter" else {family.name}
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            base = family.name if family.name in HISTOGRAMS else sample.name
            out.setdefault(base, set()).update(set(sample.labels) - {"le"})
        if not family.samples:
            for name in names:
                out.setdefault(name, set())
    return out


async def test_running_bot_exposes_every_name_the_deploy_files_use(tmp_path, base_env):
    async with FakeUpbit(keys={ACCESS: SECRET}) as upbit, FakeTelegram() as tg:
        env = {
            **base_env,
            "UPBIT_BOT_BOT__FEED": "upbit",
            "UPBIT_BOT_UPBIT__REST_URL": upbit.rest_url,
            "UPBIT_BOT_UPBIT__WS_URL": upbit.ws_url,
            "UPBIT_BOT_UPBIT__WS_PRIVATE_URL": upbit.ws_private_url,
            "UPBIT_ACCESS_KEY": ACCESS,
            "UPBIT_SECRET_KEY": SECRET,
            "TELEGRAM_BOT_TOKEN": tg.token,
            "UPBIT_BOT_TELEGRAM__ENABLED": "true",
            "UPBIT_BOT_TELEGRAM__BASE_URL": tg.base_url,
            "UPBIT_BOT_TELEGRAM__ALLOWED_CHAT_IDS": f"[{CHAT}]",
            "UPBIT_BOT_TELEGRAM__ADMIN_IDS": f"[{ADMIN}]",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        bot = Bot(proc)
        try:
            await bot.wait_for("chat-ops ready", within_s=40)
            await asyncio.sleep(0.5)  # the streams subscribe on the fake's side
            await upbit.trade("KRW-BTC", D("101000000"), D("0.01"))
            tg.user_sends(CHAT, ADMIN, "/status")
            await tg.wait_for(lambda c: c.method == "sendMessage" and "KRW-BTC" in (c.text or ""))
            port = base_env["UPBIT_BOT_HTTP__PORT"]
            async with httpx.AsyncClient() as http:
                reply = await http.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
            proc.send_signal(signal.SIGTERM)
            assert await bot.finish(within_s=30) == 0
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert reply.status_code == 200
    exposed = _exposed(reply.text)
    missing = sorted(set(METRICS) - set(exposed))
    assert missing == [], f"the deploy files expect these, the bot does not expose them: {missing}"
    for name, labels in exposed.items():
        if name in METRICS and labels:
            assert labels == METRICS[name], f"{name}: labels {sorted(labels)}"
    used = set().union(*(metric_names(expr) for _, expr in _exprs()))
    assert used <= set(exposed)
