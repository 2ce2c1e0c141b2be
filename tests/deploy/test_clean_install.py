"""The entry point runs from a clean install: what the image's builder stage does, here.

The sources the Dockerfile copies (filtered by .dockerignore) are built into a wheel, which is
installed into a fresh venv with its runtime dependencies only (from the package index, as in
the image). The installed ``upbit-bot`` then answers ``--help``, ``check-config`` and starts
on the bundled replay (migrations and data found in the package) and stops cleanly, with no
access to the repository.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.bot.conftest import free_port
from tests.bot.test_run_e2e import Bot
from tests.deploy.conftest import ROOT
from tests.deploy.dockerfile import DockerIgnore, parse

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
PACKAGES = ("bot", "handlers", "trading")
DEV_ONLY = ("pytest", "mypy", "ruff", "hypothesis", "import-linter", "pre-commit")


def _context_copy(dest: Path) -> None:
    """Copy what the builder stage's COPY lines send, as the build context filters it."""
    ignore = DockerIgnore((ROOT / ".dockerignore").read_text())
    builder = parse((ROOT / "Dockerfile").read_text()).stages()[0]
    for ins in builder:
        if ins.keyword != "COPY":
            continue
        flags, args = ins.flags_and_args()
        assert "from" not in flags
        for source in args[:-1]:
            base = ROOT / source
            files = [base] if base.is_file() else [p for p in base.rglob("*") if p.is_file()]
            for path in files:
                rel = path.relative_to(ROOT).as_posix()
                if not ignore.excluded(rel):
                    (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, dest / rel)


def _clean_env(tmp: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("UPBIT_", "PYTHON", "VIRTUAL_ENV", "SLACK_", "TELEGRAM_"))
    }
    return {**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "MPLCONFIGDIR": str(tmp / "mpl")}


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 600):
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _repo_package_files() -> set[str]:
    files = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            rel = path.relative_to(ROOT).as_posix()
            if path.is_file() and "__pycache__" not in rel and not rel.endswith(".pyc"):
                files.add(rel)
    return files


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("clean-install")
    src, wheels, venv = tmp / "src", tmp / "wheels", tmp / "venv"
    _context_copy(src)
    env = _clean_env(tmp)
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheels), str(src)],
        tmp,
        env,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = wheels.glob("*.whl")
    made = _run([sys.executable, "-m", "venv", str(venv)], tmp, env)
    assert made.returncode == 0, made.stderr
    done = _run([str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)], tmp, env)
    assert done.returncode == 0, done.stdout + done.stderr
    return wheel, venv, env


def test_wheel_carries_every_package_file(installed):
    wheel, _venv, _env = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_repo_package_files() - names)
    assert missing == [], f"not in the wheel (pyproject package-data?): {missing}"
    for needed in (
        "bot/data/upbit_KRW-BTC_1m.csv",
        "trading/store/migrations/alembic.ini",
        "handlers/i18n/ko/commands.toml",
        "handlers/i18n/en/commands.toml",
    ):
        assert needed in names
    assert not any(n.startswith("tests/") for n in names)


def test_only_runtime_dependencies_are_installed(installed):
    _wheel, venv, env = installed
    listed = _run([str(venv / "bin" / "pip"), "list", "--format=freeze"], venv, env)
    names = {line.split("==")[0].lower().replace("_", "-") for line in listed.stdout.splitlines()}
    assert {"python-telegram-bot", "slack-bolt", "sqlalchemy", "prometheus-client"} <= names
    assert names.isdisjoint({n.replace("_", "-") for n in DEV_ONLY})


def test_installed_entry_point_answers(installed, tmp_path):
    _wheel, venv, env = installed
    exe = str(venv / "bin" / "upbit-bot")
    where = _run(
        [str(venv / "bin" / "python"), "-c", "import bot; print(bot.__file__)"], tmp_path, env
    )
    assert where.stdout.startswith(str(venv)), where.stdout  # not the repository's copy
    helped = _run([exe, "--help"], tmp_path, env, timeout=60)
    assert helped.returncode == 0
    assert "usage: upbit-bot" in helped.stdout
    checked = _run([exe, "check-config"], tmp_path, env, timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert "[bot]" in checked.stdout
    assert "built-in defaults" in checked.stderr
    bad = _run([exe, "check-config"], tmp_path, {**env, "UPBIT_BOT_BOT__MODE": "nope"}, 60)
    assert bad.returncode == 2
    assert "bot.mode" in bad.stderr
    assert "Traceback" not in bad.stderr


async def test_installed_bot_starts_on_the_bundled_replay(installed, tmp_path):
    _wheel, venv, env = installed
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        str(venv / "bin" / "upbit-bot"),
        "run",
        cwd=tmp_path,
        env={
            **env,
            "UPBIT_BOT_HTTP__PORT": str(port),
            "UPBIT_BOT_STORE__URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        },
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    bot = Bot(proc)
    try:
        await bot.wait_for("store ready at revision", within_s=60)  # migrations were packaged
        # the bundled candles were found and read (the whole replay is the embedded-default
        # e2e test's job; the wheel's content is checked file by file above)
        await bot.wait_for("replaying upbit_KRW-BTC_1m.csv (candles)", within_s=60)
        await bot.wait_for("running; type 'help'", within_s=60)
        proc.send_signal(signal.SIGTERM)
        assert await bot.finish() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert "stopped cleanly" in bot.output
