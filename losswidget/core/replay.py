"""Early stopping replayed over recorded values: where a patience would stop (the patience slider's
"what if") and which epoch the rule calls best (a history read back, a followed log), by the one
rule of :class:`~losswidget.core.stopping.EarlyStopping`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from losswidget.core.stopping import NEVER, EarlyStopping

__all__ = ["DIFF_SE", "best_of", "recorded_ses", "would_stop_at"]

DIFF_SE = "val_diff_se"  # the history column: each epoch's standard error against the best before it


def recorded_ses(history: Any, min_delta_se: float) -> np.ndarray | None:
    """The standard errors a replay with ``min_delta_se`` needs: the ones the run recorded (``DIFF_SE``,
    which a monitor with ``min_delta_se`` writes from its second validation epoch on), else None."""
    return history[DIFF_SE] if min_delta_se and DIFF_SE in history else None


def would_stop_at(
    values: Iterable[float],
    patience: int,
    min_delta: float = 0.0,
    mode: str = "min",
    start_from_epoch: int = 0,
    check_finite: bool = True,
    min_delta_se: float = 0.0,
    ses: Any = None,
) -> int | None:
    """Index at which :class:`EarlyStopping` would first stop on ``values``, or None.

    The patience slider's "what if": replays the recorded history. ``ses``: each value's standard
    error against the best before it (a history's ``val_diff_se``), which ``min_delta_se`` needs.
    """
    stopper = EarlyStopping(patience, min_delta, mode, start_from_epoch, check_finite, min_delta_se)
    ses = _ses_for(values, ses)
    for index, value in enumerate(values):
        if stopper.update(value, se=None if ses is None else ses[index]):
            return index
    return None


def _ses_for(values: Any, ses: Any) -> np.ndarray | None:
    if ses is None:
        return None
    ses = np.asarray(ses, dtype=np.float64).reshape(-1)
    if ses.size != len(values):
        raise ValueError(f"'ses' must have one standard error per value: {ses.size} for {len(values)} values")
    return ses


def best_of(
    values: Any,
    epochs: Any = None,
    min_delta: float = 0.0,
    mode: str = "min",
    min_delta_se: float = 0.0,
    ses: Any = None,
) -> tuple[int, float] | None:
    """(epoch, value) that early stopping would call best on ``values``, or None.

    The one rule of the best epoch (min_delta and min_delta_se aware, first of equals), for a history
    read back or followed from a file: NaN (not logged) and inf values are skipped, as a monitor's
    decision never takes them for best. ``epochs`` names each value (default: its index); ``ses`` as
    in :func:`would_stop_at`.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    epochs = np.arange(values.size) if epochs is None else np.asarray(epochs).reshape(-1)
    if epochs.shape != values.shape:
        raise ValueError(f"'epochs' must have one number per value: {epochs.size} for {values.size} values")
    ses = _ses_for(values, ses)
    stopper = EarlyStopping(NEVER, min_delta, mode, check_finite=False, min_delta_se=min_delta_se)
    for row in np.flatnonzero(np.isfinite(values)):
        stopper.update(float(values[row]), int(epochs[row]), None if ses is None else float(ses[row]))
    return stopper.best_pair
