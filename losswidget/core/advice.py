"""Noise-aware advice: a patience and a smoothing window the validation curve's own noise won't fool.

From the recent validation losses (the last half of the run, at least 8 epochs), read by
:mod:`losswidget.core.evidence`, the same readings the diagnosis quotes:

- ``noise``: the epoch-to-epoch noise (the evidence's one estimator);
- ``slope``: the straight-line trend, per epoch (negative: still improving);
- ``patience``: epochs for the trend to carry the loss ``4 * noise`` lower, ``ceil(4 * noise /
  -slope)`` (the best so far is itself a lucky low, and the next value must beat it despite its own
  noise): a shorter patience can stop on a noisy bump while the model is still improving. On
  simulated curves (trend -0.01, noise 0.02, 60 epochs, advice from the first 30) patience 2 stops
  early in every run, the advised one in about one run in eight (tests/test_advice.py);
- ``smoothing``: the trailing window that balances what it removes (noise, ``noise / sqrt(w)``)
  against what it distorts (lag on the trend, ``-slope * w / 2``): ``(2 * noise / -slope) ** (2/3)``.

No advice while the trend is flat or rising (early stopping should then fire: the patience is not
the question) or the noise is negligible (under 0.1 % of the loss).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from losswidget.core.evidence import CurveEvidence, curve_evidence

__all__ = ["Advice", "noise_advice"]

MIN_EPOCHS = 8
LIMIT = 100  # patience and smoothing advised at most this large


@dataclass(frozen=True)
class Advice:
    noise: float
    slope: float
    patience: int
    smoothing: int

    def text(self, patience: int | None) -> str:
        """One status line; ``patience`` is the one in use (None: early stopping off)."""
        head = f"Validation noise ≈ {self.noise:.2g} per epoch, trend {self.slope:+.2g} per epoch: "
        if patience is not None and patience < self.patience:
            return (
                f"{head}with patience {patience} a noisy bump could stop you early; try ≥ {self.patience} "
                f"(and smoothing {self.smoothing} to see the trend)."
            )
        return f"{head}patience ≥ {self.patience} and smoothing {self.smoothing} are not fooled by it."


def noise_advice(val: np.ndarray, evidence: CurveEvidence | None = None) -> Advice | None:
    """The advice for validation losses ``val``; ``evidence``: their
    :func:`~losswidget.core.evidence.curve_evidence`, when the caller has it."""
    values = np.asarray(val, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size < MIN_EPOCHS:
        return None
    reading = curve_evidence(values) if evidence is None else evidence
    if reading is None:
        return None
    noise, slope = reading.noise, reading.trend
    level = float(np.median(np.abs(values[-reading.window :])))
    if slope >= 0 or noise <= 1e-3 * level:
        return None
    ratio = 2.0 * noise / -slope
    patience = min(LIMIT, max(1, math.ceil(2.0 * ratio)))
    smoothing = min(LIMIT, max(1, round(ratio ** (2.0 / 3.0))))
    return Advice(noise=noise, slope=float(slope), patience=patience, smoothing=smoothing)
