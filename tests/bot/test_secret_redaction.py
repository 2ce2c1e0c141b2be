"""No secret ever reaches the output: every one in ``SECRET_ENV``, in every form we can name.

The bot runs as a real process (paper mode on the fake Upbit's market data with the keys in
use, Telegram and Slack on their fakes, DEBUG, JSON lines), answers console commands, and
logs, on purpose, lines that carry each secret: plainly, inside an exception, URL-encoded,
base64-encoded, in a library's request line. Its stdout and stderr must not hold any secret,
nor its first or last 8 characters, nor its URL-encoded or base64 forms; every stderr line
must be a JSON object with ts, level, logger and msg.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import os
import signal
import sys
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import httpx
import pytest

from bot.config.root import SECRET_ENV
from bot.logs import MASK, Redactor, setup_logging
from tests.bot.test_run_e2e import ROOT, Bot
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upbit import FakeUpbit

CHAT, ADMIN, CHANNEL, SLACK_ADMIN = 100, 7, "C0100CHAN", "U07ADMIN"
#: One distinctive value per secret; the Upbit secret has characters URL-encoding changes.
SECRETS: dict[str, str] = {
    "UPBIT_ACCESS_KEY": "AkQ7rdxAccess0x9Z3fLr2Wq8Vn5Tb1Yc6Hd4Gq",
    "UPBIT_SECRET_KEY": "Sk9rdxSecret/Pq+Wx2=Ln7Rt4Vb8Mc1Zd5Ge3Jy",
    "TELEGRAM_BOT_TOKEN": "7412058963:AAFrdxTgToken-9xQ2mZ7vK4pL8wR3nB6yT",
    "SLACK_BOT_TOKEN": "xoxb-1111111111-2222222222-rdxSlackBot7Qz9Pw",
    "SLACK_APP_TOKEN": "xapp-1-A0123456-3333333333-rdxSlackApp4Kd8Mv",
    "SLACK_SIGNING_SECRET": "sgn8f3e2d1c0rdxSlackSigning7e6d5c4b3a2",
    "UPBIT_BOT_API_TOKEN": "apiTok-rdxBearerSecret-5Hj2Lq9Wx7Zr3Vm8",
    "UPBIT_BOT_COMMAND_TOKENS": "ops:operator:cmdTok-rdxCommandSecret-8Kx3Qm7Zp2Vn",
}
COMMAND_TOKEN = SECRETS["UPBIT_BOT_COMMAND_TOKENS"].rsplit(":", 1)[1]
DB_PASSWORD = "pgRdxPassw0rd-Kq83Zt"
JSON_KEYS = {"ts", "level", "logger", "msg"}

# Loaded by the bot process before `bot.cli.main`: once logging is set up, it logs each
# secret the ways a careless line, a library or a traceback would.
TRAPS = """
import base64, json, logging, os, sys
from urllib.parse import quote, quote_plus
import bot.logs

_setup = bot.logs.setup_logging
SECRETS = json.loads(os.environ["REDACTION_SECRETS"])

def setup(*args, **kwargs):
    _setup(*args, **kwargs)
    log = logging.getLogger("bot.trap")
    for name, value in SECRETS.items():
        log.info("deliberate: %s=%s", name, value)
        log.debug("url-encoded: %s and %s", quote(value, safe=""), quote_plus(value))
        payload = json.dumps({"note": "x" * len(name), "key": value}).encode()
        log.debug("base64: %s / %s", base64.b64encode(payload).decode(),
                  base64.urlsafe_b64encode(payload).decode())
        try:
            raise RuntimeError(f"request failed with {name}={value}")
        except RuntimeError:
            log.exception("an exception carries it")
    tg = SECRETS["TELEGRAM_BOT_TOKEN"]
    logging.getLogger("httpx").info(
        'HTTP Request: POST https://api.telegram.org/bot%s/getUpdates "HTTP/1.1 200 OK"', tg)
    logging.getLogger("httpx").info(
        'HTTP Request: GET https://slack.com/api/auth.test?token=%s "HTTP/1.1 200 OK"',
        quote(SECRETS["SLACK_BOT_TOKEN"], safe=""))
    logging.getLogger("bot.trap").warning(
        "headers: {'Authorization': 'Bearer %s'}", SECRETS["UPBIT_BOT_API_TOKEN"])
    logging.getLogger("bot.trap").error(
        "store unreachable: postgresql+asyncpg://bot:%s@db:5432/bot", os.environ["DB_PASSWORD"])

bot.logs.setup_logging = setup
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""


