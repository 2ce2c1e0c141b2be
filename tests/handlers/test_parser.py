from decimal import Decimal as D

import pytest

from handlers.commands import build_registry
from handlers.fmt import catalog
from handlers.parser import NotForMe, UsageError, normalize_market, parse, parse_money

REG = build_registry()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100000", D(100000)),
        ("100,000", D(100000)),
        ("10만", D(100000)),
        ("10만원", D(100000)),
        ("1억", D(100_000_000)),
        ("1.5억", D(150_000_000)),
        ("1억2000만", D(120_000_000)),
        ("5천", D(5000)),
        ("50000krw", D(50000)),
        ("abc", None),
        ("10만abc", None),
        ("", None),
        ("nan", None),
    ],
)
def test_money(text, value):
    assert parse_money(text) == value


@pytest.mark.parametrize(
    ("text", "market"),
    [("btc", "KRW-BTC"), ("KRW-ETH", "KRW-ETH"), ("krw-xrp", "KRW-XRP"), ("b t c", None)],
)
def test_market(text, market):
    assert normalize_market(text) == market


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("/status", "status", {}),
        ("status", "status", {}),
        ("/status@UpbitBot", "status", {}),
        ("/STATUS", "status", {}),
        ("/bal", "balance", {}),
        ("/trades", "trades", {"n": 10}),
        ("/trades 5", "trades", {"n": 5}),
        ("/pnl", "pnl", {"period": "day", "n": None}),
        ("/pnl week 4", "pnl", {"period": "week", "n": 4}),
        ("/buy btc 10만", "buy", {"market": "KRW-BTC", "krw": D(100000)}),
        ("/buy KRW-BTC 100,000", "buy", {"market": "KRW-BTC", "krw": D(100000)}),
        ("/sell btc", "sell", {"market": "KRW-BTC", "percent": D(100)}),
        ("/sell btc 50%", "sell", {"market": "KRW-BTC", "percent": D(50)}),
        ("/close all", "close", {"market": "all"}),
        ("/cancel abc-123", "cancel", {"order": "abc-123"}),
        ("/set strategy.fast 7", "set", {"key": "strategy.fast", "value": "7"}),
        ("/schedule", "schedule", {"action": "list", "rest": None}),
        (
            "/schedule add fomc 03:00 04:00 wed",
            "schedule",
            {"action": "add", "rest": "fomc 03:00 04:00 wed"},
        ),
    ],
)
def test_good(text, name, args):
    parsed = parse(REG, text, catalog("en"), bot_username="UpbitBot")
    assert parsed.command.name == name
    assert parsed.args == args


@pytest.mark.parametrize(
    ("text", "message", "usage"),
    [
        ("/bogus", "Unknown command /bogus", "/help"),
        ("", "Empty command", "/help"),
        ("/buy btc", "Missing amount (KRW)", "/buy <market> <krw>"),
        ("/buy btc lots", "is not an amount", "/buy <market> <krw>"),
        ("/buy btc 1000", "between 5,000 and", "/buy <market> <krw>"),
        ("/buy b-t-c 10000", "is not a market", "/buy <market> <krw>"),
        ("/trades x", "whole number", "/trades [n]"),
        ("/trades 500", "between 1 and 100", "/trades [n]"),
        ("/pnl year", "one of day|week|month", "/pnl [day|week|month] [n]"),
        ("/status now", "Too many words: now", "/status"),
        ("/sell btc 150", "between 0.01 and 100", "/sell <market> [percent]"),
        ("/set", "Missing key", "/set <key> <value>"),
    ],
)
def test_bad(text, message, usage):
    with pytest.raises(UsageError) as info:
        parse(REG, text, catalog("en"))
    assert message in info.value.message
    assert info.value.usage == usage


def test_usage_in_korean():
    with pytest.raises(UsageError) as info:
        parse(REG, "/buy btc", catalog("ko"))
    assert info.value.message == "금액(원)이(가) 빠졌습니다."
    assert info.value.usage == "/buy <마켓> <금액>"


def test_command_for_another_bot_is_not_ours():
    with pytest.raises(NotForMe):
        parse(REG, "/status@OtherBot", catalog("en"), bot_username="UpbitBot")
