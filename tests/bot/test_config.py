"""Config loading: exact error messages, precedence, secrets, and the example file."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

from bot.config import (
    AppConfig,
    ConfigError,
    HaltWindow,
    apply_overrides,
    load_config,
    redacted_dump,
    render_example,
    render_settings_doc,
)
from bot.config.risk import RiskConfig

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"UPBIT_ACCESS_KEY": "ak-123", "UPBIT_SECRET_KEY": "sk-456"}


def load(text: str, environ: dict[str, str] | None = None, **kw: Path) -> AppConfig:
    path = Path("config.toml")
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ=environ or {}, **kw)


def errors_of(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(text, environ)
    assert str(info.value) == "\n".join(info.value.errors)
    return list(info.value.errors)


#: every section, in the order the messages list them (the model's own order)
SECTIONS = ", ".join(name for name in AppConfig.model_fields if name != "secrets")
BOT_KEYS = (
    "mode, language, timezone, markets, log_level, log_json, identifier_prefix, feed,"
    " replay_file, replay_speed, cancel_orders_on_stop, universe_refresh_s"
)

BAD_FILES = [
    ("unknown key", '[bot]\nmodee = "live"\n', f"bot.modee: unknown key (allowed: {BOT_KEYS})"),
    (
        "unknown section",
        "[risks]\nx = 1\n",
        f"risks: unknown section (allowed: {SECTIONS})",
    ),
    ("wrong type", '[http]\nport = "abc"\n', 'http.port = "abc": must be an integer'),
    ("wrong bool", '[store]\necho = "maybe"\n', 'store.echo = "maybe": must be true or false'),
    (
        "out of range",
        "[risk]\nposition_size_krw = 1000\n",
        "risk.position_size_krw = 1000: must be >= 5000 (Upbit's minimum order total)",
    ),
    (
        "out of range float",
        "[upbit]\nrequest_timeout_s = 0\n",
        "upbit.request_timeout_s = 0: must be > 0",
    ),
    ("bad literal", '[bot]\nmode = "demo"\n', 'bot.mode = "demo": must be "paper" or "live"'),
    (
        "live without keys",
        '[bot]\nmode = "live"\nfeed = "upbit"\n',
        'bot.mode = "live": requires UPBIT_ACCESS_KEY and UPBIT_SECRET_KEY in the environment'
        " or .env",
    ),
    (
        "live on replay",
        '[bot]\nmode = "live"\n',
        'bot.mode = "live": requires UPBIT_ACCESS_KEY and UPBIT_SECRET_KEY in the environment'
        ' or .env\nbot.mode = "live": requires bot.feed = "upbit" (not "replay")',
    ),
    (
        "secret in TOML",
        '[upbit]\nsecret_key = "sk-leak"\n',
        "upbit.secret_key: secrets are never read from the config file; set the environment"
        " variable UPBIT_SECRET_KEY (or put it in .env)",
    ),
    (
        "telegram token in TOML",
        '[telegram]\nbot_token = "123:abc"\n',
        "telegram.bot_token: secrets are never read from the config file; set the environment"
        " variable TELEGRAM_BOT_TOKEN (or put it in .env)",
    ),
    (
        "bad URL",
        '[upbit]\nrest_url = "ftp://api.upbit.com"\n',
        'upbit.rest_url = "ftp://api.upbit.com": must be a URL starting with http:// or https://',
    ),
    (
        "bad ws URL",
        '[upbit]\nws_url = "https://api.upbit.com/websocket/v1"\n',
        'upbit.ws_url = "https://api.upbit.com/websocket/v1": must be a URL starting with ws://'
        " or wss://",
    ),
    (
        "bad market code",
        '[bot]\nmarkets = ["KRW-BTC", "krw-eth"]\n',
        'bot.markets[1] = "krw-eth": must be an Upbit market code like "KRW-BTC"',
    ),
    (
        "non-KRW market",
        '[bot]\nmarkets = ["BTC-ETH"]\n',
        'bot.markets[0] = "BTC-ETH": only KRW markets are supported (sizes and limits are in KRW)',
    ),
    ("no markets", "[bot]\nmarkets = []\n", "bot.markets = []: must list at least one market"),
    (
        "bad timeframe",
        '[strategy]\ntimeframe = "5x"\n',
        'strategy.timeframe = "5x": must be a timeframe like "1s", "5s", "1m", "15m", "1h", "4h"'
        ' or "1d"',
    ),
    (
        "uneven timeframe",
        '[strategy]\ntimeframe = "7m"\n',
        'strategy.timeframe = "7m": must divide one day evenly (e.g. 1m, 5m, 15m, 1h, 4h, 1d)',
    ),
    (
        "bad timezone",
        '[bot]\ntimezone = "Mars/Olympus"\n',
        'bot.timezone = "Mars/Olympus": must be an IANA time zone like "Asia/Seoul"',
    ),
    (
        "bad replay speed",
        '[bot]\nreplay_speed = "fast"\n',
        'bot.replay_speed = "fast": must be "max" or a positive speed like "1x" or "60x"',
    ),
    (
        "bad store url",
        '[store]\nurl = "postgresql://bot:hunter2@db/bot"\n',
        'store.url = "postgresql://bot:***@db/bot": must start with sqlite+aiosqlite://'
        " or postgresql+asyncpg://",
    ),
    (
        "bad daily time",
        '[report]\ndaily_time = "9am"\n',
        'report.daily_time = "9am": must be a time "HH:MM" (24-hour)',
    ),
    (
        "bad halt window",
        '[risk]\nhalt_windows = [{ name = "x", start = "10:00", end = "2025-01-01T00:00" }]\n',
        "risk.halt_windows[0]: start and end must both be HH:MM or both be date-times",
    ),
    (
        "bad halt day",
        '[risk]\nhalt_windows = [{ name = "x", start = "23:00", end = "01:00", days = ["fr"] }]\n',
        'risk.halt_windows[0].days[0] = "fr": must be "mon", "tue", "wed", "thu", "fri", "sat"'
        ' or "sun"',
    ),
    (
        "backoff order",
        "[upbit]\nbackoff_base_s = 9.5\n",
        "upbit.backoff_base_s = 9.5: must be <= upbit.backoff_max_s (5.0)",
    ),
    (
        "webhook without url",
        '[telegram]\nmode = "webhook"\n',
        'telegram.mode = "webhook": requires telegram.webhook_url',
    ),
    (
        "telegram without token",
        "[telegram]\nenabled = true\n",
        "telegram.enabled = true: requires TELEGRAM_BOT_TOKEN in the environment or .env",
    ),
    (
        "slack without tokens",
        "[slack]\nenabled = true\n",
        "slack.enabled = true: requires SLACK_BOT_TOKEN in the environment or .env\n"
        "slack.socket_mode = true: requires SLACK_APP_TOKEN in the environment or .env",
    ),
    (
        "open API without token",
        '[http]\nhost = "0.0.0.0"\n',
        'http.host = "0.0.0.0": a non-loopback address requires UPBIT_BOT_API_TOKEN in the'
        " environment or .env (the JSON API must not be open)",
    ),
    (
        "bad strategy param",
        "[strategy.params]\nfast = [1, 2]\n",
        "strategy.params.fast = [1, 2]: must be a number, true/false or a string",
    ),
    (
        "bad slack id",
        '[slack]\nadmin_ids = ["u123"]\n',
        'slack.admin_ids[0] = "u123": must be a Slack id like "U012AB3CD" or "C0123ABCD"',
    ),
    (
        "bad identifier prefix",
        '[bot]\nidentifier_prefix = "My_Bot"\n',
        'bot.identifier_prefix = "My_Bot": must use only a-z, 0-9 and "-"',
    ),
    (
        "bad slack command",
        '[slack]\ncommand = "upbit"\n',
        'slack.command = "upbit": must be a slash command like "/upbit"',
    ),
    (
        "malformed TOML",
        '[bot]\nmode = "paper"\nlanguage = \n',
        "config.toml: invalid TOML at line 3, column 12: Invalid value",
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_bad_file_message(text: str, expected: str) -> None:
    assert "\n".join(errors_of(text)) == expected


BAD_ENV = [
    (
        {"UPBIT_BOT_RISK__POSITION_SIZE_KRW": "1000"},
        'risk.position_size_krw = "1000" (from UPBIT_BOT_RISK__POSITION_SIZE_KRW): must be >= 5000'
        " (Upbit's minimum order total)",
    ),
    (
        {"UPBIT_BOT_HTTP__PORT": "abc"},
        'http.port = "abc" (from UPBIT_BOT_HTTP__PORT): must be an integer',
    ),
    (
        {"UPBIT_BOT_HTTP__PORTT": "1"},
        "http.portt (from UPBIT_BOT_HTTP__PORTT): unknown key (allowed: enabled, host, port,"
        " loop_stale_s, feed_stale_candles, store_timeout_s, exchange_down_s, metrics_auth,"
        " header_timeout_s, body_timeout_s, keepalive_timeout_s, max_connections,"
        " max_body_bytes, max_header_bytes)",
    ),
    (
        {"UPBIT_BOT_RISKS__X": "1"},
        f"risks (from UPBIT_BOT_RISKS__X): unknown section (allowed: {SECTIONS})",
    ),
    (
        {"UPBIT_BOT_RISK": "1"},
        "UPBIT_BOT_RISK: not a config override; use UPBIT_BOT_<SECTION>__<KEY>"
        " (e.g. UPBIT_BOT_RISK__POSITION_SIZE_KRW)",
    ),
    (
        {"UPBIT_BOT_BOT__MARKETS": '["KRW-BTC",'},
        "bot.markets = '[\"KRW-BTC\",' (from UPBIT_BOT_BOT__MARKETS): must be a JSON list"
        " (invalid JSON at column 12)",
    ),
    (
        {"UPBIT_BOT_BOT__MARKETS": '["KRW-BTC","eth"]'},
        'bot.markets[1] = "eth" (from UPBIT_BOT_BOT__MARKETS): must be an Upbit market code like'
        ' "KRW-BTC"',
    ),
    (
        {"UPBIT_BOT_UPBIT__SECRET_KEY": "sk-leak"},
        "UPBIT_BOT_UPBIT__SECRET_KEY: secrets are read under their own names; set UPBIT_SECRET_KEY"
        " instead",
    ),
]


@pytest.mark.parametrize(("environ", "expected"), BAD_ENV, ids=[next(iter(e)) for e, _ in BAD_ENV])
def test_bad_env_override_message(environ: dict[str, str], expected: str) -> None:
    assert "\n".join(errors_of("", environ)) == expected


def test_all_errors_are_collected_one_per_line() -> None:
    lines = errors_of(
        '[bot]\nmodee = 1\n[http]\nport = 0\n[upbit]\naccess_key = "x"\n',
        {"UPBIT_BOT_RISK__ATR_PERIOD": "0"},
    )
    assert lines == [
        "upbit.access_key: secrets are never read from the config file; set the environment"
        " variable UPBIT_ACCESS_KEY (or put it in .env)",
        f"bot.modee: unknown key (allowed: {BOT_KEYS})",
        'risk.atr_period = "0" (from UPBIT_BOT_RISK__ATR_PERIOD): must be >= 1',
        "http.port = 0: must be >= 1",
    ]


def test_no_secret_value_in_any_error() -> None:
    text = '[upbit]\nsecret_key = "sk-leak"\n[secrets]\nupbit_access_key = "ak-leak"\n'
    environ = {"UPBIT_BOT_SLACK__APP_TOKEN": "xapp-leak"}
    message = "\n".join(errors_of(text, environ))
    assert "leak" not in message
    assert message.count("secrets are") == 3


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match=r"^nope\.toml: config file not found$"):
        load_config(Path("nope.toml"), environ={})


def test_missing_explicit_dotenv() -> None:
    with pytest.raises(ConfigError, match=r"^missing\.env: \.env file not found$"):
        load_config(None, environ={}, dotenv=Path("missing.env"))


def test_defaults_without_file() -> None:
    cfg = load_config(None, environ={})
    assert cfg == AppConfig()
    assert cfg.bot.mode == "paper"
    assert cfg.bot.feed == "replay"
    assert cfg.upbit.rest_url == "https://api.upbit.com"
    assert cfg.upbit.ws_private_url == "wss://api.upbit.com/websocket/v1/private"
    assert cfg.telegram.base_url == "https://api.telegram.org/bot"
    assert cfg.slack.api_url == "https://slack.com/api/"
    assert cfg.risk.position_size_krw == Decimal(100000)
    assert cfg.report.daily_time == time(9, 0)
    assert cfg.bot.tz == ZoneInfo("Asia/Seoul")
    assert cfg.strategy.timeframe_seconds == 60
    assert cfg.bot.replay_factor is None


def test_env_overrides_toml_and_dotenv_overrides_toml() -> None:
    Path(".env").write_text(
        "# local settings\nexport UPBIT_BOT_HTTP__PORT=9000\n"
        "UPBIT_BOT_RISK__POSITION_SIZE_KRW='60000'\nUPBIT_SECRET_KEY=\"sk-dot\"  \n",
        encoding="utf-8",
    )
    text = "[http]\nport = 8000\n[risk]\nposition_size_krw = 70000\nmax_open_positions = 2\n"
    cfg = load(text, {"UPBIT_BOT_RISK__POSITION_SIZE_KRW": "50000", "UPBIT_SECRET_KEY": "sk-env"})
    assert cfg.risk.position_size_krw == Decimal(50000)  # env > .env > TOML
    assert cfg.http.port == 9000  # .env > TOML
    assert cfg.risk.max_open_positions == 2  # TOML > default
    assert cfg.risk.atr_period == 14  # default
    assert cfg.secrets.upbit_secret_key is not None
    assert cfg.secrets.upbit_secret_key.get_secret_value() == "sk-env"


def test_dotenv_path_and_origin_in_messages(tmp_path: Path) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text("UPBIT_BOT_HTTP__PORT=99999\nUPBIT_ACCESS_KEY=ak\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(None, environ={}, dotenv=env_file)
    assert str(info.value) == (
        f'http.port = "99999" (from UPBIT_BOT_HTTP__PORT in {env_file}): must be <= 65535'
    )


def test_dotenv_malformed_line_is_reported_without_its_content() -> None:
    Path(".env").write_text("UPBIT_SECRET_KEY sk-oops\nOK=1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(None, environ={})
    assert str(info.value) == ".env: line 1: expected NAME=value"


def test_env_lists_and_params() -> None:
    cfg = load(
        "[strategy.params]\nfast = 5\nslow = 20\n",
        {
            "UPBIT_BOT_BOT__MARKETS": '["KRW-BTC","KRW-ETH"]',
            "UPBIT_BOT_TELEGRAM__ADMIN_IDS": "11, 22",
            "UPBIT_BOT_STRATEGY__PARAMS__SLOW": "30",
            "UPBIT_BOT_STRATEGY__PARAMS__SIGNAL": "ema",
            "UPBIT_BOT_BOT__LOG_JSON": "true",
        },
    )
    assert cfg.bot.markets == ("KRW-BTC", "KRW-ETH")
    assert cfg.telegram.admin_ids == (11, 22)
    assert cfg.strategy.params == {"fast": 5, "slow": 30, "signal": "ema"}
    assert cfg.bot.log_json is True


def test_live_mode_with_keys() -> None:
    cfg = load('[bot]\nmode = "live"\nfeed = "upbit"\n', KEYS)
    assert cfg.bot.mode == "live"
    assert cfg.secrets.upbit_access_key is not None
    assert cfg.secrets.upbit_access_key.get_secret_value() == "ak-123"


def test_blank_secret_counts_as_unset() -> None:
    cfg = load_config(None, environ={"UPBIT_ACCESS_KEY": "  ", "UPBIT_SECRET_KEY": "sk\n"})
    assert cfg.secrets.upbit_access_key is None
    assert cfg.secrets.upbit_secret_key is not None
    assert cfg.secrets.upbit_secret_key.get_secret_value() == "sk"


def test_money_is_decimal_never_float() -> None:
    cfg = load("[risk]\nposition_size_krw = 5000.1\ntake_profit_pct = 0.1\n")
    assert cfg.risk.position_size_krw == Decimal("5000.1")
    assert cfg.risk.take_profit_pct == Decimal("0.1")


def test_urls_are_normalized() -> None:
    cfg = load(
        '[upbit]\nrest_url = "http://127.0.0.1:9001/"\n[slack]\napi_url = "http://127.0.0.1:9002/api"\n'
    )
    assert cfg.upbit.rest_url == "http://127.0.0.1:9001"
    assert cfg.slack.api_url == "http://127.0.0.1:9002/api/"


def test_halt_windows() -> None:
    cfg = load(
        "[[risk.halt_windows]]\n"
        'name = "night"\nstart = "23:00"\nend = "01:00"\ndays = ["Fri"]\n'
        "[[risk.halt_windows]]\n"
        'name = "fomc"\nstart = 2025-06-19T02:30:00\nend = "2025-06-19T04:00"\n'
    )
    night, fomc = cfg.risk.halt_windows
    seoul = cfg.bot.tz
    assert night.recurring
    assert not fomc.recurring
    friday_late = datetime(2025, 6, 20, 23, 30, tzinfo=seoul)
    saturday_early = datetime(2025, 6, 21, 0, 30, tzinfo=seoul)
    saturday_late = datetime(2025, 6, 21, 23, 30, tzinfo=seoul)
    assert night.active_at(friday_late, seoul)
    assert night.active_at(saturday_early, seoul)  # the Friday window wraps midnight
    assert not night.active_at(saturday_late, seoul)
    assert fomc.active_at(datetime(2025, 6, 18, 18, 0, tzinfo=UTC), seoul)  # 03:00 in Seoul
    assert not fomc.active_at(datetime(2025, 6, 19, 4, 0, tzinfo=seoul), seoul)


def test_halt_window_names_unique() -> None:
    window = '{ name = "x", start = "01:00", end = "02:00" }'
    assert errors_of(f"[risk]\nhalt_windows = [{window}, {window}]\n") == [
        "risk.halt_windows: names must be unique ('x')"
    ]


def test_models_are_frozen() -> None:
    cfg = AppConfig()
    with pytest.raises(ValueError, match="frozen"):
        cfg.bot.mode = "live"  # type: ignore[misc]
    assert HaltWindow.model_config.get("frozen") is True


def test_apply_overrides_validates_like_a_file() -> None:
    cfg = load_config(None, environ=KEYS)
    new = apply_overrides(
        cfg, {"risk.position_size_krw": "20000", "bot.markets": "KRW-BTC,KRW-XRP"}
    )
    assert new.risk.position_size_krw == Decimal(20000)
    assert new.bot.markets == ("KRW-BTC", "KRW-XRP")
    assert new.secrets == cfg.secrets
    assert cfg.risk.position_size_krw == Decimal(100000)
    with pytest.raises(ConfigError) as info:
        apply_overrides(cfg, {"risk.position_size_krw": 10, "risk.nope": 1})
    assert info.value.errors == (
        f"risk.nope: unknown key (allowed: {', '.join(RiskConfig.model_fields)})",
        "risk.position_size_krw = 10: must be >= 5000 (Upbit's minimum order total)",
    )


# --- redaction -------------------------------------------------------------------------------

SECRET_VALUES = {
    "UPBIT_ACCESS_KEY": "ak-hush-1",
    "UPBIT_SECRET_KEY": "sk-hush-2",
    "TELEGRAM_BOT_TOKEN": "123:hush-3",
    "SLACK_BOT_TOKEN": "xoxb-hush-4",
    "SLACK_APP_TOKEN": "xapp-hush-5",
}


def test_redacted_dump_hides_secrets() -> None:
    cfg = load_config(None, environ=SECRET_VALUES)
    dump = redacted_dump(cfg)
    assert "hush" not in dump
    assert 'UPBIT_ACCESS_KEY = "***"' in dump
    assert 'SLACK_SIGNING_SECRET = "(not set)"' in dump
    assert 'UPBIT_BOT_API_TOKEN = "(not set)"' in dump
    assert "hush" not in repr(cfg)
    assert "hush" not in str(cfg.model_dump())


def test_redacted_dump_masks_database_password_and_round_trips() -> None:
    cfg = load(
        '[store]\nurl = "postgresql+asyncpg://bot:hunter2@db:5432/bot"\n'
        '[[risk.halt_windows]]\nname = "m"\nstart = "03:50"\nend = "04:10"\n'
        "[strategy.params]\nfast = 5\nratio = 0.5\nuse_ema = true\n"
    )
    dump = redacted_dump(cfg)
    assert "hunter2" not in dump
    assert 'url = "postgresql+asyncpg://bot:***@db:5432/bot"' in dump
    data = tomllib.loads(dump)
    del data["secrets"]
    data["store"]["url"] = cfg.store.url
    assert AppConfig.model_validate(data) == cfg


# --- config.example.toml cannot drift ----------------------------------------------------------


def test_settings_doc_is_generated_from_the_models() -> None:
    assert (ROOT / "docs" / "settings.md").read_text(encoding="utf-8") == render_settings_doc()


def test_example_file_equals_defaults() -> None:
    path = ROOT / "config.example.toml"
    assert load_config(path, environ={}) == AppConfig()


def test_example_file_documents_every_key() -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    sections = {name for name in AppConfig.model_fields if name != "secrets"}
    assert set(data) == sections
    for name in sections:
        model = AppConfig.model_fields[name].annotation
        assert isinstance(model, type)
        assert issubclass(model, BaseModel)
        unset = [k for k, f in model.model_fields.items() if f.default is None]
        assert list(data[name]) == [k for k in model.model_fields if k not in unset], name
        for key in unset:  # TOML has no null: an unset optional key is a comment
            assert f"# {key} =  (not set)" in text
    for env_name in ("UPBIT_ACCESS_KEY", "SLACK_SIGNING_SECRET", "UPBIT_BOT_API_TOKEN"):
        assert f"# secret: {env_name}" in text
    for field in HaltWindow.model_fields:
        assert f"{field} = " in text


def test_example_file_is_generated_from_the_models() -> None:
    assert (ROOT / "config.example.toml").read_text(encoding="utf-8") == render_example()


# --- upbit.order_rate_per_s follows Upbit's documented limit -----------------------------------


def test_order_rate_defaults_to_upbits_12_per_second_and_can_only_go_down() -> None:
    from bot.upbit_factory import rest_client

    default = AppConfig()
    assert default.upbit.order_rate_per_s == 12
    assert rest_client(default, lambda _e: None).limiter.group("order").capacity == 12
    slower = load("[upbit]\norder_rate_per_s = 5\n")
    assert rest_client(slower, lambda _e: None).limiter.group("order").capacity == 5
    assert errors_of("[upbit]\norder_rate_per_s = 13\n") == [
        "upbit.order_rate_per_s = 13: must be <= 12 (Upbit's order rate limit)"
    ]


# --- [retention]: each floor is what the bot itself reads back ---------------------------------


def test_retention_floors_are_what_reports_and_research_read() -> None:
    from bot.config.sections import RETENTION_FLOORS
    from bot.report import SPANS
    from trading.engine.research import MAX_DAYS
    from trading.marketdata.candles import DEFAULT_HISTORY
    from trading.store.retention import CANDLES_FLOOR

    assert RETENTION_FLOORS["equity_snapshots"][0] == SPANS["month"].days
    assert RETENTION_FLOORS["candles"][0] == MAX_DAYS
    assert CANDLES_FLOOR == DEFAULT_HISTORY


def test_retention_below_its_floor_is_refused_with_the_reason() -> None:
    with pytest.raises(ConfigError) as caught:
        load("[retention]\ncandles_days = 30\n")
    assert "retention.candles_days" in str(caught.value)
    assert "90 days of candles" in str(caught.value)
