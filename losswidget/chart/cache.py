"""The incremental state of one run's chart: step decimation and smoothing, the per-epoch series
(:mod:`losswidget.chart.epochs`), the loss axis kept while it still fits, and the "what if" replay,
so that building a frame costs the same at a thousand or a million logged steps or epochs."""

from __future__ import annotations

import math

import numpy as np

from losswidget.chart.axes import AXIS_HEADROOM, RANGE_LIMIT
from losswidget.chart.epochs import EpochCache
from losswidget.chart.events import EventMarks
from losswidget.core.column import Column
from losswidget.core.decimate import Decimator, decimate
from losswidget.core.history import History
from losswidget.core.replay import recorded_ses
from losswidget.core.smoothing import smooth
from losswidget.core.stopping import EarlyStopping

EMPTY = np.empty(0, dtype=np.float32)


def as_float32(values: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # beyond float32's ±3.4e38: inf, drawn off the axis (clipped at 1e38)
        return np.asarray(values, dtype=np.float32)


def shown_values(values: np.ndarray, log_y: bool) -> np.ndarray:
    """Non-finite values (and, on a log axis, values <= 0) become NaN: drawn as gaps."""
    out = np.asarray(values, dtype=np.float64).copy()
    bad = ~np.isfinite(out)
    if log_y:
        bad |= out <= 0
    out[bad] = np.nan
    return out


class StepCache:
    """Incremental view state of one run: its steps (decimation, smoothing), its epochs (``epochs``)
    and the patience slider's replay."""

    def __init__(self, max_points: int = 2000) -> None:
        self.max_points = max_points
        self.reset()

    def reset(self) -> None:
        self._range: tuple[float, float, bool] | None = None
        self._what_if_key: tuple | None = None
        self._decimator = Decimator(self.max_points)
        self._smoothed = Column()
        self._window = 1
        self._counted = 0
        self.step_non_finite = 0
        self.epochs = EpochCache(self.max_points)
        self.events = EventMarks()  # steering's changes, as marked (their positions kept once settled)
        self._past: dict[tuple, np.ndarray] = {}

    def _smoothed_steps(self, values: np.ndarray, window: int) -> np.ndarray:
        if window != self._window:
            self._smoothed, self._window = Column(), window
        done = len(self._smoothed)
        if done < values.size:
            start = max(0, done - window + 1)
            self._smoothed.extend(smooth(values[start:], window)[done - start :])
        return self._smoothed.values

    def _step_positions(self, history: History, index: np.ndarray, open_epoch: int | None) -> np.ndarray:
        """x of each step in epochs: the steps of epoch e fill [e - 0.5, e + 0.5), centred on e, so the
        epoch's mean (drawn at e) sits among its own steps, where a steadily falling loss passes it."""
        step_epoch = history.step_epoch
        epochs = step_epoch[index]
        first = np.searchsorted(step_epoch, epochs, side="left")
        count = np.searchsorted(step_epoch, epochs, side="right") - first
        if open_epoch is not None:
            # The open epoch's length is not known yet: assume the previous epoch's.
            previous = np.searchsorted(step_epoch, open_epoch - 1, side="right") - np.searchsorted(
                step_epoch, open_epoch - 1, side="left"
            )
            count = np.where(epochs == open_epoch, np.maximum(count, previous), count)
        return epochs - 0.5 + (index - first + 0.5) / np.maximum(count, 1)

    def steps(self, history: History, window: int, log_y: bool, open_epoch: int | None):
        values = history.step_train
        if values.size < self._counted:  # the history was replaced
            self.reset()
        if values.size > self._counted:
            self.step_non_finite += int((~np.isfinite(values[self._counted :])).sum())
            self._counted = values.size
        if values.size == 0:
            return EMPTY, EMPTY, EMPTY
        self._decimator.update(values)
        index = self._decimator.indices()
        smoothed = self._smoothed_steps(values, window)[index]
        x = self._step_positions(history, index, open_epoch)
        return x, shown_values(values[index], log_y), shown_values(smoothed, log_y)

    def past_rows(self, run) -> np.ndarray | None:
        """The epochs of an earlier run (a ``PastRun``) to draw: None (all) for at most ``max_points``,
        else min/max bins of the curve it shows (validation if it has any, else training), found
        again only when the run changed (a watched run grows)."""
        if run.epochs.size <= self.max_points:
            return None
        key = (run.name, run.epochs.size, run.epochs[-1:].tobytes(), run.train[-1:].tobytes(), run.val[-1:].tobytes())
        rows = self._past.get(key)
        if rows is None:
            shown = run.val if np.isfinite(run.val).any() else run.train
            rows, _ = decimate(np.arange(run.epochs.size), shown, self.max_points)
            if len(self._past) > 16:  # runs that were replaced or grew
                self._past.clear()
            self._past[key] = rows
        return rows

    def stable_range(self, wanted: tuple[float, float], log_y: bool) -> tuple[float, float]:
        """The y axis of the last frame while the wanted one fits inside it and fills at least 80 % of
        it: the axis (and every mark's position on it) is not resent for each new point. A new axis
        has :data:`AXIS_HEADROOM` beyond the wanted one on each side (not below 0 for a loss that is
        never negative), so that a falling loss does not move it at every frame: in the browser each
        move redraws every mark and both axes (measured: a few axis moves per run, not one per frame)."""
        if self._range is not None and self._range[2] == log_y:
            low, high, _ = self._range
            if low <= wanted[0] and wanted[1] <= high:
                measure = (lambda a, b: math.log(b / a)) if log_y else (lambda a, b: b - a)
                if measure(*wanted) >= 0.8 * measure(low, high):
                    return low, high
        low, high = wanted
        if log_y:
            factor = (high / low) ** AXIS_HEADROOM
            low, high = low / factor, high * factor
        else:
            margin = AXIS_HEADROOM * (high - low)
            low, high = (low - margin if low < 0 else max(low - margin, 0.0)), high + margin
        low, high = max(low, -RANGE_LIMIT), min(high, RANGE_LIMIT)
        if not (math.isfinite(low) and math.isfinite(high) and low < high) or (log_y and low <= 0):
            low, high = wanted  # a range at the edge of float64: as wanted, no headroom
        self._range = (low, high, log_y)
        return low, high

    def non_finite(self, history: History) -> int:
        """NaN/inf values shown as gaps: steps counted as they arrive; of the epochs' train and val only
        the infinities (NaN there also means "not logged")."""
        self.epochs.update(history)
        return self.step_non_finite + self.epochs.non_finite(history)

    def what_if(self, history: History, decision: EarlyStopping) -> tuple[int, int] | None:
        """(epoch, patience) where ``decision`` (a fresh one, configured as the run's own but for its
        patience: ``EarlyStopping.fresh``) would stop on the validation values recorded so far, or
        None: :func:`would_stop_at` replayed incrementally, O(new epochs) per frame instead of O(all
        epochs). The settled rows (all but the last, which may still change) are replayed once; the
        last row is tried on a checkpoint of the replay and rewound."""
        settled = self.epochs.update(history)
        key = (decision.patience, decision.min_delta, decision.min_delta_se, decision.mode)
        key += (decision.start_from_epoch, decision.check_finite, self.epochs.resets)
        if key != self._what_if_key:
            self._what_if_key = key
            self._replay = decision
            self._replayed = 0
            self._what_if_at: tuple[int, int] | None = None
        val, patience = history.val, decision.patience
        ses = recorded_ses(history, decision.min_delta_se)
        if self._what_if_at is None and settled > self._replayed:
            for row in np.flatnonzero(~np.isnan(val[self._replayed : settled])) + self._replayed:
                if self._replay.update(float(val[row]), se=None if ses is None else float(ses[row])):
                    self._what_if_at = (int(history.epochs[row]), patience)
                    break
        self._replayed = settled
        last = self.epochs.count - 1  # the rows the epochs' state saw (another thread may log meanwhile)
        if self._what_if_at is not None or last < settled or math.isnan(val[last]):
            return self._what_if_at
        checkpoint = self._replay.checkpoint()
        try:
            stops = self._replay.update(float(val[last]), se=None if ses is None else float(ses[last]))
        finally:
            self._replay.rewind(checkpoint)
        return (int(history.epochs[last]), patience) if stops else None