def forbidden_forms(secret: str) -> Iterator[str]:
    """What must not appear: the value, its ends, URL-encodings, base64 at every alignment."""
    yield secret
    body = secret.split(":", 1)[1] if secret[:1].isdigit() else secret  # Telegram: id:secret
    yield body[:8]
    yield body[-8:]
    yield quote(secret, safe="")
    yield quote_plus(secret)
    raw = secret.encode()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        core = encoded[4:-4]  # clear of the filler and of the padding
        yield core
        yield core.replace("+", "-").replace("/", "_")


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [
        f"{name} as {form!r}"
        for name, value in secrets.items()
        for form in forbidden_forms(value)
        if form in text
    ]


def json_lines(stderr: str) -> list[dict[str, object]]:
    entries = []
    for line in stderr.splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"stderr line is not JSON: {line!r}")
        assert isinstance(entry, dict), line
        assert entry.keys() >= JSON_KEYS, line
        entries.append(entry)
    return entries


# -- the redactor in-process ---------------------------------------------------------------


def test_forbidden_forms_are_found_by_the_checker_itself():
    """The check must be able to fail: each form of each secret in a text is reported."""
    for name, value in SECRETS.items():
        for form in forbidden_forms(value):
            assert leaks(f"x {form} y", {name: value}), (name, form)


@pytest.mark.parametrize("name", sorted(SECRET_ENV.values()))
def test_redactor_masks_every_form_of_every_secret(name):
    value = SECRETS[name]
    payload = json.dumps({"k": value, "pad": "ab"}).encode()
    text = " | ".join(
        [
            value,
            f"prefix{value}suffix",
            quote(value, safe=""),
            quote_plus(value),
            *(base64.b64encode(b"x" * n + payload).decode() for n in range(3)),
            *(base64.urlsafe_b64encode(b"x" * n + payload).decode() for n in range(3)),
        ]
    )
    assert leaks(text, {name: value})  # the text really carries it
    redacted = Redactor([value]).redact(text)
    assert leaks(redacted, {name: value}) == []
    assert MASK in redacted


def test_patterns_mask_what_the_config_does_not_list():
    redactor = Redactor([])
    text = (
        f"postgresql+asyncpg://bot:{DB_PASSWORD}@db:5432/bot "
        "GET /bot123456789:AAHx8f0Kq2LmZr7Tn4Vw9Yb3Pc6Sd1Ge5Jh/getMe "
        "xoxb-9999999999-8888888888-abcdefABCDEF xapp-1-A1-777-abcdefghijkl "
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"
    )
    out = redactor.redact(text)
    assert DB_PASSWORD not in out
    assert "postgresql+asyncpg://bot:***@db:5432/bot" in out
    assert "AAHx8f0Kq2" not in out
    assert "/bot123456789:***/getMe" in out
    assert "abcdefABCDEF" not in out
    assert "abcdefghijkl" not in out
    assert "eyJhbGci" not in out
    assert "Bearer ***" in out
    # ordinary lines stay as they were
    plain = "KRW-BTC: bought 0.001 at 95,000,000 (order ubot-12-1) http://127.0.0.1:8080/healthz"
    assert redactor.redact(plain) == plain


def test_patterns_mask_slacks_verification_token_and_response_url():
    """What slack_bolt and slack_sdk print at DEBUG: a slash command as JSON, as a dict, as a
    form body, and the response URL they post to (issue #12.4)."""
    hook = "https://hooks.slack.com/commands/T0123ABCD/6123456789012/AbCdEf1234567890GhIjKlMn"
    encoded = quote(hook, safe="")
    text = (
        f'{{"token": "VerifTok3nAbc123", "response_url": "{hook}", "team_id": "T1"}} '
        f"{{'token': 'VerifTok3nAbc123', 'response_url': '{hook}'}} "
        f"token=VerifTok3nAbc123&team_id=T1&response_url={encoded}&trigger_id=1 "
        f"Sending a request - url: {hook}, body: {{}} "
        f'"POST /response/7f0631a24f3244aa8c339404ea8743e8 HTTP/1.1" 200'
    )
    out = Redactor([]).redact(text)
    for secret in ("VerifTok3nAbc123", "AbCdEf1234567890GhIjKlMn", "7f0631a24f3244aa8c339"):
        assert secret not in out, out
    assert '"team_id": "T1"' in out  # the rest stays readable
    assert "hooks.slack.com/commands/T0123ABCD/6123456789012/***" in out


