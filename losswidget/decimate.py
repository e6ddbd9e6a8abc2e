"""Reduce a long series to a few points for display without hiding spikes."""

from __future__ import annotations

from typing import Any

import numpy as np

from losswidget._validate import check_int

__all__ = ["decimate"]


def decimate(x: Any, y: Any, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Return at most ``max_points`` points of ``(x, y)`` that look like the whole.

    The first and last points are kept; the points between are cut into equal
    bins by index and each bin contributes its minimum and its maximum, in the
    order they occur, so spikes survive and the line keeps its envelope.
    Non-finite ``y`` values are ignored inside a bin; a bin with no finite value
    contributes one NaN point, which a chart draws as a gap. Cost: linear in the
    input, vectorised. ``max_points`` is an int >= 2.
    """
    max_points = check_int("max_points", max_points, minimum=2)
    x = np.asarray(x)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or y.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"'x' and 'y' must be 1-D of the same length: got shapes {x.shape} and {y.shape}")
    n = y.size
    if n <= max_points:
        return x, y
    n_bins = (max_points - 2) // 2
    if n_bins == 0:
        keep = np.array([0, n - 1])
        return x[keep], y[keep]
    interior = n - 2
    bin_size = -(-interior // n_bins)  # ceil
    n_bins = -(-interior // bin_size)  # bins actually needed at that size
    padded = np.full(n_bins * bin_size, np.nan)
    padded[:interior] = y[1:-1]
    bins = padded.reshape(n_bins, bin_size)
    finite = np.isfinite(bins)
    lows = np.where(finite, bins, np.inf).argmin(axis=1)
    highs = np.where(finite, bins, -np.inf).argmax(axis=1)
    offsets = np.arange(n_bins) * bin_size + 1
    first = np.minimum(lows, highs) + offsets
    second = np.maximum(lows, highs) + offsets
    picked = np.empty(2 * n_bins, dtype=np.int64)
    picked[0::2] = first
    picked[1::2] = second
    # A bin with one point, or whose min and max are one point, gives it once.
    keep = np.ones(picked.size, dtype=bool)
    keep[1::2] = second != first
    picked = picked[keep]
    index = np.concatenate(([0], picked, [n - 1]))
    out_y = y[index]
    # Only a bin without any finite value picks a non-finite point: make it a gap.
    interior_y = out_y[1:-1]
    interior_y[~np.isfinite(interior_y)] = np.nan
    return x[index], out_y
