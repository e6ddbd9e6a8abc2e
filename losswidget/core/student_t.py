"""Student's t at 0.975 and Welch's degrees of freedom: the cutoff two groups' means must be apart,
in standard errors of their difference, to call the difference clear (:mod:`losswidget.core.groups`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["t_cutoff", "welch_df"]

# Student's t at 0.975 (two-sided 95 %) for these degrees of freedom (scipy.stats.t.ppf, to 4
# decimals); between them log t is linear in 1/df, within 0.4 % of the exact value for every df >= 1.
_T_DF = (
    1.0,
    1.25,
    1.5,
    1.75,
    2.0,
    2.5,
    3.0,
    3.5,
    4.0,
    5.0,
    6.0,
    7.0,
    8.0,
    9.0,
    10.0,
    12.0,
    15.0,
    20.0,
    30.0,
    60.0,
    120.0,
)
_T_975 = (
    12.7062,
    8.028,
    6.0167,
    4.9488,
    4.3027,
    3.5747,
    3.1824,
    2.9401,
    2.7764,
    2.5706,
    2.4469,
    2.3646,
    2.306,
    2.2622,
    2.2281,
    2.1788,
    2.1314,
    2.086,
    2.0423,
    2.0003,
    1.9799,
)
_T_INFINITE = 1.96
_T_X = np.array([0.0] + [1.0 / df for df in reversed(_T_DF)])  # 1/df ascending, 0 for infinitely many
_T_LOG = np.log(np.array([_T_INFINITE, *reversed(_T_975)]))


def t_cutoff(df: float) -> float:
    """Student's t quantile at 0.975 for ``df`` >= 1 degrees of freedom (non-integer allowed, inf gives
    1.96): how many standard errors apart two means must be to call the difference clear. NaN for NaN;
    below 1 degree of freedom (which Welch's formula never gives for 2 or more runs a group) the
    quantile for 1."""
    if math.isnan(df):
        return math.nan
    inverse = 0.0 if math.isinf(df) else 1.0 / max(df, 1.0)
    return float(np.exp(np.interp(inverse, _T_X, _T_LOG)))


def welch_df(a: Any, b: Any) -> float:
    """Welch–Satterthwaite degrees of freedom of the difference of two groups' means, ``a`` and ``b`` each
    a :class:`~losswidget.core.groups.Spread` (``n`` runs, ``se``) (NaN when a group
    has fewer than 2 runs; ``n_a + n_b - 2`` when neither group's runs varied)."""
    if a.n < 2 or b.n < 2 or math.isnan(a.se) or math.isnan(b.se):
        return math.nan
    va, vb = a.se**2, b.se**2
    with np.errstate(all="ignore"):
        denominator = va**2 / (a.n - 1) + vb**2 / (b.n - 1)
        if not denominator > 0 or not math.isfinite(denominator):
            return float(a.n + b.n - 2)
        return float((va + vb) ** 2 / denominator)
