"""The static SVG's words outside the plots: the legend in rows above the chart, each panel's line
names in rows above it, and the status wrapped to the image's width - all measured
(:mod:`losswidget.views.layout`), so that every one lies inside the image."""

from __future__ import annotations

import html

from losswidget.chart.frame import Frame
from losswidget.views.layout import fit_text, text_width, wrap_rows
from losswidget.views.style import BAND_OPACITY, COLORS, METRIC_COLORS, VAL_DASH, legend_color, rate_color
from losswidget.views.svg_panel import FONT, WIDTH, Panel

LEGEND_ROW, LEGEND_GAP, SWATCH = 18, 16, 22  # px: a legend row, between entries, a swatch and its gap
KEY_ROW = 16  # px: a row of a panel's line names, above it
MARGIN = 8  # px: text keeps this far from the image's edges


def wrap_words(line: str, room: float) -> list[str]:
    """``line`` in pieces no wider than ``room`` pixels, broken between words (a word wider than that
    is shortened with "…")."""
    pieces: list[str] = []
    for word in line.split():
        word = fit_text(word, room, FONT)
        if pieces and text_width(pieces[-1] + " " + word, FONT) <= room:
            pieces[-1] += " " + word
        else:
            pieces.append(word)
    return pieces or [""]


def legend_layout(frame: Frame) -> tuple[list[tuple[float, float, str, object]], int]:
    """Each legend entry's (x, baseline, label as drawn, entry) and the number of rows: wrapped so that
    every entry, whatever their number and length, lies inside the image."""
    room = WIDTH - 2 * MARGIN
    labels = [fit_text(entry.label, room - SWATCH, FONT) for entry in frame.legend]
    widths = [
        (0 if entry.role == "note" else SWATCH) + text_width(label, FONT) for entry, label in zip(frame.legend, labels)
    ]
    rows = wrap_rows(widths, room, LEGEND_GAP)
    placed = []
    for row, indices in enumerate(rows):
        x = float(MARGIN)
        for index in indices:
            placed.append((x, 14.0 + LEGEND_ROW * row, labels[index], frame.legend[index]))
            x += widths[index] + LEGEND_GAP
    return placed, len(rows)


def legend(frame: Frame) -> tuple[list[str], int]:
    parts: list[str] = []
    placed, rows = legend_layout(frame)
    for x, baseline, label, entry in placed:
        color, top = legend_color(entry.role, entry.index, frame.runs), baseline - 10
        if entry.role == "band":
            swatch = (
                f'x="{x:.0f}" y="{top:.0f}" width="18" height="12" fill="{color}" fill-opacity="{BAND_OPACITY * 2}"'
            )
            parts.append(f"<rect {swatch}/>")
        elif entry.role == "best":
            middle = baseline - 4
            parts.append(
                f'<path d="M{x + 9:.0f},{middle - 6:.0f} L{x + 15:.0f},{middle:.0f} L{x + 9:.0f},{middle + 6:.0f} '
                f'L{x + 3:.0f},{middle:.0f} Z" fill="{color}"/>'
            )
        elif entry.role != "note":
            dashed = entry.role == "val" or (entry.role == "past" and frame.runs[entry.index].shows_val)
            dashes = f' stroke-dasharray="{VAL_DASH}"' if dashed else ""
            width = 1.5 if entry.role == "steps" else 3
            line = f'x1="{x:.0f}" x2="{x + 18:.0f}" y1="{baseline - 4:.0f}" y2="{baseline - 4:.0f}"'
            parts.append(f'<line {line} stroke="{color}" stroke-width="{width}"{dashes}/>')
        text_x = x if entry.role == "note" else x + SWATCH
        style = f' fill="{color}" font-style="italic"' if entry.role == "note" else ""
        parts.append(f'<text x="{text_x:.0f}" y="{baseline:.0f}"{style}>{html.escape(label)}</text>')
    return parts, rows


def metric_keys(frame: Frame) -> list[tuple[str, str]]:
    """The metric panel's line names and colours (the current run's, then a note on earlier runs')."""
    names = list(frame.metrics)
    keys = [
        (frame.metric_labels.get(name, name), METRIC_COLORS[i % len(METRIC_COLORS)]) for i, name in enumerate(names)
    ]
    past = {name for curve in frame.runs for name in curve.metrics}
    if past:
        styles = ", ".join(
            f"{frame.metric_labels.get(name, name)} {PAST_DASH_NAMES[order % len(PAST_DASHES)]}"
            for order, name in enumerate(past_metric_order(frame))
            if name in past
        )
        keys.append((f"earlier runs, faint in their colours: {styles}", COLORS["note"]))
    return keys


PAST_DASHES = ("", "4 3", "1 3", "8 3 2 3")  # an earlier run's metrics, told apart by dash in its colour
PAST_DASH_NAMES = ("solid", "dashed", "dotted", "dash-dot")


def past_metric_order(frame: Frame) -> list[str]:
    """The metrics in the order that picks each one's dash on earlier runs (``PAST_DASHES``): the current
    run's, then the others by name, the same for every run so that the key names each dash once."""
    names = list(frame.metrics)
    return names + sorted({name for curve in frame.runs for name in curve.metrics} - set(names))


def key_rows(keys: list[tuple[str, str]], left: float) -> list[tuple[float, int, str, str]]:
    """(x, row, text, colour) of each key in rows above a panel, from its left edge to the image's."""
    room = WIDTH - MARGIN - left
    texts = [fit_text(text, room, FONT) for text, _ in keys]
    rows = wrap_rows([text_width(text, FONT) for text in texts], room, LEGEND_GAP)
    placed = []
    for row, indices in enumerate(rows):
        x = left
        for index in indices:
            placed.append((x, row, texts[index], keys[index][1]))
            x += text_width(texts[index], FONT) + LEGEND_GAP
    return placed


def keys_above(panel: Panel, placed: list[tuple[float, int, str, str]]) -> None:
    """The keys in the rows just above ``panel``: they never hide a line."""
    rows = 1 + max((row for _, row, _, _ in placed), default=-1)
    for x, row, text, color in placed:
        baseline = panel.top - 6 - KEY_ROW * (rows - 1 - row)
        panel.parts.append(f'<text x="{x:.1f}" y="{baseline:.1f}" fill="{color}">{html.escape(text)}</text>')


def rate_keys(frame: Frame) -> list[tuple[str, str]]:
    """One rate: the axis names it; several: each by name, in its colour."""
    return [(name, rate_color(index)) for index, name in enumerate(frame.rates)] if len(frame.rates) > 1 else []


def key_height(keys: list[tuple[str, str]], left: float) -> int:
    return KEY_ROW * (1 + max((row for _, row, _, _ in key_rows(keys, left)), default=-1))
