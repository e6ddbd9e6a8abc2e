import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import losswidget as lw

pd = pytest.importorskip("pandas")

nan, inf = math.nan, math.inf

CASES = [
    ([1, 2, 3, 4], 2, [1, 1.5, 2.5, 3.5]),
    ([1, 2, 3, 4], 10, [1, 1.5, 2, 2.5]),
    ([1, nan, 3], 2, [1, 1, 3]),
    ([nan, nan, 3], 2, [nan, nan, 3]),
    ([1, inf, 3, 5], 2, [1, 1, 3, 4]),
    ([nan, nan], 3, [nan, nan]),
    ([], 3, []),
    ([2.5], 4, [2.5]),
]


@pytest.mark.parametrize(("values", "window", "expected"), CASES)
def test_smooth_table(values, window, expected):
    np.testing.assert_allclose(lw.smooth(values, window), expected, equal_nan=True)


def test_window_one_returns_values_unchanged():
    values = [0.3, nan, inf, 1e300]
    out = lw.smooth(values, 1)
    np.testing.assert_array_equal(out, values)
    assert out.dtype == np.float64


def _pandas_reference(values, window):
    series = pd.Series(values, dtype="float64").replace([np.inf, -np.inf], np.nan)
    return series.rolling(window, min_periods=1).mean().to_numpy()


@pytest.mark.parametrize("seed", range(300))
def test_matches_pandas_rolling_mean(seed):
    rng = np.random.default_rng(seed)
    length = int(rng.integers(1, 300))
    values = np.exp(rng.normal(0, 1, length)) * rng.choice([1e-3, 1, 1e3])
    holes = rng.random(length) < rng.choice([0, 0.1, 0.6])
    values[holes] = rng.choice([nan, inf, -inf], holes.sum())
    window = int(rng.integers(2, 60))
    np.testing.assert_allclose(lw.smooth(values, window), _pandas_reference(values, window), rtol=1e-9, equal_nan=True)


def test_long_series_keeps_precision():
    rng = np.random.default_rng(1)
    values = 1000 + rng.normal(0, 1e-3, 1_000_000)
    np.testing.assert_allclose(lw.smooth(values, 50)[-1000:], _pandas_reference(values, 50)[-1000:], rtol=1e-12)


finite_floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
maybe_missing = st.one_of(finite_floats, st.just(nan), st.just(inf))


@settings(max_examples=300, deadline=None)
@given(st.lists(maybe_missing, max_size=80), st.integers(1, 30))
def test_properties(values, window):
    out = lw.smooth(values, window)
    assert out.shape == (len(values),)
    array = np.array(values, dtype=float)
    for i in range(len(values)):
        chunk = array[max(0, i - window + 1) : i + 1]
        finite = chunk[np.isfinite(chunk)]
        if window == 1:
            assert out[i] == array[i] or (math.isnan(out[i]) and math.isnan(array[i]))
        elif finite.size == 0:
            assert math.isnan(out[i])
        else:  # a mean lies within its values
            slack = 1e-9 * max(1.0, float(np.abs(array[np.isfinite(array)]).max()))
            assert finite.min() - slack <= out[i] <= finite.max() + slack


@settings(max_examples=100, deadline=None)
@given(st.floats(-1e3, 1e3), st.integers(1, 50), st.integers(1, 20))
def test_constant_stays_constant(value, length, window):
    np.testing.assert_allclose(lw.smooth([value] * length, window), value, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("window", "error", "message"),
    [
        (0, ValueError, r"'window' must be >= 1: 0"),
        (-3, ValueError, r"'window' must be >= 1: -3"),
        (2.5, TypeError, r"'window' must be an int: 2.5"),
        (True, TypeError, r"'window' must be an int: True"),
        ("3", TypeError, r"'window' must be an int: '3'"),
    ],
)
def test_bad_window(window, error, message):
    with pytest.raises(error, match=message):
        lw.smooth([1.0, 2.0], window)


def test_bad_values():
    with pytest.raises(ValueError, match=r"'values' must be 1-D: got shape \(2, 2\)"):
        lw.smooth([[1, 2], [3, 4]], 2)
    with pytest.raises(TypeError, match="'values' must be a 1-D sequence of numbers"):
        lw.smooth(["a", "b"], 2)
