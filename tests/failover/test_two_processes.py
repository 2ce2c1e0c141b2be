"""Two real ``upbit-bot run`` processes on one PostgreSQL database and one (fake) Upbit account.

The leader trades against the fake exchange (live mode, fake keys); the standby answers
read-only commands and refuses trading. Killing the leader (SIGKILL, with one order's response
held so it dies not knowing the outcome) hands over within ``failover_s``; the new leader
reconciles that order before its own first one. Killing only the leader's lock session fences
it: it stops before the standby starts. No intent is ever placed twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import textwrap
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal as D
from pathlib import Path

import asyncpg
import pytest

from tests.failover.conftest import admin
from tests.fakes.upbit import FakeUpbit

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[2]
ACCESS, SECRET = "failover-access", "failover-secret-0123456789abcdefghij"
FAILOVER_S = 2.0
SLACK_S = 1.5  # process scheduling on a shared 2-core machine
MARKET = "KRW-BTC"

FLIP = '''
"""Test strategy: buy on even seconds' candles, sell on odd ones (an order a second)."""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from trading.strategies import INTERFACE_VERSION, CandleFrame, Signals, Strategy
from trading.strategies import StrategyParams


class FlipParams(StrategyParams):
    pass


class Flip(Strategy[FlipParams]):
    name: ClassVar[str] = "flip"
    version: ClassVar[int] = INTERFACE_VERSION
    Params: ClassVar[type[FlipParams]] = FlipParams

    def warmup(self) -> int:
        return 2

    def signals(self, frame: CandleFrame) -> Signals:
        seconds = frame.start // (1000 if frame.start[-1] > 10**11 else 1)
        even = seconds % 2 == 0
        return Signals(even, ~even)
