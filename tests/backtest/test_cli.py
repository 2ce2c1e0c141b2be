"""``upbit-bot backtest`` in-process through ``bot.cli.main``, and once as a real process."""

from __future__ import annotations

import csv
import gzip
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "bot" / "data" / "upbit_KRW-BTC_1m.csv"
SEGMENT_A = ["--from", "2018-01-22", "--to", "2018-01-25"]
LABELS = ("trades", "win rate", "annualized return", "max drawdown", "sharpe", "sortino")
LABELS += ("profit factor", "exposure", "fees paid", "buy and hold", "volatility halt")
D0 = Decimal(0)
HEADER = "timestamp_utc,open,high,low,close,volume,value\n"


def write(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


def minute(i: int, price: int = 100) -> str:
    return f"2024-01-01T00:{i:02d}:00Z,{price},{price + 1},{price - 1},{price},1.0,100"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["backtest", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_table_files_and_chart(
    empty_cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = empty_cwd / "out"
    code, out, err = run(
        capsys,
        "--strategy", "ma_cross", "--param", "fast=5", "--param", "slow=20",
        "--market", "KRW-BTC", "--timeframe", "1m", "--data", str(BUNDLED),
        *SEGMENT_A, "--out", str(out_dir),
    )  # fmt: skip
    assert code == 0, err
    for label in LABELS:
        assert label in out
    trades = json.loads((out_dir / "trades.json").read_text())
    with open(out_dir / "trades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(trades) > 10
    assert rows[0]["entry_price"] == trades[0]["entry_price"]
    assert Decimal(trades[0]["volume"]) > 0
    assert (out_dir / "equity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["trades"] == len(trades)


def test_json_is_one_object(empty_cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--data", str(BUNDLED), *SEGMENT_A, "--json", "--plain")
    assert code == 0
    summary = json.loads(out)
    assert summary["markets"] == ["KRW-BTC"]
    assert summary["strategy"] == "ma_cross"
    assert summary["candles"] == 3 * 1440 - 14 * 60 - 8
    assert set(summary) >= {"total_return_pct", "sharpe", "buy_and_hold_return_pct", "notes"}


def test_the_summary_says_how_long_the_volatility_filter_held_entries_back(
    empty_cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue #13: the default relative filter over the 2018 crash minutes; --plain: none."""
    crash = ["--from", "2018-01-22", "--to", "2018-02-02"]
    code, out, err = run(capsys, "--data", str(BUNDLED), *crash, "--json")
    assert code == 0, err
    halted = json.loads(out)["volatility_halted_pct"]
    assert 1 < halted < 6
    code, out, _ = run(capsys, "--data", str(BUNDLED), *crash)
    assert f"volatility halt    {halted:,.1f} % of the time" in out
    code, out, _ = run(capsys, "--data", str(BUNDLED), *crash, "--json", "--plain")
    assert json.loads(out)["volatility_halted_pct"] == 0


def test_plain_turns_every_risk_feature_off(
    empty_cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --plain the exits are all strategy signals (the config's stops are off)."""
    out_dir = empty_cwd / "out"
    code, _, _ = run(capsys, "--data", str(BUNDLED), *SEGMENT_A, "--plain", "--out",
                     str(out_dir), "--no-chart")  # fmt: skip
    assert code == 0
    reasons = {t["exit_reason"] for t in json.loads((out_dir / "trades.json").read_text())}
    assert reasons <= {"signal", "end"}
    assert not (out_dir / "equity.png").exists()


def test_plain_turns_every_exit_off_too(
    empty_cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue #13: a config with every exit on; --plain leaves the strategy's signal alone."""
    config = empty_cwd / "exits.toml"
    config.write_text(
        "[risk]\natr_stop_mult = 0\nstop_loss_pct = 0.3\ntrailing_stop = true\n"
        "minimal_roi = [[0, 0.5], [10, 0.1]]\nmax_holding_minutes = 30\n"
        "exit_profit_only = true\n",
        encoding="utf-8",
    )
    for plain, allowed in ((False, None), (True, {"signal", "end"})):
        out_dir = empty_cwd / f"out-{plain}"
        extra = ["--plain"] if plain else []
        code, _, _ = run(capsys, "--data", str(BUNDLED), *SEGMENT_A, "--config", str(config),
                         *extra, "--out", str(out_dir), "--no-chart")  # fmt: skip
        assert code == 0
        trades = json.loads((out_dir / "trades.json").read_text())
        reasons = {t["exit_reason"] for t in trades}
        if allowed is None:
            assert reasons & {"roi", "time", "stop", "trailing"}
        else:
            assert reasons <= allowed


def test_two_markets_by_name_and_parquet(
    empty_cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    parquet = empty_cwd / "btc.parquet"
    pq.write_table(pcsv.read_csv(BUNDLED), parquet)
    gz = empty_cwd / "btc.csv.gz"
    gz.write_bytes(gzip.compress(BUNDLED.read_bytes()))
    code, out, err = run(
        capsys, "--data", f"KRW-BTC={parquet}", "--data", f"KRW-ETH={gz}", *SEGMENT_A, "--json"
    )
    assert code == 0, err
    assert json.loads(out)["markets"] == ["KRW-BTC", "KRW-ETH"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--strategy", "nope"], "unknown strategy 'nope'"),
        (["--param", "fast=5", "--param", "speed=3"], "speed: unknown parameter"),
        (["--param", "fast=1"], "fast = '1'"),
        (["--param", "fast=50", "--param", "slow=20"], "must be less than slow"),
        (["--param", "fast"], "expected KEY=VALUE"),
        (["--timeframe", "7m"], "--timeframe '7m'"),
        (["--timeframe", "15m"], "has 1m candles, not --timeframe 15m"),
        (["--market", "KRW-ETH"], "the file is for KRW-BTC"),
        (["--market", "BTCKRW"], "--market 'BTCKRW'"),
        (["--from", "2030-01-01"], "no candles between --from and --to"),
        (["--from", "yesterday"], "expected a date or ISO datetime"),
        (["--from", "2018-01-24", "--to", "2018-01-23"], "--to must be after --from"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    empty_cwd: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "--data", str(BUNDLED), *argv)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    assert out == ""


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [minute(0), minute(1), minute(1)],
            "data.csv:4: duplicate timestamp 2024-01-01T00:01:00Z",
        ),
        ([minute(0), minute(2), minute(1)], "data.csv:4: unsorted timestamp"),
        ([minute(0), "2024-01-01T00:01:00Z,100,99,101,100,1,1"], "data.csv:3: inconsistent"),
        ([minute(0), "2024-01-01T00:01:00Z,abc,1,1,1,1,1"], "data.csv: unreadable"),
        ([minute(0), "not a time,100,101,99,100,1,1"], "data.csv:3: unreadable timestamp"),
        ([minute(0), "2024-01-01T00:01:30Z,100,101,99,100,1,1"], "not aligned"),
    ],
)
def test_bad_files_name_file_and_row(
    empty_cwd: Path, capsys: pytest.CaptureFixture[str], rows: list[str], message: str
) -> None:
    path = write(empty_cwd / "data.csv", rows)
    code, _, err = run(capsys, "--data", str(path), "--market", "KRW-BTC", "--timeframe", "1m")
    assert code == 2
    assert message in err
    assert err.count("\n") == 1


def test_missing_columns_and_files(empty_cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (empty_cwd / "cols.csv").write_text("timestamp_utc,open,close\n2024-01-01T00:00:00Z,1,1\n")
    code, _, err = run(capsys, "--data", "cols.csv")
    assert code == 2
    assert "missing column(s) high, low, volume" in err
    code, _, err = run(capsys, "--data", "absent.csv")
    assert code == 2
    assert "absent.csv: no such candle file" in err
    code, _, err = run(capsys, "--market", "KRW-BTC", "--market", "KRW-ETH", "--data", "x.csv")
    assert code == 2
    assert "1 --data value(s) for 2 market(s)" in err


def test_fill_gaps_fills_and_says_how_many(
    empty_cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [minute(i, 100 + i % 7) for i in range(40)]
    del rows[10:13]
    path = write(empty_cwd / "data.csv", rows)
    code, out, err = run(
        capsys, "--data", str(path), "--market", "KRW-BTC", "--timeframe", "1m",
        "--fill-gaps", "--json", "--param", "fast=2", "--param", "slow=3",
    )  # fmt: skip
    assert code == 0, err
    assert "KRW-BTC: 빠진 캔들 3개를 직전 종가의 평평한 캔들로 채웠습니다 (--fill-gaps)" in err
    summary = json.loads(out)
    assert summary["candles"] == 40
    assert summary["notes"] == [
        "KRW-BTC: 빠진 캔들 3개를 직전 종가의 평평한 캔들로 채웠습니다 (--fill-gaps)."
    ]


def test_config_supplies_the_defaults(empty_cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (empty_cwd / "bt.toml").write_text(
        '[strategy]\nname = "momentum"\ntimeframe = "1m"\n'
        "params = { lookback = 10, entry_pct = 0.3, exit_pct = 0.0 }\n"
        "[paper]\nstart_krw = 5000000\n[risk]\nposition_size_krw = 200000\n"
    )
    code, out, err = run(capsys, "--config", "bt.toml", "--data", str(BUNDLED), *SEGMENT_A,
                         "--json")  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert summary["strategy"] == "momentum"
    assert summary["params"]["lookback"] == 10
    assert 4_000_000 < summary["final_equity_krw"] < 6_000_000


def test_whole_process(tmp_path: Path) -> None:
    """The installed entry point, as a user runs it: exit 0, the table on stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "backtest", "--data", str(BUNDLED), *SEGMENT_A, "--plain"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert "buy and hold" in done.stdout


def test_no_chart_no_matplotlib(tmp_path: Path) -> None:
    """Start-up stays light: matplotlib is imported only to draw a chart."""
    script = (
        "import sys; from bot.cli import main; "
        "code = main(['backtest', '--market', 'KRW-BTC', '--data', "
        f"{str(BUNDLED)!r}, '--to', '2018-01-25', '--json']); "
        "print(code, 'matplotlib' in sys.modules, file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert done.stderr.strip().splitlines()[-1] == "0 False"


def test_data_from_the_store(empty_cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Candles ``upbit-bot download`` stored (written here with its own writer) are read
    back with ``--data store`` and give the same backtest as the file they came from."""
    import asyncio

    from trading.candle_file import read_candles
    from trading.history.series import HistCandle
    from trading.history.store_candles import StoreTarget
    from trading.history.timeframes import parse_timeframe

    url = f"sqlite+aiosqlite:///{empty_cwd / 'candles.db'}"
    candles = [
        HistCandle(c.start, c.open, c.high, c.low, c.close, c.volume, D0)
        for c, _ in zip(read_candles(BUNDLED), range(3000), strict=False)
    ]

    async def store() -> None:
        target = StoreTarget(url)
        await target.open()
        await target.write("KRW-BTC", parse_timeframe("1m"), candles)
        await target.close()

    asyncio.run(store())
    (empty_cwd / "store.toml").write_text(f'[store]\nurl = "{url}"\n')
    window = ["--from", "2018-01-22T15:00:00Z", "--to", "2018-01-24T00:00:00Z", "--json"]
    code, from_store, err = run(capsys, "--config", "store.toml", "--data", "store", *window)
    assert code == 0, err
    code, from_file, err = run(capsys, "--config", "store.toml", "--data", str(BUNDLED), *window)
    assert code == 0, err
    assert json.loads(from_store) == json.loads(from_file)
    assert json.loads(from_store)["trades"] > 0
    code, _, err = run(capsys, "--config", "store.toml", "--data", "store", "--market", "KRW-ETH")
    assert code == 2
    assert "no candles between --from and --to" in err
