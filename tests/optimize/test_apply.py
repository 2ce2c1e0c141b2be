"""The best parameters as a config snippet the loader accepts, and as valid /set steps."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config
from trading.optimize import set_commands, toml_snippet
from trading.strategies import REGISTRY, build_strategy, with_params
from trading.strategies.ma_cross import MaCross


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("ma_cross", {"fast": 17, "slow": 233, "kind": "ema"}),
        ("momentum", {"lookback": 12, "entry_pct": 0.1 + 0.2, "exit_pct": -1.25e-05}),
        (
            "volatility_breakout",
            {"k": 0.35, "trigger": "high", "hold_bars": 3, "exit_below_open": False, "ma_bars": 0},
        ),
    ],
)
def test_snippet_loads_through_the_config_loader(
    tmp_path: Path, name: str, params: dict[str, object]
) -> None:
    path = tmp_path / "best.toml"
    path.write_text(toml_snippet(name, "5m", params, ("a comment", 'with "quotes"')))
    (tmp_path / "empty.env").write_text("")
    cfg = load_config(path, environ={}, dotenv=tmp_path / "empty.env")
    assert cfg.strategy.name == name
    assert cfg.strategy.timeframe == "5m"
    assert dict(cfg.strategy.params) == params  # floats round-trip exactly
    strategy = build_strategy(cfg.strategy.name, cfg.strategy.file, cfg.strategy.params)
    assert strategy.params.model_dump() == params


def _apply(start: dict[str, object], commands: list[str]) -> dict[str, object]:
    """What the facade's /set does, one command at a time (each step validated)."""
    strategy = MaCross(MaCross.Params(**start))
    for command in commands:
        _, key, value = command.split(" ")
        strategy = with_params(strategy, **{key.removeprefix("strategy."): value})
    return strategy.params.model_dump()


@pytest.mark.parametrize(
    ("start", "best"),
    [
        ({"fast": 10, "slow": 30}, {"fast": 50, "slow": 120, "kind": "sma"}),  # raise slow first
        ({"fast": 50, "slow": 120}, {"fast": 5, "slow": 20, "kind": "ema"}),  # lower fast first
        ({"fast": 10, "slow": 30}, {"fast": 10, "slow": 30, "kind": "sma"}),  # nothing to do
    ],
)
def test_set_commands_keep_every_step_valid(
    start: dict[str, object], best: dict[str, object]
) -> None:
    commands, ordered = set_commands(MaCross, best, start)
    assert ordered
    assert _apply(start, commands) == best
    assert all(c.startswith("/set strategy.") for c in commands)


def test_set_commands_start_from_defaults_and_format_values() -> None:
    momentum = REGISTRY["momentum"]
    commands, ordered = set_commands(momentum, {"lookback": 20, "entry_pct": 2.5, "exit_pct": 1.5})
    assert ordered
    assert commands == ["/set strategy.entry_pct 2.5", "/set strategy.exit_pct 1.5"]
    breakout = REGISTRY["volatility_breakout"]
    commands, _ = set_commands(
        breakout, {**breakout.Params().model_dump(), "exit_below_open": False}
    )
    assert commands == ["/set strategy.exit_below_open false"]
