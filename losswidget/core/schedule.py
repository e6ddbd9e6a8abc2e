"""What a learning-rate schedule explains: where the recorded rate (``lr``) changed, and the sentence
the diagnosis adds when the curves bend right after a change (a ``ReduceLROnPlateau`` cut is the
most common reason a flat loss suddenly drops, and a plateau right after a cut is the smaller steps
settling, not the model's limit)."""

from __future__ import annotations

import numpy as np


def rate_changes(epochs: np.ndarray, rates: np.ndarray) -> list[tuple[int, float]]:
    """(epoch, new rate / old rate) wherever a positive rate differs from the one before it."""
    rates = np.asarray(rates, dtype=np.float64)
    kept = np.flatnonzero(np.isfinite(rates) & (rates > 0))
    return _changes(epochs, rates, kept)


def _changes(epochs: np.ndarray, rates: np.ndarray, kept: np.ndarray, limit: int | None = None) -> list:
    """The changes between consecutive rows of ``kept`` (rows with a positive rate): the rates differ
    beyond ``math.isclose(old, new, rel_tol=1e-9)``. With ``limit``, only the first ``limit``."""
    before, after = kept[:-1], kept[1:]
    rows = np.flatnonzero(_changed(rates, kept))[:limit]
    return [(int(epochs[after[k]]), float(rates[after[k]] / rates[before[k]])) for k in rows]


def _changed(rates: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Which consecutive pairs of ``kept`` rows differ (see :func:`_changes`)."""
    old, new = rates[kept[:-1]], rates[kept[1:]]
    return np.abs(new - old) > 1e-9 * np.maximum(old, new)


class RateChanges:
    """:func:`rate_changes` of a growing history, folded in as its rows settle (all but the last,
    which may still change): O(new rows) per call. The changes are kept only while there are at
    most ``limit`` (a rate that changes every epoch is read on its panel, not marked)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._settled = 0
        self._last: int | None = None  # the last settled row with a positive rate
        self._count = 0
        self._first: list[tuple[int, float]] = []  # the first limit + 1 changes

    def update(self, epochs: np.ndarray, rates: np.ndarray, settled: int) -> None:
        if settled <= self._settled:
            return
        new = rates[self._settled : settled]
        kept = np.flatnonzero(np.isfinite(new) & (new > 0)) + self._settled
        if self._last is not None:
            kept = np.concatenate(([self._last], kept))
        if kept.size > 1:
            self._count += int(np.count_nonzero(_changed(rates, kept)))
            if len(self._first) <= self.limit:
                self._first += _changes(epochs, rates, kept, self.limit + 1 - len(self._first))
        if kept.size:
            self._last = int(kept[-1])
        self._settled = settled

    def found(self, epochs: np.ndarray, rates: np.ndarray) -> list[tuple[int, float]] | None:
        """Every change, the last row's included, while there are at most ``limit``; else None."""
        if self._count > self.limit:
            return None
        changes = list(self._first)
        row = rates.size - 1
        if row >= self._settled and self._last is not None and np.isfinite(rates[row]) and rates[row] > 0:
            changes += _changes(epochs, rates, np.array([self._last, row]))
        return changes if len(changes) <= self.limit else None


def change_text(ratio: float) -> str:
    """A change as the chart labels it: "lr ×0.1"."""
    return f"lr ×{ratio:.3g}"


def history_changes(history) -> list[tuple[int, float]]:
    """Where a history's recorded learning rate (``lr``) last changed, as a one-item list; [] when it
    never changed or was not recorded. That is all the diagnosis reads (whether the rate changed,
    and its latest change), and a rate that changes every epoch would make the whole list of
    :func:`rate_changes` a Python object per epoch at every reading."""
    if "lr" not in getattr(history, "metric_names", ()):
        return []
    rates = np.asarray(history["lr"], dtype=np.float64)
    kept = np.flatnonzero(np.isfinite(rates) & (rates > 0))
    changed = np.flatnonzero(_changed(rates, kept))
    return _changes(np.asarray(history.epochs), rates, kept[changed[-1] : changed[-1] + 2]) if changed.size else []


CUT = 0.7  # a rate at most this share of the epoch before's is a cut; a smooth decay's steps are not


def rate_cuts(history) -> np.ndarray:
    """The epochs that first trained at a learning rate at most :data:`CUT` of the epoch before's (the
    rate each epoch trained with is recorded): real cuts, not the small steps of a smooth decay (a
    linear schedule's 0.8 % per epoch); empty where ``lr`` was not recorded."""
    if "lr" not in getattr(history, "metric_names", ()):
        return np.empty(0, dtype=np.int64)
    rates = np.asarray(history["lr"], dtype=np.float64)
    kept = np.flatnonzero(np.isfinite(rates) & (rates > 0))
    fell = rates[kept[1:]] <= CUT * rates[kept[:-1]]
    cuts = np.asarray(history.epochs)[kept[1:][fell]]
    # A cut steered mid-epoch is recorded in the rate of the epoch after: name the epoch it was made
    # in, as its event and the status do.
    made = {e.epoch for e in getattr(history, "events", ()) if e.kind == "lr" and e.new <= CUT * e.old}
    return np.asarray([cut - 1 if cut - 1 in made else cut for cut in cuts.tolist()], dtype=np.int64)


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
    if kind in ("plateau", "not clear yet"):  # a level validation curve after a cut, either way
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
