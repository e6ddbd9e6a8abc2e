"""The incremental state of one run's per-epoch series: which epochs a frame draws, their smoothed
values, the other metrics and the learning rates, so that building a frame costs the same at a
thousand or a hundred thousand epochs (a small full-batch run reaches 10^4 epochs in minutes).

A history only appends rows and changes its last one (an epoch that logs again merges into it): each
series here is folded in up to its second-to-last row, the *settled* rows, in amortised O(1) per
row, and its last row is read afresh at every frame. A frame then touches O(max_points) values.
"""

from __future__ import annotations

import math
import weakref

import numpy as np

from losswidget.chart.rates import MAX_MARKS
from losswidget.core.column import Column
from losswidget.core.decimate import Decimator
from losswidget.core.schedule import RateChanges
from losswidget.core.smoothing import smooth


class Smoothed:
    """A trailing moving average of one column (:func:`smooth`), extended over the settled rows."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._settled = Column()

    def update(self, values: np.ndarray, settled: int) -> None:
        done = len(self._settled)
        if done < settled:
            start = max(0, done - self.window + 1)  # the window before the new rows
            self._settled.extend(smooth(values[start:settled], self.window)[done - start :])

    def at(self, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The smoothed values at ``rows`` (sorted); the last row, if asked for, from its window alone."""
        last = values.size - 1
        if not rows.size or rows[-1] != last or last < len(self._settled):
            return self._settled.values[rows]
        tail = smooth(values[max(0, last - self.window + 1) :], self.window)[-1]
        return np.append(self._settled.values[rows[:-1]], tail)


class Extremes:
    """Min/max bins of one column's settled rows (:class:`Decimator`), whether it has a finite value,
    and (for a learning rate) its smallest and largest positive value."""

    def __init__(self, max_points: int, positive: bool = False) -> None:
        self._decimator = Decimator(max_points)
        self._positive = positive
        self._shown = Column()  # a rate's values with those <= 0 made NaN: what is drawn and binned
        self._settled = 0
        self._finite = False
        self.low, self.high = np.inf, -np.inf

    def update(self, values: np.ndarray, settled: int) -> None:
        if settled <= self._settled:
            return
        new = values[self._settled : settled]
        if self._positive:
            new = np.where(new > 0, new, np.nan)
            self._shown.extend(new)
        finite = new[np.isfinite(new)]
        if finite.size:
            self._finite = True
            self.low, self.high = min(self.low, float(finite.min())), max(self.high, float(finite.max()))
        self._settled = settled
        self._decimator.update(self._shown.values if self._positive else values[:settled])

    def has_finite(self, last: float) -> bool:
        return self._finite or bool(np.isfinite(last) and (last > 0 or not self._positive))

    def rows(self) -> np.ndarray:
        """The settled rows the bins keep: at most ``max_points``, sorted."""
        return self._decimator.indices()


