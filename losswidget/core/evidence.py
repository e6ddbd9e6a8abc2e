"""What every sentence about the curves reads: each curve's epoch-to-epoch wobble and trend, where
the latest validation value sits against the best one in wobbles, and, where per-example losses were
logged, in standard errors of sampling error. Pure numpy, from a history. The words for the two are
:mod:`losswidget.core.words`'s: the wobble answers "is the curve still falling?", the sampling error
"are these weights worse on data like the validation set?".

One estimator of the wobble, used by the diagnosis and the advice alike (so that no two sentences
on one screen quote two wobbles): over a curve's recent window (its last half, at least ``WINDOW``
finite values, all of them when fewer), the second differences less their median (a bend's own
second difference), scaled median absolute value, divided by √6. For values ``trend + e`` with white
``e`` of standard deviation σ it reads σ, robustly: one wild epoch does not move it
(``tests/test_evidence.py`` checks it on simulated curves of known σ). Second, not first,
differences, so that a curve's bend is not read as wobble: lesson 04's smooth fall 2.10, 1.47, 0.85,
0.58, 0.40 … read 0.14 per epoch from its first differences, 0.027 from its second. The trend is the
least-squares slope over the same window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from losswidget.core.replay import DIFF_SE, best_of
from losswidget.core.smoothing import smooth
from losswidget.core.words import (
    REAL,
    SAMPLING_ERROR,
    in_standard_errors,
    number,
    sampling_verdict,
    signed,
    with_share,
    wobble_verdict,
)

__all__ = [
    "CurveEvidence",
    "Evidence",
    "RiseTest",
    "curve_evidence",
    "in_units",
    "level_since",
    "read_evidence",
    "rise_test",
    "sample_mean",
    "wobble_of",
]

WINDOW = 8  # the fewest recent epochs a wobble is read from
CLEAR = REAL  # a change of at least this many wobbles (or standard errors) is called real


def wobble_of(values: Any) -> float:
    """The epoch-to-epoch wobble of ``values`` (finite, in order): 0.0 with fewer than 4."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 4:
        return 0.0
    with np.errstate(all="ignore"):  # values near float64's limit: an infinite wobble, said as such
        bends = np.diff(values, 2)
        return float(1.4826 * np.median(np.abs(bends - np.median(bends))) / math.sqrt(6.0))


def in_units(change: float, scale: float) -> float:
    """``change`` in units of ``scale`` (a wobble, a standard error): inf when the scale is 0 and the
    change is not, 0 when both are."""
    if scale > 0:
        return change / scale
    return 0.0 if change == 0 else math.copysign(math.inf, change)


