"""Per-example statistics that parts of one validation set pool exactly: each DDP rank validates its
own shard, and every rank must read the same mean, standard error and paired difference, or they
decide differently on the best epoch (one stops alone; the others wait in their next collective).

Each part is summarised by its count, mean and sum of squared deviations (``Moments``); parts combine
by the parallel formula of Chan, Golub and LeVeque (1979), which keeps its precision where a sum of
squares less a squared sum would cancel. A single part is its own pool: one code path with or
without ranks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from losswidget.core.evidence import RiseTest

__all__ = ["Moments", "correlation", "pooled_rise"]


@dataclass(frozen=True)
class Moments:
    """``n`` values, their ``mean`` and the sum of their squared deviations from it (``m2``)."""

    n: int
    mean: float
    m2: float

    @classmethod
    def of(cls, values: Any) -> Moments:
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if values.size == 0:
            return cls(0, 0.0, 0.0)
        mean = float(values.mean())
        with np.errstate(all="ignore"):  # an infinite loss: its spread is NaN, said as such downstream
            m2 = float(np.sum((values - mean) ** 2))
        return cls(int(values.size), mean, m2)

    @classmethod
    def pooled(cls, parts: Sequence[Moments]) -> Moments:
        total = cls(0, 0.0, 0.0)
        for part in parts:
            if part.n == 0:
                continue
            if total.n == 0:
                total = part
                continue
            n = total.n + part.n
            with np.errstate(all="ignore"):
                delta = part.mean - total.mean
                mean = total.mean + delta * part.n / n
                m2 = total.m2 + part.m2 + delta * delta * total.n * part.n / n
            total = cls(n, float(mean), float(m2))
        return total

    @property
    def se(self) -> float:
        """The standard error of the mean, ``std(ddof=1) / sqrt(n)``: NaN for fewer than 2 values."""
        if self.n < 2:
            return math.nan
        return math.sqrt(self.m2 / (self.n - 1) / self.n) if self.m2 >= 0 else math.nan

    def row(self) -> list[float]:
        return [float(self.n), self.mean, self.m2]


def pooled_rise(latest: Moments, best_mean: float, best_se: float, difference: Moments | None) -> RiseTest:
    """The latest epoch against the best (as :func:`~losswidget.core.evidence.rise_test` reads it):
    paired when every part compared the same examples in the same order (``difference`` pools their
    per-example differences), else the two standard errors combined."""
    if difference is not None and difference.n >= 2:
        return RiseTest(latest.mean - best_mean, difference.se, latest.n, True)
    return RiseTest(latest.mean - best_mean, math.hypot(latest.se, best_se), latest.n, False)


def correlation(a: Any, b: Any) -> tuple[float, int]:
    """(Pearson's r of ``a`` and ``b`` over the positions where both are finite, that count): NaN
    where either has no spread there (or fewer than 2 such positions)."""
    a, b = np.asarray(a, dtype=np.float64).reshape(-1), np.asarray(b, dtype=np.float64).reshape(-1)
    both = np.isfinite(a) & np.isfinite(b)
    count = int(both.sum())
    if count < 2:
        return math.nan, count
    a, b = a[both] - a[both].mean(), b[both] - b[both].mean()
    with np.errstate(all="ignore"):
        scale = math.sqrt(float(np.dot(a, a)) * float(np.dot(b, b)))
        return (float(np.dot(a, b)) / scale if scale > 0 and math.isfinite(scale) else math.nan), count
