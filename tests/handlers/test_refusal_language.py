"""Issue #14.2, as a user meets it: whatever refuses a command (the exchange, the order path,
the engine, a model's validation) is answered from the catalogs in the asker's language, with
the venue's own error name as a value and never an English sentence from an exception."""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from handlers.fmt import catalog
from handlers.i18n import LANGUAGES
from tests.engine.conftest import replay
from tests.handlers.conftest import ADMIN, Rig
from trading import errors as e

UNTIL = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
#: one instance of every error of the order path, as the exchange client or the order manager
#: raises it (English messages a Korean user must never read)
SAMPLES: dict[type[e.TradingError], Callable[[], e.TradingError]] = {
    e.TradingError: lambda: e.TradingError("Something went wrong", name="x"),
    e.NotLeader: lambda: e.NotLeader("this instance does not hold the leader lock"),
    e.UpbitError: lambda: e.UpbitError("Unexpected error", name="weird", status=400),
    e.TransientError: lambda: e.TransientError("Temporarily unavailable", status=503),
    e.NetworkError: lambda: e.NetworkError("Connection reset by peer"),
    e.RequestTimeout: lambda: e.RequestTimeout("Request timed out after 5 s"),
    e.ServerError: lambda: e.ServerError("Internal server error", status=500),
    e.RateLimited: lambda: e.RateLimited(
        "Rate limit exceeded (remaining-req 0)", group="order", retry_after=2.0, status=429
    ),
    e.Banned: lambda: e.Banned("Blocked for 60 seconds", group="order", until=UNTIL, status=418),
    e.CircuitOpen: lambda: e.CircuitOpen("circuit open after 5 failures"),
    e.AuthError: lambda: e.AuthError("Invalid access key", name="invalid_access_key", status=401),
    e.NotFound: lambda: e.NotFound("Order not found", name="order_not_found", status=404),
    e.ValidationError: lambda: e.ValidationError(
        "Invalid parameter", name="validation_error", status=400
    ),
    e.OrderRejected: lambda: e.OrderRejected("Order rejected", name="rejected", status=400),
    e.InsufficientFunds: lambda: e.InsufficientFunds(
        "Insufficient balance for the order", name="insufficient_funds_bid", status=400
    ),
    e.BelowMinTotal: lambda: e.BelowMinTotal(
        "Order total below the minimum", name="under_min_total_bid", status=400
    ),
    e.InvalidPrice: lambda: e.InvalidPrice(
        "Price off the tick grid", name="invalid_price_bid", status=400
    ),
    e.InvalidOrder: lambda: e.InvalidOrder("Invalid order", name="create_bid_error", status=400),
    e.MarketOffline: lambda: e.MarketOffline(
        "Market under maintenance", name="market_offline", status=403
    ),
    e.RefusedBefore: lambda: e.RefusedBefore(
        "this body was refused within the hour", refused_as="insufficient_funds_bid"
    ),
    e.OrderingSuspended: lambda: e.OrderingSuspended(
        "too many refusals in KRW-BTC", market="KRW-BTC"
    ),
    e.OrderOutcomeUnknown: lambda: e.OrderOutcomeUnknown(
        "the order outcome is unknown", identifier="abc123"
    ),
}
IN_CHAT = [
    e.InsufficientFunds,
    e.CircuitOpen,
    e.NetworkError,
    e.NotLeader,
    e.RateLimited,
    e.AuthError,
    e.OrderOutcomeUnknown,
]


def _every(cls: type[e.TradingError]) -> list[type[e.TradingError]]:
    return [cls, *(c for sub in cls.__subclasses__() for c in _every(sub))]


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.fixture
async def live(rig: Rig):
    """A paper engine with a few real minutes of prices."""
    rig.engine.loop.start()
    await replay(rig.engine, 5)
    yield rig
    await rig.engine.loop.stop()


def _fail_exchange(rig: Rig, error: e.TradingError) -> None:
    """Every call the engine makes to the exchange raises ``error``."""

    async def refuse(*_args: object, **_kwargs: object) -> None:
        raise error

    exchange = rig.engine.engine.exchange
    for method in ("submit", "cancel", "list_open", "fetch_order", "accounts", "orderbook"):
        setattr(exchange, method, refuse)


async def _answer(rig: Rig, text: str, language: str) -> str:
    reply = await rig.say(ADMIN, text, language)
    if reply.buttons:  # a confirmed command: press yes, as a user would
        pressed = await rig.dispatcher.press(ADMIN, reply.buttons[0].data, language)
        assert pressed is not None
        reply = pressed
    return reply.plain_text()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", IN_CHAT, ids=lambda c: c.__name__)
