"""Run the fake Upbit in its own process, so the client's CPU time can be measured alone."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal

KEYS = {"bench-access": "bench-secret-0123456789abcdef0123456789abcdef"}


async def _serve(rate_limits: dict[str, float]) -> None:
    from tests.fakes.upbit import FakeUpbit

    async with FakeUpbit(keys=KEYS, rate_limits=rate_limits) as fake:
        fake.set_balance("KRW", Decimal("1000000000000"))
        fake.set_balance("BTC", Decimal("1000000"))
        print(fake.rest_url, flush=True)
        loop = asyncio.get_running_loop()
        # stop when the parent closes our stdin; answer "stats" with the fake's request log
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            if line.strip() == "posts":  # arrival times (CLOCK_MONOTONIC) of order POSTs
                times = [r.time for r in fake.requests if r.method == "POST"]
                print(json.dumps(times), flush=True)
            elif line.strip() == "stats":
                statuses: dict[str, dict[str, int]] = {}
                for rec in fake.requests:
                    by_group = statuses.setdefault(rec.group, {})
                    by_group[str(rec.status)] = by_group.get(str(rec.status), 0) + 1
                print(json.dumps(statuses), flush=True)


class FakeProcess:
    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url

    def post_times(self) -> list[float]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write("posts\n")
        self.proc.stdin.flush()
        times: list[float] = json.loads(self.proc.stdout.readline())
        return times

    def stats(self) -> dict[str, dict[str, int]]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        result: dict[str, dict[str, int]] = json.loads(self.proc.stdout.readline())
        return result


@contextlib.contextmanager
def fake_upbit(rate_limits: dict[str, float] | None = None) -> Iterator[FakeProcess]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.fake_process", json.dumps(rate_limits or {})],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"fake Upbit did not start: {url!r}")
        yield FakeProcess(proc, url)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    asyncio.run(_serve(json.loads(sys.argv[1])))
