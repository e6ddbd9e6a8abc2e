"""Where text goes: how wide a label is, the legend wrapped into rows, a long name shortened to fit,
and the row of a marker's label that hides the fewest points of the curves.

Widths are measured, not guessed per character count: each printable ASCII character's advance is
the larger of DejaVu Sans' (the ``sans-serif`` of Linux, rsvg and most Jupyter images) and Liberation
Sans' (Arial's metrics: macOS and Windows), in hundredths of an em; any other character counts a
whole em, wider than any of them. So a label laid out here fits in every renderer, and the tests
measure what the layout measured.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Advance widths of " " (32) to "~" (126), hundredths of an em (fontTools over both fonts' hmtx).
_ASCII = (
    32, 41, 46, 84, 64, 96, 78, 28, 40, 40, 50, 84, 32, 37, 32, 34, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    34, 34, 84, 84, 84, 56, 102, 69, 69, 73, 78, 67, 62, 78, 76, 30, 50, 67, 56, 87, 75, 79, 67, 79, 73, 67,
    62, 74, 69, 99, 69, 67, 69, 40, 34, 40, 84, 56, 50, 62, 64, 55, 64, 62, 36, 64, 64, 28, 28, 58, 28, 98,
    64, 62, 64, 64, 42, 53, 40, 64, 60, 82, 60, 60, 53, 64, 34, 64, 84,
)  # fmt: skip
BOLD = 1.1  # bold text is at most this much wider (DejaVu Sans Bold over Book)
ELLIPSIS = "…"


def text_width(text: str, size: float = 12.0, bold: bool = False) -> float:
    """The width in pixels of ``text`` at font size ``size``: never less than a renderer draws it."""
    ems = sum(_ASCII[ord(c) - 32] / 100 if 32 <= ord(c) < 127 else 1.0 for c in text)
    return ems * size * (BOLD if bold else 1.0)


def fit_text(text: str, room: float, size: float = 12.0) -> str:
    """``text``, or its start and end around "…" where it is wider than ``room`` pixels: the end of a
    run's name ("... lr 0.01") tells runs apart as often as its start."""
    if text_width(text, size) <= room:
        return text
    keep = len(text)
    while keep > 1:
        keep -= 1
        head = (keep + 1) // 2
        shortened = text[:head] + ELLIPSIS + text[len(text) - (keep - head) :]
        if text_width(shortened, size) <= room:
            return shortened
    return ELLIPSIS


def wrap_rows(widths: Sequence[float], room: float, gap: float) -> list[list[int]]:
    """Indices of items of ``widths`` in rows no wider than ``room`` (``gap`` between items), in order."""
    rows: list[list[int]] = [[]]
    used = 0.0
    for index, width in enumerate(widths):
        needed = width if not rows[-1] else used + gap + width
        if rows[-1] and needed > room:
            rows.append([index])
            used = width
        else:
            rows[-1].append(index)
            used = needed
    return rows if rows[0] else []


def quietest_row(
    rows: Sequence[float], x_span: tuple[float, float], points: Sequence[tuple[np.ndarray, np.ndarray]], height: float
) -> int:
    """The index of the row (a text baseline, in pixels) whose box, ``x_span`` wide and ``height`` tall,
    covers the fewest of ``points`` (x, y pixel arrays): the first such row on a tie, so a label stays
    where it was until a curve comes to lie under it."""
    low, high = x_span
    covered = []
    for baseline in rows:
        count = 0
        for xs, ys in points:
            inside = (xs >= low) & (xs <= high) & (ys >= baseline - height) & (ys <= baseline + 0.3 * height)
            count += int(np.count_nonzero(inside))
        covered.append(count)
    return int(np.argmin(covered)) if covered else 0


def densify(xs: np.ndarray, ys: np.ndarray, step: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``step`` pixels along a polyline (its vertices alone miss a steep segment that
    crosses a label between two epochs), NaN gaps dropped; vectorised: a frame of 2,000 steps costs
    a few array operations."""
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    ok = np.isfinite(xs) & np.isfinite(ys)
    start = np.flatnonzero(ok[:-1] & ok[1:])  # segments between two drawn points
    dx, dy = xs[start + 1] - xs[start], ys[start + 1] - ys[start]
    inner = np.maximum(np.ceil(np.hypot(dx, dy) / step).astype(np.int64) - 1, 0)  # points inside each segment
    segment = np.repeat(np.arange(start.size), inner)
    rank = np.arange(segment.size) - np.repeat(np.cumsum(inner) - inner, inner) + 1
    t = rank / (inner[segment] + 1)
    return (
        np.concatenate([xs[ok], xs[start[segment]] + t * dx[segment]]),
        np.concatenate([ys[ok], ys[start[segment]] + t * dy[segment]]),
    )
