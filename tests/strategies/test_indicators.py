"""Indicators against plain reference loops, hand-computed examples and properties."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trading import indicators as ind
from trading.strategies import CandleFrame

NAN = math.nan
RTOL = 1e-9


# --- reference implementations: one bar at a time, no numpy -------------------------------


def ref_sma(x: list[float], n: int) -> list[float]:
    return [NAN if i < n - 1 else sum(x[i - n + 1 : i + 1]) / n for i in range(len(x))]


def ref_ema(x: list[float], n: int) -> list[float]:
    out = [NAN] * len(x)
    if len(x) < n:
        return out
    alpha = 2 / (n + 1)
    value = sum(x[:n]) / n
    out[n - 1] = value
    for i in range(n, len(x)):
        value = alpha * x[i] + (1 - alpha) * value
        out[i] = value
    return out


def ref_true_range(h: list[float], lo: list[float], c: list[float]) -> list[float]:
    out = [NAN]
    for i in range(1, len(h)):
        out.append(max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1])))
    return out


def ref_atr(h: list[float], lo: list[float], c: list[float], n: int) -> list[float]:
    tr = ref_true_range(h, lo, c)
    out = [NAN] * len(h)
    if len(h) <= n:
        return out
    value = sum(tr[1 : n + 1]) / n
    out[n] = value
    for i in range(n + 1, len(h)):
        value = (value * (n - 1) + tr[i]) / n
        out[i] = value
    return out


def ref_volatility(c: list[float], n: int) -> list[float]:
    returns = [math.log(c[i] / c[i - 1]) for i in range(1, len(c))]
    out = [NAN] * len(c)
    for i in range(n, len(c)):
        out[i] = statistics.stdev(returns[i - n : i])
    return out


def assert_matches(actual: np.ndarray, expected: list[float]) -> None:
    np.testing.assert_allclose(actual, np.array(expected), rtol=RTOL, atol=0, equal_nan=True)


# --- real data -----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 14, 200])
def test_moving_averages_match_reference(btc: CandleFrame, n: int) -> None:
    close = btc.close.tolist()
    assert_matches(ind.sma(btc.close, n), ref_sma(close, n))
    assert_matches(ind.ema(btc.close, n), ref_ema(close, n))


@pytest.mark.parametrize("n", [1, 14, 50])
def test_true_range_and_atr_match_reference(btc: CandleFrame, n: int) -> None:
    h, lo, c = btc.high.tolist(), btc.low.tolist(), btc.close.tolist()
    assert_matches(ind.true_range(btc.high, btc.low, btc.close), ref_true_range(h, lo, c))
    assert_matches(ind.atr(btc.high, btc.low, btc.close, n), ref_atr(h, lo, c, n))


@pytest.mark.parametrize("n", [1, 10, 60])
def test_roc_and_momentum_match_reference(btc: CandleFrame, n: int) -> None:
    c = btc.close.tolist()
    expected_roc = [NAN if i < n else (c[i] / c[i - n] - 1) * 100 for i in range(len(c))]
    expected_mom = [NAN if i < n else c[i] - c[i - n] for i in range(len(c))]
    assert_matches(ind.roc(btc.close, n), expected_roc)
    assert_matches(ind.momentum(btc.close, n), expected_mom)


def test_breakout_range_matches_reference(btc: CandleFrame) -> None:
    h, lo = btc.high.tolist(), btc.low.tolist()
    expected = [NAN] + [(h[i - 1] - lo[i - 1]) * 0.5 for i in range(1, len(h))]
    assert_matches(ind.breakout_range(btc.high, btc.low, 0.5), expected)


@pytest.mark.parametrize("n", [2, 20, 120])
def test_rolling_volatility_matches_reference(btc: CandleFrame, n: int) -> None:
    actual = ind.rolling_volatility(btc.close, n)
    expected = ref_volatility(btc.close.tolist(), n)
    # near-zero stdevs (flat minutes) lose relative precision in any algorithm
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=1e-15, equal_nan=True)


def test_windowed_indicators_are_bit_identical_under_any_window(btc: CandleFrame) -> None:
    full_sma = ind.sma(btc.close, 30)
    full_vol = ind.rolling_volatility(btc.close, 30)
    for start in (1, 17, 500):
        window = btc.close[start:]
        assert np.array_equal(ind.sma(window, 30)[40:], full_sma[start + 40 :])
        assert np.array_equal(ind.rolling_volatility(window, 30)[40:], full_vol[start + 40 :])


# --- hand-computed examples and warm-ups ---------------------------------------------------


def test_atr_on_five_bars() -> None:
    high = [10.0, 11.0, 12.0, 11.0, 13.0]
    low = [9.0, 10.0, 10.0, 9.0, 11.0]
    close = [9.5, 10.5, 11.5, 10.0, 12.0]
    # TR: -, max(1, 1.5, .5)=1.5, max(2, 1.5, .5)=2, max(2, .5, 2.5)=2.5, max(2, 3, 1)=3
    assert_matches(ind.true_range(high, low, close), [NAN, 1.5, 2.0, 2.5, 3.0])
    # seed = mean(1.5, 2, 2.5) = 2 at index 3; then (2 * 2 + 3) / 3
    assert_matches(ind.atr(high, low, close, 3), [NAN, NAN, NAN, 2.0, 7 / 3])


def test_small_examples() -> None:
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert_matches(ind.sma(x, 2), [NAN, 1.5, 2.5, 3.5, 4.5])
    # alpha = 0.5, seed mean(1, 2, 3) = 2 -> 3 -> 4
    assert_matches(ind.ema(x, 3), [NAN, NAN, 2.0, 3.0, 4.0])
    assert_matches(ind.roc(x, 2), [NAN, NAN, 200.0, 100.0, 200 / 3])
    assert_matches(ind.momentum(x, 1), [NAN, 1.0, 1.0, 1.0, 1.0])
    assert_matches(ind.breakout_range([3.0, 5.0, 4.0], [1.0, 2.0, 4.0], 0.5), [NAN, 1.0, 1.5])
    sigma = statistics.stdev([math.log(2), math.log(1.5)])
    assert_matches(ind.rolling_volatility([1.0, 2.0, 3.0], 2), [NAN, NAN, sigma])


def test_ema_skips_leading_nans() -> None:
    assert_matches(ind.ema([NAN, NAN, 1.0, 2.0, 3.0, 4.0], 3), [NAN, NAN, NAN, NAN, 2.0, 3.0])


@pytest.mark.parametrize(
    "fn",
    [ind.sma, ind.ema, ind.roc, ind.momentum, ind.rolling_volatility],
    ids=lambda f: f.__name__,
)
def test_too_short_input_is_all_nan(fn: object) -> None:
    assert callable(fn)
    out = fn(np.array([1.0, 2.0, 3.0]), 5)
    assert out.shape == (3,)
    assert np.isnan(out).all()
    assert fn(np.array([], dtype=np.float64), 5).shape == (0,)


def test_roc_of_zero_base_is_nan_without_warning() -> None:
    assert_matches(ind.roc([0.0, 1.0, 2.0], 1), [NAN, NAN, 100.0])


# --- bad arguments -------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [ind.sma, ind.ema, ind.roc, ind.momentum])
@pytest.mark.parametrize("n", [0, -3])
def test_period_must_be_positive(fn: object, n: int) -> None:
    assert callable(fn)
    with pytest.raises(ValueError, match=rf"n must be >= 1, got {n}"):
        fn([1.0, 2.0], n)


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match=r"n must be an integer, got 2\.5"):
        ind.sma([1.0], 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n must be >= 2, got 1"):
        ind.rolling_volatility([1.0, 2.0], 1)
    with pytest.raises(ValueError, match="must have equal lengths, got high=2, low=1, close=2"):
        ind.true_range([1.0, 2.0], [1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="equal lengths, got high=2, low=3"):
        ind.breakout_range([1.0, 2.0], [1.0, 2.0, 3.0], 0.5)
    with pytest.raises(ValueError, match=r"k must be a finite number >= 0, got -0\.5"):
        ind.breakout_range([1.0], [1.0], -0.5)
    with pytest.raises(ValueError, match="must be a 1-D array, got shape"):
        ind.sma(np.ones((2, 2)), 1)


# --- properties ----------------------------------------------------------------------------

prices = arrays(
    np.float64,
    st.integers(0, 60),
    elements=st.floats(1.0, 1e9, allow_nan=False, allow_infinity=False),
)
periods = st.integers(1, 20)


@given(st.floats(-1e9, 1e9, allow_nan=False), st.integers(0, 50), periods)
def test_sma_of_a_constant_is_the_constant(value: float, length: int, n: int) -> None:
    out = ind.sma(np.full(length, value), n)
    np.testing.assert_allclose(out[n - 1 :], value, rtol=1e-12)
    assert np.isnan(out[: n - 1]).all()


@given(prices, periods)
def test_ema_stays_within_the_inputs(x: np.ndarray, n: int) -> None:
    out = ind.ema(x, n)
    valid = out[~np.isnan(out)]
    assert len(valid) == max(0, len(x) - n + 1)
    if len(valid):
        slack = 1e-12 * float(x.max())
        assert (valid >= x.min() - slack).all()
        assert (valid <= x.max() + slack).all()


@given(prices, st.integers(2, 20))
def test_rolling_volatility_is_non_negative(x: np.ndarray, n: int) -> None:
    out = ind.rolling_volatility(x, n)
    assert out.shape == x.shape
    assert (out[n:] >= 0).all()
    assert np.isnan(out[:n]).all()


@given(prices, periods)
def test_no_look_ahead(x: np.ndarray, n: int) -> None:
    """Changing the future never changes the past."""
    cut = len(x) // 2
    changed = x.copy()
    changed[cut:] *= 1.5
    for fn in (ind.sma, ind.ema, ind.roc, ind.momentum):
        np.testing.assert_array_equal(fn(x, n)[:cut], fn(changed, n)[:cut])


@given(prices)
def test_atr_is_positive_on_consistent_bars(close: np.ndarray) -> None:
    high, low = close * 1.01, close * 0.99
    out = ind.atr(high, low, close, 3)
    assert (out[3:] > 0).all()
