"""The CLI: exit codes, where the config comes from, and that secrets never reach the output."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import AppConfig

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "UPBIT_ACCESS_KEY": "ak-hush-1",
    "UPBIT_SECRET_KEY": "sk-hush-2",
    "TELEGRAM_BOT_TOKEN": "123:hush-3",
    "SLACK_BOT_TOKEN": "xoxb-hush-4",
    "SLACK_APP_TOKEN": "xapp-hush-5",
    "SLACK_SIGNING_SECRET": "hush-6",
    "UPBIT_BOT_API_TOKEN": "hush-7",
}
LIVE = (
    '[bot]\nmode = "live"\nfeed = "upbit"\n[telegram]\nenabled = true\n[slack]\nenabled = true\n'
)


def test_check_config_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config"]) == 0
    out, err = capsys.readouterr()
    assert "using built-in defaults" in err
    assert tomllib.loads(out)["bot"]["mode"] == "paper"


def test_check_config_picks_up_cwd_config_toml(capsys: pytest.CaptureFixture[str]) -> None:
    Path("config.toml").write_text("[http]\nport = 9999\n", encoding="utf-8")
    assert main(["check-config"]) == 0
    out, err = capsys.readouterr()
    assert "using config file config.toml" in err
    assert "port = 9999" in out


@pytest.mark.parametrize("where", ["global", "command"])
def test_config_option_before_or_after_command(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "other.toml"
    path.write_text('[bot]\nlanguage = "en"\n', encoding="utf-8")
    argv = ["--config", str(path), "check-config"]
    if where == "command":
        argv = ["check-config", "--config", str(path)]
    assert main(argv) == 0
    assert 'language = "en"' in capsys.readouterr().out


def test_check_config_redacts_every_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    Path("config.toml").write_text(LIVE, encoding="utf-8")
    assert main(["check-config"]) == 0
    out, err = capsys.readouterr()
    assert "hush" not in out + err
    assert out.count('= "***"') == len(SECRETS)


def test_bad_config_exits_2_with_message_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    Path("config.toml").write_text("[risk]\nposition_size_krw = 1000\n", encoding="utf-8")
    assert main(["check-config"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "upbit-bot: invalid configuration:\n"
        "risk.position_size_krw = 1000: must be >= 5000 (Upbit's minimum order total)\n"
    )


def test_missing_explicit_config_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--config", "absent.toml"]) == 2
    assert "absent.toml: config file not found" in capsys.readouterr().err


def test_env_file_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env_file = tmp_path / "bot.env"
    env_file.write_text("UPBIT_BOT_HTTP__PORT=7070\nUPBIT_ACCESS_KEY=ak-hush\n", encoding="utf-8")
    assert main(["check-config", "--env-file", str(env_file)]) == 0
    out = capsys.readouterr().out
    assert "port = 7070" in out
    assert 'UPBIT_ACCESS_KEY = "***"' in out
    assert "hush" not in out


def test_usage_errors_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["db"]) == 2
    assert main(["--help"]) == 0
    assert "check-config" in capsys.readouterr().out


def _fake_module(monkeypatch: pytest.MonkeyPatch, name: str, **attrs: object) -> None:
    module = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(module, key, value)
    parent, _, child = name.rpartition(".")
    package = importlib.import_module(parent)  # first: its __init__ may import the real one
    monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(package, child, module, raising=False)


def test_db_upgrade_prints_revision(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[str] = []

    async def upgrade(url: str, revision: str = "head") -> str:
        seen.append(url)
        return "0001_initial"

    _fake_module(monkeypatch, "trading.store.migrate", upgrade=upgrade)
    Path("config.toml").write_text('[store]\nurl = "sqlite+aiosqlite:///x.db"\n', encoding="utf-8")
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == "0001_initial\n"
    assert seen == ["sqlite+aiosqlite:///x.db"]


def test_run_returns_the_app_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    got: list[AppConfig] = []

    async def run(config: AppConfig) -> int:
        got.append(config)
        return 3

    _fake_module(monkeypatch, "bot.app", run=run)
    assert main(["run"]) == 3
    assert got == [AppConfig()]


def test_run_keyboard_interrupt_exits_130_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def run(config: AppConfig) -> int:
        raise KeyboardInterrupt

    _fake_module(monkeypatch, "bot.app", run=run)
    assert main(["run"]) == 130
    assert capsys.readouterr() == ("", "")


def test_run_with_bad_config_does_not_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def run(config: AppConfig) -> int:
        raise AssertionError("must not start")

    _fake_module(monkeypatch, "bot.app", run=run)
    Path("config.toml").write_text('[bot]\nmode = "live"\nfeed = "upbit"\n', encoding="utf-8")
    assert main(["run"]) == 2
    assert "requires UPBIT_ACCESS_KEY and UPBIT_SECRET_KEY" in capsys.readouterr().err


def test_python_m_bot_check_config_subprocess(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UPBIT_", "SLACK_", "TELE"))}
    env |= SECRETS | {"PYTHONPATH": str(ROOT)}
    (tmp_path / "config.toml").write_text(LIVE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "check-config"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "hush" not in done.stdout + done.stderr
    assert tomllib.loads(done.stdout)["bot"]["mode"] == "live"
    bad = subprocess.run(
        [sys.executable, "-m", "bot", "check-config", "--config", "nope.toml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert "nope.toml: config file not found" in bad.stderr


def test_check_config_judges_the_stored_live_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue #10.3: a /set value kept in the store was re-applied on start where check-config
    never saw it; now it lists each one as the next start will treat it."""
    import asyncio

    from trading.engine.facade import PARAMS_KEY
    from trading.store import Store, create_engine, session_factory, upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"

    async def store_overrides() -> None:
        await upgrade(url)
        engine = create_engine(url)
        await Store(session_factory(engine)).set_state(
            PARAMS_KEY, {"strategy.slow": "40", "risk.max_slippage_bps": "1000000"}
        )
        await engine.dispose()

    asyncio.run(store_overrides())
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\nurl = "{url}"\n', encoding="utf-8")
    assert main(["check-config", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    tomllib.loads(out)  # still TOML: the report is comments
    assert "#   strategy.slow = 40" in out
    assert "#   risk.max_slippage_bps = 1000000: REFUSED at start" in out
    assert "must be a whole number from 0 to 1,000); 50 applies" in out


def test_check_config_without_a_store_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config"]) == 0
    assert "#   (no store yet)" in capsys.readouterr().out


STRATEGY_FILE = """
from pathlib import Path

Path(__file__).with_suffix(".ran").write_text("the file ran")
"""


def strategy_config(tmp_path: Path, mode: int) -> Path:
    code = tmp_path / "mine.py"
    code.write_text(STRATEGY_FILE, encoding="utf-8")
    code.chmod(mode)
    Path("config.toml").write_text(f'[strategy]\nfile = "{code}"\n', encoding="utf-8")
    return code


def test_check_config_warns_what_a_strategy_file_can_reach(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = strategy_config(tmp_path, 0o644)
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert "strategy.file runs as Python inside the bot, with every secret" in out
    assert tomllib.loads(out)["strategy"]["file"] == str(code)  # still valid TOML


@pytest.mark.parametrize("command", ["check-config", "run"])
def test_a_world_writable_strategy_file_stops_the_cli_before_it_runs(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = strategy_config(tmp_path, 0o666)
    assert main([command]) == 2
    err = capsys.readouterr().err
    assert f"upbit-bot: strategy.file {code} refused: anyone may write to it" in err
    assert not code.with_suffix(".ran").exists()
