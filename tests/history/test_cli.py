"""``upbit-bot download`` end to end against a FakeUpbit (on its own thread: the CLI runs its
own event loop), and its one-line errors with exit code 2."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from tests.fakes.upbit import FakeUpbit
from tests.history.conftest import A_FIRST, BUNDLED, FAST
from trading.history.files import read_csv_rows
from trading.history.store_candles import load_frame

FROM = "2018-01-22T14:08:00Z"
TO = "2018-01-22T21:38"  # 450 minutes later, naive = UTC


@pytest.fixture
def fake_thread() -> Iterator[FakeUpbit]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-upbit", daemon=True)
    thread.start()
    fake = FakeUpbit(rate_limits={"candles": FAST})
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(5)
    fake.load_candles("KRW-BTC", "minutes/1", BUNDLED, limit=2000)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


@pytest.fixture
def config(fake_thread: FakeUpbit, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    db = tmp_path / "db" / "bot.sqlite3"
    path.write_text(
        f'[upbit]\nrest_url = "{fake_thread.rest_url}"\n[store]\nurl = "sqlite+aiosqlite:///{db}"\n',
        encoding="utf-8",
    )
    return path


def download(config: Path, *extra: str) -> list[str]:
    return ["download", "--config", str(config), "--market", "KRW-BTC", *extra]


def test_files_then_resume_with_json_report(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = download(
        config,
        "--timeframe",
        "1m",
        "--from",
        FROM,
        "--to",
        TO,
        "--out",
        str(tmp_path / "out"),
        "--json",
    )
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert err == ""  # no progress bar: stderr is not a terminal
    doc = json.loads(out)
    [series] = doc["series"]
    assert (doc["ok"], series["fetched"], series["filled"], series["requests"]) == (
        True,
        450,
        0,
        3,
    )
    assert series["first_candle"] == FROM
    assert series["last_candle"] == "2018-01-22T21:37:00Z"
    assert len(read_csv_rows(tmp_path / "out" / "upbit_KRW-BTC_1m.csv")) == 450

    assert main(argv) == 0
    [series] = json.loads(capsys.readouterr().out)["series"]
    assert (series["fetched"], series["already_present"], series["requests"]) == (0, 450, 0)


def test_store_and_table_report(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = download(
        config,
        "--timeframe",
        "1m",
        "--timeframe",
        "60m",
        "--from",
        FROM,
        "--to",
        TO,
        "--to-store",
        "--quiet",
    )
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "market" in out
    assert "KRW-BTC  1m" in out
    url = f"sqlite+aiosqlite:///{tmp_path / 'db' / 'bot.sqlite3'}"
    frame = load_frame(url, "KRW-BTC", "1m", A_FIRST, None)
    assert len(frame) == 450
    assert frame.start[0] == int(A_FIRST.timestamp())


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--timeframe", "7m", "--from", FROM, "--to-store"], "unknown timeframe '7m'"),
        (["--timeframe", "1m", "--from", TO, "--to", FROM, "--to-store"], "must be before --to"),
        (["--timeframe", "1m", "--from", "yesterday", "--to-store"], "is not a date"),
        (["--timeframe", "1m", "--from", "2999-01-01", "--to-store"], "is in the future"),
        (
            ["--timeframe", "1m", "--from", FROM, "--to-store", "--format", "parquet"],
            "--format needs --out",
        ),
    ],
)
def test_bad_values_are_one_line_and_exit_2(
    config: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(download(config, *extra)) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_unknown_market_and_unwritable_output(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["download", "--config", str(config), "--market", "krw-nope", "--timeframe", "1m"]
    assert main([*argv, "--from", FROM, "--to", TO, "--to-store"]) == 2
    err = capsys.readouterr().err
    assert (
        err == "upbit-bot download: market 'KRW-NOPE' is unknown to Upbit (candles answered 404)\n"
    )

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    assert main(download(config, "--timeframe", "1m", "--from", FROM, "--out", str(blocker))) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"upbit-bot download: cannot write to {blocker}")
    assert err.count("\n") == 1
