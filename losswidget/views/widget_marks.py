"""The notebook view's marks beside the curves: the stop and what-if lines with their labels (in the
row where they hide the fewest points of the curves), the best epoch's ◆, and the earlier runs
(validation dashed, training thin and fainter). Layout from the frame, as the static SVG does it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from losswidget.chart.events import label_left
from losswidget.chart.frame import Frame, marker_labels
from losswidget.views.layout import densify, quietest_row, text_width
from losswidget.views.style import curve_color
from losswidget.views.widget_parts import lines_of, padded

# The loss chart's plot as a classroom screen shows it (the widget's width follows the page; the
# SVG's plot is 636 x 300): enough to tell which row a curve crosses.
PLOT_WIDTH, PLOT_HEIGHT = 640.0, 280.0
LABEL_SIZE, BIG_LABEL_SIZE = 13, 22  # px: the markers' labels, at classroom and presentation size (widget)
CHANGE_SIZE = 11  # px: the change labels (views/change_marks)
ROWS = (0.94, 0.86, 0.78, 0.06, 0.14, 0.22)  # label rows on the 0..1 height scale: top first, then bottom
CHANGE_ROWS = (ROWS[2], ROWS[3], ROWS[4])  # the change labels' rows, the first free one each: under the stop's


def _box(at: float, text: str, left: bool, size: float, gap: float) -> tuple[float, float]:
    """The pixels a label beside the rule at pixel ``at`` spans, on its side."""
    width = text_width(text, size)
    return (at - gap - width, at - gap) if left else (at + gap, at + gap + width)


def change_rows(frame: Frame) -> list[float]:
    """The row of each of ``frame.changes``' labels: the first of :data:`CHANGE_ROWS` where it
    overlaps no label placed before it (the last row when none is free)."""
    x0, x1 = frame.x_range
    taken: dict[float, list[tuple[float, float]]] = {row: [] for row in CHANGE_ROWS}
    rows = []
    for mark in frame.changes:
        at = (mark.x - x0) / ((x1 - x0) or 1.0) * PLOT_WIDTH
        low, high = _box(at, mark.text, mark.left, CHANGE_SIZE, 4)
        row = next((r for r in CHANGE_ROWS if all(high + 4 < a or b + 4 < low for a, b in taken[r])), CHANGE_ROWS[-1])
        taken[row].append((low, high))
        rows.append(row)
    return rows


def _curve_points(frame: Frame) -> list[tuple[np.ndarray, np.ndarray]]:
    """The drawn curves in plot pixels (x right, y down), for the labels to avoid."""
    x0, x1 = frame.x_range
    y0, y1 = frame.y_range
    if frame.log_y:
        y0, y1 = np.log10(max(y0, 1e-300)), np.log10(max(y1, 1e-300))

    def pixels(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y = np.asarray(y, dtype=np.float64)
        if frame.log_y:
            with np.errstate(divide="ignore", invalid="ignore"):
                y = np.log10(np.where(y > 0, y, np.nan))
        px = (np.asarray(x, dtype=np.float64) - x0) / ((x1 - x0) or 1.0) * PLOT_WIDTH
        py = PLOT_HEIGHT - (y - y0) / ((y1 - y0) or 1.0) * PLOT_HEIGHT
        return px, np.clip(py, -50, PLOT_HEIGHT + 50)

    curves = [(frame.epochs, frame.train_smooth), (frame.epochs, frame.val_smooth), (frame.steps_x, frame.steps_raw)]
    curves += [(curve.epochs, values) for curve in frame.runs for values in (curve.values, curve.train) if values.size]
    return [pixels(x, y) for x, y in curves if np.size(x)]


def _near(xs: np.ndarray, ys: np.ndarray, span: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The part of a curve (x ascending) over ``span``, one point beyond each end, densified: a
    frame looks at the few points under a label, not at 2,000 steps."""
    first = max(int(np.searchsorted(xs, span[0])) - 1, 0)
    last = int(np.searchsorted(xs, span[1])) + 1
    return densify(xs[first:last], ys[first:last])


