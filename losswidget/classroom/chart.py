"""What the class chart shows (pure: :func:`class_frame`) and the bqplot figure that draws it.

Every student's validation curve, thin and faded in the group's colour; each group's mean curve
with a band of ± 2 standard errors across runs (the run-to-run spread; the legend says so, and the
sentence's verdict uses Student's t, wider than 2 for a few runs). The frame's cost is
bounded however many students send: each curve is decimated to :data:`CURVE_POINTS` points, and
past ``max_runs`` runs only the groups' bands and the selected students are drawn. Hovering a
student's line names the student and their settings; a selected student (``Classroom.select`` or a
click on their line) is drawn on top at full opacity with their training curve dashed beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from losswidget.chart.marks import LOSS_TICKS, linear_ticks
from losswidget.classroom.folder import Row
from losswidget.core.decimate import decimate
from losswidget.core.groups import group_label, mean_curve

__all__ = ["ClassChart", "ClassFrame", "caption", "class_frame"]

# Okabe-Ito, without black and yellow: told apart under the common colour blindnesses.
PALETTE = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#56b4e9", "#e69f00", "#7f7f7f", "#8c564b"]
CURVE_POINTS = 200  # points of one student's curve
BAND_POINTS = 400  # points of a group's mean and band
REACH = 50.0  # the loss axis shows values within this many interquartile ranges of the median
FENCE = 1.5  # a curve of FENCE_POINTS or more is read up to its upper quartile + this many IQRs
FENCE_POINTS = 10  # shorter curves are shown whole (nothing yet to tell the steep start from the rest)
BAND = 2.0  # the band is the mean ± this many standard errors across runs


@dataclass(frozen=True)
class Curve:
    label: str  # the student
    color: str
    x: np.ndarray
    y: np.ndarray
    tip: str = ""  # what hovering names: the student and their settings


@dataclass(frozen=True)
class Chosen:
    """A selected student: their validation curve and their training curve (NaN-free, decimated)."""

    label: str
    tip: str
    color: str
    x: np.ndarray
    val: np.ndarray
    train_x: np.ndarray
    train: np.ndarray


@dataclass(frozen=True)
class Band:
    label: str
    color: str
    x: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    runs: int


@dataclass(frozen=True)
class ClassFrame:
    students: list[Curve]
    bands: list[Band]
    hidden: int  # runs whose own curves are not drawn (past max_runs, not selected)
    y_range: tuple[float, float] | None = None  # None: nothing finite to draw
    chosen: tuple[Chosen, ...] = ()  # the selected students present, drawn on top with their training curves
    peak: float | None = None  # the highest value drawn, where it runs off the top of the axis


def settings_words(settings: Mapping[str, Any]) -> str:
    """A run's settings as words: ``"weight decay 0.1, seed 3"`` (the groups' labels, joined)."""
    return ", ".join(
        group_label(key, settings) if settings[key] is not None else f"{key.replace('_', ' ')} none" for key in settings
    )


def tip_of(student: str, settings: Mapping[str, Any]) -> str:
    words = settings_words(settings)
    return f"{student} ({words})" if words else student


def caption(frame: ClassFrame, live: bool = True) -> str:
    """The words under the chart: who is selected and which line is which (``live``: how to clear it
    with a click, else how to select one)."""
    clipped = ""
    if frame.peak is not None and frame.y_range is not None:
        clipped = f" Losses above {frame.y_range[1]:.3g} run off the top (up to {frame.peak:.3g})."
    if not frame.chosen:
        said = "Hover a student's line to name them; click it to show their training curve." if live else ""
        return (said + clipped).strip()
    names = ", ".join(dict.fromkeys(chosen.tip for chosen in frame.chosen))
    told = f"Selected: {names} — validation solid, training dashed"
    if live:
        return f"{told}; click again to clear" + (f".{clipped}" if clipped else "")
    return f"{told}.{clipped}"


def y_range(curves: Iterable[np.ndarray]) -> tuple[float, float] | None:
    """The loss axis, zoomed onto where the curves are read: the drawn values within :data:`REACH`
    interquartile ranges of their median (so one student's 1e300 squashes no one's curve), the top cut
    at the highest curve's Tukey fence (upper quartile + 1.5 IQR, curves of 10 points or more: the
    first epochs' steep fall runs off the top, as on the main chart), padded by 5%."""
    arrays = [np.asarray(c, dtype=np.float64).reshape(-1) for c in curves]
    arrays = [a[np.isfinite(a)] for a in arrays]
    values = np.concatenate(arrays or [np.empty(0)])
    if values.size == 0:
        return None
    low, median, high = np.percentile(values, [25.0, 50.0, 75.0])
    scale = max(high - low, 0.1 * abs(median), 1e-12)
    inside = [a[np.abs(a - median) <= REACH * scale] for a in arrays]
    kept = np.concatenate(inside)
    limits = []
    for curve in (a for a in inside if a.size):
        q25, q75 = np.percentile(curve, [25.0, 75.0]) if curve.size >= FENCE_POINTS else (0.0, 0.0)
        limits.append(float(q75 + FENCE * (q75 - q25)) if q75 > q25 else float(curve.max()))
    bottom, top = float(kept.min()), min(float(kept.max()), max(limits))
    pad = 0.05 * (top - bottom) if top > bottom else max(0.05 * abs(top), 1e-12)
    return bottom - pad, top + pad