def _recent(values: np.ndarray) -> np.ndarray:
    return values[-max(WINDOW, values.size // 2) :]


@dataclass(frozen=True)
class CurveEvidence:
    """One curve's recent window: ``wobble`` and ``trend`` (per epoch) over its last ``window`` epochs."""

    wobble: float
    trend: float
    window: int


def curve_evidence(values: Any) -> CurveEvidence | None:
    """The evidence of one curve's finite values, or None with fewer than 3."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size < 3:
        return None
    recent = _recent(values)
    trend = float(np.polyfit(np.arange(recent.size, dtype=np.float64), recent, 1)[0])
    return CurveEvidence(wobble=wobble_of(recent), trend=trend, window=int(recent.size))


@dataclass(frozen=True)
class Evidence:
    """The readings of one moment of a run (``read_evidence``)."""

    train: CurveEvidence | None
    val: CurveEvidence | None
    best_epoch: int | None  # early stopping's best epoch (its owner's, or best_of's rule)
    best: float  # its value (NaN: none)
    latest: float  # the last finite validation value (NaN: none)
    latest_epoch: int | None = None  # the epoch of ``latest``
    # The latest epoch against the best in standard errors of sampling error: paired where the
    # monitor kept both epochs' per-example losses or the history recorded ``val_diff_se``, else
    # unpaired from its ``val_se``; None where
    # only one validation number per epoch was logged (its sampling error is unknown).
    sampling: RiseTest | None = None

    @property
    def rise(self) -> float:
        """How far the latest validation value sits above the best (0 at the best)."""
        return self.latest - self.best if math.isfinite(self.latest) else math.nan

    def in_wobbles(self, change: float) -> float:
        """``change`` in validation wobbles (inf when the wobble is 0 and the change is not)."""
        return in_units(change, self.val.wobble if self.val is not None else 0.0)

    def sureness(self, change: float) -> str:
        """How sure a sentence about ``change`` (in validation loss) can be against the wobble, in words."""
        return wobble_verdict(self.in_wobbles(change))


_REPLAY = object()  # read_evidence's default: no owner was asked, replay early stopping's rule


def read_evidence(history: Any, best: Any = _REPLAY, sampling: RiseTest | None = None) -> Evidence:
    """The evidence of ``history`` now (a History, or anything with ``epochs``, ``train``, ``val``).
    ``best``: the (epoch, value) its owner (a monitor's early stopping) has, or None before one; by
    default replayed with early stopping's rule (:func:`~losswidget.core.stopping.best_of`).
    ``sampling``: the paired test of the latest epoch against the best, where the caller kept their
    per-example losses; else read from the history: its ``val_diff_se`` (the paired test the monitor
    read, recorded), else its ``val_se`` (unpaired), where it has them."""
    epochs = np.asarray(history.epochs)
    train = np.asarray(history.train, dtype=np.float64)
    val = np.asarray(history.val, dtype=np.float64)
    rows = np.flatnonzero(np.isfinite(val))
    best_pair = best_of(val, epochs) if best is _REPLAY else best
    best_epoch, best = best_pair if best_pair is not None else (None, math.nan)
    latest = float(val[rows[-1]]) if rows.size else math.nan
    latest_epoch = int(epochs[rows[-1]]) if rows.size else None
    if sampling is None and best_epoch is not None and latest_epoch is not None:
        sampling = _recorded(history, epochs, best_epoch, latest_epoch, latest - float(best))
    return Evidence(curve_evidence(train), curve_evidence(val), best_epoch, float(best), latest, latest_epoch, sampling)


def _at(history: Any, name: str, epochs: np.ndarray, epoch: int) -> float:
    """``history[name]`` at ``epoch`` (NaN where the column or the value is missing)."""
    if name not in getattr(history, "metric_names", ()):
        return math.nan
    rows = np.flatnonzero(epochs == epoch)
    return float(np.asarray(history[name], dtype=np.float64)[rows[0]]) if rows.size else math.nan


def _recorded(history: Any, epochs: np.ndarray, best_epoch: int, latest_epoch: int, rise: float) -> RiseTest | None:
    """The latest epoch against the best from the standard errors a history recorded: the paired one
    (``val_diff_se``: the latest epoch's per-example losses against the best epoch's before it, as the
    monitor tested them) where recorded, else the two epochs' ``val_se`` combined (unpaired)."""
    if latest_epoch == best_epoch:
        return None
    best_se, latest_se = _at(history, "val_se", epochs, best_epoch), _at(history, "val_se", epochs, latest_epoch)
    unpaired = math.hypot(best_se, latest_se)
    difference = _at(history, DIFF_SE, epochs, latest_epoch)
    # A run with min_delta_se records the combined standard error where the two epochs' examples
    # differed: that one is not paired.
    if math.isfinite(difference) and not math.isclose(difference, unpaired, rel_tol=1e-9):
        return RiseTest(rise, difference, 0, True)
    if not math.isfinite(unpaired):
        return None
    return RiseTest(rise, unpaired, 0, False)


def flat_since_epoch(epochs: np.ndarray, values: np.ndarray, window: int, wobble: float) -> tuple[int | None, float]:
    """(Epoch from which ``values`` stopped falling meaningfully, or None if still falling; the
    smallest drop the wobble lets this window see, as a share of the loss). ``wobble``: the curve's
    wobble, from the evidence."""
    smoothed = smooth(values, window)
    recent = max(5, values.size // 4)
    if values.size < recent + 1:
        return None, 0.0
    drop = smoothed[-recent - 1] - smoothed[-1]
    threshold = _level(smoothed, window, wobble)  # still falling: the smoothed drop beats it
    resolution = threshold / abs(smoothed[-1]) if smoothed[-1] else 0.0
    if drop >= threshold:
        return None, resolution
    return int(epochs[-recent - 1]), resolution


def level_since(epochs: np.ndarray, values: np.ndarray, window: int, wobble: float, flat_since: int) -> int:
    """Where the chart goes level, for the words: back from ``flat_since`` (where the test's window
    begins) while the smoothed curve stays within :func:`flat_since_epoch`'s threshold of its end (lesson
    05 read "stayed level since epoch 29" beside a curve flat from epoch 5)."""
    smoothed = smooth(values, window)
    outside = np.flatnonzero(np.abs(smoothed - smoothed[-1]) >= _level(smoothed, window, wobble))
    start = int(np.flatnonzero(epochs == flat_since)[0])
    return int(epochs[min(int(outside[-1]) + 1 if outside.size else 0, start)])


def _level(smoothed: np.ndarray, window: int, wobble: float) -> float:
    """The smallest fall that is not level: twice the wobble of a difference of two window means
    (wobble * sqrt(2 / window)), and 1 % of the value."""
    return float(max(CLEAR * wobble * np.sqrt(2.0 / window), 0.01 * abs(smoothed[-1])))


# -- validation losses per example: the sampling error, from the data itself ------------------------------


def sample_mean(values: Any) -> tuple[float, float, int]:
    """(mean, its standard error, n) of per-example losses: ``std(ddof=1) / sqrt(n)``, the
    uncertainty of a validation loss measured on n examples. NaN standard error for n < 2."""
    sample = np.asarray(values, dtype=np.float64).reshape(-1)
    n = int(sample.size)
    if n == 0:
        raise ValueError("'val' per-example losses are empty: give one loss per validation example")
    mean = float(sample.mean())
    se = float(sample.std(ddof=1) / math.sqrt(n)) if n >= 2 else math.nan
    return mean, se, n


@dataclass(frozen=True)
class RiseTest:
    """The latest validation loss against the best epoch's, with its standard error."""

    rise: float  # latest minus best
    se: float  # the standard error of that difference
    n: int  # examples
    paired: bool  # the same examples at both epochs: the difference's own spread

    @property
    def units(self) -> float:
        return in_units(self.rise, self.se)

    def sentence(self, best_epoch: int, best: float | None = None) -> str:
        """ "Validation +0.06 since the best epoch 19: 3.1 standard errors (sampling error, paired,
        the same 400 examples): a real rise, 0.06 (12 %)." ``best``: the best value, for the share."""
        if self.paired:
            how = f"paired, the same {self.n} examples" if self.n else "paired"
        else:
            how = f"{self.n} examples, unpaired" if self.n else "unpaired"
        size = number(abs(self.rise)) if best is None else with_share(self.rise, best, "the best")
        direction = "rise" if self.rise >= 0 else "fall"
        if self.real:
            verdict = f"a real {direction}, {size}"
        elif self.borderline:
            verdict = f"borderline, too close to 2 standard errors to call either way, {size}"
        else:
            verdict = f"within the {SAMPLING_ERROR}"
        return (
            f"Validation {signed(self.rise)} since the best epoch {best_epoch}: "
            f"{in_standard_errors(self.units, how)}: {verdict}."
        )

    @property
    def real(self) -> bool:
        """Beyond the sampling error (above 2.3 standard errors as printed: words.sampling_verdict)."""
        return sampling_verdict(self.units).startswith("beyond")

    @property
    def borderline(self) -> bool:
        """Too close to 2 standard errors to call either way (1.7 to 2.3): said as not clear."""
        return sampling_verdict(self.units) == "borderline"


def rise_test(latest: Any, best: Any, latest_se: float, best_se: float) -> RiseTest:
    """How sure a rise since the best epoch is: paired (the per-example difference's standard error)
    when both samples cover the same examples, else the two standard errors combined."""
    latest = np.asarray(latest, dtype=np.float64).reshape(-1)
    best = np.asarray(best, dtype=np.float64).reshape(-1)
    rise = float(latest.mean() - best.mean())
    if latest.size == best.size and latest.size >= 2:
        difference = latest - best
        return RiseTest(rise, float(difference.std(ddof=1) / math.sqrt(difference.size)), int(latest.size), True)
    return RiseTest(rise, math.hypot(latest_se, best_se), int(latest.size), False)
