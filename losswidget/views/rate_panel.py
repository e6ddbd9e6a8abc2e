"""The learning rate in the notebook view: a log-scale panel of its own under the loss chart, and each
change of ``lr`` marked on the loss chart (a dotted line and "lr ×0.1"), from the frame's
``rates``/``rate_changes`` (computed once in :mod:`losswidget.chart.rates`). Hidden while the run
has no rate that changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bqplot as bq
import ipywidgets as widgets
import numpy as np

from losswidget.chart.frame import Frame
from losswidget.chart.rates import change_text, labels_left
from losswidget.views.style import COLORS, rate_color
from losswidget.views.widget_marks import CHANGE_ROW  # the stop and what-if labels avoid this row
from losswidget.views.widget_parts import lines_of, padded

RATE = COLORS["rate"]


class RatePanel:
    def __init__(self, height_scales: dict) -> None:
        """``height_scales``: the loss chart's x scale and a fixed 0..1 y scale, for the change marks."""
        self.x = bq.LinearScale(min=0.0, max=1.0)
        self.y = bq.LogScale(min=0.1, max=1.0)
        self.lines = bq.Lines(
            x=[], y=[], scales={"x": self.x, "y": self.y}, colors=[RATE], stroke_width=2, interpolation="step-after"
        )
        self.x_axis = bq.Axis(scale=self.x, label="epoch", tick_format="d")
        self.y_axis = bq.Axis(scale=self.y, side="left", label="learning rate", tick_format=".1g", label_offset="48px")
        self.figure = bq.Figure(
            marks=[self.lines],
            axes=[self.x_axis, self.y_axis],
            animation_duration=0,
            fig_margin={"top": 10, "bottom": 40, "left": 60, "right": 20},
            layout=widgets.Layout(width="100%", height="150px", display="none"),
            display_toolbar=False,
        )
        # On the loss chart: where the rate changed.
        self.changes = bq.Lines(x=[], y=[], scales=height_scales, colors=[RATE], line_style="dotted", stroke_width=1.5)
        self.change_labels = bq.Label(x=[], y=[], text=[], scales=height_scales, colors=[RATE], default_size=11)
        self.loss_chart_marks = [self.changes, self.change_labels]

    def render(self, frame: Frame, send: Callable[..., None], ticks: Callable[[Any, Any], None]) -> None:
        """Draw ``frame``'s rates with the view's ``send`` (only what changed) and ``ticks`` (an axis's)."""
        shown = bool(frame.rates)
        send(self.figure.layout, display=None if shown else "none")
        marks = frame.rate_changes
        send(self.changes, visible=bool(marks))
        send(self.change_labels, visible=bool(marks))
        if not shown:
            return
        names = list(frame.rates)
        x, y = padded(list(frame.rates.values()))
        send(self.x, min=float(frame.x_range[0]), max=float(frame.x_range[1]))
        send(self.y, min=float(frame.rate_range[0]), max=float(frame.rate_range[1]))
        ticks(self.y_axis, frame.rate_ticks)
        ticks(self.x_axis, frame.x_ticks)
        send(self.x_axis, label=frame.x_label)
        colors = [rate_color(index) for index in range(len(names))]
        send(self.lines, **lines_of(x, y), colors=colors, labels=names, display_legend=len(names) > 1)
        if marks:
            left = labels_left(marks, frame.x_range)
            epochs = np.array([[epoch, epoch] for epoch, _ in marks], dtype=np.float32)
            send(self.changes, **lines_of(epochs, np.tile(np.array([0.0, 1.0], np.float32), (len(marks), 1))))
            send(
                self.change_labels,
                x=np.array([epoch for epoch, _ in marks], np.float32),
                y=np.full(len(marks), CHANGE_ROW, np.float32),  # under the stop and what-if labels
                text=np.array([change_text(ratio) for _, ratio in marks], dtype=object),
                align="end" if left else "start",
                x_offset=-4 if left else 4,
            )
