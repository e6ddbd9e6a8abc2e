"""What steering changed, on the notebook view's loss chart: a thin dotted rule where each change
took effect and its label ("lr ×0.5", "paused", "patience 5→10", "branch from run 1"), the labels of
one epoch joined, each on the side :func:`~losswidget.chart.events.label_left` says, in the first
row where it overlaps no other: from the frame's ``changes``
(:mod:`losswidget.chart.events`). The learning rate's in its colour, the others grey."""

from __future__ import annotations

from collections.abc import Callable

import bqplot as bq
import numpy as np

from losswidget.chart.frame import Frame
from losswidget.views.style import COLORS
from losswidget.views.widget_marks import CHANGE_SIZE, change_rows
from losswidget.views.widget_parts import lines_of


class ChangeMarks:
    def __init__(self, height_scales: dict) -> None:
        """``height_scales``: the loss chart's x scale and a fixed 0..1 y scale."""
        self.lines = bq.Lines(
            x=[], y=[], scales=height_scales, colors=[COLORS["note"]], line_style="dotted", stroke_width=1.5
        )
        label = {"x": [], "y": [], "text": [], "scales": height_scales, "default_size": CHANGE_SIZE}
        self.right_labels = bq.Label(**label, align="start", x_offset=4)  # left half: right of the rule
        self.left_labels = bq.Label(**label, align="end", x_offset=-4)  # right half: left of the rule
        self.marks = [self.lines, self.right_labels, self.left_labels]

    def render(self, frame: Frame, send: Callable[..., None]) -> None:
        changes = frame.changes
        send(self.lines, visible=bool(changes))
        rows = change_rows(frame)
        for labels, left in ((self.right_labels, False), (self.left_labels, True)):
            shown = [(mark, row) for mark, row in zip(changes, rows) if mark.left == left]
            send(labels, visible=bool(shown))  # hidden rather than emptied: bqplot cannot send an empty text array
            if shown:
                send(
                    labels,
                    x=np.array([mark.x for mark, _ in shown], np.float32),
                    y=np.array([row for _, row in shown], np.float32),
                    text=np.array([mark.text for mark, _ in shown], dtype=object),
                    colors=[COLORS["rate"] if mark.rate else COLORS["note"] for mark, _ in shown],
                )
        if changes:
            rules = [(x, mark.rate) for mark in changes for x in mark.xs]
            xs = np.array([x for x, _ in rules], np.float32)
            send(
                self.lines,
                **lines_of(np.repeat(xs[:, None], 2, axis=1), np.tile(np.float32([0.0, 1.0]), (xs.size, 1))),
                colors=[COLORS["rate"] if rate else COLORS["note"] for _, rate in rules],
            )