async def test_an_exchange_error_is_answered_from_the_catalog(
    live: Rig, kind: type[e.TradingError], language: str
) -> None:
    error = SAMPLES[kind]()
    _fail_exchange(live, error)
    expected = catalog(language).t(f"refusal.{error.code}", **error.values())
    for command in ("/buy btc 10000", "/balance", "/status"):
        text = await _answer(live, command, language)
        assert expected in text, (command, text)
        assert error.message not in text, (command, text)
    if error.name not in ("", "-") and isinstance(error, e.UpbitError):
        assert str(error.name) in expected  # the venue's own name is shown as a value


async def test_insufficient_funds_reads_in_korean(live: Rig) -> None:
    _fail_exchange(live, SAMPLES[e.InsufficientFunds]())
    text = await _answer(live, "/buy btc 10000", "ko")
    assert "잔고가 부족합니다 (insufficient_funds_bid, HTTP 400)" in text
    assert "Insufficient balance" not in text


async def test_a_buy_before_any_price_is_refused_in_korean(rig: Rig) -> None:
    text = await _answer(rig, "/buy btc 10000", "ko")
    assert catalog("ko").t("refusal.no_market_data", market="KRW-BTC") in text
    assert "no market data" not in text


@pytest.mark.parametrize(
    ("line", "key", "values"),
    [
        ("/schedule add x 25:00 26:00", "invalid.halt_time", {"field": "시작", "value": "25:00"}),
        ("/schedule add night 01:00 01:00", "invalid.halt_end_equals_start", {}),
        ("/schedule add night 01:00 2026-01-01T00:00", "invalid.halt_mixed", {}),
        ("/schedule add " + "n" * 70 + " 01:00 02:00", "invalid.too_long", {"field": "이름"}),
    ],
)
async def test_a_bad_halt_window_is_explained_in_korean(
    rig: Rig, line: str, key: str, values: dict[str, str]
) -> None:
    text = await _answer(rig, line, "ko")
    ko = catalog("ko").t(key, **{"field": "", "value": "", "limit": "64", **values})
    assert ko.split(": ")[-1] in text, text
    for english in ("Value error", "must be", "should", "String"):
        assert english not in text, text


@pytest.mark.parametrize("kind", list(SAMPLES), ids=lambda c: c.__name__)
def test_each_error_code_has_both_translations_with_its_values(
    kind: type[e.TradingError],
) -> None:
    error = SAMPLES[kind]()
    assert type(error) is kind
    texts = [catalog(language).messages.get(f"refusal.{kind.code}") for language in LANGUAGES]
    assert all(texts), f"refusal.{kind.code} is missing in a language"
    fields = {frozenset(_fields(text or "")) for text in texts}
    assert fields == {frozenset(error.values())}  # both languages, exactly the values given


def test_every_error_class_has_its_own_code() -> None:
    classes = _every(e.TradingError)
    assert set(classes) == set(SAMPLES), "a new error class needs a sample and a code"
    codes = [c.code for c in classes]
    assert len(codes) == len(set(codes))


def test_the_validation_texts_have_the_same_fields_in_both_languages() -> None:
    keys = {k for k in catalog("en").messages if k.startswith("invalid.")}
    assert keys == {k for k in catalog("ko").messages if k.startswith("invalid.")}
    for key in keys:
        en, ko = (catalog(language).messages[key] for language in LANGUAGES)
        assert _fields(en) == _fields(ko), key


@pytest.mark.parametrize(
    ("line", "ko", "english"),
    [
        ("/backtest ma_cross btc fast=abc", "fast: abc은(는) 정수가 아닙니다", "valid integer"),
        ("/backtest ma_cross btc fast=1", "fast: 2 이상이어야 합니다 (1 아님)", "greater than"),
        ("/backtest ma_cross btc fast=50 slow=20", "fast(50)는 slow(20)보다", "must be less"),
        ("/backtest volatility_breakout btc ma_bars=1", "ma_bars는 0(끄기)이거나", "must be 0"),
        ("/set risk.minimal_roi abc", "abc은(는) 올바른 값이 아닙니다", "valid tuple"),
        ("/set risk.minimal_roi 0:3,60:5", "수익률은 시간이 지나며 늘 수", "must not rise"),
        ("/set risk.minimal_roi 60:1,0:3", "분은 늘어나야 합니다 (60 다음 0)", "must rise"),
    ],
)
async def test_a_bad_parameter_or_setting_is_explained_in_korean(
    rig: Rig, line: str, ko: str, english: str
) -> None:
    text = await _answer(rig, line, "ko")
    assert ko in text, text
    assert english not in text, text
