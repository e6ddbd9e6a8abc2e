"""Plain-Python view: throttled text progress, no widgets."""

from __future__ import annotations

import sys
import time
from typing import TextIO

import numpy as np

from losswidget.chart.frame import Frame

PRINT_INTERVAL = 2.0


class TextView:
    """Prints one progress line at most every two seconds, and the outcome at the end."""

    def __init__(self, stream: TextIO | None = None, interval: float = PRINT_INTERVAL) -> None:
        self.controls: list = []
        self._stream = stream
        self._interval = interval
        self._last_print = -float("inf")
        self._last_line = ""
        self.shown = True

    def show(self) -> None:
        pass

    def sync_controls(self, settings: object) -> None:
        pass  # no controls in a terminal: Ctrl-C stops

    def _print(self, text: str) -> None:
        print(text, file=self._stream or sys.stdout, flush=True)

    @staticmethod
    def _line(frame: Frame) -> str:
        parts = [frame.status[0].rstrip(".")] if frame.status else []
        train, val = frame.train[~np.isnan(frame.train)], frame.val[~np.isnan(frame.val)]
        if train.size:
            parts.append(f"train {train[-1]:.4g}")
        if val.size:
            parts.append(f"val {val[-1]:.4g}")
        if frame.best is not None:
            parts.append(f"best {frame.best[1]:.4g} @ epoch {frame.best[0]}")
        return " · ".join(parts)

    def render(self, frame: Frame) -> None:
        now = time.monotonic()
        line = self._line(frame)
        if now - self._last_print >= self._interval and line != self._last_line:
            self._print(line)
            self._last_print, self._last_line = now, line

    def finish(self, frame: Frame) -> None:
        line = self._line(frame)
        if line != self._last_line:
            self._print(line)
            self._last_line = line
        for text in frame.status[1:]:
            if not text.startswith("Press Ctrl-C"):
                self._print("  " + text)
