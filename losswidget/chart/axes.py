"""The axes' ranges. The loss axis: padded, sane for 0, 1 or constant points, clipped above lone
spikes, never below 0 for losses that cannot be negative, and finite even near float64's limit. The
epoch axis: room to grow, in a few round steps (each change of an axis is a message to the browser)."""

from __future__ import annotations

import math

import numpy as np

_ROUND_ENDS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)  # x 10**k: about 20 % apart


def epoch_axis_end(last: float, planned_last: int | None) -> float:
    """Where the epoch axis ends while a loop runs: ahead of ``last`` by at least 10 % (and 10 epochs
    at first), at a round number, never beyond the planned last epoch. It moves about once per 20 %
    of growth instead of at every epoch; without a plan the axis ends at ``last``."""
    if planned_last is None:
        return last
    wanted = max(10.0, (last + 1) * 1.1)
    scale = 10.0 ** math.floor(math.log10(wanted))
    end = next((step * scale for step in _ROUND_ENDS if step * scale >= wanted), 10 * scale)
    return max(float(last), min(float(planned_last), end))


def _quantiles_5_95(values: np.ndarray) -> tuple[float, float]:
    """``np.percentile(values, [5, 95])`` (linear interpolation) from one partition: a few times faster
    per frame than numpy's general percentile machinery."""
    positions = np.array([0.05, 0.95]) * (values.size - 1)
    low, high = np.floor(positions).astype(int), np.ceil(positions).astype(int)
    ordered = np.partition(values, np.unique(np.concatenate([low, high])))
    fraction = positions - low
    result = ordered[low] + (ordered[high] - ordered[low]) * fraction
    return float(result[0]), float(result[1])


def value_range(arrays: list[np.ndarray], log_y: bool) -> tuple[float, float, bool]:
    """A padded y-domain, sane for 0, 1 or constant points, and whether its top was clipped.

    On a linear axis a few huge values (the first epochs of a fresh network) would
    squash everything else into a flat line: the top is cut at the 95th percentile
    plus 1.5 times the 5–95 % spread, and the clipped values run off the top.
    """
    finite = [a[np.isfinite(a) & ((a > 0) if log_y else True)] for a in arrays if a.size]
    finite = [a for a in finite if a.size]
    if not finite:
        return (0.1, 1.0, False) if log_y else (0.0, 1.0, False)
    low = float(min(a.min() for a in finite))
    high = float(max(a.max() for a in finite))
    clipped = False
    if not log_y:
        # Judge outliers within each series, so a high validation curve is never cut
        # because the (many) step losses below it are low.
        limits = []
        for values in finite:
            q05, q95 = _quantiles_5_95(values) if values.size >= 20 else (0.0, 0.0)
            limits.append(float(q95 + 1.5 * (q95 - q05)) if q95 > q05 else float(values.max()))
        limit = max(limits)
        if high > limit:
            high, clipped = limit, True
    padded_low, padded_high = _padded(low, high, log_y)
    if not log_y and low >= 0:  # a loss that is never negative: the axis stops at 0
        padded_low = max(padded_low, 0.0)
    return padded_low, padded_high, clipped


RANGE_LIMIT = 1e38  # axis ends stay finite in float32 and JSON, even for values near float64's limit
AXIS_HEADROOM = 0.1  # a new loss axis reaches this share of its span beyond the data on each side


def _padded(low: float, high: float, log_y: bool) -> tuple[float, float]:
    if log_y:
        if high <= low * 1.0001:
            low, high = low / 2, high * 2
        else:
            ratio = (high / low) ** 0.05
            low, high = low / ratio, high * ratio
    elif high - low <= 1e-12 * max(abs(low), abs(high), 1e-300):
        pad = max(abs(low) * 0.1, 1e-3)
        low, high = low - pad, high + pad
    else:
        pad = 0.05 * high - 0.05 * low  # never overflows, unlike (high - low) * 0.05
        low, high = low - pad, high + pad
    low = min(max(low, -RANGE_LIMIT), RANGE_LIMIT / 2)
    high = max(min(high, RANGE_LIMIT), low + abs(low) * 1e-6 + 1e-30)
    return low, high
