"""The KRW tick table in force since 2025-07-31 (reference §9.1), written out for tests.

Independent of ``trading.upbit.market_rules.KRW_TICKS`` and of the fake's copy on purpose: a
test that read the code's own table could not catch a wrong row.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal as D


@dataclass(frozen=True)
class Boundary:
    price: D  # the lowest price of the upper band
    below: D  # tick just under it
    above: D  # tick from it on

    def __str__(self) -> str:
        return f"{self.price:f}"


#: (boundary, tick below, tick above) -- reference §9.1, including the two boundaries the
#: table lists where the tick stays the same (2,000,000 and 1,000).
BOUNDARIES = [
    Boundary(D(b), D(lo), D(hi))
    for b, lo, hi in [
        ("2000000", "1000", "1000"),
        ("1000000", "500", "1000"),
        ("500000", "100", "500"),
        ("100000", "50", "100"),
        ("50000", "10", "50"),
        ("10000", "5", "10"),
        ("5000", "1", "5"),
        ("1000", "1", "1"),
        ("100", "0.1", "1"),
        ("10", "0.01", "0.1"),
        ("1", "0.001", "0.01"),
        ("0.1", "0.0001", "0.001"),
        ("0.01", "0.00001", "0.0001"),
        ("0.001", "0.000001", "0.00001"),
        ("0.0001", "0.0000001", "0.000001"),
        ("0.00001", "0.00000001", "0.0000001"),
    ]
]
