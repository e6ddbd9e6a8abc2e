"""The notebook view's widgets: the bqplot loss and metric figures, the controls and the status
line, built once and wired to the monitor's controls (ipywidgets 7.7 or 8).

:class:`~losswidget.views.widget.WidgetView` renders frames into them; nothing here changes after
construction except through a control's own handler.
"""

from __future__ import annotations

from typing import Any

import bqplot as bq
import ipywidgets as widgets
import numpy as np

from losswidget.chart.marks import BAND
from losswidget.views.base import Controls
from losswidget.views.steer_buttons import SteerButtons
from losswidget.views.style import BAND_OPACITY, COLORS, STEP_OPACITY

TRAIN, VAL, BEST, STOP, WHAT_IF, PAST = (COLORS[k] for k in ("train", "val", "best", "stop", "what_if", "past"))
SLIDER_MAX = 50
STOPPING = "Stopping…"  # the Stop button once pressed, until the loop ends (the view reads it back)


def same_as_sent(previous: Any, current: Any) -> bool:
    if isinstance(current, np.ndarray):
        return (
            isinstance(previous, np.ndarray)
            and previous.shape == current.shape
            and previous.dtype == current.dtype
            and np.array_equal(previous, current, equal_nan=current.dtype.kind == "f")
        )
    if isinstance(previous, np.ndarray):
        return False
    return previous == current


