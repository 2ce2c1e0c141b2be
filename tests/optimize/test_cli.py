"""``upbit-bot optimize``: output, files written, and one clear line with exit 2 on bad input."""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_config
from tests.optimize.conftest import BUNDLED
from trading.risk.settings import RiskSettings
from trading.settings import change, show
from trading.strategies import build_strategy

TO = "2018-01-26T14:08"  # 5,760 complete minutes of the bundled file


@pytest.fixture(autouse=True)
def _empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("UPBIT_BOT_CONFIG", "UPBIT_BOT_ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _args(off_config: Path, *extra: str) -> list[str]:
    return [
        "optimize", "--config", str(off_config), "--to", TO, "--trials", "6",
        "--min-trades", "1", *extra,
    ]  # fmt: skip


def test_text_report_toml_and_set_commands(
    off_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(
        _args(off_config, "--space", "fast=3:30", "--space", "slow=40:200", "--out", str(out))
    )
    text = capsys.readouterr().out
    assert code == 0
    assert "in-sample" in text
    assert "out-of-sample" in text
    assert "[strategy.params]" in text
    assert "/set strategy." in text or "nothing to /set" in text
    assert (out / "optuna.db").is_file()  # the default storage lives under --out
    cfg = load_config(out / "best.toml", environ={}, dotenv=_empty_env(tmp_path))
    assert cfg.strategy.name == "ma_cross"
    params = dict(cfg.strategy.params)
    assert 3 <= int(params["fast"]) <= 30
    assert 40 <= int(params["slow"]) <= 200
    build_strategy(cfg.strategy.name, "", params)  # the params validate
    summary = json.loads((out / "result.json").read_text())
    assert summary["best_params"] == params


def _empty_env(tmp_path: Path) -> Path:
    path = tmp_path / "empty.env"
    path.write_text("")
    return path


def test_json_walk_forward(off_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = [
        "--walk-forward", "2", "--objective", "profit", "--penalty", "0.5",
        "--param", "kind=ema", "--study", "wf", "--json", "--plain",
    ]  # fmt: skip
    code = main(_args(off_config, *extra))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["objective"] == "profit"
    assert summary["objective_definition"] == "profit: total_return_pct - 0.5 x max_drawdown_pct"
    assert summary["studies"] == ["wf.fold1", "wf.fold2"]
    assert summary["storage"] == "sqlite:///optuna.db"
    folds = summary["folds"]
    assert [f["fold"] for f in folds] == [1, 2]
    assert folds[0]["test"]["to"] == folds[1]["test"]["from"]
    for fold in folds:
        assert fold["train"]["to"] == fold["test"]["from"]
        assert fold["best_params"]["kind"] == "ema"
        assert {"trades", "sharpe", "total_return_pct"} <= set(fold["out_of_sample"])
        assert sum(fold["trials"].values()) == 6
    assert summary["best_params"] == folds[-1]["best_params"]
    snippet = tomllib.loads(summary["toml"])
    assert snippet["strategy"]["params"] == summary["best_params"]
    assert summary["toml_path"] is None  # no --out: nothing written but the study


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--strategy", "nope"],
            "unknown strategy 'nope' (known: ma_cross, momentum, volatility_breakout)",
        ),
        (["--objective", "omega"], "unknown objective 'omega'"),
        (["--space", "fast=1:50"], "--space fast=1:50 is outside its declared bounds 2..200"),
        (["--param", "slow=9999"], "--param slow=9999 is outside its declared bounds 3..500"),
        (["--space", "bogus=1:2"], "--space bogus: ma_cross has no such parameter"),
        (["--split", "1.5"], "--split 1.5 is out of range; use 0.05..0.95"),
        (["--walk-forward", "200"], "--walk-forward 200 is out of range"),
        (["--trials", "0"], "--trials 0 must be at least 1"),
        (["--data", "/nonexistent.csv"], "/nonexistent.csv: no such candle file"),
        (["--from", "2017-01-01", "--to", "2017-02-01"], "no candles between --from and --to"),
        (["--from", "2030-01-01"], "--to must be after --from"),
        (["--from", "yesterday"], "--from 'yesterday': expected a date or ISO datetime (UTC)"),
        (["--market", "KRW-ETH"], "pass --data FILE for each --market (or --data store)"),
        (["--market", "KRW-BTC", "--data", "KRW-ETH=x.csv"], "--data for KRW-ETH, which is not"),
        (["--timeframe", "7m"], "--timeframe '7m'"),
        (["--walk-forward", "50", "--split", "0.05"], "too few for split 0.05 with 50 fold(s)"),
        (["--storage", "nonsense"], "--storage 'nonsense' is not a database URL"),
        (["--storage", "sqlite://"], "an in-memory SQLite database is private"),
        (["--storage", "postgresql://u@127.0.0.1:1/x"], "cannot open the study storage: "),
    ],
)
def test_bad_input_exits_2_with_one_line(
    off_config: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code = main(_args(off_config, *extra))
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1  # one line, no traceback
    assert err.startswith("upbit-bot optimize: ")


def test_gaps_are_refused_in_the_configured_language_naming_the_options(
    off_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The optimizer does not run over gaps as ``backtest`` does (docs/optimize.md): the
    refusal says where the gap is and the ways on, in ``bot.language`` (ko by default)."""
    args = ["optimize", "--config", str(off_config), "--from", "2018-02-01T00:00"]
    assert main([*args, "--trials", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err  # one line, no traceback
    assert "[optimize_gaps]" in err
    assert (
        "캔들 1,078,720개가 1개 공백에서 빠져 있습니다 (첫 공백은 2018-02-01T05:19:00Z 이후)"
        in err
    )
    assert "--from 2020-02-20T08:00:00Z" in err  # the newest complete stretch
    assert "--fill-gaps" in err
    assert "upbit-bot backtest" in err

    english = off_config.with_name("en.toml")
    english.write_text(
        off_config.read_text().replace("[risk]", '[bot]\nlanguage = "en"\n\n[risk]')
    )
    args[2] = str(english)
    assert main([*args, "--trials", "2"]) == 2
    err = capsys.readouterr().err
    assert "1,078,720 candles are missing in 1 gap(s), the first after 2018-02-01T05:19:00Z" in err
    assert "--from 2020-02-20T08:00:00Z" in err
    assert "--fill-gaps" in err
    assert "upbit-bot backtest runs over gaps" in err


def test_no_valid_trial_exits_1(off_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(_args(off_config, "--space", "fast=100:120", "--space", "slow=30:60"))
    err = capsys.readouterr().err
    assert code == 1
    assert "has no valid trial" in err


def test_bundled_file_is_the_default_data() -> None:
    assert BUNDLED.is_file()


@pytest.mark.parametrize("plain", [False, True])
def test_backtest_settings_are_the_backtest_commands(tmp_path: Path, plain: bool) -> None:
    """A trial's backtest uses what `upbit-bot backtest` would, with and without --plain:
    the shared ``spec_fields`` sets every field of the spec but the strategy."""
    import argparse
    import dataclasses

    from bot import cli_backtest

    cfg = load_config(None, environ={}, dotenv=_empty_env(tmp_path))
    args = argparse.Namespace(plain=plain, strategy="ma_cross", param=[])
    spec = cli_backtest._spec(args, cfg, "1m")
    fields = cli_backtest.spec_fields(cfg, "1m", plain)
    names = {f.name for f in dataclasses.fields(spec)} - {"strategy", "trade_from"}
    assert set(fields) == names
    assert {name: getattr(spec, name) for name in names} == fields


def test_a_user_strategy_file_is_tuned_and_named_in_the_snippet(
    off_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.strategies.test_registry import USER_STRATEGY

    path = tmp_path / "mine.py"
    path.write_text(USER_STRATEGY, encoding="utf-8")
    code = main(
        _args(off_config, "--strategy", str(path), "--space", "threshold=0.05:0.5", "--json")
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["strategy"] == "up_down"
    (tmp_path / "best.toml").write_text(summary["toml"])
    cfg = load_config(tmp_path / "best.toml", environ={}, dotenv=_empty_env(tmp_path))
    assert cfg.strategy.file == str(path)
    strategy = build_strategy(cfg.strategy.name, cfg.strategy.file, cfg.strategy.params)
    assert 0.05 <= strategy.params.model_dump()["threshold"] <= 0.5


BROKEN_STRATEGY = """
from typing import ClassVar

from pydantic import Field

from trading.strategies import INTERFACE_VERSION, CandleFrame, Signals, Strategy, StrategyParams


class BrokenParams(StrategyParams):
    n: int = Field(5, ge=1, le=50, description="a number")


class Broken(Strategy[BrokenParams]):
    name: ClassVar[str] = "broken"
    version: ClassVar[int] = INTERFACE_VERSION
    Params: ClassVar[type[BrokenParams]] = BrokenParams

    def warmup(self) -> int:
        return 1

    def signals(self, frame: CandleFrame) -> Signals:
        raise ZeroDivisionError("no luck")
"""


def test_a_strategy_that_always_fails_stops_the_run_early(
    off_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.py"
    path.write_text(BROKEN_STRATEGY, encoding="utf-8")
    code = main(_args(off_config, "--strategy", str(path), "--trials", "50", "--study", "b"))
    err = capsys.readouterr().err
    assert code == 1
    assert (
        "10 trials in a row failed; the last: StrategyError: strategy 'broken': signals()" in err
    )
    assert "ZeroDivisionError: no luck" in err
    assert err.count("\n") == 1  # no per-trial tracebacks


def test_a_risk_setting_is_searched_and_applied(
    off_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "risk"
    extra = [
        "--space", "risk.atr_stop_mult=0.5..3", "--param", "risk.atr_period=10",
        "--space", "risk.slippage_mode=refuse,limit", "--space", "risk.take_profit_pct=1,2.5",
    ]  # fmt: skip
    code = main(_args(off_config, *extra, "--out", str(out)))
    text = capsys.readouterr().out
    assert code == 0
    assert "/set risk.atr_period 10" in text
    cfg = load_config(out / "best.toml", environ={}, dotenv=_empty_env(tmp_path))
    assert 0.5 <= cfg.risk.atr_stop_mult <= 3  # the [risk] table is a valid config
    assert cfg.risk.atr_period == 10
    assert cfg.risk.take_profit_pct in (1, Decimal("2.5"))  # a number list is a choice
    summary = json.loads((out / "result.json").read_text())
    assert set(summary["best_risk"]) == {
        "atr_stop_mult", "atr_period", "slippage_mode", "take_profit_pct",
    }  # fmt: skip
    # every /set risk. line is what chat's /set takes and prints back: short, unquoted, and
    # the very value the [risk] table holds
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("/set risk.")]
    assert len(lines) == 4, text
    for line in lines:
        _, key, value = line.split()
        name = key.removeprefix("risk.")
        changed = change(RiskSettings(), name, value)
        assert show(getattr(changed, name)) == value, line
        assert show(getattr(cfg.risk, name)) == value, line
    mult = next(line.split()[2] for line in lines if "atr_stop_mult" in line)
    assert len(mult.partition(".")[2]) <= 1, mult  # on the 0.1 grid, not 16 digits


def test_a_risk_range_outside_the_model_is_refused(
    off_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(_args(off_config, "--space", "risk.atr_stop_mult=1..25"))
    err = capsys.readouterr().err
    assert code == 2
    assert "risk.atr_stop_mult=1..25 is outside the setting's bounds 0..20" in err
