"""The whole bot as a process: the embedded default, and live mode against the fake Upbit."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from decimal import Decimal as D
from pathlib import Path

import httpx
import pytest

from tests.fakes.upbit import FakeUpbit
from trading.strategies import MaCrossParams

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-secret-key-0123456789abcdefghij"
FAST = MaCrossParams().fast  # the embedded default strategy: ma_cross with its defaults


class Bot:
    """``python -m bot run`` with its stderr collected line by line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    @classmethod
    async def start(cls, cwd: Path, env: dict[str, str]) -> Bot:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(proc)

    async def wait_for(self, text: str, within_s: float = 20.0) -> str:
        assert self.proc.stderr is not None
        async with asyncio.timeout(within_s):
            while True:
                raw = await self.proc.stderr.readline()
                if not raw:
                    raise AssertionError(f"bot exited before {text!r}:\n" + "".join(self.lines))
                line = raw.decode()
                self.lines.append(line)
                if text in line:
                    return line

    async def finish(self, within_s: float = 15.0) -> int:
        assert self.proc.stderr is not None
        async with asyncio.timeout(within_s):
            rest = await self.proc.stderr.read()
            code = await self.proc.wait()
        self.lines.append(rest.decode())
        return code

    @property
    def output(self) -> str:
        return "".join(self.lines)


@pytest.mark.timeout(300)
async def test_embedded_default_runs_answers_and_quits(tmp_path, base_env):
    bot = await Bot.start(tmp_path, base_env)
    try:
        # ~40 s on a quiet 2-core machine; the margin is for a busy CI runner
        await bot.wait_for("feed finished after 56448 prints", within_s=240)
        port = base_env["UPBIT_BOT_HTTP__PORT"]
        async with httpx.AsyncClient() as http:
            health = await http.get(f"http://127.0.0.1:{port}/healthz")
            ready = await http.get(f"http://127.0.0.1:{port}/readyz")
        assert health.status_code == 200
        assert ready.json()["status"] == "ok"  # every check: tests/http/test_probes.py

        assert bot.proc.stdin is not None
        bot.proc.stdin.write(
            b"status\nset strategy.fast 7\nyes\nset strategy.fast 1\nundo\nyes\nbogus\nquit\n"
        )
        await bot.proc.stdin.drain()
        assert await bot.finish() == 0
        assert bot.proc.stdout is not None
        stdout = (await bot.proc.stdout.read()).decode()
    finally:
        if bot.proc.returncode is None:
            bot.proc.kill()
    assert "모드: 모의" in stdout  # replies are Korean by default (bot.language = "ko")
    assert "시장 시각: 2020-02-20 20:59 KST" in stdout  # 11:59 UTC, shown in Asia/Seoul
    assert "KRW-BTC: bought" in bot.output  # it traded the bundled data
    assert f"strategy.fast: {FAST} → 7" in stdout  # preview, then confirmed with "yes"
    assert "파라미터를 변경했습니다" in stdout
    assert "strategy.fast = 1: 2 이상 200 이하의 정수여야 합니다" in stdout  # in Korean
    assert f"파라미터 변경을 되돌렸습니다\nstrategy.fast: 7 → {FAST}" in stdout
    assert "알 수 없는 명령 /bogus 입니다" in stdout
    assert "stopped cleanly" in bot.output
    assert (tmp_path / "bot.db").exists()


async def test_live_mode_against_the_fake_exchange(tmp_path, base_env):
    async with FakeUpbit(keys={"e2e-access": SECRET}) as fake:
        fake.set_balance("KRW", D("1234567"))
        env = {
            **base_env,
            "UPBIT_BOT_BOT__MODE": "live",
            "UPBIT_BOT_BOT__FEED": "upbit",
            "UPBIT_BOT_UPBIT__REST_URL": fake.rest_url,
            "UPBIT_BOT_UPBIT__WS_URL": fake.ws_url,
            "UPBIT_BOT_UPBIT__WS_PRIVATE_URL": fake.ws_private_url,
            "UPBIT_ACCESS_KEY": "e2e-access",
            "UPBIT_SECRET_KEY": SECRET,
        }
        bot = await Bot.start(tmp_path, env)
        try:
            await bot.wait_for("Upbit keys accepted: 1 balances, 1,234,567 KRW free")
            await bot.wait_for("engine ready: LIVE on KRW-BTC 1m, strategy ma_cross")
            await bot.wait_for("reconciled 0 open order(s)")
            await asyncio.sleep(0.5)  # let the streams subscribe on the fake's side
            await fake.trade("KRW-BTC", D("101000000"), D("0.01"))
            await asyncio.sleep(0.3)
            assert bot.proc.stdin is not None
            assert bot.proc.stdout is not None
            bot.proc.stdin.write(b"status\n")
            await bot.proc.stdin.drain()
            async with asyncio.timeout(10):
                while not (
                    (line := await bot.proc.stdout.readline()).startswith(b"KRW-BTC")
                    and b"101,000,000" in line
                ):
                    assert line, "bot closed stdout"
            bot.proc.send_signal(signal.SIGTERM)
            assert await bot.finish() == 0
        finally:
            if bot.proc.returncode is None:
                bot.proc.kill()
    assert "stopped cleanly" in bot.output
    assert SECRET not in bot.output
    private_calls = [r for r in fake.requests if r.path == "/v1/accounts"]
    assert private_calls
    assert {r.status for r in private_calls} == {200}  # keys accepted on every call


async def test_live_mode_with_a_wrong_secret_fails_to_start_clearly(tmp_path, base_env):
    async with FakeUpbit(keys={"e2e-access": SECRET}) as fake:
        env = {
            **base_env,
            "UPBIT_BOT_BOT__MODE": "live",
            "UPBIT_BOT_BOT__FEED": "upbit",
            "UPBIT_BOT_UPBIT__REST_URL": fake.rest_url,
            "UPBIT_ACCESS_KEY": "e2e-access",
            "UPBIT_SECRET_KEY": "not-the-secret-0123456789abcdefghij",
        }
        bot = await Bot.start(tmp_path, env)
        code = await bot.finish()

    assert code == 1
    assert "start-up failed" in bot.output
    assert "jwt_verification" in bot.output
    assert "not-the-secret" not in bot.output


async def test_replays_a_trade_file_and_refuses_a_missing_one(tmp_path, base_env):
    trades = tmp_path / "ticks.csv"
    rows = ["timestamp_utc,price,amount,side,trade_id"]
    rows += [
        f"2024-03-01T00:{n // 60:02d}:{n % 60:02d}Z,{95_000_000 + (n % 7) * 1000},0.01,"
        f"{'buy' if n % 2 else 'sell'},{n}"
        for n in range(600)
    ]
    trades.write_text("\n".join(rows) + "\n")

    bot = await Bot.start(tmp_path, {**base_env, "UPBIT_BOT_BOT__REPLAY_FILE": str(trades)})
    try:
        await bot.wait_for("replaying ticks.csv (trades)")
        await bot.wait_for("feed finished after 600 prints")
        bot.proc.send_signal(signal.SIGTERM)
        assert await bot.finish() == 0
    finally:
        if bot.proc.returncode is None:
            bot.proc.kill()

    missing = await Bot.start(
        tmp_path, {**base_env, "UPBIT_BOT_BOT__REPLAY_FILE": str(tmp_path / "nope.csv")}
    )
    assert await missing.finish() == 1
    assert "start-up failed" in missing.output
    assert "nope.csv: no such file" in missing.output
