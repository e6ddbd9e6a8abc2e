"""Plain-Python view: progress in a terminal, no widgets.

On a terminal (a TTY), one line redrawn in place as tqdm draws it (``'\\r'`` and the line, padded
over the previous one, never wider than the terminal, measured in columns: a CJK character or an
emoji takes two): the epoch, a bar, elapsed time and the ETA, the losses and the best epoch, and
a sparkline of the validation loss. A permanent line stays behind when the best epoch has moved
(at most one every few seconds) and when the loop ends, then the same summary as everywhere else
(the frame's status lines). Anywhere else (a pipe, a log file, CI) a plain line every few seconds:
redraws would only fill the log with carriage returns.
Every write goes through :class:`~losswidget.views.text_stream.SafeStream`: ASCII where the
encoding has no room for the symbols, and the display off (one warning) where the stream fails.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable
from typing import TextIO

import numpy as np

from losswidget.chart.frame import Frame, format_duration
from losswidget.views.text_stream import SafeStream, clip, columns, pad, to_ascii

PRINT_INTERVAL = 2.0  # seconds between plain lines, and between permanent lines on a terminal
REDRAW_INTERVAL = 0.1  # seconds between redraws of the line on a terminal (tqdm's mininterval)
SPARKS = "▁▂▃▄▅▆▇█"
BLOCKS, ASCII_BLOCKS = " ▏▎▍▌▋▊▉█", " 1234567#"  # a bar's eighths (tqdm's ascii bar: digits and '#')
SPARK_POINTS = 12
BAR_WIDTH = 16


def _last_finite(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else None


def sparkline(values: np.ndarray, points: int = SPARK_POINTS) -> str:
    """The last ``points`` finite values as block heights, scaled between their own min and max."""
    recent = values[np.isfinite(values)][-points:]
    if recent.size < 2:
        return ""
    low, high = float(recent.min()), float(recent.max())
    if high - low <= 1e-12 * max(abs(high), 1.0):
        return SPARKS[0] * recent.size
    levels = np.round((recent - low) / (high - low) * (len(SPARKS) - 1)).astype(int)
    return "".join(SPARKS[level] for level in levels)


def bar(fraction: float, width: int = BAR_WIDTH, blocks: str = BLOCKS) -> str:
    """A bar of ``width`` cells, eighths included: ``[███▍        ]`` (``[###3        ]`` in ASCII)."""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    partial = blocks[part] if full < width else ""
    return "[" + (blocks[8] * full + partial).ljust(width) + "]"


def meter(frame: Frame, width: int, ascii: bool = False) -> str:
    """One terminal line for ``frame``, at most ``width`` columns: the parts that do not fit
    are left out, the least important first (the sparkline, the bar, the times). ``ascii``: the
    line in ASCII (no sparkline: eight heights have no ASCII picture)."""
    progress = frame.progress
    head = frame.title + " " if frame.title else ""
    if progress is not None and progress.epoch is not None:
        head += f"epoch {progress.epoch}" if progress.total is None else f"{progress.done}/{progress.total}"
    times = ""
    if progress is not None:
        times = format_duration(progress.elapsed)
        if progress.eta is not None:
            times += f"<{format_duration(progress.eta)}"
    shown_bar = ""
    if progress is not None and progress.total:
        shown_bar = bar(progress.done / progress.total, blocks=ASCII_BLOCKS if ascii else BLOCKS)
    # Numbers in fixed widths, so that the line keeps its length and its layout from one redraw to
    # the next (a part that came and went with a digit more or less would make the line jump).
    losses, best = _losses(frame, number="<7.4g", best_at="@")
    spark = "" if ascii else sparkline(frame.val)
    with_best = " · ".join([*losses, best] if best else losses)
    for parts in (
        [head, shown_bar, times, with_best, spark],
        [head, shown_bar, times, with_best],
        [head, times, with_best],
        [head, times, " · ".join(losses)],
        [head, " · ".join(losses)],
    ):
        line = "  ".join(part for part in parts if part).strip()
        if ascii:
            line = to_ascii(line, "ascii")
        if columns(line) <= width:
            return line
    return clip(line, width, "." if ascii else "…")


def _losses(frame: Frame, number: str = ".4g", best_at: str = "at epoch") -> tuple[list[str], str]:
    """The last train and val losses, and the best epoch ("" before one), in ``number``'s format."""
    losses = []
    train, val = _last_finite(frame.train), _last_finite(frame.val)
    if train is not None:
        losses.append(f"train {train:{number}}")
    if val is not None:
        losses.append(f"val {val:{number}}")
    best = "" if frame.best is None else f"best {frame.best[1]:{number}} {best_at} {frame.best[0]}"
    return losses, best


def _said(frame: Frame) -> list[str]:
    """The losses and the best epoch as a permanent or a plain line says them."""
    losses, best = _losses(frame)
    return [*losses, best] if best else losses


def record(frame: Frame) -> str:
    """A permanent line: where the run is and its best epoch (no bar, nothing that changes)."""
    where = []
    if frame.progress is not None and frame.progress.epoch is not None:
        where.append(f"epoch {frame.progress.epoch}")
    elif frame.epochs.size:  # the loop has ended: its last epoch
        where.append(f"epoch {int(frame.epochs[-1])}")
    line = " · ".join(where + _said(frame))
    return f"{frame.title}: {line}" if frame.title else line


class TextView:
    """Terminal progress: a redrawn line on a TTY, sparse lines elsewhere; the outcome at the end.
    A stream that fails turns this view off with one warning; training goes on."""

    def __init__(
        self,
        stream: TextIO | None = None,
        interval: float = PRINT_INTERVAL,
        redraw_interval: float = REDRAW_INTERVAL,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.controls: list = []
        self._out = SafeStream(stream, warn)
        self._interval = interval
        self._redraw_interval = redraw_interval
        self._last_print = -math.inf  # plain lines; permanent lines on a terminal
        self._last_redraw = -math.inf
        self._last_line = ""
        self._drawn = 0  # columns of the line drawn in place now (0: none)
        self._recorded_best: tuple | None = None
        self.shown = True

    @property
    def off(self) -> bool:
        """True once the stream has failed: nothing more is written."""
        return self._out.off

    def show(self) -> None:
        pass

    def sync_controls(self, settings: object) -> None:
        pass  # no controls in a terminal: Ctrl-C stops

    def _print(self, text: str) -> None:
        self._clear()
        self._out.write(text + "\n")

    def _clear(self) -> None:
        if self._drawn:
            self._out.write("\r" + " " * self._drawn + "\r")
            self._drawn = 0

    def _line(self, frame: Frame) -> str:
        """A plain line (no terminal): the status's progress sentence and the losses."""
        parts = [frame.status[0].rstrip(".")] if frame.status else []
        losses, best = _losses(frame)
        named = best and parts and "best validation loss" in parts[0].lower()  # the status names it
        return " · ".join(parts + losses + ([best] if best and not named else []))

    def render(self, frame: Frame) -> None:
        if self.off:
            return
        now = time.monotonic()
        if self._out.is_terminal():
            self._redraw(frame, now)
            return
        line = self._line(frame)
        if now - self._last_print >= self._interval and line != self._last_line:
            self._print(line)
            self._last_print, self._last_line = now, line

    def _redraw(self, frame: Frame, now: float) -> None:
        if frame.progress is None or now - self._last_redraw < self._redraw_interval:
            return
        if frame.best is not None and frame.best != self._recorded_best and now - self._last_print >= self._interval:
            if self._recorded_best is not None:  # the first best is no news: the line shows it
                self._print(record(frame))
            self._recorded_best, self._last_print = frame.best, now
        width = max(shutil.get_terminal_size((80, 24)).columns - 1, 10)  # the last column would wrap
        line = meter(frame, width, ascii=self._out.ascii)
        if self._out.write("\r" + pad(line, self._drawn)):
            self._drawn, self._last_redraw = columns(line), now

    def finish(self, frame: Frame) -> None:
        if self.off:
            return
        if self._out.is_terminal():
            self._print(record(frame))
        else:
            line = self._line(frame)
            if line != self._last_line:
                self._print(line)
                self._last_line = line
        for text in frame.status[0 if self._out.is_terminal() else 1 :]:  # a plain line said the first
            if not text.startswith("Press Ctrl-C"):
                self._print("  " + text)
