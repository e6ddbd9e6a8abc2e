"""Groups of runs and their run-to-run spread (DESIGN.md §8, the third question: would setting A
beat setting B if we trained again?).

Each run gives one number (its best validation loss); a group's number is their mean, and its
uncertainty the standard error of that mean *across runs*: ``std(ddof=1) / sqrt(n)``. It says
nothing about the sampling error of one validation set nor about the epoch-to-epoch wobble of one
curve. Two groups differ clearly when their means are further apart, in standard errors of the
difference (``sqrt(se_a² + se_b²)``, runs independent), than Student's t at 0.975 with Welch's degrees
of freedom (:func:`t_cutoff`): 2.8 for 3 runs per group, 2.0 for 30 or more, never the large-sample
1.96 for a handful of runs. The sentence compares every other group with the lowest, each with its
difference, the cutoff it used and the verdict.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from losswidget.core.evidence import CLEAR, in_units

__all__ = [
    "CLEAR",
    "Comparison",
    "Group",
    "Spread",
    "compare",
    "format_pm",
    "group_label",
    "mean_curve",
    "sentence",
    "spread",
    "t_cutoff",
    "welch_df",
]

LABEL_LENGTH = 40  # a setting's value in a label: a longer one is shortened (a student's input)

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


def welch_df(a: Spread, b: Spread) -> float:
    """Welch–Satterthwaite degrees of freedom of the difference of two groups' means (NaN when a group
    has fewer than 2 runs; ``n_a + n_b - 2`` when neither group's runs varied)."""
    if a.n < 2 or b.n < 2 or math.isnan(a.se) or math.isnan(b.se):
        return math.nan
    va, vb = a.se**2, b.se**2
    with np.errstate(all="ignore"):
        denominator = va**2 / (a.n - 1) + vb**2 / (b.n - 1)
        if not denominator > 0 or not math.isfinite(denominator):
            return float(a.n + b.n - 2)
        return float((va + vb) ** 2 / denominator)


@dataclass(frozen=True)
class Spread:
    """``n`` finite numbers (one per run): their mean and its standard error across runs (NaN for n < 2)."""

    n: int
    mean: float
    se: float


def spread(values: Iterable[float]) -> Spread:
    """The mean and run-to-run standard error of the finite ``values`` (NaN and inf are left out)."""
    sample = np.asarray(list(values), dtype=np.float64).reshape(-1)
    sample = sample[np.isfinite(sample)]
    n = int(sample.size)
    if n == 0:
        return Spread(0, math.nan, math.nan)
    with np.errstate(all="ignore"):  # 1e300 and -1e300 in one group: an infinite spread, said as such
        mean = float(sample.mean())
        se = float(sample.std(ddof=1) / math.sqrt(n)) if n >= 2 else math.nan
    return Spread(n, mean, se)


@dataclass(frozen=True)
class Group:
    """The runs sharing one setting: ``label`` (``"weight decay 0.001"``) and their best values' spread."""

    label: str
    best: Spread


@dataclass(frozen=True)
class Comparison:
    """The lower group against another: ``difference`` (>= 0), it in standard errors of the difference,
    and the ``cutoff`` those units must reach (Student's t at 0.975, Welch's degrees of freedom)."""

    better: Group
    other: Group
    difference: float
    units: float  # NaN when a group has fewer than 2 runs: the spread is unknown
    cutoff: float = CLEAR  # NaN with the units

    @property
    def clear(self) -> bool:
        return self.units >= self.cutoff


def compare(a: Group, b: Group) -> Comparison:
    better, other = (a, b) if not b.best.mean < a.best.mean else (b, a)
    difference = other.best.mean - better.best.mean
    with np.errstate(all="ignore"):
        se = math.hypot(better.best.se, other.best.se)
    units = math.nan if math.isnan(se) or math.isnan(difference) else in_units(difference, se)
    cutoff = t_cutoff(welch_df(better.best, other.best))
    return Comparison(better, other, difference, units, cutoff)


def _runs_needed(comparison: Comparison) -> str:
    a, b = comparison.better.best.n, comparison.other.best.n
    return f"{a} runs per group" if a == b else f"{min(a, b)} and {max(a, b)} runs"


