"""What every sentence about the curves reads: each curve's noise and trend, and where the latest
validation value sits against the best one, in that noise's units. Pure numpy, from a history.

One estimator of noise, used by the diagnosis and the advice alike (so that no two sentences on
one screen quote two noises): over a curve's recent window (its last half, at least ``WINDOW``
finite values, all of them when fewer), the successive differences less their median (a trend's
step per epoch), scaled median absolute value, divided by √2. For values ``trend + e`` with white
noise ``e`` of standard deviation σ it reads σ, robustly: one wild epoch does not move it
(``tests/test_evidence.py`` checks it on simulated curves of known σ). The trend is the
least-squares slope over the same window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from losswidget.core.replay import best_of
from losswidget.core.smoothing import smooth

__all__ = [
    "CurveEvidence",
    "Evidence",
    "RiseTest",
    "curve_evidence",
    "in_units",
    "noise_of",
    "read_evidence",
    "rise_test",
    "sample_mean",
]

WINDOW = 8  # the fewest recent epochs a noise is read from
CLEAR = 2.0  # a change of at least this many noise units is beyond what noise alone makes


def noise_of(values: Any) -> float:
    """The epoch-to-epoch noise of ``values`` (finite, in order): 0.0 with fewer than 3."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 3:
        return 0.0
    with np.errstate(all="ignore"):  # values near float64's limit: an infinite noise, said as such
        steps = np.diff(values)
        return float(1.4826 * np.median(np.abs(steps - np.median(steps))) / math.sqrt(2.0))


def in_units(change: float, scale: float) -> float:
    """``change`` in units of ``scale`` (a noise, a standard error): inf when the scale is 0 and the
    change is not, 0 when both are."""
    if scale > 0:
        return change / scale
    return 0.0 if change == 0 else math.copysign(math.inf, change)


def _recent(values: np.ndarray) -> np.ndarray:
    return values[-max(WINDOW, values.size // 2) :]


@dataclass(frozen=True)
class CurveEvidence:
    """One curve's recent window: ``noise`` and ``trend`` (per epoch) over its last ``window`` epochs."""

    noise: float
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
    return CurveEvidence(noise=noise_of(recent), trend=trend, window=int(recent.size))


@dataclass(frozen=True)
class Evidence:
    """The readings of one moment of a run (``read_evidence``)."""

    train: CurveEvidence | None
    val: CurveEvidence | None
    best_epoch: int | None  # early stopping's best epoch (its owner's, or best_of's rule)
    best: float  # its value (NaN: none)
    latest: float  # the last finite validation value (NaN: none)

    @property
    def rise(self) -> float:
        """How far the latest validation value sits above the best (0 at the best)."""
        return self.latest - self.best if math.isfinite(self.latest) else math.nan

    def in_noise(self, change: float) -> float:
        """``change`` in validation-noise units (inf when the noise is 0 and the change is not)."""
        return in_units(change, self.val.noise if self.val is not None else 0.0)

    def sureness(self, change: float) -> str:
        """How sure a sentence about ``change`` (in validation loss) can be, in words."""
        units = abs(self.in_noise(change))
        if units >= CLEAR:
            return "larger than the noise makes"
        if units >= 1:
            return "could still be noise"
        return "within the noise"


_REPLAY = object()  # read_evidence's default: no owner was asked, replay early stopping's rule


def read_evidence(history: Any, best: Any = _REPLAY) -> Evidence:
    """The evidence of ``history`` now (a History, or anything with ``epochs``, ``train``, ``val``).
    ``best``: the (epoch, value) its owner (a monitor's early stopping) has, or None before one; by
    default replayed with early stopping's rule (:func:`~losswidget.core.stopping.best_of`)."""
    epochs = np.asarray(history.epochs)
    train = np.asarray(history.train, dtype=np.float64)
    val = np.asarray(history.val, dtype=np.float64)
    finite = val[np.isfinite(val)]
    best_pair = best_of(val, epochs) if best is _REPLAY else best
    best_epoch, best = best_pair if best_pair is not None else (None, math.nan)
    latest = float(finite[-1]) if finite.size else math.nan
    return Evidence(curve_evidence(train), curve_evidence(val), best_epoch, float(best), latest)


def flat_since_epoch(epochs: np.ndarray, values: np.ndarray, window: int, noise: float) -> tuple[int | None, float]:
    """(Epoch from which ``values`` stopped falling meaningfully, or None if still falling; the
    smallest drop the noise lets this window see, as a share of the loss). ``noise``: the curve's,
    from the evidence."""
    smoothed = smooth(values, window)
    recent = max(5, values.size // 4)
    if values.size < recent + 1:
        return None, 0.0
    drop = smoothed[-recent - 1] - smoothed[-1]
    # Still falling: the smoothed drop beats twice the noise of a difference of two window means
    # (noise * sqrt(2 / window)), and 1 % of the value.
    threshold = max(CLEAR * noise * np.sqrt(2.0 / window), 0.01 * abs(smoothed[-1]))
    resolution = threshold / abs(smoothed[-1]) if smoothed[-1] else 0.0
    if drop >= threshold:
        return None, resolution
    return int(epochs[-recent - 1]), resolution


# -- validation losses per example: the noise from the data itself ------------------------------


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

    def sentence(self, best_epoch: int) -> str:
        """ "Validation +0.06 since the best epoch 19: 3.1 standard errors (paired, the same 400
        examples): a real change." """
        how = f"paired, the same {self.n} examples" if self.paired else f"{self.n} examples, unpaired"
        units = self.units
        verdict = "a real change" if abs(units) >= CLEAR else "could be noise"
        return (
            f"Validation {self.rise:+.3g} since the best epoch {best_epoch}: {abs(units):.1f} standard errors "
            f"({how}): {verdict}."
        )


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
