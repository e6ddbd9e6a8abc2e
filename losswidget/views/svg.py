"""A static SVG of a Frame, for places where widgets don't run (GitHub, nbviewer, HTML export).

Plain string building, no plotting library: the same marks as the live chart
(train/validation lines and points, smoothed steps, best epoch, stop and
what-if lines, earlier runs, metrics), axes with round ticks, and the status.
"""

from __future__ import annotations

import html
import math
import uuid

import numpy as np

from losswidget.chart.events import label_left
from losswidget.chart.frame import Frame, marker_labels
from losswidget.views.layout import fit_text, text_width
from losswidget.views.style import (
    BAND_OPACITY,
    COLORS,
    METRIC_COLORS,
    STEP_OPACITY,
    VAL_DASH,
    curve_color,
    rate_color,
)
from losswidget.views.svg_panel import FONT, WIDTH, Panel, left_margin
from losswidget.views.svg_text import (
    LEGEND_ROW,
    MARGIN,
    PAST_DASHES,
    key_height,
    key_rows,
    keys_above,
    legend,
    metric_keys,
    past_metric_order,
    rate_keys,
    wrap_words,
)

PLOT_HEIGHT, METRIC_HEIGHT, RATE_HEIGHT = 300, 150, 110
BOTTOM = 36  # under a panel: its tick labels and the x axis' title
LINE_HEIGHT = 18


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _loss_panel(frame: Frame, left: float, top: float) -> Panel:
    panel = Panel(left, top, PLOT_HEIGHT, frame.x_range, frame.y_range, frame.log_y, frame.x_ticks, frame.y_ticks)
    panel.axes(frame.y_label, frame.x_label)
    if frame.steps_x.size:  # underneath: a dense texture that would hide the earlier runs
        panel.polyline(frame.steps_x, frame.steps_raw, COLORS["steps"], width=1, opacity=STEP_OPACITY)
    for curve in frame.runs:  # earlier runs: validation dashed, training thin and fainter
        color = curve_color(curve)
        if curve.train.size:
            panel.polyline(curve.epochs, curve.train, color, width=1, opacity=0.5)
        panel.polyline(
            curve.epochs, curve.values, color, width=1.5, opacity=0.8, dash=VAL_DASH if curve.shows_val else ""
        )
    if frame.steps_x.size and frame.smoothing > 1:
        panel.polyline(frame.steps_x, frame.steps_smooth, COLORS["train"], width=1, opacity=0.8)
    if frame.val_low.size:
        panel.band(frame.epochs, frame.val_low, frame.val_high, COLORS["band"], BAND_OPACITY)
    if frame.smoothing > 1 and not frame.dots:  # the raw curves stay visible under the smoothed ones
        panel.polyline(frame.epochs, frame.train, COLORS["train"], width=1, opacity=0.35)
        panel.polyline(frame.epochs, frame.val, COLORS["val"], width=1, opacity=0.35)
    panel.polyline(frame.epochs, frame.train_smooth, COLORS["train"], width=2.5)
    panel.polyline(frame.epochs, frame.val_smooth, COLORS["val"], width=2.5, dash=VAL_DASH)
    if frame.dots:
        panel.points(frame.epochs, frame.train, COLORS["train"])
        panel.points(frame.epochs, frame.val, COLORS["val"], square=True)
    rows = panel.label_rows()
    for kind, epoch, _text in marker_labels(frame):
        if epoch is not None:
            panel.vertical(epoch, COLORS[kind])
    for mark in frame.changes:  # what steering changed (and the schedule's rate changes): thin dotted rules
        for x in mark.xs:
            panel.vertical(x, COLORS["rate" if mark.rate else "note"], width=1.2, dash="2 3")
    labels = [
        (epoch, text, COLORS[kind], label_left(epoch, frame.x_range))
        for kind, epoch, text in marker_labels(frame)
        if epoch is not None
    ]
    labels += [(mark.x, mark.text, COLORS["rate" if mark.rate else "note"], mark.left) for mark in frame.changes]
    for epoch, text, color, left_side in labels:
        x, anchor, baseline = panel.placed(float(panel.px(epoch)), text, rows, left_side)
        panel.text(x, baseline, text, color, anchor)
        panel.occupy(x, anchor, baseline, text)
    if frame.best is not None:
        _best(panel, frame.best)
    return panel


def _best(panel: Panel, best: tuple[int, float]) -> None:
    """The ◆ and "best: epoch N" beside it: right and below, else where it fits inside the plot and
    hides the fewest points."""
    bx, by = float(panel.px(best[0])), float(panel.py(best[1]))
    if not math.isfinite(by):
        return
    panel.data.append(
        f'<path d="M{bx:.1f},{by - 8:.1f} L{bx + 7:.1f},{by:.1f} L{bx:.1f},{by + 8:.1f} '
        f'L{bx - 7:.1f},{by:.1f} Z" fill="{COLORS["best"]}" stroke="black"/>'
    )
    text = f"best: epoch {best[0]}"
    width = text_width(text, FONT)
    spots = []  # (x, anchor, baseline): below right, below left, above right, above left
    for baseline in (by + 20, by - 12):
        for x, anchor in ((bx + 9, "start"), (bx - 9, "end")):
            start = x - width if anchor == "end" else x
            inside = panel.left + 2 <= start and start + width <= panel.right - 2
            if inside and panel.top + FONT <= baseline <= panel.bottom - 3:
                spots.append((x, anchor, baseline))
    if not spots:  # a plot too small for any: the nearest corner inside
        anchor = "end" if bx + 9 + width > panel.right - 2 else "start"
        spots = [(panel.right - 2 if anchor == "end" else max(bx + 9, panel.left + 2), anchor, panel.top + FONT + 2)]
    counts = [
        sum(
            int(np.count_nonzero((xs >= (x - width if a == "end" else x)) & (xs <= (x if a == "end" else x + width))
                                 & (ys >= b - FONT) & (ys <= b + 3)))
            for xs, ys in panel.obstacles
        )
        for x, a, b in spots
    ]  # fmt: skip
    x, anchor, baseline = spots[int(np.argmin(counts))]
    panel.text(x, baseline, text, "black", anchor)


