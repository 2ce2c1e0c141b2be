from __future__ import annotations

from decimal import Decimal as D

import pytest

from trading.upbit.wire import fmt_decimal, loads


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("0.001"), "0.001"),
        (D("1E-8"), "0.00000001"),
        (D("1E+3"), "1000"),
        (D("50000000.000"), "50000000"),
        (D("0.1") + D("0.2"), "0.3"),
        (D("-0"), "0"),
        (5000, "5000"),
        ("0.00005000", "0.00005"),
    ],
)
def test_fmt_decimal_has_no_exponent_and_no_noise(value, text):
    assert fmt_decimal(value) == text


def test_fmt_decimal_refuses_nan():
    with pytest.raises(ValueError, match="finite"):
        fmt_decimal(D("NaN"))


def test_loads_keeps_every_digit():
    data = loads(b'{"balance": 1386929.37231066771348207123, "count": 3}')

    assert data["balance"] == D("1386929.37231066771348207123")
    assert data["count"] == 3
