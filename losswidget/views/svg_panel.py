"""One panel of the static SVG (the loss chart, the metrics, the learning rate): data to pixels, curves
clipped to the plot, axes with their ticks, and labels placed inside the plot where they hide the
fewest points of the curves, drawn over them with a halo in the background's colour."""

from __future__ import annotations

import html
import math
import uuid

import numpy as np

from losswidget.chart.marks import Ticks
from losswidget.views.layout import densify, fit_text, quietest_row, text_width

WIDTH, RIGHT = 720, 20
FONT = 12  # px: every text of the image
HALO = 'stroke="white" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'


def left_margin(*tick_sets: Ticks) -> int:
    """Room left of the plots for the widest tick label and, left of it, the rotated axis title
    (centred at x = 14, about 16 px of it): the title never touches a tick label."""
    widest = max((text_width(label, FONT) for ticks in tick_sets for label in ticks.labels()), default=0.0)
    return max(64, math.ceil(widest) + 34)


class Panel:
    def __init__(
        self, left: float, top: float, height: float, x_range, y_range, log_y: bool, x_ticks: Ticks, y_ticks: Ticks
    ) -> None:
        self.left, self.right = left, WIDTH - RIGHT
        self.top, self.height = top, height
        self.bottom = top + height
        self.x0, self.x1 = x_range
        self.log_y = log_y
        self.x_ticks, self.y_ticks = x_ticks, y_ticks
        low, high = y_range
        self.y0, self.y1 = (math.log10(low), math.log10(high)) if log_y else (low, high)
        self.parts: list[str] = []  # axes and their labels, under the data
        self.data: list[str] = []  # curves and markers, clipped to the plot area
        self.labels: list[str] = []  # text inside the plot, over the data
        self.obstacles: list[tuple[np.ndarray, np.ndarray]] = []  # pixel points a label should not hide

    def px(self, x: np.ndarray) -> np.ndarray:
        span = (self.x1 - self.x0) or 1.0
        return self.left + (np.asarray(x, dtype=np.float64) - self.x0) / span * (self.right - self.left)

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
        self.obstacles.append(densify(px, np.clip(py, self.top - 50, self.bottom + 50)))
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
        self.obstacles.append((px, py))
        for a, b in zip(px, py):
            if math.isfinite(a) and math.isfinite(b):
                if square:
                    side, left, top = 2 * radius, a - radius, b - radius
                    square_mark = f'x="{left:.1f}" y="{top:.1f}" width="{side}" height="{side}"'
                    self.data.append(f'<rect {square_mark} fill="{color}"/>')
                else:
                    self.data.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="{radius}" fill="{color}"/>')

    def clipped_data(self) -> str:
        """The data layer inside a clip path with a unique id (several charts share a page), then the
        labels over it."""
        clip = f"losswidget-{uuid.uuid4().hex[:12]}"
        width = self.right - self.left
        return (
            f'<clipPath id="{clip}"><rect x="{self.left}" y="{self.top}" width="{width}" height="{self.height}"/>'
            f'</clipPath><g clip-path="url(#{clip})">' + "".join(self.data) + "</g>" + "".join(self.labels)
        )

    def axes(self, y_label: str, x_label: str | None = None) -> None:
        bottom = self.bottom
        self.parts.append(
            f'<rect x="{self.left}" y="{self.top}" width="{self.right - self.left}" height="{self.height}" '
            'fill="none" stroke="#ccc"/>'
        )
        for tick, text in zip(self.x_ticks.values, self.x_ticks.labels()):
            x = float(self.px(tick))
            self.parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}" stroke="#666"/>')
            self.parts.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{text}</text>')
        for tick, text in zip(self.y_ticks.values, self.y_ticks.labels()):
            y = float(self.py(tick))
            self.parts.append(f'<line x1="{self.left - 4}" x2="{self.left}" y1="{y:.1f}" y2="{y:.1f}" stroke="#666"/>')
            self.parts.append(f'<text x="{self.left - 6}" y="{y + 4:.1f}" text-anchor="end">{text}</text>')
        middle = self.top + self.height / 2
        title = html.escape(fit_text(y_label, self.height, FONT))
        self.parts.append(
            f'<text x="14" y="{middle:.1f}" text-anchor="middle" transform="rotate(-90 14 {middle:.1f})">{title}</text>'
        )
        if x_label is not None:
            centre = (self.left + self.right) / 2
            text = html.escape(fit_text(x_label, self.right - self.left, FONT))
            self.parts.append(f'<text x="{centre:.1f}" y="{bottom + 30}" text-anchor="middle">{text}</text>')

    def text(self, x: float, baseline: float, text: str, color: str = "black", anchor: str = "start") -> None:
        """Text over the data (pixels), with a halo: legible over any curve."""
        self.labels.append(
            f'<text x="{x:.1f}" y="{baseline:.1f}" fill="{color}" text-anchor="{anchor}" {HALO}>'
            f"{html.escape(text)}</text>"
        )

    def placed(self, at: float, text: str, rows: list[float], prefer_left: bool) -> tuple[float, str, float]:
        """(x, anchor, baseline) for a label beside the vertical line at pixel ``at``: on the side
        ``prefer_left`` asks for where it fits inside the plot, in the row of ``rows`` that hides the
        fewest points of the curves drawn so far."""
        width = text_width(text, FONT)
        fits_right = at + 4 + width <= self.right - 2
        fits_left = at - 4 - width >= self.left + 2
        left = (prefer_left and fits_left) or not fits_right
        x, anchor = (at - 4, "end") if left else (at + 4, "start")
        span = (x - width, x) if left else (x, x + width)
        row = quietest_row(rows, span, self.obstacles, FONT)
        return x, anchor, rows[row]

    def occupy(self, x: float, anchor: str, baseline: float, text: str) -> None:
        """A label's box becomes an obstacle (many points) for the labels placed after it."""
        width = text_width(text, FONT)
        start = x - width if anchor == "end" else x
        xs = np.arange(start, start + width, 2.0)
        self.obstacles.append((xs, np.full(xs.size, baseline - 5.0)))

    def label_rows(self, count: int = 3) -> list[float]:
        """Baselines for labels: rows from the top, then rows from the bottom."""
        top = [self.top + 14 + 16 * i for i in range(count)]
        bottom = [self.bottom - 6 - 16 * i for i in range(count)]
        return top + bottom

    def vertical(self, x: float, color: str, width: float = 2, dash: str = "6 4") -> None:
        px = float(self.px(x))
        self.data.append(
            f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{self.top}" y2="{self.bottom}" stroke="{color}" '
            f'stroke-width="{width}" stroke-dasharray="{dash}"/>'
        )

    def steps(self, x, y, color: str) -> None:
        """A rate held from one epoch to the next: a staircase."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if x.size:
            self.polyline(np.repeat(x, 2)[1:], np.repeat(y, 2)[:-1], color)
