"""The pauses on the notebook view's loss chart: a dotted line and "paused" where each held, from the
frame's ``pauses`` (:mod:`losswidget.chart.events`)."""

from __future__ import annotations

from collections.abc import Callable

import bqplot as bq
import numpy as np

from losswidget.chart.frame import Frame
from losswidget.views.style import COLORS
from losswidget.views.widget_parts import lines_of

PAUSE_ROW = 0.06  # the bottom row: the stop and what-if labels take the top ones, the rate changes 0.78
NOTE = COLORS["note"]


class PauseMarks:
    def __init__(self, height_scales: dict) -> None:
        """``height_scales``: the loss chart's x scale and a fixed 0..1 y scale."""
        self.lines = bq.Lines(x=[], y=[], scales=height_scales, colors=[NOTE], line_style="dotted", stroke_width=1.5)
        self.labels = bq.Label(x=[], y=[], text=[], scales=height_scales, colors=[NOTE], default_size=11)
        self.marks = [self.lines, self.labels]

    def render(self, frame: Frame, send: Callable[..., None]) -> None:
        shown = bool(frame.pauses)
        send(self.lines, visible=shown)
        send(self.labels, visible=shown)  # hidden rather than emptied: bqplot cannot send an empty text array
        if not shown:
            return
        xs = np.array([x for x, _ in frame.pauses], np.float32)
        send(self.lines, **lines_of(np.repeat(xs[:, None], 2, axis=1), np.tile(np.float32([0.0, 1.0]), (xs.size, 1))))
        send(
            self.labels,
            x=xs,
            y=np.full(xs.size, PAUSE_ROW, np.float32),
            text=np.array([text for _, text in frame.pauses], dtype=object),
            x_offset=4,
        )
