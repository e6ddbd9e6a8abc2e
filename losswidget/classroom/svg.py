"""The class chart as a static SVG: the image a saved or exported notebook keeps where widgets don't
run (GitHub, nbviewer, HTML), drawn from the same :class:`~losswidget.classroom.chart.ClassFrame` as
the live chart, with the sentence a teacher reads aloud under it.

Every word lies inside the image: the legend and the sentence are wrapped to its width, and the
students' names are not written on the curves (thirty names would hide them); the table beside the
chart names them. The selected students are drawn on top with their training curves dashed, and the
line under the chart names them, as the live chart showed.
"""

from __future__ import annotations

import html
import uuid

import numpy as np

from losswidget.chart.marks import epoch_ticks, loss_ticks
from losswidget.classroom.chart import ClassFrame
from losswidget.views.layout import fit_text, text_width, wrap_rows
from losswidget.views.svg_panel import FONT, WIDTH, Panel, left_margin
from losswidget.views.svg_text import MARGIN, wrap_words

__all__ = ["render_class_svg"]

PLOT_HEIGHT = 300
ROW = 18  # px: a legend row, a line of the sentence
SWATCH, GAP = 22, 16


def _legend(frame: ClassFrame) -> tuple[list[str], int]:
    """Each group's swatch and "label (mean of N runs)", in rows that fit the image."""
    room = WIDTH - 2 * MARGIN
    labels = [
        fit_text(f"{band.label}: mean of {band.runs} runs, band ± 2 SE across runs", room - SWATCH, FONT)
        for band in frame.bands
    ]
    if frame.students:
        labels.append(fit_text("thin lines: each student's run, in its group's colour", room - SWATCH, FONT))
    widths = [SWATCH + text_width(label, FONT) for label in labels]
    rows = wrap_rows(widths, room, GAP) if labels else []
    parts = []
    for row, indices in enumerate(rows):
        x = float(MARGIN)
        for index in indices:
            baseline = 14.0 + ROW * row
            if index < len(frame.bands):
                strokes = [(frame.bands[index].color, 3, 1.0, baseline - 4)]
            else:  # the thin lines are drawn in their groups' colours: so is their swatch
                colors = [band.color for band in frame.bands][:3] or ["#7f7f7f"]
                strokes = [(color, 1.5, 0.8, baseline - 8 + 4 * k) for k, color in enumerate(colors)]
            for color, width, opacity, y in strokes:
                parts.append(
                    f'<line x1="{x:.0f}" x2="{x + 18:.0f}" y1="{y:.0f}" y2="{y:.0f}" '
                    f'stroke="{color}" stroke-width="{width}" stroke-opacity="{opacity}"/>'
                )
            parts.append(f'<text x="{x + SWATCH:.0f}" y="{baseline:.0f}">{html.escape(labels[index])}</text>')
            x += widths[index] + GAP
    return parts, len(rows)


def render_class_svg(frame: ClassFrame, title: str, lines: list[str]) -> str:
    """``frame`` drawn as a standalone SVG document, ``title`` above the words and ``lines`` (the
    sentence, what ± means) under the chart."""
    xs = [curve.x for curve in frame.students] + [band.x for band in frame.bands] + [c.train_x for c in frame.chosen]
    xs = [x[np.isfinite(x)] for x in xs if x.size]
    x_range = (float(min(x.min() for x in xs)), float(max(x.max() for x in xs))) if xs else (0.0, 1.0)
    if x_range[1] <= x_range[0]:
        x_range = (x_range[0], x_range[0] + 1.0)
    y_range = frame.y_range or (0.0, 1.0)
    x_ticks, y_ticks = epoch_ticks(x_range), loss_ticks(y_range, False)
    left = left_margin(y_ticks)
    legend_parts, legend_rows = _legend(frame)
    top = ROW * legend_rows + 10
    panel = Panel(left, top, PLOT_HEIGHT, x_range, y_range, False, x_ticks, y_ticks)
    panel.axes("loss" if frame.chosen else "validation loss", "epoch")
    for band in frame.bands:
        panel.band(band.x, band.low, band.high, band.color, 0.2)
    for curve in frame.students:
        panel.polyline(curve.x, curve.y, curve.color, width=1.0, opacity=0.45)
    for band in frame.bands:
        panel.polyline(band.x, band.mean, band.color, width=3.0)
    for chosen in frame.chosen:
        panel.polyline(chosen.x, chosen.val, chosen.color, width=2.0)
        panel.polyline(chosen.train_x, chosen.train, chosen.color, width=2.0, dash="6,4")
    words = [f"{frame.hidden} runs not drawn one by one (past the chart's limit): their groups' bands hold them."]
    words = ([title] if title else []) + lines + (words if frame.hidden else [])
    wrapped = [piece for line in words for piece in wrap_words(line, WIDTH - 2 * MARGIN)]
    text_top = top + PLOT_HEIGHT + 44
    height = text_top + ROW * (len(wrapped) + 1)
    parts = [*panel.parts, panel.clipped_data(), *legend_parts]
    for row, line in enumerate(wrapped):
        weight = ' font-weight="bold"' if title and row == 0 else ""
        parts.append(f'<text x="{MARGIN}" y="{text_top + ROW * row}"{weight}>{html.escape(line)}</text>')
    ids = f"losswidget-{uuid.uuid4().hex[:12]}"
    described = " ".join(lines) or "No runs yet."
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'font-family="sans-serif" font-size="{FONT}" role="img" aria-labelledby="{ids}-title {ids}-desc">\n'
        f'<title id="{ids}-title">{html.escape(title or "A class in one chart")}</title>\n'
        f'<desc id="{ids}-desc">{html.escape(described)}</desc>\n'
        '<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(parts) + "\n</svg>"
    )
