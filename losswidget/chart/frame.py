"""What one redraw of the chart shows, computed from the history (numpy only).

:class:`~losswidget.chart.cache.StepCache` keeps the incremental state (the steps' and the epochs'
decimation and smoothing, the metrics, the learning rates and their changes) so that building a
:class:`Frame` costs the same at a thousand or a million logged steps, and at 10^3 or 10^5 epochs.
Everything a view needs is in the Frame, ticks, legend and earlier runs' curves included
(:mod:`losswidget.chart.marks`): views (bqplot widget, static SVG, text) only draw it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from losswidget.chart import marks
from losswidget.chart.axes import epoch_axis_end, value_range
from losswidget.chart.cache import EMPTY, StepCache, as_float32, shown_values
from losswidget.chart.events import ChangeMark
from losswidget.chart.marks import LegendEntry, PastCurve, Ticks
from losswidget.chart.rates import is_rate, rate_panel
from losswidget.core.history import History
from losswidget.core.replay import DIFF_SE
from losswidget.core.stopping import EarlyStopping

__all__ = [
    "STATUS_INTERVAL",
    "Frame",
    "PastRun",
    "Progress",
    "StepCache",
    "build_frame",
    "format_duration",
    "marker_labels",
    "what_if_label",
    "what_if_meaning",
]
# Seconds: while a loop runs, how often the status text follows the data (the widget sends it no
# more often, and frames read the diagnosis behind it no more often).
STATUS_INTERVAL = 1.0


@dataclass
class PastRun:
    name: str
    epochs: np.ndarray
    train: np.ndarray
    val: np.ndarray
    metrics: dict[str, np.ndarray] = field(default_factory=dict)  # drawn faded in the metric panel

    @classmethod
    def of(cls, history: History) -> PastRun:
        metrics = {name: history[name].copy() for name in history.metric_names if _is_drawn_metric(name)}
        epochs = history.epochs.astype(np.float64)
        return cls(history.name or "", epochs, history.train.copy(), history.val.copy(), metrics)

    def at(self, rows: np.ndarray | None) -> PastRun:
        """The run at ``rows`` only (all of it for None)."""
        if rows is None:
            return self
        metrics = {name: values[rows] for name, values in self.metrics.items()}
        return PastRun(self.name, self.epochs[rows], self.train[rows], self.val[rows], metrics)


def _is_drawn_metric(name: str) -> bool:
    """A metric of the metric panel: not the validation loss's standard errors, not a learning rate."""
    return name not in ("val_se", DIFF_SE) and not is_rate(name)


def format_duration(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True)
class Progress:
    """Where a running loop is: for a terminal's progress bar (the status lines say it in words)."""

    epoch: int | None  # the epoch running now
    done: int  # epochs finished in this loop
    total: int | None  # epochs planned in this loop (None: not known)
    elapsed: float  # seconds since the loop began
    eta: float | None = None  # seconds left, once enough epochs give a pace worth quoting


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
    # The validation band: val ± BAND standard errors at each of ``epochs`` (NaN where it has none);
    # empty when the run logged no per-example validation or the band is turned off.
    val_low: np.ndarray = field(default_factory=lambda: EMPTY)
    val_high: np.ndarray = field(default_factory=lambda: EMPTY)
    band_available: bool = False  # the run has standard errors: the band's toggle is offered
    best: tuple[int, float] | None = None
    stop: tuple[int, str] | None = None
    what_if: tuple[int, int] | None = None
    metrics: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    runs: list[PastCurve] = field(default_factory=list)  # earlier runs, as drawn
    y_ticks: Ticks = field(default_factory=Ticks)
    x_ticks: Ticks = field(default_factory=Ticks)
    metric_range: tuple[float, float] = (0.0, 1.0)
    metric_ticks: Ticks = field(default_factory=Ticks)
    # The learning rate's log-scale panel (chart/rates): the rates that changed, where "lr" changed
    # (epoch, new / old: marked on the loss chart), the panel's range and ticks.
    rates: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    rate_changes: list[tuple[int, float]] = field(default_factory=list)
    rate_range: tuple[float, float] = (0.1, 1.0)
    rate_ticks: Ticks = field(default_factory=Ticks)
    # What steering changed (and the rate's unexplained changes): rules and labels, chart/events.
    changes: list[ChangeMark] = field(default_factory=list)
    legend: list[LegendEntry] = field(default_factory=list)
    dots: bool = True  # per-epoch dots drawn (few epochs); beyond marks.MARKER_LIMIT they merge: lines only
    status: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # the numbers behind the status (run/status.detail_lines)
    progress: Progress | None = None  # while a loop runs
    title: str = ""
    stop_control: str | None = None  # None: something runs and Stop can act; else why it cannot, in words
    x_label: str = "epoch"  # what one point on the x axis is ("evaluation (every 50 steps)" for a Trainer)
    y_label: str = "loss"  # the loss axis' title, naming the loss where known ("cross-entropy loss")
    metric_labels: dict[str, str] = field(default_factory=dict)  # metric: its name in the panel ("val acc")
    presentation: bool = False  # projector size: large text, thick lines, a tall chart