def label_places(frame: Frame) -> list[tuple[float, float, bool]]:
    """For each of ``marker_labels(frame)`` (None where it is not drawn): (epoch, row on the 0..1
    scale, text left of the line) - on the side where it fits, in the quietest row not taken."""
    labels = marker_labels(frame)
    if all(epoch is None for _, epoch, _ in labels):  # most frames: nothing to place
        return [None] * len(labels)
    points = _curve_points(frame)
    x0, x1 = frame.x_range
    for mark, row in zip(frame.changes, change_rows(frame)):  # the change labels keep their rows
        at = (mark.x - x0) / ((x1 - x0) or 1.0) * PLOT_WIDTH
        xs = np.arange(*_box(at, mark.text, mark.left, CHANGE_SIZE, 4), 2.0)
        points.append((xs, np.full(xs.size, PLOT_HEIGHT * (1 - row) + 4 - 5.0)))
    size = BIG_LABEL_SIZE if frame.presentation else LABEL_SIZE  # measured as drawn
    places: list[Any] = []
    for _kind, epoch, text in labels:
        if epoch is None:
            places.append(None)
            continue
        at = (epoch - x0) / ((x1 - x0) or 1.0) * PLOT_WIDTH
        left = label_left(epoch, frame.x_range)  # the one rule for labels beside a rule
        span = _box(at, text, left, size, 6)
        if span[0] < 0 or span[1] > PLOT_WIDTH:  # wider than its half: the other side, where it fits
            left = not left
            span = _box(at, text, left, size, 6)
        baselines = [PLOT_HEIGHT * (1 - row) + 4 for row in ROWS]
        row = quietest_row(baselines, span, [_near(xs, ys, span) for xs, ys in points], size)
        places.append((epoch, ROWS[row], left))
        xs = np.arange(span[0], span[1], 2.0)  # taken: the next label avoids this box
        points.append((xs, np.full(xs.size, baselines[row] - 5.0)))
    return places


def render_markers(view: Any, frame: Frame, send: Callable[..., None], places: list) -> None:
    """The stop and what-if lines with their labels at ``places`` (:func:`label_places`), and the ◆."""
    lines_x = []
    for (kind, epoch, text), place in zip(marker_labels(frame), places):
        label = view.stop_label if kind == "stop" else view.what_if_label
        lines_x.append([np.nan, np.nan] if epoch is None else [epoch, epoch])
        if place is None:
            # Hide rather than empty: bqplot cannot serialise an empty text array.
            send(label, visible=False)
            continue
        _, row, left = place
        send(
            label,
            x=np.array([epoch], np.float32),
            y=np.array([row], np.float32),
            text=np.array([text], dtype=object),
            align="end" if left else "start",
            x_offset=-6 if left else 6,
            visible=True,
        )
    send(
        view.verticals,
        x=np.array(lines_x, dtype=np.float32),
        y=np.array([[0.0, 1.0], [0.0, 1.0]], dtype=np.float32),
    )
    best_x, best_y = ([frame.best[0]], [frame.best[1]]) if frame.best is not None else ([], [])
    send(view.best_marker, x=np.array(best_x, np.float32), y=np.array(best_y, np.float32))


def render_past(view: Any, frame: Frame, send: Callable[..., None]) -> None:
    """Earlier runs: validation dashed (``past_lines``), training thin and fainter (``past_train``;
    a run that logged no validation shows its training there, as its only curve); their metrics
    faint in the metric panel, in the run's colour."""
    if not frame.runs:
        return
    colors = [curve_color(curve) for curve in frame.runs]
    nothing = np.full(1, np.nan)
    val = [(curve.epochs, curve.values if curve.shows_val else nothing[:0]) for curve in frame.runs]
    train = [(curve.epochs, curve.values if not curve.shows_val else curve.train) for curve in frame.runs]
    for mark, series in ((view.past_lines, val), (view.past_train, train)):
        x, y = padded([(xs[: ys.size] if ys.size else nothing, ys if ys.size else nothing) for xs, ys in series])
        send(mark, **lines_of(x, y), colors=colors, labels=[curve.label for curve in frame.runs])
    metrics = [(curve.metrics[name], colors[index]) for index, curve in enumerate(frame.runs) for name in curve.metrics]
    if metrics:
        x, y = padded([series for series, _ in metrics])
        send(view.past_metric_lines, **lines_of(x, y), colors=[color for _, color in metrics])
