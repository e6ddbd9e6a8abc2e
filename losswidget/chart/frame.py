"""What one redraw of the chart shows, computed from the history (numpy only).

:class:`StepCache` keeps the incremental state (step decimation, smoothed
steps) so that building a :class:`Frame` costs the same at a thousand or a
million logged steps. Views (bqplot widget, static SVG, text) only render a Frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from losswidget.chart.axes import AXIS_HEADROOM, RANGE_LIMIT, epoch_axis_end, value_range
from losswidget.core.column import Column
from losswidget.core.decimate import Decimator, decimate
from losswidget.core.history import History
from losswidget.core.smoothing import smooth
from losswidget.core.stopping import EarlyStopping

EMPTY = np.empty(0, dtype=np.float32)
# Seconds: while a loop runs, how often the status text follows the data (the widget sends it no
# more often, and frames read the diagnosis behind it no more often).
STATUS_INTERVAL = 1.0


@dataclass
class PastRun:
    name: str
    epochs: np.ndarray
    train: np.ndarray
    val: np.ndarray

    @classmethod
    def of(cls, history: History) -> PastRun:
        return cls(history.name or "", history.epochs.astype(np.float64), history.train.copy(), history.val.copy())


@dataclass
class Frame:
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    log_y: bool = False
    clip_note: str = ""  # for charts only: says that values run off the top
    smoothing: int = 1
    steps_x: np.ndarray = field(default_factory=lambda: EMPTY)
    steps_raw: np.ndarray = field(default_factory=lambda: EMPTY)
    steps_smooth: np.ndarray = field(default_factory=lambda: EMPTY)
    epochs: np.ndarray = field(default_factory=lambda: EMPTY)
    train: np.ndarray = field(default_factory=lambda: EMPTY)
    val: np.ndarray = field(default_factory=lambda: EMPTY)
    train_smooth: np.ndarray = field(default_factory=lambda: EMPTY)
    val_smooth: np.ndarray = field(default_factory=lambda: EMPTY)
    best: tuple[int, float] | None = None
    stop: tuple[int, str] | None = None
    what_if: tuple[int, int] | None = None
    metrics: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    runs: list[PastRun] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    title: str = ""
    stop_control: str | None = None  # None: something runs and Stop can act; else why it cannot, in words
    x_label: str = "epoch"  # what one point on the x axis is ("evaluation (every 50 steps)" for a Trainer)
    presentation: bool = False  # projector size: large text, thick lines, a tall chart


def marker_labels(frame: Frame) -> list[tuple[str, float | None, str]]:
    """(kind, epoch or None, text) for the stop line and the what-if line, in drawing order."""
    stop, what_if = frame.stop, frame.what_if
    return [
        ("stop", None if stop is None else float(stop[0]), "" if stop is None else f"{stop[1]} (epoch {stop[0]})"),
        (
            "what_if",
            None if what_if is None else float(what_if[0]),
            "" if what_if is None else f"patience {what_if[1]} stops here",
        ),
    ]


def _f32(values: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # beyond float32's ±3.4e38: inf, drawn off the axis (clipped at 1e38)
        return np.asarray(values, dtype=np.float32)


def _shown(values: np.ndarray, log_y: bool) -> np.ndarray:
    """Non-finite values (and, on a log axis, values <= 0) become NaN: drawn as gaps."""
    out = np.asarray(values, dtype=np.float64).copy()
    bad = ~np.isfinite(out)
    if log_y:
        bad |= out <= 0
    out[bad] = np.nan
    return out


class StepCache:
    """Incremental view state of one run's steps (decimation, smoothing); epochs are few and recomputed."""

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

    def _smoothed_steps(self, values: np.ndarray, window: int) -> np.ndarray:
        if window != self._window:
            self._smoothed, self._window = Column(), window
        done = len(self._smoothed)
        if done < values.size:
            start = max(0, done - window + 1)
            self._smoothed.extend(smooth(values[start:], window)[done - start :])
        return self._smoothed.values

    def _step_positions(self, history: History, index: np.ndarray, open_epoch: int | None) -> np.ndarray:
        """x of each step in epochs: the steps of epoch e fill (e - 1, e]."""
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
        return epochs - 1 + (index - first + 1) / np.maximum(count, 1)

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
        return x, _shown(values[index], log_y), _shown(smoothed, log_y)

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
        return self.step_non_finite + sum(int(np.isinf(history[name]).sum()) for name in ("train", "val"))

    def what_if(self, history: History, decision: EarlyStopping) -> tuple[int, int] | None:
        """(epoch, patience) where ``decision`` (a fresh one, configured as the run's own but for its
        patience: ``EarlyStopping.fresh``) would stop on the validation values recorded so far, or
        None: :func:`would_stop_at` replayed incrementally, O(new epochs) per frame instead of O(all
        epochs)."""
        rows = np.flatnonzero(~np.isnan(history.val))
        last = float(history.val[rows[-1]]) if rows.size else None
        patience = decision.patience
        key = (patience, decision.min_delta, decision.mode, decision.start_from_epoch, decision.check_finite)
        key += (id(history),)
        if (
            key != self._what_if_key
            or rows.size < self._replayed
            or (rows.size and self._replayed_last != last and rows.size == self._replayed)
        ):
            self._what_if_key = key
            self._replay = decision
            self._replayed = 0
            self._what_if_at: tuple[int, int] | None = None
        for row in rows[self._replayed :]:
            if self._replay.update(history.val[row]) and self._what_if_at is None:
                self._what_if_at = (int(history.epochs[row]), patience)
        self._replayed = rows.size
        self._replayed_last = last
        return self._what_if_at


