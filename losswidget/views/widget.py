"""The notebook view: renders :class:`~losswidget.chart.frame.Frame` objects into the widgets of
:class:`~losswidget.views.widget_parts.ChartWidgets`; never computes anything itself.
Marks are updated in place (no ``clear_output``), each inside ``hold_sync()`` so
its x and y travel in one message, and only when their data changed.
"""

from __future__ import annotations

import html
import math
import time
from typing import Any

import numpy as np

from losswidget.chart.frame import STATUS_INTERVAL, Frame, marker_labels
from losswidget.chart.marks import Ticks, bridge_format
from losswidget.chart.settings import ChartSettings
from losswidget.views.base import Controls
from losswidget.views.change_marks import ChangeMarks
from losswidget.views.fast_send import can_send_directly, send_arrays
from losswidget.views.layout import text_width
from losswidget.views.rate_panel import RatePanel
from losswidget.views.style import METRIC_COLORS, STEP_OPACITY
from losswidget.views.svg import render_svg
from losswidget.views.widget_html import details_html, legend_html, status_html
from losswidget.views.widget_marks import BIG_LABEL_SIZE, LABEL_SIZE, label_places, render_markers, render_past
from losswidget.views.widget_parts import STOPPING, ChartWidgets, lines_of, padded, same_as_sent