def _thin(count: int, limit: int) -> np.ndarray:
    return np.arange(count) if count <= limit else np.unique(np.linspace(0, count - 1, limit).round().astype(int))


def class_frame(
    rows: Sequence[Row],
    labels: Sequence[str],
    max_runs: int,
    selected: Iterable[str] = (),
    colors: dict[str, str] | None = None,
) -> ClassFrame:
    """The chart of ``rows`` (``labels[i]``: row i's group). ``colors``: each group's colour so far; a
    new group takes the next colour of the palette and is added, so a group keeps its colour as
    students arrive."""
    colors = {} if colors is None else colors
    order = sorted(set(labels))
    for label in order:
        if label not in colors:
            colors[label] = PALETTE[len(colors) % len(PALETTE)]
    names = set(selected)
    draw_all = len(rows) <= max_runs
    students, chosen, hidden = [], [], 0
    for row, label in zip(rows, labels):
        if not (draw_all or row.student in names):
            hidden += 1
            continue
        x, y = _curve(row.epochs, row.val)
        tip = tip_of(row.student, row.settings)
        students.append(Curve(row.student, colors[label], x, y, tip))
        if row.student in names:
            chosen.append(Chosen(row.student, tip, colors[label], x, y, *_curve(row.epochs, row.train)))
    bands = []
    for label in order:
        members = [row for row, own in zip(rows, labels) if own == label]
        epochs, mean, se, _count = mean_curve((row.epochs, row.val) for row in members)
        keep = _thin(epochs.size, BAND_POINTS)
        epochs, mean, se = epochs[keep].astype(np.float64), mean[keep], se[keep]
        bands.append(Band(label, colors[label], epochs, mean, mean - BAND * se, mean + BAND * se, len(members)))
    drawn = [curve.y for curve in students] + [band.mean for band in bands] + [c.train for c in chosen]
    axis = y_range(drawn)
    finite = [float(np.max(y[np.isfinite(y)])) for y in drawn if np.isfinite(y).any()]
    peak = max(finite) if finite and axis is not None and max(finite) > axis[1] else None
    return ClassFrame(students, bands, hidden, axis, tuple(chosen), peak)


