"""A static SVG of a Frame, for places where widgets don't run (GitHub, nbviewer, HTML export).

Plain string building, no plotting library: the same marks as the live chart
(train/validation lines and points, smoothed steps, best epoch, stop and
what-if lines, earlier runs, metrics), axes with round ticks, and the status.
"""

from __future__ import annotations

import html
import math
import textwrap
import uuid

import numpy as np

from losswidget.chart.frame import Frame, marker_labels
from losswidget.chart.marks import Ticks
from losswidget.chart.rates import change_text, labels_left
from losswidget.views.style import BAND_OPACITY, COLORS, METRIC_COLORS, VAL_DASH, legend_color, past_color, rate_color

WIDTH, PLOT_HEIGHT, METRIC_HEIGHT, RATE_HEIGHT = 720, 300, 150, 110
LEFT, RIGHT, TOP, BOTTOM = 64, 20, 24, 36
LINE_HEIGHT = 18
STATUS_WIDTH = 100  # characters per status line before wrapping


def _fmt(value: float) -> str:
    return f"{value:.3g}"


class _Panel:
    def __init__(
        self, top: float, height: float, x_range, y_range, log_y: bool, x_ticks: Ticks, y_ticks: Ticks
    ) -> None:
        self.top, self.height = top, height
        self.x0, self.x1 = x_range
        self.log_y = log_y
        self.x_ticks, self.y_ticks = x_ticks, y_ticks
        low, high = y_range
        self.y0, self.y1 = (math.log10(low), math.log10(high)) if log_y else (low, high)
        self.parts: list[str] = []  # axes and labels
        self.data: list[str] = []  # curves and markers, clipped to the plot area

    def px(self, x: np.ndarray) -> np.ndarray:
        span = (self.x1 - self.x0) or 1.0
        return LEFT + (np.asarray(x, dtype=np.float64) - self.x0) / span * (WIDTH - LEFT - RIGHT)

    def py(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        if self.log_y:
            with np.errstate(divide="ignore", invalid="ignore"):
                y = np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)
        span = (self.y1 - self.y0) or 1.0
        return self.top + self.height - (y - self.y0) / span * self.height

    def polyline(self, x, y, color: str, width: float = 2.0, opacity: float = 1.0, dash: str = "") -> None:
        px, py = self.px(x), self.py(y)
        ok = np.isfinite(px) & np.isfinite(py)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        # Split at gaps (NaN): each finite run is one polyline.
        breaks = np.flatnonzero(np.diff(ok.astype(np.int8)) != 0) + 1
        for segment in np.split(np.arange(px.size), breaks):
            if segment.size and ok[segment[0]]:
                points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px[segment], py[segment]))
                self.data.append(
                    f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="{width}" '
                    f'stroke-opacity="{opacity}"{dash_attr}/>'
                )

    def band(self, x, low, high, color: str, opacity: float) -> None:
        """The area between ``low`` and ``high``, one filled path per run of finite values."""
        px, plow, phigh = self.px(x), self.py(low), self.py(high)
        ok = np.isfinite(px) & np.isfinite(plow) & np.isfinite(phigh)
        breaks = np.flatnonzero(np.diff(ok.astype(np.int8)) != 0) + 1
        for segment in np.split(np.arange(px.size), breaks):
            if segment.size and ok[segment[0]]:
                edge = [(px[i], phigh[i]) for i in segment] + [(px[i], plow[i]) for i in segment[::-1]]
                path = " L".join(f"{a:.1f},{b:.1f}" for a, b in edge)
                self.data.append(f'<path class="band" d="M{path} Z" fill="{color}" fill-opacity="{opacity}"/>')

    def points(self, x, y, color: str, radius: float = 2.5, square: bool = False) -> None:
        px, py = self.px(x), self.py(y)
        for a, b in zip(px, py):
            if math.isfinite(a) and math.isfinite(b):
                if square:
                    side, left, top = 2 * radius, a - radius, b - radius
                    square_mark = f'x="{left:.1f}" y="{top:.1f}" width="{side}" height="{side}"'
                    self.data.append(f'<rect {square_mark} fill="{color}"/>')
                else:
                    self.data.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="{radius}" fill="{color}"/>')

    def clipped_data(self) -> str:
        """The data layer inside a clip path with a unique id (several charts share a page)."""
        clip = f"losswidget-{uuid.uuid4().hex[:12]}"
        width = WIDTH - LEFT - RIGHT
        return (
            f'<clipPath id="{clip}"><rect x="{LEFT}" y="{self.top}" width="{width}" height="{self.height}"/></clipPath>'
            f'<g clip-path="url(#{clip})">' + "".join(self.data) + "</g>"
        )

    def axes(self, y_label: str) -> None:
        bottom = self.top + self.height
        self.parts.append(
            f'<rect x="{LEFT}" y="{self.top}" width="{WIDTH - LEFT - RIGHT}" height="{self.height}" '
            'fill="none" stroke="#ccc"/>'
        )
        for tick, text in zip(self.x_ticks.values, self.x_ticks.labels()):
            x = float(self.px(tick))
            self.parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}" stroke="#666"/>')
            self.parts.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{text}</text>')
        for tick, text in zip(self.y_ticks.values, self.y_ticks.labels()):
            y = float(self.py(tick))
            self.parts.append(f'<line x1="{LEFT - 4}" x2="{LEFT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#666"/>')
            self.parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{text}</text>')
        middle = self.top + self.height / 2
        self.parts.append(
            f'<text x="14" y="{middle:.1f}" text-anchor="middle" transform="rotate(-90 14 {middle:.1f})">'
            f"{html.escape(y_label)}</text>"
        )

    def label(self, x: float, y_px: float, text: str, color: str, anchor: str = "start") -> None:
        px = float(self.px(x)) + (4 if anchor == "start" else -4)
        self.parts.append(
            f'<text x="{px:.1f}" y="{y_px:.1f}" fill="{color}" text-anchor="{anchor}">{html.escape(text)}</text>'
        )

    def vertical(self, x: float, color: str, width: float = 2, dash: str = "6 4") -> None:
        px = float(self.px(x))
        self.data.append(
            f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{self.top}" y2="{self.top + self.height}" stroke="{color}" '
            f'stroke-width="{width}" stroke-dasharray="{dash}"/>'
        )

    def steps(self, x, y, color: str) -> None:
        """A rate held from one epoch to the next: a staircase."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if x.size:
            self.polyline(np.repeat(x, 2)[1:], np.repeat(y, 2)[:-1], color)


def render_svg(frame: Frame) -> str:
    """The frame as a standalone SVG document (a string)."""
    has_metrics = bool(frame.metrics)
    lines = [*frame.status, frame.clip_note] if frame.clip_note else frame.status
    status = [piece for line in lines for piece in textwrap.wrap(line, STATUS_WIDTH) or [""]]
    rate_top = TOP + PLOT_HEIGHT + BOTTOM + (METRIC_HEIGHT + BOTTOM if has_metrics else 0)
    status_top = rate_top + (RATE_HEIGHT + BOTTOM if frame.rates else 0)
    height = status_top + LINE_HEIGHT * (len(status) + 2)
    panel = _Panel(TOP, PLOT_HEIGHT, frame.x_range, frame.y_range, frame.log_y, frame.x_ticks, frame.y_ticks)
    panel.axes("loss (log)" if frame.log_y else "loss")
    for index, curve in enumerate(frame.runs):
        panel.polyline(curve.epochs, curve.values, past_color(index), width=1.5, opacity=0.8)
    if frame.steps_x.size:
        panel.polyline(frame.steps_x, frame.steps_raw, COLORS["steps"], width=1, opacity=0.7)
        panel.polyline(frame.steps_x, frame.steps_smooth, COLORS["train"], width=1, opacity=0.8)
    if frame.val_low.size:
        panel.band(frame.epochs, frame.val_low, frame.val_high, COLORS["band"], BAND_OPACITY)
    panel.polyline(frame.epochs, frame.train_smooth, COLORS["train"], width=2.5)
    panel.polyline(frame.epochs, frame.val_smooth, COLORS["val"], width=2.5, dash=VAL_DASH)
    if frame.dots:
        panel.points(frame.epochs, frame.train, COLORS["train"])
        panel.points(frame.epochs, frame.val, COLORS["val"], square=True)
    label_row = TOP + 14
    middle = (frame.x_range[0] + frame.x_range[1]) / 2
    for kind, epoch, text in marker_labels(frame):
        if epoch is not None:
            color = COLORS[kind]
            panel.vertical(epoch, color)
            panel.label(epoch, label_row, text, color, anchor="end" if epoch > middle else "start")
            label_row += 16
    anchor = "end" if labels_left(frame.rate_changes, frame.x_range) else "start"
    for epoch, ratio in frame.rate_changes:  # where the learning rate changed, in the row under those labels
        panel.vertical(epoch, COLORS["rate"], width=1.5, dash="2 3")
        panel.label(epoch, TOP + 14 + 32, change_text(ratio), COLORS["rate"], anchor=anchor)
    if frame.best is not None:
        bx, by = float(panel.px(frame.best[0])), float(panel.py(frame.best[1]))
        if math.isfinite(by):
            panel.data.append(
                f'<path d="M{bx:.1f},{by - 8:.1f} L{bx + 7:.1f},{by:.1f} L{bx:.1f},{by + 8:.1f} '
                f'L{bx - 7:.1f},{by:.1f} Z" fill="{COLORS["best"]}" stroke="black"/>'
            )
            panel.parts.append(f'<text x="{bx + 9:.1f}" y="{by + 16:.1f}">best: epoch {frame.best[0]}</text>')
    parts = [*panel.parts, panel.clipped_data()]
    x = float(LEFT)
    for entry in frame.legend:  # one row above the plot: it never hides a curve
        color = legend_color(entry.role, entry.index)
        if entry.role == "band":
            swatch = f'x="{x:.0f}" y="2" width="18" height="12" fill="{color}" fill-opacity="{BAND_OPACITY * 2}"'
            parts.append(f"<rect {swatch}/>")
        elif entry.role == "best":
            parts.append(f'<path d="M{x + 9:.0f},2 L{x + 15:.0f},8 L{x + 9:.0f},14 L{x + 3:.0f},8 Z" fill="{color}"/>')
        else:
            dashes = f' stroke-dasharray="{VAL_DASH}"' if entry.role == "val" else ""
            line = f'x1="{x:.0f}" x2="{x + 18:.0f}" y1="8" y2="8" stroke="{color}" stroke-width="3"{dashes}'
            parts.append(f"<line {line}/>")
        parts.append(f'<text x="{x + 22:.0f}" y="12">{html.escape(entry.label)}</text>')
        x += 40 + 7 * len(entry.label)
    parts.append(
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{TOP + PLOT_HEIGHT + 30}" text-anchor="middle">'
        f"{html.escape(frame.x_label)}</text>"
    )

    if has_metrics:
        metric_top = TOP + PLOT_HEIGHT + BOTTOM
        metric_panel = _Panel(
            metric_top, METRIC_HEIGHT, frame.x_range, frame.metric_range, False, frame.x_ticks, frame.metric_ticks
        )
        metric_panel.axes("metrics")
        for index, (name, (mx, my)) in enumerate(frame.metrics.items()):
            color = METRIC_COLORS[index % len(METRIC_COLORS)]
            metric_panel.polyline(mx, my, color)
            metric_panel.label(frame.x_range[0], metric_panel.top + 14 + 16 * index, name, color)
        parts += [*metric_panel.parts, metric_panel.clipped_data()]
    if frame.rates:
        rate_panel = _Panel(
            rate_top, RATE_HEIGHT, frame.x_range, frame.rate_range, True, frame.x_ticks, frame.rate_ticks
        )
        rate_panel.axes("learning rate")
        for index, (name, (rx, ry)) in enumerate(frame.rates.items()):
            color = rate_color(index)
            rate_panel.steps(rx, ry, color)
            if len(frame.rates) > 1:  # one rate: the axis names it
                rate_panel.label(frame.x_range[0], rate_panel.top + 14 + 16 * index, name, color)
        parts += [*rate_panel.parts, rate_panel.clipped_data()]

    title = f'<text x="{LEFT}" y="{status_top + 4}" font-weight="bold">{html.escape(frame.title)}</text>'
    for row, line in enumerate(status):
        parts.append(f'<text x="{LEFT}" y="{status_top + LINE_HEIGHT * (row + 1) + 4}">{html.escape(line)}</text>')
    body = "\n".join(parts)
    ids = f"losswidget-{uuid.uuid4().hex[:12]}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'font-family="sans-serif" font-size="12" role="img" aria-labelledby="{ids}-title {ids}-desc">\n'
        f'<title id="{ids}-title">{html.escape(frame.title or "Training and validation loss")}</title>\n'
        f'<desc id="{ids}-desc">{html.escape(describe(frame))}</desc>\n'
        '<rect width="100%" height="100%" fill="white"/>\n'
        f"{title if frame.title else ''}\n{body}\n</svg>"
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
    if frame.rate_changes:
        where = ", ".join(f"{frame.x_label} {epoch} ({change_text(ratio)})" for epoch, ratio in frame.rate_changes)
        words.append(f"The learning rate changed at {where}.")
    words += [line for line in frame.status if line.startswith(("Diagnosis", "Stopped", "Finished"))]
    return " ".join(words)