def _metric_panel(frame: Frame, left: float, top: float) -> Panel:
    panel = Panel(left, top, METRIC_HEIGHT, frame.x_range, frame.metric_range, False, frame.x_ticks, frame.metric_ticks)
    panel.axes("metrics")
    order = past_metric_order(frame)
    for curve in frame.runs:  # earlier runs' metrics: faint, in the run's colour, a dash per metric
        for name, (mx, my) in curve.metrics.items():
            dash = PAST_DASHES[order.index(name) % len(PAST_DASHES)]
            panel.polyline(mx, my, curve_color(curve), width=1.2, opacity=0.6, dash=dash)
    for index, (mx, my) in enumerate(frame.metrics.values()):
        panel.polyline(mx, my, METRIC_COLORS[index % len(METRIC_COLORS)])
    keys_above(panel, key_rows(metric_keys(frame), left))
    return panel


def _rate_panel(frame: Frame, left: float, top: float) -> Panel:
    panel = Panel(left, top, RATE_HEIGHT, frame.x_range, frame.rate_range, True, frame.x_ticks, frame.rate_ticks)
    panel.axes("learning rate")
    for index, (rx, ry) in enumerate(frame.rates.values()):
        panel.steps(rx, ry, rate_color(index))
    keys_above(panel, key_rows(rate_keys(frame), left))
    return panel


def render_svg(frame: Frame) -> str:
    """The frame as a standalone SVG document (a string)."""
    has_metrics = bool(frame.metrics) or any(curve.metrics for curve in frame.runs)
    left = left_margin(frame.y_ticks, frame.metric_ticks if has_metrics else frame.y_ticks, frame.rate_ticks)
    lines = [*frame.status, frame.clip_note] if frame.clip_note else frame.status
    status = [piece for line in lines for piece in wrap_words(line, WIDTH - left - MARGIN)]
    legend_parts, legend_rows = legend(frame)
    top = LEGEND_ROW * legend_rows + 10
    metric_top = top + PLOT_HEIGHT + BOTTOM + (key_height(metric_keys(frame), left) if has_metrics else 0)
    rate_top = metric_top + (METRIC_HEIGHT + BOTTOM if has_metrics else 0)
    rate_top += key_height(rate_keys(frame), left) if frame.rates else 0
    status_top = rate_top + (RATE_HEIGHT + BOTTOM if frame.rates else 0)
    height = status_top + LINE_HEIGHT * (len(status) + 2)
    panels = [_loss_panel(frame, left, top)]
    if has_metrics:
        panels.append(_metric_panel(frame, left, metric_top))
    if frame.rates:
        panels.append(_rate_panel(frame, left, rate_top))
    parts = [part for panel in panels for part in (*panel.parts, panel.clipped_data())] + legend_parts
    if frame.title:
        title = html.escape(fit_text(frame.title, (WIDTH - left - MARGIN) / 1.1, FONT))
        parts.append(f'<text x="{left}" y="{status_top + 4}" font-weight="bold">{title}</text>')
    for row, line in enumerate(status):
        parts.append(f'<text x="{left}" y="{status_top + LINE_HEIGHT * (row + 1) + 4}">{html.escape(line)}</text>')
    body = "\n".join(parts)
    ids = f"losswidget-{uuid.uuid4().hex[:12]}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'font-family="sans-serif" font-size="{FONT}" role="img" aria-labelledby="{ids}-title {ids}-desc">\n'
        f'<title id="{ids}-title">{html.escape(frame.title or "Training and validation loss")}</title>\n'
        f'<desc id="{ids}-desc">{html.escape(describe(frame))}</desc>\n'
        '<rect width="100%" height="100%" fill="white"/>\n'
        f"{body}\n</svg>"
    )


def describe(frame: Frame) -> str:
    """The chart in words, for screen readers: the curves' ends, the best epoch, what they mean."""
    if not frame.epochs.size:
        return "No epochs recorded yet."
    first, last = int(frame.epochs[0]), int(frame.epochs[-1])
    words = [f"Loss per {frame.x_label}, {first} to {last}."]
    for name, values in (("Training", frame.train), ("Validation", frame.val)):
        finite = np.flatnonzero(np.isfinite(values))
        if finite.size:
            words.append(
                f"{name} loss from {_fmt(values[finite[0]])} at {frame.x_label} {int(frame.epochs[finite[0]])} "
                f"to {_fmt(values[finite[-1]])} at {int(frame.epochs[finite[-1]])}."
            )
    if frame.best is not None:
        words.append(f"Lowest validation loss {_fmt(frame.best[1])} at {frame.x_label} {frame.best[0]}.")
    if frame.changes:  # the epoch each was made in, as the status says it
        where = "; ".join(f"{mark.text} at {frame.x_label} {mark.epoch}" for mark in frame.changes)
        words.append(f"Changes marked on the chart: {where}.")
    words += [line for line in frame.status if line.startswith(("Diagnosis", "Stopped", "Finished"))]
    return " ".join(words)
