"""Small vector helpers shared by the built-in strategies."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from trading.indicators import FloatArray


def crossed_above(a: FloatArray, b: FloatArray) -> NDArray[np.bool_]:
    """True at bar i when ``a[i] > b[i]`` and ``a[i-1] <= b[i-1]`` (NaN never crosses)."""
    out = np.zeros(len(a), dtype=np.bool_)
    if len(a) > 1:
        now = out[1:]
        np.greater(a[1:], b[1:], out=now)
        now &= np.less_equal(a[:-1], b[:-1])
    return out


def crossed_below(a: FloatArray, b: FloatArray) -> NDArray[np.bool_]:
    """True at bar i when ``a[i] < b[i]`` and ``a[i-1] >= b[i-1]`` (NaN never crosses)."""
    return crossed_above(b, a)
