"""The Dockerfile without an engine: it parses, has what the image promises, sends only
existing, non-ignored files, and its HEALTHCHECK command really tells a live bot from a dead
or frozen one."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import sys
import tomllib

import pytest

from bot.config.root import SECRET_ENV
from tests.bot.conftest import free_port
from tests.bot.test_run_e2e import Bot
from tests.deploy.conftest import ROOT
from tests.deploy.dockerfile import DockerIgnore, Instruction, parse

DOCKERFILE = parse((ROOT / "Dockerfile").read_text())
IGNORE = DockerIgnore((ROOT / ".dockerignore").read_text())
#: Programs RUN may call: what python:3.11-slim ships (Debian's passwd, coreutils) and the venv.
SLIM_PROGRAMS = {"python", "pip", "/opt/venv/bin/pip", "/opt/venv/bin/python", "groupadd"}
SLIM_PROGRAMS |= {"useradd", "mkdir", "chown", "chmod", "rm"}


def _env(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in stage:
        if ins.keyword == "ENV":
            for word in shlex.split(ins.value):
                key, _, value = word.partition("=")
                env[key] = value
    return env


def _runtime() -> list[Instruction]:
    return DOCKERFILE.stages()[-1]


def test_parser_reads_continuations_and_refuses_nonsense():
    df = parse(
        '# syntax=docker/dockerfile:1\nFROM a AS b\nRUN x \\\n  # note\n  && y\nCMD ["r"]\n'
    )
    assert df.directives == {"syntax": "docker/dockerfile:1"}
    assert [(i.keyword, i.value) for i in df.instructions] == [
        ("FROM", "a AS b"),
        ("RUN", "x && y"),
        ("CMD", '["r"]'),
    ]
    with pytest.raises(ValueError, match="line 2: unknown instruction 'RUNN'"):
        parse("FROM a\nRUNN x\n")
    with pytest.raises(ValueError, match="starts with FROM"):
        parse("RUN x\n")
    with pytest.raises(ValueError, match="Expecting"):
        parse('FROM a\nCMD ["unterminated"\n')


def test_dockerignore_follows_dockers_rules():
    ignore = DockerIgnore("tests\n**/*.db\n/data\n*.egg-info\n!keep.db\n")
    assert ignore.excluded("tests/bot/test_cli.py")
    assert ignore.excluded("x/y/bot.db")
    assert ignore.excluded("bot.db")
    assert not ignore.excluded("keep.db")
    assert ignore.excluded("data/raw.csv")
    assert not ignore.excluded("bot/data/upbit_KRW-BTC_1m.csv")  # anchored at the root
    assert ignore.excluded("upbit_chatops_bot.egg-info/PKG-INFO")
    assert not ignore.excluded("bot/app.py")


def test_multi_stage_build_on_slim_python():
    froms = [i.value.split() for i in DOCKERFILE.all("FROM")]
    assert len(froms) >= 2
    assert all(f[0] == "python:3.11-slim" for f in froms)
    builder = froms[0][2]
    assert froms[0][1].upper() == "AS"
    copies = [i.flags_and_args()[0] for i in _runtime() if i.keyword == "COPY"]
    assert {"from": builder} in copies  # the runtime takes the build output, not the sources


def test_runtime_user_is_fixed_and_not_root():
    (user,) = [i.value for i in _runtime() if i.keyword == "USER"]
    uid = user.split(":")[0]
    assert uid.isdigit()
    assert int(uid) >= 1000
    assert re.search(rf"useradd .*--uid {uid}\b", " ".join(i.value for i in _runtime()))


def test_only_runtime_dependencies_are_installed():
    runs = " ".join(i.value for i in DOCKERFILE.all("RUN"))
    assert "[dev]" not in runs
    assert ".[" not in runs
    assert "pip install" in runs
    for ins in DOCKERFILE.all("RUN"):
        for command in re.split(r"&&|;|\|\|", ins.value):
            program = command.split()[0]
            assert program in SLIM_PROGRAMS, f"line {ins.line}: {program} is not in the image"


def test_volumes_ports_env_and_entry_point():
    runtime = _runtime()
    (volume,) = [i.exec_form for i in runtime if i.keyword == "VOLUME"]
    assert volume == ["/config", "/data"]
    assert [i.value for i in runtime if i.keyword == "EXPOSE"] == ["8080"]
    assert [i.value for i in runtime if i.keyword == "STOPSIGNAL"] == ["SIGTERM"]
    env = _env(runtime)
    assert env["UPBIT_BOT_CONFIG"] == "/config/config.toml"
    assert env["UPBIT_BOT_HTTP__HOST"] == "0.0.0.0"
    assert env["UPBIT_BOT_HTTP__PORT"] == "8080"
    assert env["UPBIT_BOT_STORE__URL"].startswith("sqlite+aiosqlite:////data/")
    (entry,) = [i.exec_form for i in runtime if i.keyword == "ENTRYPOINT"]
    (cmd,) = [i.exec_form for i in runtime if i.keyword == "CMD"]
    assert entry == ["upbit-bot"]
    assert cmd == ["run"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "upbit-bot" in scripts


def test_image_env_loads_as_a_valid_config(tmp_path):
    """The image's environment over its default config file is a config the bot accepts
    (with the API token a non-loopback address requires)."""
    from bot.config import ConfigError, load_config

    overrides = {k: v for k, v in _env(_runtime()).items() if k.startswith("UPBIT_BOT_")}
    overrides.pop("UPBIT_BOT_CONFIG")
    config, dotenv = ROOT / "config.example.toml", tmp_path / ".env"
    dotenv.write_text("")
    with pytest.raises(ConfigError, match="UPBIT_BOT_API_TOKEN"):
        load_config(config, environ=overrides, dotenv=dotenv)
    cfg = load_config(
        config, environ={**overrides, "UPBIT_BOT_API_TOKEN": "t" * 32}, dotenv=dotenv
    )
    assert cfg.http.host == "0.0.0.0"
    assert cfg.http.port == 8080
    assert cfg.store.url == "sqlite+aiosqlite:////data/upbit-bot.db"


def test_no_url_adds_and_no_secrets_in_the_image():
    assert all("://" not in i.value for i in DOCKERFILE.all("ADD"))
    secret_names = set(SECRET_ENV.values())
    for ins in DOCKERFILE.all("ENV") + DOCKERFILE.all("ARG"):
        for word in shlex.split(ins.value):
            name = word.partition("=")[0]
            assert name not in secret_names, f"line {ins.line}: {name} baked into the image"
            assert not re.search(r"(TOKEN|SECRET|PASSWORD|_KEY)$", name), ins.value
    assert not re.search(r"://[^/\s:@]+:[^@/\s]+@", (ROOT / "Dockerfile").read_text())


def test_every_copy_source_exists_and_reaches_the_context():
    copies = [i for i in DOCKERFILE.all("COPY") + DOCKERFILE.all("ADD")]
    assert copies
    for ins in copies:
        flags, args = ins.flags_and_args()
        if "from" in flags:
            continue  # from another stage
        sources = args[:-1]
        assert sources, f"line {ins.line}: COPY needs a source and a destination"
        for source in sources:
            assert (ROOT / source).exists(), f"line {ins.line}: {source} does not exist"
            assert not IGNORE.excluded(source), f"line {ins.line}: .dockerignore drops {source}"
            dropped = IGNORE.excluded_files(ROOT, source)
            assert dropped == [], f"line {ins.line}: .dockerignore drops {dropped[:5]}"


def test_context_leaves_out_secrets_data_and_caches():
    for path in (".env", ".venv/bin/python", ".git/HEAD", "data/ticks.parquet", "x/bot.db"):
        assert IGNORE.excluded(path), path
    for path in (".pytest_cache/v", "bot/__pycache__/app.cpython-311.pyc", "tests/conftest.py"):
        assert IGNORE.excluded(path), path
    readme = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["readme"]
    assert not IGNORE.excluded(readme)  # the build needs it


# -- the HEALTHCHECK command against a real bot ------------------------------------------------


def _healthcheck() -> tuple[dict[str, str], list[str]]:
    (ins,) = [i for i in _runtime() if i.keyword == "HEALTHCHECK"]
    flags, words = ins.flags_and_args()
    assert words[0] == "CMD"
    argv = Instruction(ins.line, "CMD", " ".join(words[1:])).exec_form
    assert argv is not None, "HEALTHCHECK must use the exec form (no shell, no curl)"
    return flags, argv


def test_healthcheck_uses_stdlib_python_within_its_timeout():
    flags, argv = _healthcheck()
    assert argv[0] == "python"
    assert "curl" not in " ".join(argv)
    assert "wget" not in " ".join(argv)
    timeout_s = float(flags["timeout"].removesuffix("s"))
    inner = float(re.search(r"timeout=(\d+(?:\.\d+)?)", argv[-1]).group(1))  # type: ignore[union-attr]
    assert inner < timeout_s  # the request gives up before Docker kills the check
    assert {"interval", "start-period", "retries"} <= flags.keys()


async def _run_check(argv: list[str], port: int) -> int:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,  # the image's "python": same stdlib
        *argv[1:],
        env={**os.environ, "UPBIT_BOT_HTTP__PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    async with asyncio.timeout(15):
        return await proc.wait()


@pytest.mark.slow
async def test_healthcheck_passes_on_a_live_bot_and_fails_on_a_frozen_or_dead_one(tmp_path):
    _flags, argv = _healthcheck()
    port = free_port()
    assert await _run_check(argv, port) != 0  # nothing listening
    env = {
        "UPBIT_BOT_HTTP__PORT": str(port),
        "UPBIT_BOT_STORE__URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "UPBIT_BOT_BOT__REPLAY_SPEED": "60x",
    }
    bot = await Bot.start(tmp_path, env)
    try:
        await bot.wait_for("health endpoints on", within_s=30)
        assert await _run_check(argv, port) == 0
        bot.proc.send_signal(signal.SIGSTOP)  # a frozen process: the port accepts, no answer
        try:
            assert await _run_check(argv, port) != 0
        finally:
            bot.proc.send_signal(signal.SIGCONT)
        assert await _run_check(argv, port) == 0
        bot.proc.send_signal(signal.SIGTERM)
        assert await bot.finish() == 0
    finally:
        if bot.proc.returncode is None:
            bot.proc.kill()
            await bot.proc.wait()
    assert await _run_check(argv, port) != 0