class WidgetView(ChartWidgets):
    """Renders frames into the widgets, sending only what changed; shows the widget and, at the end,
    a static image beside it."""

    def __init__(self, controls: Controls) -> None:
        super().__init__(controls)
        self.rate_panel, self.change_marks = RatePanel(), ChangeMarks(self.height_scales)
        self.figure.marks = [*self.figure.marks, *self.change_marks.marks]
        children = list(self.root.children)
        self.root.children = [*children[:3], self.rate_panel.figure, *children[3:]]  # under the metrics
        self._sent: dict[tuple[int, str], Any] = {}
        self._presentation: bool | None = None  # the size drawn; None: not yet
        self._status_prompt: tuple = ()
        self._status_sent_at = -float("inf")
        self._handle: Any = None
        self._placed: tuple = ((), -float("inf"), [])  # the markers' labels: (key, when, places)
        self._room: dict[int, tuple] = {}  # each axis' ticks and size when its room was made
        self.shown = False

    # -- display -----------------------------------------------------------------------

    def _bundle(self, frame: Frame | None) -> dict:
        bundle = {
            "application/vnd.jupyter.widget-view+json": {
                "version_major": 2,
                "version_minor": 0,
                "model_id": self.root.model_id,
            },
            "text/plain": self._controls.describe(),
        }
        if frame is not None:
            bundle["image/svg+xml"] = render_svg(frame)
        return bundle

    def show(self) -> None:
        from IPython.display import display

        self._handle = display(self._bundle(None), raw=True, display_id=True)
        self.shown = True

    def finish(self, frame: Frame) -> None:
        """Put a static image of the final chart beside the widget, for places widgets don't run."""
        self._render_status(frame, final=True)
        rates, x = self.rate_panel, frame.x_ticks
        axes = (self.y_axis, self.x_axis, self.metric_x_axis, self.metric_y_axis, rates.y_axis, rates.x_axis)
        for axis, ticks in zip(axes, (frame.y_ticks, x, x, frame.metric_ticks, frame.rate_ticks, x), strict=True):
            self._set_ticks(axis, ticks)  # a format that waited for its values to stand (``_set_ticks``)
        if self._handle is not None:
            self._handle.update(self._bundle(frame), raw=True)

    def sync_controls(self, settings: ChartSettings) -> None:
        self.patience_slider.max = max(self.patience_slider.max, settings.patience)
        self.patience_slider.value = settings.patience
        self.smoothing_slider.max = max(self.smoothing_slider.max, settings.smoothing)
        self.smoothing_slider.value = settings.smoothing
        self.log_toggle.value = settings.log_y
        self.band_toggle.value = settings.band

    # -- rendering ---------------------------------------------------------------------

    def _set(self, widget: Any, **values: Any) -> None:
        """Send the values that changed, x and y of a mark in one message."""
        changed = {name: value for name, value in values.items() if not self._unchanged(widget, name, value)}
        if not changed:
            return
        if can_send_directly(widget, changed):
            send_arrays(widget, changed)
        else:
            with widget.hold_sync():
                for name, value in changed.items():
                    setattr(widget, name, value)
        for name, value in changed.items():
            self._sent[(id(widget), name)] = value

    def _unchanged(self, widget: Any, name: str, value: Any) -> bool:
        """Equal to what was sent last; before anything was sent, to the model's own value, by
        traitlets' rule (an equal array of another dtype, such as a first empty frame, is no change)."""
        key = (id(widget), name)
        if key in self._sent:
            return same_as_sent(self._sent[key], value)
        current = getattr(widget, name)
        if isinstance(current, np.ndarray) and isinstance(value, np.ndarray):
            return bool(np.array_equal(current, value))
        return same_as_sent(current, value)

    def _render_stop(self, frame: Frame) -> None:
        """Enabled while something runs ("Stopping…" once pressed, until the loop ends); disabled and
        saying how the last loop ended when nothing runs. Not cached: the click handler sets it too."""
        button = self.stop_button
        if frame.stop_control is not None:
            state = (True, frame.stop_control)
        elif button.description == STOPPING:
            state = (True, STOPPING)
        else:
            state = (False, "Stop")
        if (button.disabled, button.description) != state:
            with button.hold_sync():
                button.disabled, button.description = state
                # Red while it can stop something; grey once there is nothing left to stop.
                button.button_style = "" if frame.stop_control is not None else "danger"

    def render(self, frame: Frame) -> None:
        y_scale = self.log_y if frame.log_y else self.linear_y
        if self.y_axis.scale is not y_scale:
            scales = {"x": self.x_scale, "y": y_scale}
            for mark in self.marks:  # the vertical markers keep their own 0..1 height scale
                kept = self.change_marks.marks
                if mark not in (self.verticals, self.stop_label, self.what_if_label, *kept):
                    mark.scales = scales
            self.y_axis.scale = y_scale
        self._set(self.x_scale, min=float(frame.x_range[0]), max=float(frame.x_range[1]))
        self._set(y_scale, min=float(frame.y_range[0]), max=float(frame.y_range[1]))
        self._set_ticks(self.y_axis, frame.y_ticks)
        self._set_ticks(self.x_axis, frame.x_ticks)
        self._set_ticks(self.metric_x_axis, frame.x_ticks)

        smoothed = frame.smoothing > 1
        if frame.steps_x.size:  # the smoothed steps only where smoothing is on (else the same line twice)
            self._set(self.step_lines, **lines_of(frame.steps_x, np.vstack([frame.steps_raw, frame.steps_smooth])))
            self._set(self.step_lines, opacities=[STEP_OPACITY, 0.8 if smoothed else 0.0])
        raw = smoothed and not frame.dots  # the raw curves stay visible under the smoothed ones
        if raw:
            self._set(self.raw_lines, **lines_of(frame.epochs, np.vstack([frame.train, frame.val])))
        self._set(self.raw_lines, visible=raw)
        self._set(self.epoch_lines, **lines_of(frame.epochs, frame.train_smooth))
        self._set(self.val_line, **lines_of(frame.epochs, frame.val_smooth))
        self._render_band(frame)
        for points, values in ((self.train_points, frame.train), (self.val_points, frame.val)):
            if frame.dots:
                self._set(points, x=frame.epochs, y=values, opacities=np.array([0.5 if smoothed else 1.0]))
            self._set(points, visible=frame.dots)
        render_markers(self, frame, self._set, self._label_places(frame))
        render_past(self, frame, self._set)
        self._render_metrics(frame)
        self.rate_panel.render(frame, self._set, self._set_ticks)
        self.change_marks.render(frame, self._set)
        self._render_status(frame)
        self._render_stop(frame)
        self.steer_buttons.render(frame.stop_control is None)
        size = "font-size: 24px" if frame.presentation else ""
        self._set(self.title, value=f'<b style="{size}">{html.escape(frame.title)}</b>' if frame.title else "")
        self._render_size(frame)
        self._set(self.x_axis, label=frame.x_label)
        self._set(self.y_axis, label=frame.y_label)
        rates = self.rate_panel
        for figure, axis, ticks in (
            (self.figure, self.y_axis, frame.y_ticks),
            (self.metric_figure, self.metric_y_axis, frame.metric_ticks),
            (rates.figure, rates.y_axis, frame.rate_ticks),
        ):
            self._make_room(figure, axis, ticks, frame.presentation)
        self._set(self.metric_x_axis, label=frame.x_label)
        self._set(self.legend, value=legend_html(frame))

    def _render_band(self, frame: Frame) -> None:
        if frame.val_low.size:
            self._set(self.val_band, **lines_of(frame.epochs, np.vstack([frame.val_low, frame.val_high])))
        self._set(self.val_band, visible=bool(frame.val_low.size))
        self._set(self.band_toggle.layout, display=None if frame.band_available else "none")

    def _set_ticks(self, axis: Any, ticks: Ticks) -> None:
        """The frame's ticks; with fewer than two, bqplot's own (a range too narrow for round ones).

        bqplot redraws an axis at once, with the values it has, when a new format arrives; it draws new
        values in a (zero-length) d3 transition on the next animation frame, in the format the axis had
        when they arrived, even where a newer format came since. Whatever order the messages meet those
        redraws in, no labels may repeat ("0, 1, 1, 2, 2": 0 to 2 in steps of 0.5 at the next ticks'
        ".0f"): the values go with a format that reads both the old and the new ones
        (:func:`~losswidget.chart.marks.bridge_format`), in a message before theirs, and the frame's own
        format follows alone once the values stand (at the next frame, or the run's end)."""
        values = np.array(ticks.values, dtype=np.float64) if len(ticks.values) >= 2 else None
        if not self._unchanged(axis, "tick_values", values):
            old = self._sent.get((id(axis), "tick_values"), axis.tick_values)
            old = None if old is None or len(old) < 2 else old
            shown = self._sent.get((id(axis), "tick_format"), axis.tick_format)
            self._set(axis, tick_format=bridge_format(old, shown, values, ticks.format))
            self._set(axis, tick_values=values)
        else:
            self._set(axis, tick_format=ticks.format)

    def _label_places(self, frame: Frame) -> list:
        """Where the markers' labels go: placed again when a label or the scale changed, else at most
        once a ``STATUS_INTERVAL`` as the curves and axes grow (a frame's budget is a millisecond or two:
        placing them is a third of one)."""
        key = (marker_labels(frame), frame.log_y, len(frame.runs))
        now = time.monotonic()
        if key != self._placed[0] or now - self._placed[1] >= STATUS_INTERVAL:
            self._placed = (key, now, label_places(frame))
        return self._placed[2]

    def _make_room(self, figure: Any, axis: Any, ticks: Ticks, big: bool) -> None:
        """The axis title clear of its widest tick label ("0.0012" on the rate panel overlapped it)."""
        if self._room.get(id(axis)) == (ticks, big):
            return
        self._room[id(axis)] = (ticks, big)
        widest = max((text_width(label, 20 if big else 12) for label in ticks.labels()), default=0.0)
        offset = max(60 if big else 48, math.ceil(widest) + 18)
        self._set(axis, label_offset=f"{offset}px")
        self._set(figure, fig_margin={**figure.fig_margin, "left": offset + (24 if big else 12)})  # the title's glyphs

    def _render_size(self, frame: Frame) -> None:
        """Classroom (default) or presentation size: text, line widths and the chart's height."""
        big = frame.presentation
        if big is self._presentation:  # a size changes rarely: nothing to compare per frame
            return
        self._presentation = big
        text = {"font-size": "20px"} if big else {}
        rates = self.rate_panel
        for axis in (self.x_axis, self.y_axis, self.metric_x_axis, self.metric_y_axis, rates.x_axis, rates.y_axis):
            self._set(axis, tick_style=text)  # the axes' labels: PRESENTATION_CSS, in the legend
        self._set(self.figure.layout, height="520px" if big else "340px")
        self._set(self.metric_figure.layout, height="300px" if big else "200px")
        self._set(rates.figure.layout, height="220px" if big else "150px")
        for figure in (self.figure, self.metric_figure, rates.figure):  # room under larger ticks for the labels
            self._set(figure, fig_margin={**figure.fig_margin, "bottom": 64 if big else 40})
        self._set(self.epoch_lines, stroke_width=5.0 if big else 2.5)
        self._set(self.val_line, stroke_width=5.0 if big else 2.5)
        self._set(self.step_lines, stroke_width=2.0 if big else 1.0)
        self._set(self.metric_lines, stroke_width=4.0 if big else 2.0)
        for points in (self.train_points, self.val_points):
            self._set(points, default_size=64 if big else 24)
        for label in (self.stop_label, self.what_if_label):
            self._set(label, default_size=BIG_LABEL_SIZE if big else LABEL_SIZE)
        if big:
            self.root.add_class("losswidget-presentation")
        else:
            self.root.remove_class("losswidget-presentation")

    def _render_status(self, frame: Frame, final: bool = False) -> None:
        """The status, at most once a second while only the clock moves it. At once for what a person
        just did or must see now (a control moved, Stop, the chart's size or clipping, the end of the
        loop), for a sentence that changed, and for a new epoch on the chart: the status beside it
        describes the same moment (a status a second behind a fast run said "Epoch 0" beside a chart
        of epochs 0-7)."""
        prompt = (
            frame.smoothing,
            frame.log_y,
            frame.presentation,
            frame.stop,
            frame.what_if,
            frame.stop_control,
            frame.clip_note,
            frame.title,
            frame.epochs[-1] if frame.epochs.size else None,  # the chart's last epoch: the status says the same
            tuple(frame.status[1:]),  # every sentence but the first (its clock moves each second)
            tuple(frame.details[1:]),
        )
        now = time.monotonic()
        if final or prompt != self._status_prompt or now - self._status_sent_at >= STATUS_INTERVAL:
            self._set(self.status, value=status_html([*frame.status, frame.clip_note], frame.presentation))
            self._set(self.details_text, value=details_html(frame.details, frame.presentation))
            self._status_prompt, self._status_sent_at = prompt, now

    def _render_metrics(self, frame: Frame) -> None:
        if not frame.metrics:
            return
        names = list(frame.metrics)
        x, y = padded(list(frame.metrics.values()))
        self._set(self.metric_x, min=float(frame.x_range[0]), max=float(frame.x_range[1]))
        self._set(self.metric_y, min=float(frame.metric_range[0]), max=float(frame.metric_range[1]))
        self._set_ticks(self.metric_y_axis, frame.metric_ticks)
        colors = METRIC_COLORS[: len(names)] or METRIC_COLORS
        labels = [frame.metric_labels.get(name, name) for name in names]
        self._set(self.metric_lines, **lines_of(x, y), labels=labels, colors=colors)
        if self.metric_figure.layout.display == "none":
            self.metric_figure.layout.display = None
