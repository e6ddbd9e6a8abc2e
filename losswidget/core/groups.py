"""Groups of runs and their run-to-run spread (DESIGN.md §8, the third question: would setting A
beat setting B if we trained again?).

Each run gives one number: its validation loss at the last epoch every run of the class reached
(:func:`class_groups`: one epoch for all, fixed by that rule rather than picked from the curves), and
second its own lowest validation loss (which flatters it: picked after seeing the curve). A group's
number is their mean, and its uncertainty the standard error of that mean *across runs*:
``std(ddof=1) / sqrt(n)``. It says
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
from losswidget.core.student_t import t_cutoff, welch_df

__all__ = [
    "CLEAR",
    "MEANING",
    "Comparison",
    "Group",
    "Spread",
    "class_groups",
    "compare",
    "format_pm",
    "group_label",
    "mean_curve",
    "sentence",
    "shared_epoch",
    "spread",
    "t_cutoff",
    "value_at",
    "welch_df",
]

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
    last: Spread | None = None  # at the last epoch every run of the class reached (:func:`class_groups`)


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
    return f"these two groups of {a} runs" if a == b else f"groups of {min(a, b)} and {max(a, b)} runs"


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
    """``mean`` and ``se`` as the sentence writes them, to the same decimal place: the standard error's
    first significant digit (two when it starts with 1) or the mean's third, whichever is finer, so
    that the differences the sentence quotes can be checked from the means; ``.3g`` beyond what that
    reads well for (an unknown, zero or enormous spread)."""
    if not (math.isfinite(mean) and math.isfinite(se) and se > 0):
        return f"{mean:.3g}", "?" if math.isnan(se) else f"{se:.2g}"
    decimals = -math.floor(math.log10(se))
    if se * 10.0**decimals < 2:
        decimals += 1
    if mean != 0:  # the mean's third significant digit, up to 2 places finer than the standard error's
        decimals = max(decimals, min(2 - math.floor(math.log10(abs(mean))), decimals + 2))
    if not 0 <= decimals <= 12 or abs(mean) >= 1e6:
        return f"{mean:.3g}", f"{se:.2g}"
    return f"{mean:.{decimals}f}", f"{se:.{decimals}f}"


def _group_words(group: Group, word: str = "best ") -> str:
    best = group.best
    if best.n == 0:
        return f"{group.label}: no validation loss yet"
    if best.n == 1:
        return f"{group.label}: {word}{best.mean:.3g} from 1 run (the run-to-run spread needs 2)"
    mean, se = format_pm(best.mean, best.se)
    return f"{group.label}: {word}{mean} ± {se} over {best.n} runs"


def _how_clear(comparison: Comparison) -> str:
    """``", 2.5 standard errors, below the 2.8 that these two groups of 3 runs need with their spreads: not
    clear yet"`` (Student's t with Welch's degrees of freedom: the cutoff depends on the two groups' spreads)."""
    if math.isnan(comparison.units):
        return ": how clear it is needs 2 runs in each group"
    if math.isinf(comparison.units):
        return ", infinitely many standard errors (the runs did not vary): clear"
    side = "above" if comparison.clear else "below"
    cutoff = f"the {comparison.cutoff:.1f} that {_runs_needed(comparison)} need with their spreads"
    verdict = "clear" if comparison.clear else "not clear yet"
    return f", {comparison.units:.1f} standard errors, {side} {cutoff}: {verdict}"


def sentence(groups: Sequence[Group], epoch: int | None = None, left_out: Sequence[str] = ()) -> str:
    """What a teacher reads aloud. With ``epoch`` (:func:`class_groups`: the last epoch every run
    reached) and each group's ``last``: the groups' validation loss at that one epoch (mean ± one
    standard error of the group's mean, lowest first), how far each other group is above the lowest
    there, with the verdict and the size of every difference; then, second and without verdicts, the
    mean of each run's own lowest point. Without: the same comparison of the lowest points.
    ``left_out``: the names of runs not in ``groups`` (runs that stopped short without finishing), said."""
    if epoch is not None and groups and all(group.last is not None for group in groups):
        at = [Group(group.label, group.last) for group in groups]  # type: ignore[arg-type]
        every = "every run compared" if left_out else "every run"
        said = f"At epoch {epoch}, the last epoch {every} reached: {_ranked(at, '')}"
        lowest = sorted(groups, key=lambda g: (math.isnan(g.best.mean), g.best.mean))
        points = ", ".join(f"{g.label} {g.best.mean:.3g}" for g in lowest if g.best.n > 0)
        said = f"{said} Each run's lowest point, averaged (it flatters): {points}."
    else:
        said = _ranked(groups, "best ")
    if left_out:
        names = ", ".join(left_out[:5]) + (f" and {len(left_out) - 5} more" if len(left_out) > 5 else "")
        runs = "1 run" if len(left_out) == 1 else f"{len(left_out)} runs"
        said += f" Not compared: {runs} that stopped short without finishing ({names})."
    return said


def _ranked(groups: Sequence[Group], word: str) -> str:
    ranked = sorted(groups, key=lambda g: (math.isnan(g.best.mean), g.best.mean))
    if not ranked:
        return "No runs yet."
    parts = "; ".join(_group_words(group, word) for group in ranked)
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


def shared_epoch(curves: Iterable[tuple[Any, Any]]) -> int | None:
    """The last epoch at which every curve (``(epochs, values)``) with a finite value has one: the one
    epoch a class's runs are compared at. None when no curve has a finite value or they share none."""
    shared: set[int] | None = None
    for epochs, values in curves:
        epochs = np.asarray(epochs, dtype=np.int64).reshape(-1)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        finite = set(epochs[np.isfinite(values)].tolist())
        if finite:
            shared = finite if shared is None else shared & finite
    return max(shared) if shared else None


def value_at(epochs: Any, values: Any, epoch: int | None) -> float:
    """A curve's value at ``epoch`` (NaN where it has none there)."""
    epochs = np.asarray(epochs, dtype=np.int64).reshape(-1)
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    hit = np.flatnonzero(epochs == epoch) if epoch is not None else []
    return float(values[hit[-1]]) if len(hit) else math.nan


def class_groups(runs: Iterable[tuple[str, Any, Any, float]]) -> tuple[list[Group], int | None]:
    """A class's groups from its runs, ``(group label, epochs, validation losses, best value)`` each:
    every group with its runs' best values (``best``) and their values at the last epoch every run
    reached (``last``), and that epoch (None before every run has a validation loss at one epoch)."""
    runs = list(runs)
    epoch = shared_epoch((epochs, values) for _, epochs, values, _ in runs)
    best: dict[str, list[float]] = {}
    last: dict[str, list[float]] = {}
    for label, epochs, values, lowest in runs:
        best.setdefault(label, []).append(lowest)
        last.setdefault(label, []).append(value_at(epochs, values, epoch))
    kept = None if epoch is None else last
    return [
        Group(label, spread(values), None if kept is None else spread(kept[label])) for label, values in best.items()
    ], epoch


MEANING = (
    "± is one standard error of the group's mean (from the run-to-run spread); the averaged lowest points "
    "carry no ±. The epoch compared is the last one every run reached (a run that stopped short without "
    "finishing is left out, named): fixed by that rule, not picked from the curves. The chart's bands are "
    "± 2 standard errors at each epoch. A difference is clear beyond Student's t for the runs there are "
    "(for 3 runs a group 2.8 standard errors when the groups spread alike, up to 4.3 when one spreads far "
    "more; near 2 for 30): with a few runs, bands that just miss each other are not yet a clear difference."
)


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
