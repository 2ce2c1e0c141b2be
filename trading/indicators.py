"""Technical indicators: pure functions on 1-D float64 arrays, NaN during the warm-up.

Every output has the input's length and is aligned with it: ``out[i]`` uses bars ``<= i`` only,
so a strategy built from these never looks ahead.

Windowed indicators (``sma``, ``rolling_volatility``) reduce a sliding-window view instead of
differencing a running ``cumsum``: the value at bar ``i`` is then computed from exactly the
same numbers in the same order whatever the first bar of the array is, so a live rolling
window and a backtest over the full history give bit-identical values (a cumsum would carry
rounding from every earlier bar). The cost is O(len * n), about 1 ms for 14k bars at n = 500.
The exception is ``sma`` of positive whole numbers (KRW prices): there every window sum is
an exact integer either way, so a running sum gives the same bits in O(len).

Recursive indicators (``ema``, ``atr``) are seeded with the SMA of their first ``n`` values,
as TA-Lib does, so they depend on where the array starts; they converge to the same values
after a few multiples of ``n`` bars. The recursion is inherently sequential and numpy has no
first-order IIR filter (``scipy.signal.lfilter`` would do, but scipy is not a dependency), so
it runs as one tight loop over Python floats: about 75 ns a bar, 1 ms for 14k bars. Leading
NaNs are skipped, so an EMA can smooth another indicator's output.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

__all__ = [
    "FloatArray",
    "atr",
    "breakout_range",
    "ema",
    "momentum",
    "roc",
    "rolling_volatility",
    "sma",
    "true_range",
]


def _series(x: ArrayLike, name: str = "x") -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    return arr


def _same_length(**arrays: FloatArray) -> None:
    lengths = {name: len(arr) for name, arr in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise ValueError(f"arrays must have equal lengths, got {shown}")


def _period(n: int, minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"n must be an integer, got {n!r}")
    if n < minimum:
        raise ValueError(f"n must be >= {minimum}, got {n}")
    return int(n)


def _nans(length: int) -> FloatArray:
    return np.full(length, np.nan, dtype=np.float64)


def _shift(x: FloatArray, n: int) -> FloatArray:
    """``x`` delayed by ``n`` bars: ``out[i] = x[i - n]``, NaN for the first ``n``."""
    out = _nans(len(x))
    if n < len(x):
        out[n:] = x[: len(x) - n]
    return out


#: Window sums of whole numbers are exact in float64 while every partial sum stays below 2**53.
_EXACT = float(2**53)


def _exact_sums(arr: FloatArray) -> bool:
    """True when every sum of a window of ``arr`` is exact in float64, in any order: positive
    whole numbers (prices on a whole-KRW tick grid) whose total stays below 2**53. NaN fails
    the comparisons, so it takes the general path."""
    if not len(arr):
        return False
    low, high = float(arr.min()), float(arr.max())
    if not (low > 0 and high * len(arr) < _EXACT):
        return False
    return bool(np.array_equal(np.trunc(arr), arr))


def sma(x: ArrayLike, n: int) -> FloatArray:
    """Simple moving average of the last ``n`` values; the first ``n - 1`` are NaN.

    Whole-number inputs (``_exact_sums``) take a running sum: every window sum is then the
    exact integer, the same bits the sliding-window reduction gives, in three passes
    instead of ``n``.
    """
    arr, n = _series(x), _period(n)
    out = _nans(len(arr))
    if len(arr) < n:
        return out
    if n > 1 and _exact_sums(arr):
        sums = np.cumsum(arr)
        window = out[n - 1 :]
        window[0] = sums[n - 1]
        np.subtract(sums[n:], sums[: len(arr) - n], out=window[1:])
        window /= n
        return out
    out[n - 1 :] = sliding_window_view(arr, n).mean(axis=-1)
    return out


def _recursive(arr: FloatArray, n: int, *, wilder: bool) -> FloatArray:
    """EMA (alpha 2/(n+1)) or Wilder smoothing (alpha 1/n), seeded with an SMA of n values.

    Uses TA-Lib's update formulas so results match it to the last bits.
    """
    out = _nans(len(arr))
    valid = np.flatnonzero(~np.isnan(arr))
    first = int(valid[0]) if len(valid) else len(arr)
    if len(arr) - first < n:
        return out
    seed_end = first + n
    value = float(arr[first:seed_end].mean())
    values = [value]
    append = values.append
    if wilder:
        keep = float(n - 1)
        for x in arr[seed_end:].tolist():
            value = (value * keep + x) / n
            append(value)
    else:
        alpha = 2.0 / (n + 1)
        for x in arr[seed_end:].tolist():
            value = (x - value) * alpha + value
            append(value)
    out[seed_end - 1 :] = values
    return out


def ema(x: ArrayLike, n: int) -> FloatArray:
    """Exponential moving average, alpha ``2 / (n + 1)``, seeded with the SMA of ``n`` values.

    Leading NaNs are skipped; the first value is at ``first_valid + n - 1`` (like TA-Lib).
    """
    return _recursive(_series(x), _period(n), wilder=False)


def true_range(high: ArrayLike, low: ArrayLike, close: ArrayLike) -> FloatArray:
    """``max(high - low, |high - prev close|, |low - prev close|)``; bar 0 is NaN.

    Bar 0 has no previous close, so it is NaN, as in TA-Lib's TRANGE; ATR then starts one bar
    later than a plain ``high - low`` start would.
    """
    h, lo, c = _series(high, "high"), _series(low, "low"), _series(close, "close")
    _same_length(high=h, low=lo, close=c)
    prev = _shift(c, 1)
    return np.maximum(h - lo, np.maximum(np.abs(h - prev), np.abs(lo - prev)))


def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, n: int) -> FloatArray:
    """Average true range with Wilder's smoothing, seeded with the SMA of the first ``n`` TRs.

    The first value is at index ``n`` (TR needs a previous close), as TA-Lib's ATR.
    """
    n = _period(n)
    return _recursive(true_range(high, low, close), n, wilder=True)


def roc(x: ArrayLike, n: int) -> FloatArray:
    """Rate of change in percent: ``(x[i] / x[i - n] - 1) * 100``; NaN where ``x[i - n]`` is 0."""
    arr, n = _series(x), _period(n)
    base = _shift(arr, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (arr / base - 1.0) * 100.0
    out[base == 0] = np.nan
    return out


def momentum(x: ArrayLike, n: int) -> FloatArray:
    """Change over ``n`` bars: ``x[i] - x[i - n]``; the first ``n`` are NaN."""
    arr, n = _series(x), _period(n)
    return arr - _shift(arr, n)


def breakout_range(high: ArrayLike, low: ArrayLike, k: float) -> FloatArray:
    """``k`` times the previous bar's range: ``out[i] = (high[i-1] - low[i-1]) * k``.

    This is Larry Williams' breakout distance: bar ``i``'s target is ``open[i] + out[i]``.
    """
    h, lo = _series(high, "high"), _series(low, "low")
    _same_length(high=h, low=lo)
    if isinstance(k, bool) or not isinstance(k, int | float) or not math.isfinite(k) or k < 0:
        raise ValueError(f"k must be a finite number >= 0, got {k!r}")
    return _shift(h - lo, 1) * float(k)


def rolling_volatility(close: ArrayLike, n: int) -> FloatArray:
    """Sample stdev (ddof=1) of the last ``n`` log returns; the first ``n`` values are NaN.

    Not annualised: multiply by ``sqrt(bars per year)`` for that. ``n`` must be >= 2 (a sample
    stdev of one return is undefined). Non-positive closes give NaN returns.
    """
    c, n = _series(close, "close"), _period(n, minimum=2)
    out = _nans(len(c))
    if len(c) > n:
        with np.errstate(divide="ignore", invalid="ignore"):
            returns = np.log(c[1:] / c[:-1])
        returns[~np.isfinite(returns)] = np.nan
        out[n:] = sliding_window_view(returns, n).std(axis=-1, ddof=1)
    return out