class EpochCache:
    """Per-epoch series of one history, folded in incrementally (see the module's docstring)."""

    def __init__(self, max_points: int = 2000) -> None:
        self.max_points = max_points
        self.resets = -1  # how many times it started again (a new history): the replay's key
        self.reset()

    def reset(self) -> None:
        self.resets += 1
        self._history: weakref.ref | None = None
        self._settled = 0
        self.count = 0  # rows at the last update: what a frame reads (another thread may log meanwhile)
        self._first_epoch: int | None = None
        half = max(8, self.max_points // 2)  # train's and val's bins share the epochs drawn
        self._losses = {"train": Extremes(half), "val": Extremes(half)}
        self._smoothed: dict[str, Smoothed] = {}
        self._metrics: dict[str, Extremes] = {}
        self._rates: dict[str, Extremes] = {}
        self._changes = RateChanges(MAX_MARKS)
        self._infinite = 0  # infinities among the settled rows of train and val
        self._band = False  # a finite val_se among the settled rows

    def update(self, history) -> int:
        """Fold in the rows settled since the last call; returns the number of settled rows."""
        n = len(history)
        settled = max(n - 1, 0)
        same = self._history is not None and self._history() is history
        if not same or settled < self._settled or (n and int(history.epochs[0]) != self._first_epoch):
            self.reset()
            self._history = weakref.ref(history)
            self._first_epoch = int(history.epochs[0]) if n else None
        if settled > self._settled:
            for name in ("train", "val"):
                new = history[name][self._settled : settled]
                self._infinite += int(np.isinf(new).sum())
            if "val_se" in history:
                self._band = self._band or bool(np.isfinite(history["val_se"][self._settled : settled]).any())
            self._settled = settled
        for name, extremes in self._losses.items():
            extremes.update(history[name], settled)
        self.count = n
        return settled

    def column(self, history, name: str) -> np.ndarray:
        """``history[name]`` (or its ``epochs``) as of the last :meth:`update`."""
        return (history.epochs if name == "epochs" else history[name])[: self.count]

    def _last(self, history, name: str) -> float:
        return float(history[name][self.count - 1]) if self.count else math.nan

    # -- what a frame reads (each after :meth:`update`) ------------------------------------------

    def rows(self, history, best_epoch: int | None) -> np.ndarray:
        """The rows to draw: every row while there are at most ``max_points``, else train's and
        val's min/max bins, the last row and the best epoch's row (its marker sits on the line)."""
        n = self.count
        if n <= self.max_points:
            return np.arange(n)
        extra = [n - 1]
        if best_epoch is not None:
            epochs = self.column(history, "epochs")
            row = int(np.searchsorted(epochs, best_epoch))
            if row < n and int(epochs[row]) == best_epoch:
                extra.append(row)
        parts = (self._losses["train"].rows(), self._losses["val"].rows(), np.array(extra, dtype=np.int64))
        return np.unique(np.concatenate(parts))

    def smoothed(self, history, name: str, window: int, rows: np.ndarray) -> np.ndarray:
        series = self._smoothed.get(name)
        if series is None or series.window != window:
            series = self._smoothed[name] = Smoothed(window)
        values = self.column(history, name)
        series.update(values, self._settled)
        return series.at(values, rows)

    def non_finite(self, history) -> int:
        """Infinities in train and val (NaN there also means "not logged")."""
        return self._infinite + sum(math.isinf(self._last(history, name)) for name in ("train", "val"))

    def band_available(self, history) -> bool:
        """Whether the run logged a finite standard error of its validation loss."""
        if "val_se" not in history:
            return False
        return self._band or math.isfinite(self._last(history, "val_se"))

    def metric(self, history, name: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(epochs, values) of a metric to draw, or None while it has no finite value."""
        return self._drawn(self._metrics, history, name, positive=False)

    def rate(self, history, name: str) -> tuple[np.ndarray, np.ndarray, float, float] | None:
        """(epochs, rates, lowest, highest) of a learning rate to draw (values <= 0 as gaps), or None
        while it has no positive value or never changed."""
        drawn = self._drawn(self._rates, history, name, positive=True)
        if drawn is None:
            return None
        extremes, last = self._rates[name], self._last(history, name)
        low, high = extremes.low, extremes.high
        if np.isfinite(last) and last > 0:
            low, high = min(low, last), max(high, last)
        return (*drawn, low, high) if low != high else None

    def rate_changes(self, history) -> list[tuple[int, float]] | None:
        """Where ``lr`` changed (epoch, new / old), as :func:`losswidget.core.schedule.rate_changes`
        says, while at most ``MAX_MARKS`` times; else None."""
        epochs, rates = self.column(history, "epochs"), self.column(history, "lr")
        self._changes.update(epochs, rates, self._settled)
        return self._changes.found(epochs, rates)

    def _drawn(self, kept: dict[str, Extremes], history, name: str, positive: bool):
        extremes = kept.get(name)
        if extremes is None:
            extremes = kept[name] = Extremes(max(8, self.max_points - 1), positive)  # room for the last row
        values = self.column(history, name)
        extremes.update(values, self._settled)
        if not extremes.has_finite(self._last(history, name)):
            return None
        rows = np.arange(values.size) if values.size <= self.max_points else np.append(extremes.rows(), values.size - 1)
        y = values[rows]
        if positive:
            y = np.where(y > 0, y, np.nan)
        return history.epochs[rows].astype(np.float64), y
