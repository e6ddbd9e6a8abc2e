"""Groups of runs and their run-to-run spread (DESIGN.md §8, the third question: would setting A
beat setting B if we trained again?).

Each run gives one number (its best validation loss); a group's number is their mean, and its
uncertainty the standard error of that mean *across runs*: ``std(ddof=1) / sqrt(n)``. It says
nothing about the sampling error of one validation set nor about the epoch-to-epoch wobble of one
curve. Two groups differ clearly when their means are at least :data:`~losswidget.core.evidence.CLEAR`
standard errors of the difference apart (``sqrt(se_a² + se_b²)``, runs independent); the sentence
always says the size of the difference beside the verdict.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from losswidget.core.evidence import CLEAR, in_units

__all__ = ["Comparison", "Group", "Spread", "compare", "format_pm", "group_label", "mean_curve", "sentence", "spread"]

LABEL_LENGTH = 40  # a setting's value in a label: a longer one is shortened (a student's input)


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
    """The lower group against the next: ``difference`` (>= 0) and it in standard errors of the difference."""

    better: Group
    other: Group
    difference: float
    units: float  # NaN when a group has fewer than 2 runs: the spread is unknown

    @property
    def clear(self) -> bool:
        return self.units >= CLEAR


def compare(a: Group, b: Group) -> Comparison:
    better, other = (a, b) if not b.best.mean < a.best.mean else (b, a)
    difference = other.best.mean - better.best.mean
    with np.errstate(all="ignore"):
        se = math.hypot(better.best.se, other.best.se)
    units = math.nan if math.isnan(se) or math.isnan(difference) else in_units(difference, se)
    return Comparison(better, other, difference, units)


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


def sentence(groups: Sequence[Group]) -> str:
    """What a teacher reads aloud: each group's best validation loss (mean ± one standard error across
    runs, lowest first), then how far the lowest is from the next, with the verdict and the size."""
    ranked = sorted(groups, key=lambda g: (math.isnan(g.best.mean), g.best.mean))
    if not ranked:
        return "No runs yet."
    parts = "; ".join(_group_words(group) for group in ranked)
    measured = [group for group in ranked if group.best.n > 0]
    if len(measured) < 2:
        return parts + "." + ("" if len(ranked) > 1 else " One group: nothing to compare yet.")
    comparison = compare(measured[0], measured[1])
    which = (
        "the difference"
        if len(measured) == 2
        else f"the lowest two differ ({measured[0].label} vs {measured[1].label})"
    )
    size = f"{which} by {comparison.difference:.2g}" if len(measured) > 2 else f"{which} is {comparison.difference:.2g}"
    if math.isnan(comparison.units):
        return f"{parts}; {size}: how clear it is needs 2 runs in each group."
    if math.isinf(comparison.units):
        units = "infinitely many standard errors (the runs did not vary)"
    else:
        units = f"{comparison.units:.1f} standard errors"
    verdict = "clear" if comparison.clear else "not clear yet"
    return f"{parts}; {size}, {units}: {verdict}."


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