def build_frame(
    history: History,
    cache: StepCache,
    *,
    smoothing: int,
    what_if: EarlyStopping,
    log_y: bool = False,
    best: tuple[int, float] | None = None,
    planned_last: int | None = None,
    open_epoch: int | None = None,
    stop: tuple[int, str] | None = None,
    runs: list[PastRun] | None = None,
    status: list[str] | None = None,
    title: str = "",
    stop_control: str | None = None,
    x_label: str = "epoch",
    presentation: bool = False,
) -> Frame:
    steps_x, steps_raw, steps_smooth = cache.steps(history, smoothing, log_y, open_epoch)
    what_if_at = cache.what_if(history, what_if)
    epochs = history.epochs.astype(np.float64)
    train, val = history.train, history.val
    # Smooth the whole series, then keep at most max_points epochs (the validation envelope).
    series = {
        "train": train,
        "val": val,
        "train_smooth": smooth(train, smoothing),
        "val_smooth": smooth(val, smoothing),
    }
    if epochs.size > cache.max_points:
        index, _ = decimate(np.arange(epochs.size), val if np.isfinite(val).any() else train, cache.max_points)
        epochs = epochs[index]
        series = {name: values[index] for name, values in series.items()}
    shown = {name: _shown(values, log_y) for name, values in series.items()}
    metrics = {}
    for name in history.metric_names:
        values = history[name]
        finite = values[np.isfinite(values)]
        if name == "lr" and finite.size and finite.min() == finite.max():
            continue  # a constant learning rate says nothing on a chart
        if finite.size:
            mx, my = decimate(history.epochs.astype(np.float64), values, cache.max_points)
            metrics[name] = (_f32(mx), _f32(_shown(my, False)))
    runs = runs or []
    y_arrays = [steps_raw, shown["train"], shown["val"]] + [_shown(r.val, log_y) for r in runs]
    *wanted, clipped = value_range(y_arrays, log_y)
    y_range = cache.stable_range((wanted[0], wanted[1]), log_y)
    clip_note = ""
    if clipped:
        peak = max(float(np.nanmax(a)) for a in y_arrays if a.size and np.isfinite(a).any())
        if peak > y_range[1]:  # an axis kept from an earlier frame may already show them
            clip_note = f"Losses above {y_range[1]:.3g} run off the top (up to {peak:.3g}): log scale shows them all."
    candidates = [1.0, float(history.last_epoch or 0), float(open_epoch or 0)]
    candidates += [float(r.epochs[-1]) for r in runs if r.epochs.size]
    # Room to grow, without squeezing the curves into a corner of a 1000-epoch axis.
    last = epoch_axis_end(max(candidates), planned_last)
    first = -1.0 if steps_x.size and steps_x.min() < 0 else 0.0
    return Frame(
        x_range=(first, last),
        y_range=(y_range[0], y_range[1]),
        clip_note=clip_note,
        log_y=log_y,
        smoothing=smoothing,
        steps_x=_f32(steps_x),
        steps_raw=_f32(steps_raw),
        steps_smooth=_f32(steps_smooth),
        epochs=_f32(epochs),
        train=_f32(shown["train"]),
        val=_f32(shown["val"]),
        train_smooth=_f32(shown["train_smooth"]),
        val_smooth=_f32(shown["val_smooth"]),
        best=best,
        stop=stop,
        what_if=None if what_if_at is not None and stop is not None and what_if_at[0] == stop[0] else what_if_at,
        metrics=metrics,
        runs=runs,
        status=status or [],
        title=title,
        stop_control=stop_control,
        x_label=x_label,
        presentation=presentation,
    )
