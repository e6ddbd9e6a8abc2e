"""NaN-aware trailing moving average."""

from __future__ import annotations

from typing import Any

import numpy as np

from losswidget.core.validate import check_int

__all__ = ["smooth"]


def _as_series(values: Any, name: str = "values") -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name!r} must be a 1-D sequence of numbers: {error}") from None
    if array.ndim != 1:
        raise ValueError(f"{name!r} must be 1-D: got shape {array.shape}")
    return array


def smooth(values: Any, window: int) -> np.ndarray:
    """Trailing moving average over the finite values of a window.

    ``out[i]`` is the mean of the finite values among
    ``values[max(0, i - window + 1) : i + 1]``, or NaN where there are none:
    pandas' ``rolling(window, min_periods=1).mean()`` with inf read as NaN.
    ``window`` is an int >= 1; ``window=1`` returns the values unchanged (as a
    float64 copy). Vectorised: O(n) whatever the window.
    """
    window = check_int("window", window, minimum=1)
    series = _as_series(values)
    if window == 1 or series.size == 0:
        return series.copy()
    finite = np.isfinite(series)
    counts = np.cumsum(finite, dtype=np.int64)
    if not counts[-1]:
        return np.full(series.shape, np.nan)
    # Centre before the running sum: the difference of two large prefix sums
    # would lose digits on long series of similar values, as losses are.
    centre = series[finite].mean()
    sums = np.cumsum(np.where(finite, series - centre, 0.0))
    window_sums = sums.copy()
    window_sums[window:] -= sums[:-window]
    window_counts = counts.copy()
    window_counts[window:] -= counts[:-window]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = window_sums / window_counts + centre
    out[window_counts == 0] = np.nan
    return out