def _capture_logging(json_lines_on: bool, secrets: list[str]) -> io.StringIO:
    stream = io.StringIO()
    setup_logging("DEBUG", json_lines=json_lines_on, secrets=secrets)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    return stream


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, sys.excepthook
    noisy = ("httpx", "httpcore", "websockets", "aiosqlite", "alembic", "apscheduler")
    levels = {n: logging.getLogger(n).level for n in noisy}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    sys.excepthook = hook
    logging.captureWarnings(False)
    for n, lvl in levels.items():
        logging.getLogger(n).setLevel(lvl)


@pytest.mark.parametrize("json_on", [True, False], ids=["json", "plain"])
def test_tracebacks_and_arguments_are_redacted(restore_logging, json_on):
    value = SECRETS["UPBIT_SECRET_KEY"]
    stream = _capture_logging(json_on, [value])
    log = logging.getLogger("bot.test")
    log.info("key %s", value)
    try:
        raise ValueError(f"bad key {value!r}")
    except ValueError:
        log.exception("failed")
    log.debug("stack", stack_info=True)
    out = stream.getvalue()
    assert "bad key '***'" in out
    assert "ValueError" in out
    assert leaks(out, {"UPBIT_SECRET_KEY": value}) == []
    if json_on:
        entries = json_lines(out)
        assert [e["msg"] for e in entries] == ["key ***", "failed", "stack"]
        assert "Traceback" in str(entries[1]["exc"])
        assert "stack" in entries[2]


def test_uncaught_exception_goes_through_the_redacting_handler(restore_logging):
    value = SECRETS["SLACK_APP_TOKEN"]
    stream = _capture_logging(True, [value])
    try:
        raise RuntimeError(f"socket mode refused {value}")
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    (entry,) = json_lines(stream.getvalue())
    assert entry["level"] == "CRITICAL"
    assert entry["msg"] == "uncaught exception"
    assert "socket mode refused ***" in str(entry["exc"])


def test_httpx_request_lines_show_at_debug_only(restore_logging):
    _capture_logging(False, [])
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.INFO
    assert logging.getLogger("httpcore").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("apscheduler").getEffectiveLevel() == logging.WARNING
    setup_logging("INFO", json_lines=False)
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING


# -- the bot as a process --------------------------------------------------------------------