def what_if_label(patience: int) -> str:
    """The what-if line's label, short: "patience 5 would stop here"."""
    return f"patience {patience} would stop here"


def what_if_meaning(patience: int) -> str:
    """What the what-if line is, said once in the details (the label alone read as unexplained)."""
    return (
        f'The grey dashed line "{what_if_label(patience)}": where early stopping with patience {patience} (the '
        "slider) would have stopped this run, replayed on its validation loss."
    )


def marker_labels(frame: Frame) -> list[tuple[str, float | None, str]]:
    """(kind, epoch or None, text) for the stop line and the what-if line, in drawing order."""
    stop, what_if = frame.stop, frame.what_if
    return [
        ("stop", None if stop is None else float(stop[0]), "" if stop is None else f"{stop[1]} (epoch {stop[0]})"),
        (
            "what_if",
            None if what_if is None else float(what_if[0]),
            "" if what_if is None else what_if_label(what_if[1]),
        ),
    ]


FLOAT32_MAX = float(np.finfo(np.float32).max)


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
    details: list[str] | None = None,
    progress: Progress | None = None,
    title: str = "",
    stop_control: str | None = None,
    x_label: str = "epoch",
    presentation: bool = False,
    band: bool = True,
    loss_name: str | None = None,
    metric_source: str | None = None,
) -> Frame:
    steps_x, steps_raw, steps_smooth = cache.steps(history, smoothing, log_y, open_epoch)
    what_if_at = cache.what_if(history, what_if)
    # The epochs drawn: all while few, else min/max bins of train and val with the last and the best
    # epoch exact; each series read at those rows only (chart/epochs keeps what spans the history).
    kept = cache.epochs
    kept.update(history)
    rows = kept.rows(history, None if best is None else best[0])
    epochs = history.epochs[rows].astype(np.float64)
    val = history.val[rows]
    series = {
        "train": history.train[rows],
        "val": val,
        "train_smooth": kept.smoothed(history, "train", smoothing, rows),
        "val_smooth": kept.smoothed(history, "val", smoothing, rows),
    }
    band_available = kept.band_available(history)
    if band_available and band:
        series["val_low"], series["val_high"] = marks.val_band(val, history["val_se"][rows], log_y)
    shown = {name: shown_values(values, log_y) for name, values in series.items()}
    metrics = {}
    for name in history.metric_names:
        if not _is_drawn_metric(name):
            continue  # the validation loss's standard errors (the val curve's) and the rates (their own panel)
        drawn = kept.metric(history, name)
        if drawn is not None:
            metrics[name] = (as_float32(drawn[0]), as_float32(shown_values(drawn[1], False)))
    curves = marks.past_curves([run.at(cache.past_rows(run)) for run in runs or []], log_y)
    y_arrays = [steps_raw, shown["train"], shown["val"], *(shown[k] for k in ("val_low", "val_high") if k in shown)]
    y_arrays += [values for curve in curves for values in (curve.values, curve.train)]
    *wanted, clipped = value_range(y_arrays, log_y)
    y_range = cache.stable_range((wanted[0], wanted[1]), log_y)
    clip_note = ""
    if clipped:
        peak = max(float(np.nanmax(a)) for a in y_arrays if a.size and np.isfinite(a).any())
        if peak > y_range[1]:  # an axis kept from an earlier frame may already show them
            clip_note = f"Losses above {y_range[1]:.3g} run off the top (up to {peak:.3g}): log scale shows them all."
    extreme = max((float(np.max(np.abs(a[np.isfinite(a)]), initial=0.0)) for a in y_arrays if a.size), default=0.0)
    if extreme > FLOAT32_MAX:  # a chart draws float32: such a value is drawn at its edge, and kept exactly
        clip_note = (
            f"{clip_note} " if clip_note else ""
        ) + f"Values beyond ±3.4e38 (up to {extreme:.3g}) are drawn at the chart's edge; the history keeps them."
    candidates = [1.0, float(history.last_epoch or 0), float(open_epoch or 0)]
    candidates += [float(curve.epochs[-1]) for curve in curves if curve.epochs.size]
    # Room to grow, without squeezing the curves into a corner of a 1000-epoch axis.
    first = -0.5 if steps_x.size and steps_x.min() < 0 else 0.0  # epoch 0's steps are centred on 0
    # Room beyond the last epoch drawn (half an epoch, or 2 % of the axis: ~12 px), so its steps, its
    # dot and a best-epoch diamond there stay whole instead of cut by the plot's edge.
    room = max(0.5, 0.02 * (max(candidates) - first))
    last = max(epoch_axis_end(max(candidates), planned_last), max(candidates) + room)
    past_metrics = [values for curve in curves for _, values in curve.metrics.values()]
    metric_range, metric_ticks = marks.metric_range([values for _, values in metrics.values()] + past_metrics)
    rates, rate_changes, rate_range, rate_ticks = rate_panel(history, kept)
    return Frame(
        x_range=(first, last),
        y_range=(y_range[0], y_range[1]),
        clip_note=clip_note,
        log_y=log_y,
        smoothing=smoothing,
        steps_x=as_float32(steps_x),
        steps_raw=as_float32(steps_raw),
        steps_smooth=as_float32(steps_smooth),
        epochs=as_float32(epochs),
        train=as_float32(shown["train"]),
        val=as_float32(shown["val"]),
        train_smooth=as_float32(shown["train_smooth"]),
        val_smooth=as_float32(shown["val_smooth"]),
        val_low=as_float32(shown.get("val_low", EMPTY)),
        val_high=as_float32(shown.get("val_high", EMPTY)),
        band_available=band_available,
        best=best,
        stop=stop,
        what_if=None if what_if_at is not None and stop is not None and what_if_at[0] == stop[0] else what_if_at,
        metrics=metrics,
        runs=curves,
        y_ticks=marks.loss_ticks(y_range, log_y),
        x_ticks=marks.epoch_ticks((first, last)),
        metric_range=metric_range,
        metric_ticks=metric_ticks,
        rates=rates,
        rate_changes=rate_changes,
        rate_range=rate_range,
        rate_ticks=rate_ticks,
        changes=cache.events.marks(history, open_epoch, rate_changes, (first, last)),
        legend=marks.legend(
            curves,
            best is not None,
            "val_low" in shown,
            steps_shown=bool(steps_x.size),
            smoothing=smoothing,
            x_label=x_label,
            run_name=title,
        ),
        dots=epochs.size <= marks.MARKER_LIMIT,
        status=status or [],
        details=details or [],
        progress=progress,
        title=title,
        stop_control=stop_control,
        x_label=x_label,
        y_label=marks.loss_label(loss_name, log_y),
        metric_labels={
            name: marks.metric_label(name, metric_source)
            for name in [*metrics, *(name for curve in curves for name in curve.metrics)]
        },
        presentation=presentation,
    )
