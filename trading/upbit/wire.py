"""Decimal in, Decimal out: JSON decoding and number formatting for Upbit's wire."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def loads(raw: bytes | str) -> Any:
    """Parse JSON keeping every non-integer number as an exact ``Decimal``."""
    return json.loads(raw, parse_float=Decimal)


def fmt_decimal(value: Decimal | int | str) -> str:
    """Plain decimal text, no exponent, no float noise: ``Decimal('1E+3')`` -> ``'1000'``."""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if not d.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    text = format(d.normalize(), "f")
    return "0" if text in ("-0", "") else text