def lines_of(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """x and y for a multi-line ``Lines`` mark that bqplot's squeeze keeps 1-D or 2-D.

    bqplot squeezes 2-D arrays, so a (1, n) array becomes 1-D and a (k, 1) one loses
    a dimension: pad single points with a NaN point (drawn as nothing).
    """
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    if y.shape[-1] == 1:
        x = np.concatenate([x, np.full((*x.shape[:-1], 1), np.nan, np.float32)], axis=-1)
        y = np.concatenate([y, np.full((*y.shape[:-1], 1), np.nan, np.float32)], axis=-1)
    if x.ndim == 2 and x.shape[0] == 1:
        x = x[0]
    if y.ndim == 2 and y.shape[0] == 1:
        y = y[0]
    return {"x": x, "y": y}


def padded(series: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Curves of different lengths as one 2-D x and y for a multi-line mark, NaN after each end."""
    length = max(x.size for x, _ in series)
    x = np.full((len(series), length), np.nan, dtype=np.float32)
    y = np.full((len(series), length), np.nan, dtype=np.float32)
    for row, (xs, ys) in enumerate(series):
        x[row, : xs.size], y[row, : ys.size] = xs, ys
    return x, y


class ChartWidgets:
    """bqplot figure + Stop button + smoothing/patience sliders + log-scale toggle + status."""

    def __init__(self, controls: Controls) -> None:
        self._controls = controls
        settings = controls.settings

        self.x_scale = bq.LinearScale(min=0.0, max=1.0)
        self.linear_y = bq.LinearScale(min=0.0, max=1.0)
        self.log_y = bq.LogScale(min=0.1, max=1.0)
        scales = {"x": self.x_scale, "y": self.linear_y}

        # Earlier runs: validation dashed as the live one's, training thin and fainter beside it.
        self.past_lines = bq.Lines(
            x=[], y=[], scales=scales, colors=[PAST], opacities=[0.7], stroke_width=1.5, line_style="dashed"
        )
        self.past_train = bq.Lines(x=[], y=[], scales=scales, colors=[PAST], opacities=[0.45], stroke_width=1.0)
        # With smoothing: the raw train and validation curves, faint under the smoothed ones.
        self.raw_lines = bq.Lines(
            x=[], y=[], scales=scales, colors=[TRAIN, VAL], opacities=[0.35, 0.35], stroke_width=1.0, visible=False
        )
        self.step_lines = bq.Lines(
            x=[],
            y=[],
            scales=scales,
            colors=[COLORS["steps"], TRAIN],
            opacities=[STEP_OPACITY, 1.0],
            stroke_width=1.0,
            labels=["train (steps)", "train (steps, smoothed)"],
        )
        self.epoch_lines = bq.Lines(x=[], y=[], scales=scales, colors=[TRAIN], stroke_width=2.5, labels=["train"])
        # Validation dashed, its dots square: colour is never the only thing telling the curves apart.
        self.val_line = bq.Lines(
            x=[], y=[], scales=scales, colors=[VAL], stroke_width=2.5, line_style="dashed", labels=["validation"]
        )
        # The validation band: the two edges filled between, no strokes; under the curves.
        self.val_band = bq.Lines(
            x=[],
            y=[],
            scales=scales,
            colors=[COLORS["band"]],
            fill="between",
            fill_colors=[COLORS["band"]],
            fill_opacities=[BAND_OPACITY],
            opacities=[0.0, 0.0],
            stroke_width=0.0,
            labels=[f"validation ± {BAND:g} standard errors"],
        )
        self.train_points = self._points(scales, TRAIN, "train loss")
        self.val_points = self._points(scales, VAL, "validation loss", marker="square")
        self.best_marker = bq.Scatter(
            x=[],
            y=[],
            scales=scales,
            marker="diamond",
            colors=[BEST],
            stroke="black",
            default_size=160,
            tooltip=bq.Tooltip(fields=["x", "y"], labels=["best epoch", "validation loss"], formats=["", ".4g"]),
        )
        # Vertical markers and their labels span the plot's height on a fixed 0..1 scale: they are
        # not resent each time the loss axis moves.
        height = self.height_scales = {"x": self.x_scale, "y": bq.LinearScale(min=0.0, max=1.0)}
        self.verticals = bq.Lines(
            x=[], y=[], scales=height, colors=[STOP, WHAT_IF], line_style="dashed", stroke_width=2
        )
        self.stop_label = bq.Label(x=[], y=[], text=[], scales=height, colors=[STOP], default_size=13)
        self.what_if_label = bq.Label(x=[], y=[], text=[], scales=height, colors=[WHAT_IF], default_size=13)
        self.marks = [  # the step losses underneath: a dense texture that would hide the earlier runs
            self.step_lines,
            self.past_train,
            self.past_lines,
            self.raw_lines,
            self.val_band,
            self.epoch_lines,
            self.val_line,
            self.train_points,
            self.val_points,
            self.verticals,
            self.best_marker,
            self.stop_label,
            self.what_if_label,
        ]
        self.y_axis = bq.Axis(scale=self.linear_y, side="left", label="loss", tick_format=".3g", label_offset="48px")
        self.x_axis = bq.Axis(scale=self.x_scale, label="epoch", tick_format="d")
        self.figure = bq.Figure(
            marks=self.marks,
            axes=[self.x_axis, self.y_axis],
            animation_duration=0,
            fig_margin={"top": 20, "bottom": 40, "left": 60, "right": 20},
            layout=widgets.Layout(width="100%", height="340px"),
            display_toolbar=False,  # its pan/zoom/save icons sat over the curves (a classroom needs none)
        )

        self.metric_x = bq.LinearScale(min=0.0, max=1.0)
        self.metric_y = bq.LinearScale()
        self.metric_x_axis = bq.Axis(scale=self.metric_x, label="epoch", tick_format="d")
        self.metric_lines = bq.Lines(
            x=[], y=[], scales={"x": self.metric_x, "y": self.metric_y}, display_legend=True, stroke_width=2
        )
        self.past_metric_lines = bq.Lines(  # earlier runs' metrics, faint, in each run's colour
            x=[], y=[], scales={"x": self.metric_x, "y": self.metric_y}, opacities=[0.5], stroke_width=1.2
        )
        # A 200-pixel panel has room for about four labels: round values, set from the data.
        self.metric_y_axis = bq.Axis(
            scale=self.metric_y, side="left", label="metrics", tick_format=".3g", label_offset="48px"
        )  # the title clear of the tick labels
        self.metric_figure = bq.Figure(
            marks=[self.past_metric_lines, self.metric_lines],
            axes=[
                self.metric_x_axis,
                self.metric_y_axis,
            ],
            legend_location="bottom-right",
            animation_duration=0,
            fig_margin={"top": 10, "bottom": 40, "left": 60, "right": 20},
            layout=widgets.Layout(width="100%", height="200px", display="none"),
            display_toolbar=False,
        )

        self.stop_button = widgets.Button(
            description="Stop",
            icon="stop",
            button_style="danger",
            tooltip="Stop training at the end of this epoch",
            layout=widgets.Layout(width="auto", min_width="148px", flex="0 0 auto"),  # "Early stop at epoch 123"
        )
        self.smoothing_slider = widgets.IntSlider(
            value=min(settings.smoothing, SLIDER_MAX),
            min=1,
            max=max(SLIDER_MAX, settings.smoothing),
            description="smoothing",
            continuous_update=True,
        )
        self.patience_slider = widgets.IntSlider(
            value=settings.patience,
            min=0,
            max=max(SLIDER_MAX, settings.patience),
            description="patience",
            continuous_update=True,
        )
        self.log_toggle = widgets.ToggleButton(value=False, description="log scale", icon="line-chart")
        self.band_toggle = widgets.ToggleButton(
            value=settings.band,
            description=f"± {BAND:g} SE",
            tooltip=f"The validation band: each epoch's mean ± {BAND:g} standard errors",
            layout=widgets.Layout(display="none"),  # shown once the run has standard errors
        )
        self.status = widgets.HTML(value="")
        # The numbers behind the status, one click away: an Accordion keeps its open state while the
        # text inside changes each epoch (an HTML <details> in the status would close at every update).
        self.details_text = widgets.HTML(value="")
        self.details = widgets.Accordion(children=[self.details_text], selected_index=None)
        self.details.set_title(0, "details")
        self.title = widgets.HTML(value="")
        self.legend = widgets.HTML(value="", layout=widgets.Layout(flex="1 1 auto", min_width="0"))
        self.steer_buttons = SteerButtons(controls)
        self.controls = [
            self.stop_button,
            *self.steer_buttons.widgets,
            self.smoothing_slider,
            self.patience_slider,
            self.log_toggle,
            self.band_toggle,
        ]

        # Handlers may run on a kernel-subshell thread: they only hand a value over.
        self.stop_button.on_click(self._stop_pressed)
        for widget, name in (
            (self.smoothing_slider, "smoothing"),
            (self.patience_slider, "patience"),
            (self.log_toggle, "log_y"),
            (self.band_toggle, "band"),
        ):
            widget.observe(lambda change, name=name: settings.from_control(name, change["new"]), names="value")

        self.root = widgets.VBox(
            [
                widgets.HBox(
                    [self.title, self.legend],
                    layout=widgets.Layout(justify_content="space-between", flex_flow="row wrap"),
                ),
                self.figure,
                self.metric_figure,
                # Wrapping: the buttons keep their labels and the sliders their tracks on a narrow cell
                # (one row of them all squeezed the sliders to a handle and "lr ×½" to "l…").
                widgets.HBox(self.controls, layout=widgets.Layout(flex_flow="row wrap")),
                self.status,
                self.details,
            ],
            layout=widgets.Layout(width="100%", max_width="900px"),
        )
        self.root.add_class("losswidget")

    @staticmethod
    def _points(scales: dict, color: str, label: str, marker: str = "circle") -> bq.Scatter:
        return bq.Scatter(
            x=[],
            y=[],
            scales=scales,
            marker=marker,
            colors=[color],
            default_size=24,
            tooltip=bq.Tooltip(fields=["x", "y"], labels=["epoch", label], formats=["", ".4g"]),
        )

    def _stop_pressed(self, button: Any) -> None:
        """On the kernel's subshell thread: ask to stop, and say so on the button at once."""
        self._controls.stop()
        button.description, button.disabled = STOPPING, True
