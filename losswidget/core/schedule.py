"""What a learning-rate schedule explains: where the recorded rate (``lr``) changed, and the sentence
the diagnosis adds when the curves bend right after a change (a ``ReduceLROnPlateau`` cut is the
most common reason a flat loss suddenly drops, and a plateau right after a cut is the smaller steps
settling, not the model's limit)."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np


def rate_changes(epochs: np.ndarray, rates: np.ndarray) -> list[tuple[int, float]]:
    """(epoch, new rate / old rate) wherever a positive rate differs from the one before it."""
    kept = np.flatnonzero(np.isfinite(rates) & (rates > 0))
    found = []
    for before, after in pairwise(kept):
        old, new = float(rates[before]), float(rates[after])
        if not math.isclose(old, new, rel_tol=1e-9):
            found.append((int(epochs[after]), new / old))
    return found


def change_text(ratio: float) -> str:
    """A change as the chart labels it: "lr ×0.1"."""
    return f"lr ×{ratio:.3g}"


def history_changes(history) -> list[tuple[int, float]]:
    """Where a history's recorded learning rate (``lr``) changed; [] without one."""
    if "lr" not in getattr(history, "metric_names", ()):
        return []
    return rate_changes(np.asarray(history.epochs), np.asarray(history["lr"], dtype=np.float64))


def plateau_advice(scheduled: bool) -> str:
    """What a plateau's diagnosis advises: a schedule, unless the run's learning rate already changed."""
    if scheduled:
        return "More epochs at this learning rate are unlikely to help."
    return "More epochs are unlikely to help; stop here, or try a learning-rate schedule."


def schedule_note(history, kind: str, changes: list[tuple[int, float]]) -> str:
    """The sentence a diagnosis of ``kind`` adds when the rate changed (``changes``, from
    :func:`history_changes`) in the recent quarter of the run (at least the last 5 epochs), or ""."""
    epochs = np.asarray(history.epochs)
    if not changes or not epochs.size or kind == "insufficient data":
        return ""
    recent = max(5, epochs.size // 4)
    epoch, ratio = changes[-1]
    if epoch < int(epochs[-1]) - recent:
        return ""
    where = f"at epoch {epoch} ({change_text(ratio)})"
    if ratio > 1:
        return f" The learning rate was raised {where}: a jump in the losses right after it is the schedule's doing."
    if kind == "plateau":
        now = float(np.asarray(history["lr"])[-1])
        return (
            f" The learning rate was cut {where}, to {now:.3g}: smaller steps move the loss less per epoch, so a "
            "plateau around a cut can be the schedule's doing rather than the model's limit."
        )
    if kind == "learning":
        return (
            f" The learning rate was cut {where}: a sudden drop right after it is the schedule's doing "
            "(smaller steps settle lower in the same valley), and it levels off again within a few epochs."
        )
    return ""
