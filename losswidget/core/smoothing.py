"""NaN-aware trailing moving average."""

from __future__ import annotations

from typing import Any

import numpy as np

from losswidget.core.validate import check_int
from losswidget.core.values import as_series

__all__ = ["smooth"]


def smooth(values: Any, window: int) -> np.ndarray:
    """Trailing moving average over the finite values of a window.

    ``out[i]`` is the mean of the finite values among
    ``values[max(0, i - window + 1) : i + 1]``, or NaN where there are none:
    pandas' ``rolling(window, min_periods=1).mean()`` with inf read as NaN.
    ``window`` is an int >= 1; ``window=1`` returns the values unchanged (as a
    float64 copy). Vectorised: O(n) whatever the window.
    """
    window = check_int("window", window, minimum=1)
    series = as_series(values, "values")
    if window == 1 or series.size == 0:
        return series.copy()
    finite = np.isfinite(series)
    counts = np.cumsum(finite, dtype=np.int64)
    if not counts[-1]:
        return np.full(series.shape, np.nan)
    # Centre before the running sum: the difference of two large prefix sums
    # would lose digits on long series of similar values, as losses are.
    window_counts = counts.copy()
    window_counts[window:] -= counts[:-window]
    with np.errstate(all="ignore"):  # an overflow near float64's limit is mended below
        centre = series[finite].mean()
        sums = np.cumsum(np.where(finite, series - centre, 0.0))
        window_sums = sums.copy()
        window_sums[window:] -= sums[:-window]
        out = window_sums / window_counts + centre
    out[window_counts == 0] = np.nan
    overflowed = ~np.isfinite(out) & (window_counts > 0)
    if overflowed.any():  # values near float64's limit (1e308): the running sum overflowed
        out[overflowed] = _direct_means(series, finite, window, np.flatnonzero(overflowed))
    return out


def _direct_means(series: np.ndarray, finite: np.ndarray, window: int, rows: np.ndarray) -> np.ndarray:
    """Each row's window mean computed on its own, scaled so that no sum overflows (rare: huge values)."""
    scaled = np.where(finite, series, 0.0) / window  # |scaled| * window <= 1.8e308: no sum overflows
    means = np.empty(rows.size)
    for k, row in enumerate(rows):
        start = max(0, row - window + 1)
        count = int(finite[start : row + 1].sum())
        means[k] = scaled[start : row + 1].sum() * (window / count)
    return means