def group_label(setting: str, settings: Mapping[str, Any]) -> str:
    """A group's name from one run's ``settings``: ``"weight decay 0.001"``; ``"none"`` for a value of
    None, ``"weight decay not set"`` where the run did not say."""
    words = setting.replace("_", " ")
    if setting not in settings:
        return f"{words} not set"
    value = settings[setting]
    if value is None:
        return "none"
    if isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    if len(text) > LABEL_LENGTH:
        text = text[: LABEL_LENGTH - 1] + "…"
    return f"{words} {text}"


def format_pm(mean: float, se: float) -> tuple[str, str]:
    """``mean`` and ``se`` as the sentence writes them: the standard error to one significant digit
    (two when it starts with 1), the mean to the same decimal place; ``.3g`` beyond what that reads
    well for (an unknown, zero or enormous spread)."""
    if not (math.isfinite(mean) and math.isfinite(se) and se > 0):
        return f"{mean:.3g}", "?" if math.isnan(se) else f"{se:.2g}"
    decimals = -math.floor(math.log10(se))
    if se * 10.0**decimals < 2:
        decimals += 1
    if not 0 <= decimals <= 12 or abs(mean) >= 1e6:
        return f"{mean:.3g}", f"{se:.2g}"
    return f"{mean:.{decimals}f}", f"{se:.{decimals}f}"


def _group_words(group: Group) -> str:
    best = group.best
    if best.n == 0:
        return f"{group.label}: no validation loss yet"
    if best.n == 1:
        return f"{group.label}: best {best.mean:.3g} from 1 run (the run-to-run spread needs 2)"
    mean, se = format_pm(best.mean, best.se)
    return f"{group.label}: best {mean} ± {se} over {best.n} runs"


def _how_clear(comparison: Comparison) -> str:
    """``", 2.5 standard errors, below the 2.8 that 3 runs per group need: not clear yet"``."""
    if math.isnan(comparison.units):
        return ": how clear it is needs 2 runs in each group"
    if math.isinf(comparison.units):
        return ", infinitely many standard errors (the runs did not vary): clear"
    side = "above" if comparison.clear else "below"
    cutoff = f"the {comparison.cutoff:.1f} that {_runs_needed(comparison)} need"
    verdict = "clear" if comparison.clear else "not clear yet"
    return f", {comparison.units:.1f} standard errors, {side} {cutoff}: {verdict}"


def sentence(groups: Sequence[Group]) -> str:
    """What a teacher reads aloud: each group's best validation loss (mean ± one standard error across
    runs, lowest first), then how far each other group is above the lowest, with the verdict and the
    size of every difference (two groups: the one difference)."""
    ranked = sorted(groups, key=lambda g: (math.isnan(g.best.mean), g.best.mean))
    if not ranked:
        return "No runs yet."
    parts = "; ".join(_group_words(group) for group in ranked)
    measured = [group for group in ranked if group.best.n > 0]
    if len(measured) < 2:
        return parts + "." + ("" if len(ranked) > 1 else " One group: nothing to compare yet.")
    lowest = measured[0]
    if len(measured) == 2:
        comparison = compare(lowest, measured[1])
        return f"{parts}; the difference is {comparison.difference:.2g}{_how_clear(comparison)}."
    each = "; ".join(
        f"{c.other.label} +{c.difference:.2g}{_how_clear(c)}" for c in (compare(lowest, g) for g in measured[1:])
    )
    return f"{parts}. Each against {lowest.label} (the lowest): {each}."


def mean_curve(curves: Iterable[tuple[Any, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The runs' mean curve: for each epoch any run logged a finite value at, (epochs, mean, standard
    error across the runs that have it (NaN where fewer than 2), how many). Cost linear in the values."""
    epochs_list, values_list = [], []
    for epochs, values in curves:
        epochs = np.asarray(epochs, dtype=np.int64).reshape(-1)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        finite = np.isfinite(values)
        epochs_list.append(epochs[finite])
        values_list.append(values[finite])
    if not epochs_list or sum(e.size for e in epochs_list) == 0:
        empty = np.empty(0)
        return np.empty(0, dtype=np.int64), empty, empty, np.empty(0, dtype=np.int64)
    epochs, values = np.concatenate(epochs_list), np.concatenate(values_list)
    unique, index = np.unique(epochs, return_inverse=True)
    count = np.bincount(index)
    with np.errstate(all="ignore"):
        mean = np.bincount(index, weights=values) / count
        squares = np.bincount(index, weights=(values - mean[index]) ** 2)
        se = np.where(count >= 2, np.sqrt(squares / np.maximum(count - 1, 1)) / np.sqrt(count), np.nan)
    return unique, mean, se, count
