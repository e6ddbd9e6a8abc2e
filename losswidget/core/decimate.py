"""Reduce a long series to a few points for display without hiding spikes."""

from __future__ import annotations

from typing import Any

import numpy as np

from losswidget.core.validate import check_int
from losswidget.core.values import as_series

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
    y = as_series(y, "y")
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


def _pick(values: np.ndarray, first: np.ndarray, second: np.ndarray, lowest: bool) -> np.ndarray:
    """Element-wise, the index (of ``first`` or ``second``) holding the lower/higher finite value."""
    fill = np.inf if lowest else -np.inf
    a, b = values[first], values[second]
    a = np.where(np.isfinite(a), a, fill)
    b = np.where(np.isfinite(b), b, fill)
    better = b < a if lowest else b > a
    return np.where(better, second, first)


def _extremes(values: np.ndarray, start: int, stop: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the min and max of each full bin of ``size`` points in ``values[start:stop]``."""
    block = values[start:stop].reshape(-1, size)
    finite = np.isfinite(block)
    offsets = start + np.arange(block.shape[0]) * size
    lows = np.where(finite, block, np.inf).argmin(axis=1) + offsets
    highs = np.where(finite, block, -np.inf).argmax(axis=1) + offsets
    return lows, highs


class Decimator:
    """Incremental min/max decimation of a growing series.

    Call :meth:`update` with the whole series (it may only grow); new points are
    folded into bins in amortised O(1) each, and when there are too many bins,
    neighbours merge and the bin width doubles. :meth:`indices` returns at most
    ``max_points`` sorted indices (first, last, each bin's min and max) in
    O(max_points), however long the series is: a live chart's per-frame cost.
    """

    def __init__(self, max_points: int = 2000) -> None:
        self.max_points = check_int("max_points", max_points, minimum=8)
        self._max_bins = (self.max_points - 4) // 2
        self.reset()

    def reset(self) -> None:
        self._bin_size = 1
        self._lows = np.empty(0, dtype=np.int64)
        self._highs = np.empty(0, dtype=np.int64)
        self._count = 0  # points folded in
        self._partial: tuple[int, int] | None = None  # extremes of the unfinished last bin

    @property
    def _binned(self) -> int:
        return self._lows.size * self._bin_size

    def update(self, values: np.ndarray) -> None:
        n = values.size
        if n < self._count:
            raise ValueError(f"a decimated series may only grow: had {self._count} points, got {n}")
        if n == self._count:
            return
        start = self._binned
        full_stop = start + (n - start) // self._bin_size * self._bin_size
        if full_stop > start:
            lows, highs = _extremes(values, start, full_stop, self._bin_size)
            self._lows = np.concatenate((self._lows, lows))
            self._highs = np.concatenate((self._highs, highs))
            self._partial = None
        if n > full_stop:
            tail_low, tail_high = _extremes(values, full_stop, n, n - full_stop)
            self._partial = (int(tail_low[0]), int(tail_high[0]))
        self._count = n
        while self._lows.size > self._max_bins:
            self._merge(values)

    def _merge(self, values: np.ndarray) -> None:
        pairs = self._lows.size // 2
        first, second = slice(0, 2 * pairs, 2), slice(1, 2 * pairs, 2)
        lows = _pick(values, self._lows[first], self._lows[second], lowest=True)
        highs = _pick(values, self._highs[first], self._highs[second], lowest=False)
        if self._lows.size % 2:  # the odd last bin becomes part of the partial bin
            leftover = (int(self._lows[-1]), int(self._highs[-1]))
            if self._partial is not None:
                leftover = (
                    int(_pick(values, np.array([leftover[0]]), np.array([self._partial[0]]), True)[0]),
                    int(_pick(values, np.array([leftover[1]]), np.array([self._partial[1]]), False)[0]),
                )
            self._partial = leftover
        self._lows, self._highs = lows, highs
        self._bin_size *= 2

    def indices(self) -> np.ndarray:
        """Sorted, distinct indices to draw: at most ``max_points``."""
        if self._count == 0:
            return np.empty(0, dtype=np.int64)
        lows, highs = self._lows, self._highs
        if self._partial is not None:
            lows = np.append(lows, self._partial[0])
            highs = np.append(highs, self._partial[1])
        pairs = np.empty(2 * lows.size + 2, dtype=np.int64)
        pairs[0], pairs[-1] = 0, self._count - 1
        pairs[1:-1:2] = np.minimum(lows, highs)
        pairs[2:-1:2] = np.maximum(lows, highs)
        keep = np.ones(pairs.size, dtype=bool)
        keep[1:] = pairs[1:] != pairs[:-1]
        return pairs[keep]
