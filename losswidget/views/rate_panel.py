"""The learning rate in the notebook view: a log-scale panel of its own under the loss chart, from the
frame's ``rates`` (computed once in :mod:`losswidget.chart.rates`). Hidden while the run has no rate
that changed. Its changes are marked on the loss chart with steering's (:mod:`losswidget.views.change_marks`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bqplot as bq
import ipywidgets as widgets

from losswidget.chart.frame import Frame
from losswidget.views.style import COLORS, rate_color
from losswidget.views.widget_parts import lines_of, padded

RATE = COLORS["rate"]


class RatePanel:
    def __init__(self) -> None:
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

    def render(self, frame: Frame, send: Callable[..., None], ticks: Callable[[Any, Any], None]) -> None:
        """Draw ``frame``'s rates with the view's ``send`` (only what changed) and ``ticks`` (an axis's)."""
        shown = bool(frame.rates)
        send(self.figure.layout, display=None if shown else "none")
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