def _env(base_env: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    return {
        **base_env,
        **SECRETS,
        "REDACTION_SECRETS": json.dumps(SECRETS),
        "DB_PASSWORD": DB_PASSWORD,
        "UPBIT_BOT_BOT__LOG_LEVEL": "DEBUG",
        "UPBIT_BOT_BOT__LOG_JSON": "true",
        "UPBIT_BOT_BOT__LANGUAGE": "en",
        **extra,
    }


async def test_check_config_prints_no_secret(tmp_path, base_env):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        **_env(base_env, {}),
        "UPBIT_BOT_STORE__URL": f"postgresql+asyncpg://bot:{DB_PASSWORD}@127.0.0.1:1/bot",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check-config",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    text = out.decode() + err.decode()
    assert 'UPBIT_SECRET_KEY = "***"' in text  # it did print the secrets section
    assert "postgresql+asyncpg://bot:***@127.0.0.1:1/bot" in text
    assert leaks(text, {**SECRETS, "DB": DB_PASSWORD}) == []


async def _read_http(port: str) -> tuple[str, dict[str, set[int]]]:
    """Every HTTP page and API answer, with the right token, a wrong one and none: their
    bodies and headers are checked for secrets like the logs."""
    base = f"http://127.0.0.1:{port}"
    token = SECRETS["UPBIT_BOT_API_TOKEN"]
    texts: list[str] = []
    statuses: dict[str, set[int]] = {}
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        for path in ("/healthz", "/readyz", "/metrics", "/dashboard", "/api/v1/openapi.json"):
            reply = await http.get(path)
            texts += [reply.text, str(reply.headers)]
        for label, header in (
            ("good token", f"Bearer {token}"),
            ("wrong token", f"Bearer {token[:-1]}x"),
            ("no token", ""),
        ):
            for name in ("status", "positions", "orders", "trades", "pnl", "risk", "audit"):
                reply = await http.get(f"/api/v1/{name}", headers={"Authorization": header})
                statuses.setdefault(label, set()).add(reply.status_code)
                texts += [reply.text, str(reply.headers)]
        for label, header in (
            ("good token", f"Bearer {COMMAND_TOKEN}"),
            ("wrong token", f"Bearer {COMMAND_TOKEN[:-1]}x"),
            ("no token", ""),
        ):
            body = {"command": "/status"}
            reply = await http.post(
                "/api/v1/commands", json=body, headers={"Authorization": header}
            )
            statuses.setdefault(label, set()).add(reply.status_code)
            texts += [reply.text, str(reply.headers)]
    return "\n".join(texts), statuses


@pytest.mark.slow
async def test_running_bot_never_prints_a_secret(tmp_path, base_env):
    (tmp_path / "traps.py").write_text(TRAPS)
    async with (
        FakeUpbit(keys={SECRETS["UPBIT_ACCESS_KEY"]: SECRETS["UPBIT_SECRET_KEY"]}) as upbit,
        FakeTelegram(token=SECRETS["TELEGRAM_BOT_TOKEN"]) as tg,
        FakeSlack(
            bot_token=SECRETS["SLACK_BOT_TOKEN"],
            app_token=SECRETS["SLACK_APP_TOKEN"],
            signing_secret=SECRETS["SLACK_SIGNING_SECRET"],
        ) as slack,
    ):
        env = _env(
            base_env,
            {
                "UPBIT_BOT_BOT__MODE": "paper",
                "UPBIT_BOT_BOT__FEED": "upbit",
                "UPBIT_BOT_UPBIT__REST_URL": upbit.rest_url,
                "UPBIT_BOT_UPBIT__WS_URL": upbit.ws_url,
                "UPBIT_BOT_UPBIT__WS_PRIVATE_URL": upbit.ws_private_url,
                "UPBIT_BOT_TELEGRAM__ENABLED": "true",
                "UPBIT_BOT_TELEGRAM__BASE_URL": tg.base_url,
                "UPBIT_BOT_TELEGRAM__ALLOWED_CHAT_IDS": f"[{CHAT}]",
                "UPBIT_BOT_TELEGRAM__ADMIN_IDS": f"[{ADMIN}]",
                "UPBIT_BOT_SLACK__ENABLED": "true",
                "UPBIT_BOT_SLACK__API_URL": slack.api_url,
                "UPBIT_BOT_SLACK__ALLOWED_CHANNEL_IDS": f'["{CHANNEL}"]',
                "UPBIT_BOT_SLACK__ADMIN_IDS": f'["{SLACK_ADMIN}"]',
                "UPBIT_BOT_COMMAND_API__ENABLED": "true",
            },
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(tmp_path / "traps.py"),
            "run",
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        bot = Bot(proc)
        try:
            await bot.wait_for("Upbit keys accepted", within_s=30)  # the keys were used
            await bot.wait_for("chat-ops ready: telegram, slack, command_api", within_s=30)
            tg.user_sends(CHAT, ADMIN, "/status")
            await tg.wait_for(
                lambda c: c.method == "sendMessage" and "KRW-BTC" in (c.text or ""), timeout=15
            )
            await slack.wait_connected(timeout=10)
            await slack.slash_command(SLACK_ADMIN, CHANNEL, "health")
            await slack.wait_for(lambda: slack.responses, timeout=15)
            http_text, statuses = await _read_http(base_env["UPBIT_BOT_HTTP__PORT"])
            assert proc.stdin is not None
            proc.stdin.write(b"status\nhealth\nversion\nparams\nget store.url\nwhoami\n")
            await proc.stdin.drain()
            polled = f"{tg.base_url}***/getUpdates"  # PTB's own request line, token masked
            await bot.wait_for(polled, within_s=15)
            await asyncio.sleep(1.5)  # one more long poll and the console replies
            proc.send_signal(signal.SIGTERM)
            assert await bot.finish(within_s=30) == 0
            assert proc.stdout is not None
            stdout = (await proc.stdout.read()).decode()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    stderr = bot.output
    entries = json_lines(stderr)
    msgs = [str(e["msg"]) for e in entries]
    # the traps and the real traffic were logged, masked, not dropped
    assert sum("deliberate: " in m for m in msgs) == len(SECRETS)
    assert all(f"deliberate: {name}=***" in msgs for name in SECRETS)
    assert sum("request failed with" in str(e.get("exc", "")) for e in entries) == len(SECRETS)
    assert any(e["logger"] == "httpx" and polled in str(e["msg"]) for e in entries)
    assert "postgresql+asyncpg://bot:***@db:5432/bot" in stderr
    assert "stopped cleanly" in stderr
    assert "store.url" in stdout  # the console answered
    assert statuses == {"good token": {200}, "wrong token": {401}, "no token": {401}}
    assert leaks(http_text, SECRETS) == []
    assert leaks(stdout, SECRETS) == []
    assert COMMAND_TOKEN not in http_text + stdout + stderr
    assert leaks(stderr, {**SECRETS, "DB": DB_PASSWORD}) == []
