"""Wobble-aware advice: a patience and a smoothing window the validation curve's own epoch-to-epoch
wobble won't fool.

From the recent validation losses (the last half of the run, at least 8 epochs), read by
:mod:`losswidget.core.evidence`, the same readings the diagnosis quotes:

- ``wobble``: the epoch-to-epoch wobble (the evidence's one estimator);
- ``slope``: the straight-line trend, per epoch (negative: still improving);
- ``patience``: epochs for the trend to carry the loss ``4 * wobble`` lower, ``ceil(4 * wobble /
  -slope)`` (the best so far is itself a lucky low, and the next value must beat it despite its own
  wobble): a shorter patience can stop on a wobble while the model is still improving. On simulated
  curves (trend -0.01, wobble 0.02, 60 epochs, advice from the first 30) patience 2 stops early in
  every run, the advised one in about one run in eight (tests/test_advice.py);
- ``smoothing``: the trailing window that balances what it removes (wobble, ``wobble / sqrt(w)``)
  against what it distorts (lag on the trend, ``-slope * w / 2``): ``(2 * wobble / -slope) ** (2/3)``.

No advice while the trend is flat or rising (early stopping should then fire: the patience is not
the question) or the wobble is negligible (under 0.1 % of the loss). The status gives it only while
the diagnosis says the model is learning: beside "plateau" or "overfitting" a longer patience would
contradict the verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from losswidget.core.evidence import CurveEvidence, curve_evidence
from losswidget.core.words import WOBBLE, number, signed

__all__ = ["Advice", "wobble_advice"]

MIN_EPOCHS = 8
LIMIT = 100  # patience and smoothing advised at most this large


@dataclass(frozen=True)
class Advice:
    wobble: float
    slope: float
    patience: int
    smoothing: int

    def short(self, patience: int | None, smoothing: int = 1) -> str:
        """What to do, for the status's last sentence ("" when the patience in use is enough).
        ``patience``: the one in use (None: early stopping off); ``smoothing``: the chart's."""
        if patience is None or patience >= self.patience:
            return ""
        see = f" and smoothing {self.smoothing} to see the trend" if self.smoothing > smoothing else ""
        return (
            f"with patience {patience} a {WOBBLE} could stop the run while it still improves: "
            f"try patience ≥ {self.patience}{see}"
        )

    def text(self, patience: int | None, smoothing: int = 1, acts: bool = True) -> str:
        """The numbers behind it, for ``monitor.explain()``. ``acts``: early stopping can still act on
        this run (else the patience is said as what would ride the wobble out, no warning)."""
        head = (
            f"Validation {WOBBLE} ≈ {number(self.wobble)} per epoch (epoch to epoch), "
            f"trend {signed(self.slope)} per epoch"
        )
        advice = self.short(patience, smoothing) if acts else ""
        if advice:
            return f"{head}: {advice}."
        return f"{head}: patience ≥ {self.patience} rides it out."


def wobble_advice(val: np.ndarray, evidence: CurveEvidence | None = None) -> Advice | None:
    """The advice for validation losses ``val``; ``evidence``: their
    :func:`~losswidget.core.evidence.curve_evidence`, when the caller has it."""
    values = np.asarray(val, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size < MIN_EPOCHS:
        return None
    reading = curve_evidence(values) if evidence is None else evidence
    if reading is None:
        return None
    wobble, slope = reading.wobble, reading.trend
    level = float(np.median(np.abs(values[-reading.window :])))
    if slope >= 0 or wobble <= 1e-3 * level:
        return None
    ratio = 2.0 * wobble / -slope
    patience = min(LIMIT, max(1, math.ceil(2.0 * ratio)))
    smoothing = min(LIMIT, max(1, round(ratio ** (2.0 / 3.0))))
    return Advice(wobble=wobble, slope=float(slope), patience=patience, smoothing=smoothing)
