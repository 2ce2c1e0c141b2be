"""The one table that maps Upbit's answers to exceptions."""

from __future__ import annotations

import json

import pytest

from trading import errors as e


def body(name, message="msg"):
    return json.dumps({"error": {"name": name, "message": message}}).encode()


@pytest.mark.parametrize(
    ("status", "name", "expected"),
    [
        (400, "insufficient_funds_bid", e.InsufficientFunds),
        (400, "insufficient_funds_ask", e.InsufficientFunds),
        (400, "under_min_total_bid", e.BelowMinTotal),
        (400, "invalid_price_ask", e.InvalidPrice),
        (400, "create_ask_error", e.InvalidOrder),
        (400, "invalid_time_in_force", e.InvalidOrder),
        (400, "over_krw_funds_bid", e.InvalidOrder),
        (400, "validation_error", e.ValidationError),
        (400, "invalid_parameter", e.ValidationError),
        (400, 400, e.ValidationError),
        (401, "jwt_verification", e.AuthError),
        (401, "nonce_used", e.AuthError),
        (401, "no_authorization_ip", e.AuthError),
        (401, "no_authorization_i_p", e.AuthError),
        (401, "invalid_query_payload", e.AuthError),
        (403, "out_of_scope", e.AuthError),
        (403, "market_offline", e.MarketOffline),
        (404, "order_not_found", e.NotFound),
        (404, 404, e.NotFound),
        (500, "internal_server_error", e.ServerError),
        (503, "", e.ServerError),
        (400, "something_new", e.ValidationError),
    ],
)
def test_status_and_name_map_to_one_class(status, name, expected):
    with pytest.raises(expected) as info:
        e.raise_for_upbit_error(status, body(name, "the message"), group="default")

    assert type(info.value) is expected
    assert info.value.name == name
    assert info.value.status == status
    assert info.value.message == "the message"


def test_plain_text_429_is_rate_limited_not_a_json_crash():
    with pytest.raises(e.RateLimited) as info:
        e.raise_for_upbit_error(429, b"Too many API requests.", group="order")

    assert info.value.group == "order"
    assert "Too many" in info.value.message
    assert isinstance(info.value, e.TransientError)


def test_418_reads_the_ban_length_from_the_message():
    with pytest.raises(e.Banned) as info:
        e.raise_for_upbit_error(
            418, body("blocked", "요청이 많아 3초 동안 차단됩니다."), group="default"
        )

    remaining = (info.value.until - info.value.until.now(info.value.until.tzinfo)).total_seconds()
    assert 2 < remaining <= 3.1


def test_success_raises_nothing():
    e.raise_for_upbit_error(201, b"{}", group="order")


def test_str_carries_name_and_status():
    err = e.InsufficientFunds(
        "주문가능한 금액이 부족합니다.", name="insufficient_funds_bid", status=400
    )

    assert str(err) == "주문가능한 금액이 부족합니다. [insufficient_funds_bid] (HTTP 400)"
