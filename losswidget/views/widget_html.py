"""The widget's HTML parts: the legend above the chart and the status text under it."""

from __future__ import annotations

import html

from losswidget.chart.frame import Frame
from losswidget.views.style import legend_color

# bqplot's Axis has no trait for its label's style (only ``tick_style``): at presentation size the
# labels ("loss", "epoch") grow by this rule, which the legend's HTML carries while the root has
# the presentation class; it is as specific as bqplot's own ``font`` rule for them, plus our class.
PRESENTATION_CSS = "<style>.losswidget-presentation .bqplot > svg .axis text.axislabel { font-size: 20px; }</style>"
SWATCHES = {"train": "━", "steps": "─", "val": "╍", "best": "◆", "past": "╍", "band": "▮", "note": ""}
# The markers' labels keep a halo in the page's background colour: legible over any curve they cross.
LABEL_CSS = (
    "<style>.losswidget .bqplot text.label { paint-order: stroke; stroke: var(--jp-layout-color0, white); "
    "stroke-width: 4px; stroke-linejoin: round; }</style>"
)


def legend_html(frame: Frame) -> str:
    """The legend as rows of HTML above the chart: it never hides a curve or a label, and wraps (a long
    name within itself) so that every entry stays inside the widget."""
    items = []
    for entry in frame.legend:
        swatch = SWATCHES[entry.role]
        if entry.role == "past" and not frame.runs[entry.index].shows_val:
            swatch = "━"  # a run that logged no validation: its training curve, solid
        color = legend_color(entry.role, entry.index, frame.runs)
        mark = f'<span style="color: {color}; font-weight: bold" aria-hidden="true">{swatch}</span> ' if swatch else ""
        style = "font-style: italic; " if entry.role == "note" else ""
        items.append(
            f'<span style="margin-left: 14px; display: inline-block; max-width: 100%; overflow-wrap: anywhere; '
            f'{style}">{mark}{html.escape(entry.label)}</span>'
        )
    size = 20 if frame.presentation else 12
    style = LABEL_CSS + (PRESENTATION_CSS if frame.presentation else "")
    return (
        f'{style}<div class="losswidget-legend" style="font-size: {size}px; text-align: right">{"".join(items)}</div>'
    )


def status_html(lines: list[str], presentation: bool = False) -> str:
    """The status's sentences (at most three, then alarms)."""
    items = "".join(f"<div>{html.escape(line)}</div>" for line in lines if line)
    size = 20 if presentation else 13
    return f'<div class="losswidget-status" style="font-size: {size}px; line-height: 1.5">{items}</div>'


def details_html(lines: list[str], presentation: bool = False) -> str:
    """The numbers behind the status (``monitor.explain()``), for the "details" panel under it."""
    items = "".join(f"<div>{html.escape(line)}</div>" for line in lines if line)
    size = 18 if presentation else 12
    return f'<div class="losswidget-details" style="font-size: {size}px; line-height: 1.5">{items}</div>'