def _curve(epochs: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One student's curve, its finite values thinned to :data:`CURVE_POINTS` points."""
    finite = np.isfinite(values)
    x, y = decimate(epochs[finite], values[finite], CURVE_POINTS)
    return x.astype(np.float64), y


def _padded(series: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The lines as rows of one 2-D array, NaN-padded: 2 columns at least, as bqplot squeezes a 1 x 1."""
    length = max((x.size for x, _ in series), default=0)
    x = np.full((len(series), max(length, 2)), np.nan)
    y = np.full((len(series), max(length, 2)), np.nan)
    for index, (xs, ys) in enumerate(series):
        x[index, : xs.size], y[index, : ys.size] = xs, ys
    return x, y


class ClassChart:
    """The bqplot figure of a :class:`ClassFrame`: each group's band, the students' faded lines, each
    group's mean, then the selected students' lines and their training curves (dashed). Hovering a
    line names its student; clicking one calls ``on_click(student)``, clicking the background
    ``on_click(None)``: on the comm's thread, so the caller only records the choice and asks for a
    redraw."""

    def __init__(self, title: str = "", on_click: Callable[[str | None], None] | None = None) -> None:
        import bqplot as bq

        self._bq = bq
        self.x_scale, self.y_scale = bq.LinearScale(), bq.LinearScale()
        self.scales = {"x": self.x_scale, "y": self.y_scale}
        self.students = self._lines(stroke_width=1.0, opacities=[0.35])
        self.means = bq.Lines(x=[], y=[], scales=self.scales, stroke_width=3.0, display_legend=True)
        self.chosen = self._lines(stroke_width=2.0)
        self.training = self._lines(stroke_width=2.0, line_style="dashed")
        self.bands: list = []
        self._students_of: dict[str, str] = {}  # a drawn line's tip -> its student, as last drawn
        self._on_click = on_click
        for mark in (self.students, self.chosen, self.training):
            mark.on_element_click(self._clicked)
        self.students.on_background_click(self._clicked)
        self.y_axis = bq.Axis(
            scale=self.y_scale, side="left", label="validation loss", tick_format=".3g", label_offset="48px"
        )
        axes = [bq.Axis(scale=self.x_scale, label="epoch", tick_format="d"), self.y_axis]
        self.figure = bq.Figure(
            marks=self._marks(0),
            axes=axes,
            title=title,
            legend_location="top-right",
            layout={"width": "100%", "height": "420px"},
            fig_margin={"top": 40, "bottom": 40, "left": 60, "right": 20},
        )

    def _lines(self, **style):
        tooltip = self._bq.Tooltip(fields=["name"], show_labels=False)
        return self._bq.Lines(x=[], y=[], scales=self.scales, tooltip=tooltip, **style)

    def _marks(self, bands: int) -> list:
        return [*self.bands[:bands], self.students, self.means, self.chosen, self.training]

    def _clicked(self, _mark, content: dict) -> None:
        data = content.get("data") if content.get("event") == "element_click" else None
        student = self._students_of.get(data.get("name")) if isinstance(data, dict) else None
        if self._on_click is not None and (student is not None or data is None):
            self._on_click(student)

    def _band_mark(self, color: str):
        return self._bq.Lines(
            x=[],
            y=[],
            scales=self.scales,
            fill="between",
            fill_colors=[color],
            fill_opacities=[0.2],
            opacities=[0.0, 0.0],
            stroke_width=0.0,
        )

    def draw(self, frame: ClassFrame) -> None:
        while len(self.bands) < len(frame.bands):
            self.bands.append(self._band_mark(PALETTE[0]))
        if len(self.figure.marks) != len(self._marks(len(frame.bands))):
            self.figure.marks = self._marks(len(frame.bands))
        for mark, band in zip(self.bands, frame.bands):
            with mark.hold_sync():
                mark.fill_colors = [band.color]
                mark.x = band.x
                mark.y = np.vstack([band.low, band.high])
        if frame.y_range is not None:
            with self.y_scale.hold_sync():
                self.y_scale.min, self.y_scale.max = frame.y_range
            ticks = linear_ticks(*frame.y_range, LOSS_TICKS)  # one format for all: 0.60, 0.80, 1.00
            with self.y_axis.hold_sync():
                self.y_axis.tick_format, self.y_axis.tick_values = ticks.format, list(ticks.values)
                self.y_axis.label = "loss" if frame.chosen else "validation loss"
        self._students_of = {curve.tip: curve.label for curve in frame.students}
        self._set(self.students, [(c.x, c.y) for c in frame.students], frame.students, 0.35)
        self._set(self.chosen, [(c.x, c.val) for c in frame.chosen], frame.chosen, 1.0)
        self._set(self.training, [(c.train_x, c.train) for c in frame.chosen], frame.chosen, 1.0)
        x, y = _padded([(b.x, b.mean) for b in frame.bands])
        with self.means.hold_sync():
            self.means.x, self.means.y = x, y
            self.means.colors = [b.color for b in frame.bands] or [PALETTE[0]]
            # Short: bqplot clips a long legend at its left edge; the text under the chart says what a band is.
            self.means.labels = [f"{b.label} (mean of {b.runs} runs)" for b in frame.bands]

    @staticmethod
    def _set(mark, series: list, curves: Sequence[Curve | Chosen], opacity: float) -> None:
        """One Lines mark showing ``series`` (none: empty), each line named by its curve's tip."""
        x, y = _padded(series) if series else (np.empty(0), np.empty(0))
        with mark.hold_sync():
            mark.x, mark.y = x, y
            mark.colors = [c.color for c in curves] or [PALETTE[0]]
            mark.opacities = [opacity] * max(len(curves), 1)
            mark.labels = [c.tip for c in curves]
