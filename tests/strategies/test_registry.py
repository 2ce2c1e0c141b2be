"""The built-in registry and loading a user's strategy file."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import numpy as np
import pytest

from trading.strategies import (
    REGISTRY,
    CandleFrame,
    MaCross,
    MaCrossParams,
    Momentum,
    ParamError,
    Strategy,
    StrategyLoadError,
    UntrustedStrategyFile,
    VolatilityBreakout,
    build_strategy,
    get_strategy,
    load_strategy_file,
    safe_signals,
)
from trading.strategies.trust import untrusted_reason

USER_STRATEGY = '''
"""A user's strategy: enter above the previous close, exit below it."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from trading.strategies import INTERFACE_VERSION, CandleFrame, MaCross, Signals, Strategy
from trading.strategies import StrategyParams


class UpDownParams(StrategyParams):
    threshold: float = Field(0.0, ge=0.0, le=10.0, description="percent move that counts")


class UpDown(Strategy[UpDownParams]):
    name: ClassVar[str] = "up_down"
    version: ClassVar[int] = INTERFACE_VERSION
    Params: ClassVar[type[UpDownParams]] = UpDownParams

    def warmup(self) -> int:
        return 2

    def signals(self, frame: CandleFrame) -> Signals:
        change = np.zeros(len(frame))
        change[1:] = (frame.close[1:] / frame.close[:-1] - 1) * 100
        return Signals(change > self.params.threshold, change < -self.params.threshold)
'''

SECOND_CLASS = """

class UpDownToo(UpDown):
    name: ClassVar[str] = "up_down_too"
"""


def write(tmp_path: Path, text: str, name: str = "mine.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_registry_holds_the_built_ins() -> None:
    assert dict(REGISTRY) == {
        "ma_cross": MaCross,
        "momentum": Momentum,
        "volatility_breakout": VolatilityBreakout,
    }
    with pytest.raises(TypeError):
        REGISTRY["mine"] = MaCross  # type: ignore[index]


def test_get_strategy() -> None:
    assert get_strategy("momentum") is Momentum
    with pytest.raises(StrategyLoadError) as info:
        get_strategy("rsi")
    assert str(info.value) == (
        "unknown strategy 'rsi' (known: ma_cross, momentum, volatility_breakout)"
    )


def test_build_strategy_by_name_validates_params() -> None:
    strategy = build_strategy("ma_cross", "", {"fast": 5, "kind": "ema"})
    assert isinstance(strategy, MaCross)
    assert strategy.params == MaCrossParams(fast=5, slow=MaCrossParams().slow, kind="ema")
    with pytest.raises(ParamError, match="fast = 0"):
        build_strategy("ma_cross", "", {"fast": 0})


def test_load_a_user_strategy_file(tmp_path: Path) -> None:
    path = write(tmp_path, USER_STRATEGY)
    cls = load_strategy_file(path)
    assert issubclass(cls, Strategy)
    assert cls.name == "up_down"  # MaCross, imported into the file, does not count
    strategy = build_strategy("ignored", str(path), {"threshold": "0.5"})
    assert type(strategy).__name__ == "UpDown"
    c = np.array([100.0, 101.0, 100.0, 100.2])
    frame = CandleFrame(start=np.arange(4) * 60, open=c, high=c, low=c, close=c, volume=c)
    signals = safe_signals(strategy, frame)
    assert signals.entry.tolist() == [False, True, False, False]
    assert signals.exit.tolist() == [False, False, True, False]
    assert load_strategy_file(path) is not cls  # reloading gives the edited file


def test_file_wins_and_its_params_are_validated(tmp_path: Path) -> None:
    path = str(write(tmp_path, USER_STRATEGY))
    with pytest.raises(ParamError, match=r"threshold = 11: .* \(allowed 0..10\)"):
        build_strategy("ma_cross", path, {"threshold": 11})
    with pytest.raises(ParamError, match="fast: unknown parameter"):
        build_strategy("ma_cross", path, {"fast": 3})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (USER_STRATEGY + SECOND_CLASS, "found 2 (UpDown, UpDownToo)"),
        ("import math\n", "found 0 (none)"),
        ("def broken(:\n    pass\n", "failed to import: SyntaxError"),
        ("raise RuntimeError('no data dir')\n", "failed to import: RuntimeError: no data dir"),
        ("import not_a_module_here\n", "failed to import: ModuleNotFoundError"),
    ],
    ids=["two classes", "no class", "syntax error", "raises", "bad import"],
)
def test_bad_strategy_files(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(StrategyLoadError) as info:
        load_strategy_file(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_missing_or_non_python_file(tmp_path: Path) -> None:
    with pytest.raises(StrategyLoadError, match="no such strategy file"):
        load_strategy_file(tmp_path / "absent.py")
    with pytest.raises(StrategyLoadError, match=r"must be a \.py file"):
        load_strategy_file(write(tmp_path, "x = 1\n", "mine.txt"))
    with pytest.raises(StrategyLoadError, match=r"absent\.py: no such strategy file"):
        build_strategy("ma_cross", str(tmp_path / "absent.py"), {})


RAN = """
from pathlib import Path

Path(__file__).with_suffix(".ran").write_text("the file ran")
"""


def refused(path: Path) -> str:
    """The refusal's message; the file's code must not have run."""
    with pytest.raises(UntrustedStrategyFile) as caught:
        load_strategy_file(path)
    assert not path.with_suffix(".ran").exists(), "the refused file was executed"
    return str(caught.value)


def test_a_world_writable_strategy_file_is_refused_unrun(tmp_path: Path) -> None:
    path = write(tmp_path, USER_STRATEGY + RAN)
    path.chmod(0o646)
    assert "anyone may write to it (chmod o-w" in refused(path)
    path.chmod(0o644)
    assert load_strategy_file(path).name == "up_down"  # once fixed, it loads


def test_a_strategy_file_in_a_world_writable_folder_is_refused_unrun(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    path = write(shared, USER_STRATEGY + RAN)
    assert f"its folder {shared} is world-writable" in refused(path)
    # a safe-looking link in a private folder to a file in a shared one is refused too
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "mine.py").symlink_to(path)
    assert "world-writable" in refused(private / "mine.py")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_strategy_file_of_another_user_is_refused_unrun(tmp_path: Path) -> None:
    path = write(tmp_path, USER_STRATEGY + RAN)
    os.chown(path, 12345, -1)
    assert untrusted_reason(path, uid=12345) is None  # that user may load it
    assert "belongs to uid 12345, not to the bot's user (1000) or root" in str(
        untrusted_reason(path, uid=1000)
    )
    os.chown(path, 0, -1)
    assert untrusted_reason(path, uid=1000) is None  # root's files are accepted


def test_the_refusal_reaches_build_strategy_as_a_load_error(tmp_path: Path) -> None:
    path = write(tmp_path, USER_STRATEGY + RAN)
    path.chmod(0o666)
    with pytest.raises(StrategyLoadError, match="refused to run this strategy file"):
        build_strategy("ma_cross", str(path), {})


def test_write_bits_on_a_read_only_mount_do_not_count(tmp_path: Path) -> None:
    """A Kubernetes ConfigMap volume's folder is 0777 on a read-only mount."""
    shared = tmp_path / "configmap"
    shared.mkdir()
    shared.chmod(0o777)
    path = write(shared, USER_STRATEGY)
    path.chmod(0o666)
    assert untrusted_reason(path, read_only=lambda _p: True) is None
    assert "anyone may write" in str(untrusted_reason(path, read_only=lambda _p: False))