'''


@dataclass
class Line:
    seen: float  # time.monotonic() when the test read it (CLOCK_MONOTONIC: shared by processes)
    text: str

    @property
    def logged_at(self) -> datetime:
        """The log record's own wall-clock stamp (``2026-01-01 12:00:00,123``)."""
        return datetime.strptime(self.text[:23], "%Y-%m-%d %H:%M:%S,%f")


class Instance:
    """One bot process: stderr collected in the background, commands typed on stdin."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process) -> None:
        self.name = name
        self.proc = proc
        self.lines: list[Line] = []
        self._new = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, name: str, cwd: Path, env: dict[str, str]) -> Instance:
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
        return cls(name, proc)

    @property
    def instance(self) -> str:
        """How the process names itself in pg_stat_activity (``host:pid``)."""
        return f"{socket.gethostname()}:{self.proc.pid}"

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        while raw := await self.proc.stderr.readline():
            self.lines.append(Line(time.monotonic(), raw.decode(errors="replace")))
            self._new.set()
        self._new.set()

    def find(self, text: str, after: float = 0.0) -> Line | None:
        return next((ln for ln in self.lines if text in ln.text and ln.seen >= after), None)

    async def wait_for(self, text: str, within_s: float = 30.0, after: float = 0.0) -> Line:
        deadline = time.monotonic() + within_s
        while (found := self.find(text, after)) is None:
            if self._reader.done():
                raise AssertionError(f"{self.name} exited before {text!r}:\n{self.output}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: no {text!r} in {within_s}s:\n{self.output}")
            self._new.clear()
            try:
                async with asyncio.timeout(min(left, 0.5)):
                    await self._new.wait()
            except TimeoutError:
                pass
        return found

    async def command(self, text: str, within_s: float = 10.0) -> str:
        """Type one console command; its reply ends with an empty line."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(text.encode() + b"\n")
        await self.proc.stdin.drain()
        out: list[str] = []
        async with asyncio.timeout(within_s):
            while (raw := await self.proc.stdout.readline()) not in (b"\n", b""):
                out.append(raw.decode())
        return "".join(out)

    @property
    def output(self) -> str:
        return "".join(ln.text for ln in self.lines)

    async def stop(self, within_s: float = 20.0) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(within_s):
                code = await self.proc.wait()
        finally:
            self.kill()
        async with asyncio.timeout(5):
            await self._reader
        return code

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()


class Tape:
    """Trades on the fake's tape every 0.2 s, so 1-second candles keep closing."""

    def __init__(self, fake: FakeUpbit) -> None:
        self.fake = fake
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        n = 0
        while True:
            n += 1
            await self.fake.trade(MARKET, D(100_000_000 + (n % 5) * 1000), D("0.001"))
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def posts(fake: FakeUpbit, after: float = 0.0) -> list:
    return [
        r
        for r in fake.requests
        if r.method == "POST" and r.path == "/v1/orders" and r.time >= after
    ]


async def wait_posts(
    fake: FakeUpbit, count: int, after: float, *logs: Instance, within_s: float = 30.0
) -> None:
    """Until ``count`` orders reached the exchange since ``after`` (the bots' logs on failure)."""
    deadline = time.monotonic() + within_s
    while len(posts(fake, after)) < count:
        if time.monotonic() > deadline:
            told = "\n".join(f"--- {i.name}:\n{i.output}" for i in logs)
            raise AssertionError(f"fewer than {count} orders in {within_s}s\n{told}")
        await asyncio.sleep(0.05)


def bot_env(tmp_path: Path, fake: FakeUpbit, url: str) -> dict[str, str]:
    strategy = tmp_path / "flip.py"
    strategy.write_text(textwrap.dedent(FLIP), encoding="utf-8")
    return {
        "UPBIT_BOT_STORE__URL": url,
        "UPBIT_BOT_STORE__FAILOVER_S": str(FAILOVER_S),
        "UPBIT_BOT_HTTP__ENABLED": "false",
        "UPBIT_BOT_BOT__MODE": "live",
        "UPBIT_BOT_BOT__FEED": "upbit",
        "UPBIT_BOT_BOT__LANGUAGE": "en",
        "UPBIT_BOT_BOT__MARKETS": f'["{MARKET}"]',
        "UPBIT_BOT_UPBIT__REST_URL": fake.rest_url,
        "UPBIT_BOT_UPBIT__WS_URL": fake.ws_url,
        "UPBIT_BOT_UPBIT__WS_PRIVATE_URL": fake.ws_private_url,
        "UPBIT_BOT_UPBIT__REQUEST_TIMEOUT_S": "1",
        "UPBIT_BOT_UPBIT__ORDER_POLL_S": "1",
        "UPBIT_BOT_STRATEGY__FILE": str(strategy),
        "UPBIT_BOT_STRATEGY__NAME": "flip",
        "UPBIT_BOT_STRATEGY__TIMEFRAME": "1s",
        "UPBIT_BOT_RISK__POSITION_SIZE_KRW": "10000",
        "UPBIT_BOT_RISK__ATR_PERIOD": "1",
        "UPBIT_BOT_RISK__COOLDOWN_CANDLES": "0",
        "UPBIT_BOT_RISK__STOP_COOLDOWN_CANDLES": "0",
        "UPBIT_BOT_RISK__ATR_STOP_MULT": "0",
        "UPBIT_BOT_RISK__VOLATILITY_HALT_PCT": "0",
        "UPBIT_BOT_RISK__VOLATILITY_HALT_PERCENTILE": "0",
        # the flip strategy sells on every other candle, at a loss too: no exit but its signal
        "UPBIT_BOT_RISK__EXIT_PROFIT_ONLY": "false",
        "UPBIT_BOT_RISK__TAKE_PROFIT_PCT": "0",
        "UPBIT_BOT_RISK__MAX_HOLDING_MINUTES": "0",
        "UPBIT_BOT_RISK__STOPLOSS_GUARD_TRADES": "0",
        "UPBIT_ACCESS_KEY": ACCESS,
        "UPBIT_SECRET_KEY": SECRET,
    }


def fake_exchange() -> FakeUpbit:
    fake = FakeUpbit(keys={ACCESS: SECRET}, markets=[MARKET])
    return fake


def stock(fake: FakeUpbit) -> None:
    fake.set_balance("KRW", D("100000000"))
    fake.set_orderbook(
        MARKET,
        asks=[(D("100010000"), D("50")), (D("100020000"), D("50"))],
        bids=[(D("100000000"), D("50")), (D("99990000"), D("50"))],
    )


async def journal(url: str) -> list[asyncpg.Record]:
    """The store's attempts with their orders: (identifier, intent_id, outcome, state)."""
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    return await admin(
        "SELECT a.identifier, a.intent_id, a.outcome, o.state FROM order_attempts a "
        "JOIN orders o ON o.intent_id = a.intent_id",
        dsn=dsn,
    )


async def assert_no_duplicates(fake: FakeUpbit, url: str) -> int:
    """Every identifier reached the exchange once, no intent has two orders there, and every
    order the exchange holds is journalled and settled in the store."""
    sent = [r.body["identifier"] for r in posts(fake) if r.body]
    assert len(sent) == len(set(sent)), f"an identifier was sent twice: {sent}"
    placed = [o.identifier for o in fake.orders.values() if o.identifier]
    intents = [identifier.rsplit("-", 2)[1] for identifier in placed]
    assert len(intents) == len(set(intents)), f"an intent was placed twice: {placed}"
    rows = {r["identifier"]: r for r in await journal(url)}
    for identifier in placed:
        assert identifier in rows, f"{identifier} is on the exchange but not in the journal"
        assert rows[identifier]["state"] in ("done", "cancel"), dict(rows[identifier])
    return len(placed)


async def test_the_standby_takes_over_a_killed_leader_without_doubling_an_order(
    tmp_path, pg_fresh_url
):
    a = b = None
    async with FakeUpbit(keys={ACCESS: SECRET}, markets=[MARKET]) as fake:
        stock(fake)
        tape = Tape(fake)
        env = bot_env(tmp_path, fake, pg_fresh_url)
        try:
            a = await Instance.start("A", tmp_path, env)
            await a.wait_for("leadership acquired")
            await a.wait_for("leader: trading started")
            await wait_posts(fake, 2, 0.0, a)  # A trades on its own

            b = await Instance.start("B", tmp_path, env)
            await b.wait_for("standby: ")
            status = await b.command("status")
            assert "STANDBY" in status
            assert a.instance in status  # the standby names the leader
            refused = await b.command("buy btc 10000")
            assert "This instance is a standby; the leader is" in refused
            assert a.instance in refused
            assert "KRW-BTC" in await b.command("trades 3")  # read-only, from the store

            # A dies right after its next order reached the exchange, before it heard back
            fake.faults.lose_response_next()
            before = len(posts(fake))
            for _ in range(4000):  # polled every 5 ms (20 s at most): kill at once
                if len(posts(fake)) > before:
                    break
                await asyncio.sleep(0.005)
            a.proc.kill()
            killed = time.monotonic()

            acquired = await b.wait_for("leadership acquired", within_s=FAILOVER_S + 10)
            assert acquired.seen - killed <= FAILOVER_S + SLACK_S
            reconciled = await b.wait_for("open order(s): settled", after=killed)
            assert (
                "reconciled 1 open order(s): settled 1" in reconciled.text
            )  # A's unanswered order, found by identifier
            started = await b.wait_for("leader: trading started", after=killed)
            assert reconciled.seen <= started.seen
            after_kill = posts(fake, after=killed + 0.05)
            assert all(p.time >= reconciled.seen - 0.05 for p in after_kill)
            await wait_posts(fake, 2, started.seen, a, b)  # B trades
            first_b = posts(fake, after=killed + 0.05)[0]
            assert first_b.time > reconciled.seen - 0.05  # reconciled before its first order
            print(  # the figures docs/failover.md quotes
                f"kill->acquired {acquired.seen - killed:.2f}s, "
                f"kill->first order {first_b.time - killed:.2f}s"
            )
            assert await b.stop() == 0
            assert "stopped cleanly" in b.output
        finally:
            await tape.stop()
            for proc in (a, b):
                if proc is not None:
                    proc.kill()
        assert await assert_no_duplicates(fake, pg_fresh_url) >= 4
        assert SECRET not in b.output
        assert ACCESS not in a.output + b.output


async def test_a_leader_whose_lock_session_dies_stops_before_the_standby_starts(
    tmp_path, pg_fresh_url
):
    a = b = None
    async with FakeUpbit(keys={ACCESS: SECRET}, markets=[MARKET]) as fake:
        stock(fake)
        tape = Tape(fake)
        env = bot_env(tmp_path, fake, pg_fresh_url)
        try:
            a = await Instance.start("A", tmp_path, env)
            await a.wait_for("leader: trading started")
            b = await Instance.start("B", tmp_path, env)
            await b.wait_for("standby: ")
            await wait_posts(fake, 2, 0.0, a)

            name = f"upbit-bot leader {a.instance}"
            dsn = pg_fresh_url.replace("postgresql+asyncpg://", "postgresql://")
            rows = await admin(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = $1",
                name,
                dsn=dsn,
            )
            assert [r[0] for r in rows] == [True], f"no lock session named {name!r}"
            cut = time.monotonic()

            lost = await a.wait_for("leadership lost", after=cut, within_s=10)
            stopped = await a.wait_for("trading stopped after losing", after=cut, within_s=15)
            assert lost.seen - cut < 2.0  # found on the next check
            acquired = await b.wait_for("leadership acquired", after=cut, within_s=10)
            started = await b.wait_for("leader: trading started", after=cut, within_s=20)
            assert stopped.logged_at < started.logged_at  # A stopped before B started
            # nothing was sent between A's fence closing and B's start
            quiet = [p for p in posts(fake, after=lost.seen) if p.time < acquired.seen + 1.0]
            assert not quiet, quiet
            await wait_posts(fake, 2, started.seen, a, b)  # B trades
            assert not a.find("bought", after=stopped.seen)  # A no longer trades
            first_b = posts(fake, after=acquired.seen)[0]
            print(
                f"cut->fenced {lost.seen - cut:.2f}s, cut->stopped {stopped.seen - cut:.2f}s, "
                f"cut->acquired {acquired.seen - cut:.2f}s, cut->first order "
                f"{first_b.time - cut:.2f}s"
            )
            assert "STANDBY" in await a.command("status")
            for proc in (a, b):
                assert await proc.stop() == 0
        finally:
            await tape.stop()
            for proc in (a, b):
                if proc is not None:
                    proc.kill()
        await assert_no_duplicates(fake, pg_fresh_url)
