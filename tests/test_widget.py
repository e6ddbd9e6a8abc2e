"""The widget view without a browser: real ipywidgets and bqplot objects on recording comms.

The frontend is imitated the way ipywidgets' own tests do it: ``set_state``/``_handle_msg``
for slider moves, ``Button.click()`` for clicks; outgoing messages are captured.
"""

import logging
import math
from typing import ClassVar

import comm
import numpy as np
import pytest
from comm.base_comm import BaseComm

import losswidget as lw
from losswidget.views.style import COLORS

pytest.importorskip("bqplot")


class RecordingComm(BaseComm):
    sent: ClassVar[list] = []

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        RecordingComm.sent.append({"comm_id": self.comm_id, "type": msg_type, "data": data, "buffers": buffers or []})


@pytest.fixture(autouse=True)
def recording_comms(monkeypatch):
    RecordingComm.sent = []
    monkeypatch.setattr(comm, "create_comm", lambda *args, **kwargs: RecordingComm(*args, **kwargs))
    return RecordingComm.sent


@pytest.fixture
def monitor():
    monitor = lw.LiveLossMonitor(patience=None, smoothing=1, display="widget", frame_rate=1000)
    show_view(monitor)
    return monitor


def show_view(monitor):
    """Build the monitor's view as displaying it in a notebook would (without a frontend to show it)."""
    monitor._display.ensure_view(monitor._controls)
    return monitor._display.view


def updates_for(messages, widget):
    return [m for m in messages if m["comm_id"] == widget.comm.comm_id and m["data"].get("method") == "update"]


def test_stop_button_click_stops_the_loop(monitor, caplog):
    caplog.set_level(logging.WARNING)
    seen = []
    for epoch in monitor.epochs(20):
        seen.append(epoch)
        monitor.log(val=1.0)
        if epoch == 4:
            monitor._display.view.stop_button.click()
    assert seen[-1] == 4 and monitor.stopped_reason == "the Stop button was pressed"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_sliders_set_the_running_monitor(monitor):
    view = monitor._display.view
    view.patience_slider.set_state({"value": 7})
    view.smoothing_slider.set_state({"value": 4})
    view.log_toggle.set_state({"value": True})
    assert monitor.what_if_patience == 7 and monitor.smoothing == 4 and monitor.log_scale
    monitor.patience = 3  # early stopping on: the slider now sets the real patience
    assert view.patience_slider.value == 3
    view.patience_slider.set_state({"value": 9})
    assert monitor.patience == 9 and monitor.early_stopping.patience == 9


@pytest.mark.parametrize(
    ("slider", "value", "expected"),
    [("patience", -5, 0), ("patience", 10**9, 50), ("smoothing", 0, 1), ("smoothing", 10**12, 50)],
)
def test_out_of_range_values_from_the_frontend_are_clamped(monitor, slider, value, expected):
    widget = getattr(monitor._display.view, f"{slider}_slider")
    message = {"content": {"data": {"method": "update", "state": {"value": value}, "buffer_paths": []}}, "buffers": []}
    widget._handle_msg(message)
    assert widget.value == expected
    for epoch in monitor.epochs(3):  # the loop still runs
        monitor.log(val=1.0 / (epoch + 1))
    assert len(monitor.history) == 3


def test_one_message_per_mark_per_frame_with_x_and_y_together(monitor, recording_comms):
    view = monitor._display.view
    for _epoch in monitor.epochs(2):
        for step in range(50):
            monitor.log_step(train=1.0 / (step + 1))
        monitor.log(val=0.5)
    recording_comms.clear()
    monitor.log_step(train=0.1)
    monitor._draw()
    steps = updates_for(recording_comms, view.step_lines)
    assert len(steps) == 1
    assert {"x", "y"} <= set(steps[0]["data"]["state"])
    # Unchanged marks send nothing.
    assert updates_for(recording_comms, view.val_points) == []
    assert updates_for(recording_comms, view.past_lines) == []


@pytest.mark.parametrize("n_steps", [1_000, 1_000_000])
def test_bytes_per_frame_do_not_grow_with_history(monitor, recording_comms, n_steps):
    monitor.history.log_steps(np.random.default_rng(0).random(n_steps), 0)
    monitor.log(val=0.5)
    recording_comms.clear()
    monitor.log_step(train=0.2)
    monitor._draw()
    message = updates_for(recording_comms, monitor._display.view.step_lines)[0]
    sent = sum(len(bytes(b)) for b in message["buffers"])
    assert sent <= 3 * 2000 * 4 + 64  # x and two y rows of <= 2000 float32


def test_constant_single_and_non_finite_series_get_sane_axes(monitor):
    view = monitor._display.view
    monitor.log(train=2.0, val=2.0)
    assert view.linear_y.min < 2.0 < view.linear_y.max
    for _ in range(3):
        monitor.log(train=2.0, val=2.0)
    monitor._draw()
    assert view.linear_y.min < 2.0 < view.linear_y.max
    monitor.log(train=math.inf, val=math.nan)
    monitor._draw()
    assert math.isfinite(view.linear_y.min) and math.isfinite(view.linear_y.max)
    assert any("1 NaN/inf value shown as gaps" in line for line in monitor.status_lines)


def test_log_scale_swaps_the_y_scale(monitor):
    for epoch in range(5):
        monitor.log(train=10.0**-epoch, val=10.0**-epoch)
    monitor.log_scale = True
    view = monitor._display.view
    height_marks = (view.verticals, view.stop_label, view.what_if_label)  # on their own 0..1 height scale
    data_marks = [mark for mark in view.marks if mark not in height_marks]
    assert view.y_axis.scale is view.log_y and all(mark.scales["y"] is view.log_y for mark in data_marks)
    assert all(mark.scales["y"] is not view.log_y for mark in height_marks)
    assert view.log_y.min > 0 and view.log_y.max >= 1.0


def test_markers_best_stop_and_what_if(monitor):
    view = monitor._display.view
    for epoch in monitor.epochs(30):
        monitor.log(val=0.1 + 0.05 * abs(epoch - 10))
        if epoch == 20:
            monitor.stop("enough")
    assert view.best_marker.x.tolist() == [10.0]
    assert list(view.stop_label.text) == ["stopped (epoch 20)"]
    assert list(view.what_if_label.text) == ["patience 5 would stop here"]
    assert view.verticals.x[0].tolist() == [20.0, 20.0] and view.verticals.x[1].tolist() == [15.0, 15.0]
    view.patience_slider.set_state({"value": 2})  # after training: the what-if moves
    assert view.verticals.x[1].tolist() == [12.0, 12.0]


def test_metrics_go_to_a_second_panel(monitor):
    view = monitor._display.view
    assert view.metric_figure.layout.display == "none"
    for epoch in monitor.epochs(3):
        monitor.log(train=1.0, val=1.0, acc=0.5 + epoch / 10, lr=0.1 / (epoch + 1))
    assert view.metric_figure.layout.display is None
    assert list(view.metric_lines.labels) == ["acc"]
    assert view.metric_lines.scales["y"] is view.metric_y  # not on the loss axis
    assert all(mark.scales["y"] is not view.metric_y for mark in view.marks)
    # The learning rate: a log-scale panel of its own, and where it changed marked on the loss chart.
    rates = view.rate_panel
    assert rates.figure.layout.display is None and rates.lines.scales["y"] is rates.y
    assert np.allclose(rates.lines.y, [0.1, 0.05, 0.1 / 3]) and rates.y.min < 0.1 / 3 < 0.1 < rates.y.max
    changes = view.change_marks
    assert changes.lines.x.tolist() == [[1.0, 1.0], [2.0, 2.0]] and changes.lines.visible
    # Each label on its half's side: right of its rule in the left half, left of it in the right half.
    assert list(changes.right_labels.text) == ["lr ×0.5"] and list(changes.left_labels.text) == ["lr ×0.667"]
    assert changes.lines in view.figure.marks


def test_past_runs_are_drawn_faded_with_labels(monitor):
    for epoch in monitor.epochs(4):
        monitor.log(val=1.0 / (epoch + 1))
    monitor.new_run("bigger")
    monitor.log(val=0.3)
    monitor._draw()  # frames are throttled: draw the latest state now
    view = monitor._display.view
    assert list(view.past_lines.labels) == ["run 1"]  # the legend names the run; its validation is dashed
    assert view.past_lines.line_style == "dashed"
    assert list(view.past_lines.y) == pytest.approx([1.0, 0.5, 1 / 3, 0.25])  # the earlier run's curve
    assert np.isnan(view.past_train.y).all()  # it logged no training loss: nothing drawn for it
    assert all(opacity < 1 for opacity in view.past_lines.opacities)  # faded
    assert COLORS["val"] not in list(view.past_lines.colors)  # not drawn as the live validation line
    assert list(view.val_points.y) == pytest.approx([0.3])  # the live run starts over


def test_static_image_travels_with_the_widget(monitor):
    for epoch in monitor.epochs(5):
        monitor.log(train=1.0 / (epoch + 1), val=1.2 / (epoch + 1), acc=0.1 * epoch)
    bundle = monitor._display.view._bundle(monitor._build_frame())
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == monitor._display.view.root.model_id
    svg = bundle["image/svg+xml"]
    assert svg.startswith("<svg") and "polyline" in svg and "best: epoch 4" in svg
    assert "Finished 5 epochs" in svg


def test_markers_disappear_cleanly_on_a_new_run(monitor):
    for epoch in monitor.epochs(30):
        monitor.log(val=0.1 + 0.05 * abs(epoch - 10))
        if epoch == 20:
            monitor.stop()
    monitor.new_run("second")  # no stop, no what-if: the labels must go without a serialization error
    view = monitor._display.view
    assert not view.stop_label.visible and not view.what_if_label.visible
    assert view.best_marker.x.size == 0


def test_clipped_axis_is_explained_on_the_chart_only(monitor, capsys):
    for epoch in range(40):
        monitor.log(train=30.0 if epoch == 0 else 1.0 / (epoch + 1), val=1.2 / (epoch + 1))
    monitor._draw()  # outside epochs(), frames are throttled too: the next one shows it
    assert "run off the top" in monitor._display.view.status.value
    text = lw.LiveLossMonitor(display="text")
    for epoch in text.epochs(40):
        text.log(train=30.0 if epoch == 0 else 1.0 / (epoch + 1), val=1.2 / (epoch + 1))
    assert "run off the top" not in capsys.readouterr().out


class FakeColabOutput:
    """Stands in for ``google.colab.output``: Colab itself cannot run here (README says so)."""

    def __init__(self, fails: bool = False) -> None:
        self.fails, self.calls = fails, 0

    def enable_custom_widget_manager(self) -> None:
        self.calls += 1
        if self.fails:
            raise RuntimeError("not in this runtime")


@pytest.fixture
def colab(monkeypatch):
    import sys
    import types

    def install(fails: bool = False) -> FakeColabOutput:
        output = FakeColabOutput(fails)
        package = types.ModuleType("google.colab")
        package.output = output
        monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
        monkeypatch.setitem(sys.modules, "google.colab", package)
        monkeypatch.setitem(sys.modules, "google.colab.output", output)
        return output

    return install


def test_on_colab_the_chart_turns_on_colabs_widget_manager(colab):
    output = colab()
    monitor = lw.LiveLossMonitor(display="widget")
    show_view(monitor)
    assert output.calls == 1


def test_on_colab_a_failing_widget_manager_says_what_to_run(colab):
    colab(fails=True)
    monitor = lw.LiveLossMonitor(display="widget")
    with pytest.warns(
        UserWarning,
        match=r"losswidget: could not enable Colab's custom widget manager.*"
        r"output\.enable_custom_widget_manager\(\)",
    ):
        show_view(monitor)
    assert monitor._display.view is not None, "the widget is still built"


def test_elsewhere_nothing_of_colab_is_touched():
    import sys

    show_view(lw.LiveLossMonitor(display="widget"))
    assert "google.colab" not in sys.modules


def test_stop_shows_its_state_enabled_only_while_something_runs(monitor):
    button = show_view(monitor).stop_button
    monitor._draw()
    assert (button.disabled, button.description) == (True, "Stop")  # nothing to stop yet
    for epoch in monitor.epochs(50):
        monitor.log(val=1.0 / (epoch + 1))
        monitor._draw()
        if epoch == 0:
            assert (button.disabled, button.description) == (False, "Stop")
        if epoch == 3:
            button.click()  # as the frontend's click arrives
            assert (button.disabled, button.description) == (True, "Stopping…")  # said at once
            monitor._draw()
            assert button.description == "Stopping…"
    assert (button.disabled, button.description) == (True, "Stopped at epoch 3")
    for _epoch in monitor.epochs(2):
        monitor.log(val=0.1)
        monitor._draw()
        assert (button.disabled, button.description) == (False, "Stop")  # a new loop: live again
    assert (button.disabled, button.description) == (True, "Finished")
    monitor.patience = 1
    for epoch in monitor.epochs(10):
        monitor.log(val=1.0 + epoch)
    assert (button.disabled, button.description) == (True, "Early stop at epoch 6")  # 0.1 at epoch 5 stays best


def test_a_loss_axis_never_shows_negative_values_it_cannot_have(monitor):
    view = show_view(monitor)
    for epoch in range(6):
        monitor.log(train=0.01 * (5 - epoch), val=0.02 / (epoch + 1))  # the training loss reaches 0
    monitor._draw()
    assert view.linear_y.min == 0.0 < view.linear_y.max  # padding stops at 0, no "-0.002" tick
    monitor.log(train=-0.5, val=0.01)  # a loss that can be negative (a log-likelihood) keeps its values
    monitor._draw()
    assert view.linear_y.min < -0.5


def test_dots_only_while_they_can_be_told_apart(monitor):
    from losswidget.chart.marks import MARKER_LIMIT

    view = show_view(monitor)
    for epoch in range(MARKER_LIMIT):
        monitor.log(train=1.0 / (epoch + 1), val=1.0 / (epoch + 1))
    monitor._draw()
    assert view.val_points.visible and len(view.val_points.x) == MARKER_LIMIT
    monitor.log(train=0.01, val=0.01)
    monitor._draw()
    assert not view.val_points.visible and not view.train_points.visible  # lines only from here


def test_earlier_runs_are_told_apart_by_hue(monitor):
    view = show_view(monitor)
    for width in (1, 2, 16, 128):
        for epoch in monitor.epochs(4):
            monitor.log(val=1.0 / (epoch + width))
        monitor.new_run(f"width {width * 2}")
    monitor._draw()
    colors = list(view.past_lines.colors)
    assert len(colors) == 4 and len(set(colors)) == 4
    assert not {COLORS["train"], COLORS["val"]} & set(colors)
    legend = view.legend.value
    assert all(color in legend for color in colors)


def test_presentation_size_for_a_projector_and_back():
    monitor = lw.LiveLossMonitor(patience=None, display="widget", presentation=True)
    view = show_view(monitor)
    for epoch in range(5):
        monitor.log(train=1.0 / (epoch + 1), val=1.2 / (epoch + 1))
    monitor._draw()
    assert view.figure.layout.height == "520px" and view.y_axis.tick_style == {"font-size": "20px"}
    assert view.val_line.stroke_width == 5.0 and "font-size: 20px" in view.status.value
    assert "losswidget-presentation" in view.root._dom_classes
    assert "text.axislabel { font-size: 20px" in view.legend.value  # bqplot's axes have no label style
    assert view.figure.fig_margin["bottom"] == 64 and view.figure.fig_margin["left"] >= 72
    offset = int(view.y_axis.label_offset[:-2])  # the title beyond its 20 px tick labels, its glyphs inside
    assert offset >= 60 and view.figure.fig_margin["left"] == offset + 24
    monitor.presentation = False  # mid-run too: the next frame is classroom size again
    assert view.figure.layout.height == "340px" and view.y_axis.tick_style == {}
    assert view.val_line.stroke_width == 2.5 and "font-size: 13px" in view.status.value
    assert "axislabel" not in view.legend.value
    assert view.figure.fig_margin == {"top": 20, "bottom": 40, "left": 60, "right": 20}
    with pytest.raises(TypeError, match="presentation"):
        monitor.presentation = "yes"
    assert monitor.presentation is False


def test_status_describes_the_charts_moment(monitor, recording_comms, monkeypatch):
    """Every sentence beside the chart describes the epochs the chart shows: a frame that draws a new
    epoch sends the status with it (a status a second behind a fast run said "Epoch 0 of epochs
    0–299" beside a chart of epochs 0–7). A frame with nothing new sends nothing; a control or Stop
    at once; the loop's end always."""
    from losswidget.views import widget as widget_module

    now = [1000.0]
    monkeypatch.setattr(widget_module.time, "monotonic", lambda: now[0])
    view = monitor._display.view

    def status_updates():
        return len(updates_for(recording_comms, view.status))

    loop = iter(monitor.epochs(100))
    next(loop)
    monitor.log(train=1.0, val=1.0)
    recording_comms.clear()
    for epoch in range(1, 6):  # five epochs within 0.5 s: each frame draws a new epoch and says it
        next(loop)
        monitor.log(train=1.0 / (epoch + 1), val=1.0 / (epoch + 1))
        now[0] += 0.1
        monitor._draw()
        assert f"best validation loss {1 / (epoch + 1):.3g} at epoch {epoch}" in view.status.value
    assert status_updates() == 5 and updates_for(recording_comms, view.val_line)
    monitor._draw()  # (the diagnosis may be read again: a changed sentence is sent)
    sent = status_updates()
    monitor._draw()  # the same moment again: nothing new to say
    assert status_updates() == sent

    next(loop)
    monitor.log(train=0.1, val=0.1)
    monitor._draw()
    assert status_updates() == sent + 1 and "at epoch 6" in view.status.value
    monitor.smoothing = 3  # a control that changes no sentence: nothing new to send
    monitor._draw()
    assert status_updates() == sent + 1
    monitor.patience = 7  # a person moved a control: its numbers at once, in the details
    monitor._draw()
    assert "patience 7" in view.details_text.value and updates_for(recording_comms, view.details_text)
    assert status_updates() == sent + 1  # the three sentences did not change
    view.stop_button.click()  # Stop: at once, with the stop line
    monitor._draw()
    assert status_updates() == sent + 2 and "stopping at the end of this epoch" in view.status.value
    for _ in loop:
        pass
    assert status_updates() == sent + 3 and "Stopped" in view.status.value  # the end: always


def test_the_diagnosis_is_read_at_most_once_a_second_in_frames_and_fresh_when_asked(monkeypatch):
    """The diagnosis and the wobble advice read the whole history: frames while a loop runs read
    them again at most once a second (at every epoch while it is too early to tell: a short history
    is cheap); ``status_lines`` and the loop's last frame read them now."""
    from losswidget.run import feed as feed_module

    now = [50.0]
    monkeypatch.setattr(feed_module.time, "monotonic", lambda: now[0])
    readings = []
    real = feed_module.diagnose
    monkeypatch.setattr(
        feed_module, "diagnose", lambda history, **kw: readings.append(len(history)) or real(history, **kw)
    )
    monitor = lw.LiveLossMonitor(patience=None, display="widget", frame_rate=1000)
    show_view(monitor)
    for epoch in monitor.epochs(30):
        monitor.log(train=1.0 / (epoch + 1), val=1.0 / (epoch + 1))
        monitor._draw()  # a frame at every epoch, all within the same second
        now[0] += 0.01
        if epoch == 20:
            # the loop's first frame, then every epoch while it is too early to tell (5 epochs)
            assert readings == [0, 1, 2, 3, 4, 5]
            assert monitor.status_lines and readings == [0, 1, 2, 3, 4, 5, 21]  # asked for: read now
    assert readings[-1] == 30  # the last frame (the loop ended) reads the whole history
    assert "Diagnosis" in monitor._display.view.status.value


def test_arrays_sent_directly_are_what_the_ordinary_path_sends(recording_comms, monkeypatch):
    """Float32 arrays for the marks skip traitlets and ipywidgets' state walk (the frame's cost in a
    kernel): the messages, their buffers and the kernel's copy of each mark must be exactly what an
    ordinary ``hold_sync`` set gives, for the same frames."""
    from ipywidgets.widgets.widget import _remove_buffers

    from losswidget.views import widget as widget_module

    monitor = lw.LiveLossMonitor(patience=3, smoothing=3, display="none")
    rng = np.random.default_rng(0)
    frames = [monitor._build_frame()]  # nothing logged yet: empty marks
    for epoch in monitor.epochs(70):  # past the dots' limit, with an early stop's marks
        for _ in range(50):
            monitor.log_step(train=float(np.exp(-epoch / 10) + rng.random() * 0.1))
        monitor.log(train=float(np.exp(-epoch / 10)), val=float(np.exp(-epoch / 12) + 0.05 * max(epoch - 20, 0)))
        monitor.log(acc=float(epoch) / 70)
        monitor._recorder.flush_steps()
        frames.append(monitor._build_frame())
    marks = ("step_lines", "epoch_lines", "val_line", "train_points", "val_points", "best_marker", "verticals")
    marks += ("stop_label", "what_if_label", "metric_lines")

    can_send_directly = widget_module.can_send_directly

    def render(direct):
        monkeypatch.setattr(widget_module, "can_send_directly", can_send_directly if direct else lambda *args: False)
        view = widget_module.WidgetView(monitor._controls)
        recording_comms.clear()
        for frame in frames:
            view.render(frame)
        names = {getattr(view, name).comm.comm_id: name for name in marks}
        messages = []
        for message in recording_comms:
            if message["comm_id"] in names and message["data"].get("method") == "update":
                paths = [tuple(path) for path in message["data"]["buffer_paths"]]
                state = {
                    key: {**value, "shape": list(value["shape"])} if isinstance(value, dict) else value
                    for key, value in message["data"]["state"].items()
                }
                buffers = dict(zip(paths, (bytes(b) for b in message["buffers"]), strict=True))
                messages.append((names[message["comm_id"]], state, buffers))
        kept = {}
        for name in marks:
            state, paths, buffers = _remove_buffers(getattr(view, name).get_state())
            state = {key: value for key, value in state.items() if key not in ("scales", "tooltip")}
            kept[name] = (state, [tuple(path) for path in paths], [bytes(b) for b in buffers])
        return messages, kept

    ordinary, ordinary_kept = render(direct=False)
    direct, direct_kept = render(direct=True)
    assert len(ordinary) > 100 and {name for name, _, _ in ordinary} >= {"step_lines", "val_line", "best_marker"}
    assert direct == ordinary
    assert direct_kept == ordinary_kept


def test_the_widget_draws_the_band_and_its_toggle_turns_it_off(monitor):
    from test_validation_band import run_per_example

    view = monitor._display.view
    assert view.band_toggle.layout.display == "none"  # nothing to draw yet
    run_per_example(monitor)
    view.render(monitor._build_frame())
    band = view.val_band
    assert band.fill == "between" and band.visible and view.band_toggle.layout.display is None
    assert np.asarray(band.y).shape == (2, len(monitor.history))
    np.testing.assert_allclose(np.asarray(band.y)[1], monitor.history.val + 2 * monitor.history["val_se"], rtol=1e-5)
    view.band_toggle.value = False  # a click in the browser: the one setting changes
    assert monitor.band is False
    view.render(monitor._build_frame())
    assert not band.visible
    monitor.band = True  # from code: the toggle shows it
    assert view.band_toggle.value is True


def d3_labels(values, tick_format: str) -> list[str]:
    """d3's labels: its ``f`` and ``g`` round ties away from zero (0.5 reads "1" at ".0f"); "~" trims the
    zeros Python's ``g`` trims anyway."""
    return [format(value * (1 + 1e-12), tick_format.replace("~", "")) for value in values]


def axis_frontend(messages, axis, shown):
    """The tick label sets a bqplot frontend may show while it takes ``messages``, imitating its axis: a
    new format redraws the values it has at once; new values are drawn a frame later, in a d3 transition,
    in the format the axis had when they arrived (even where a newer format came since, so that set may
    be the last one shown). Within one message the events fire in the order of the state's keys, which
    ``hold_sync`` takes from a set: both orders are taken. ``shown``: the frontend's (values, format)
    before ``messages``; returns the sets drawn and the state after."""
    drawn, (values, tick_format) = [], shown
    for message in updates_for(messages, axis):
        state, paths = message["data"]["state"], [tuple(p) for p in message["data"]["buffer_paths"]]
        buffers = dict(zip(paths, message["buffers"], strict=True))
        new_values, new_format = values, state.get("tick_format", tick_format)
        if "tick_values" in state:
            new_values = state["tick_values"]
            if isinstance(new_values, dict):
                new_values = np.frombuffer(bytes(buffers[("tick_values", "value")]), dtype=new_values["dtype"])
            new_values = [] if new_values is None else list(new_values)
            drawn += [d3_labels(new_values, tick_format), d3_labels(new_values, new_format)]  # either order
        if "tick_format" in state:
            drawn += [d3_labels(values, new_format), d3_labels(new_values, new_format)]
        values, tick_format = new_values, new_format
    return drawn, (values, tick_format)


@pytest.mark.parametrize("first", [(0.0, 5.2), (0.0, 60.0), (0.0, 0.05), (0.001, 0.003)])
def test_tick_labels_mid_run_never_repeat_and_keep_the_decimals_their_step_needs(recording_comms, first):
    """The live chart showed "0, 1, 1" on a 0-1.4 axis and "0.00, 10.00, 20.00, 30.00": new tick values
    in the previous ticks' format. Sending the format first was not enough ("0, 1, 1, 2, 2" in a CI run):
    bqplot redraws the old values in a new format at once. Every set it can draw reads without a repeat,
    and the frame's own format stands once its values do."""
    from losswidget.chart.frame import Frame
    from losswidget.chart.marks import loss_ticks
    from losswidget.chart.settings import ChartSettings
    from losswidget.views.base import Controls
    from losswidget.views.widget import WidgetView

    view = WidgetView(Controls(ChartSettings(1, 5), lambda: None, lambda: "monitor"))
    shown = ([], view.y_axis.tick_format)
    expected = {(0.0, 1.4): ["0.0", "0.5", "1.0"], (0.0, 30.0): ["0", "10", "20", "30"]}
    expected[(0.001, 0.003)] = ["0.0010", "0.0015", "0.0020", "0.0025", "0.0030"]
    ranges = [first, (0.0, 1.4), first, (0.0, 30.0), first, (0.001, 0.003), (0.0, 1.4), (0.0, 30.0), (0.0, 2.2)]
    for y_range in [*ranges, (0.0, 2.0)]:
        ticks = loss_ticks(y_range, False)
        assert len(set(ticks.labels())) == len(ticks.labels())  # the frame's own labels never repeat
        if y_range in expected:
            assert ticks.labels() == expected[y_range]
        for _ in range(2):  # this frame and the next: the format may wait a frame for its values
            recording_comms.clear()
            view.render(Frame(x_range=(0.0, 10.0), y_range=y_range, y_ticks=ticks))
            drawn, shown = axis_frontend(recording_comms, view.y_axis, shown)
            assert all(len(set(labels)) == len(labels) for labels in drawn), (y_range, drawn)
        assert d3_labels(*shown) == ticks.labels() and shown[1] == ticks.format, y_range


def test_a_format_that_waited_for_its_values_is_sent_at_the_run_s_end(recording_comms):
    """The last frame's new values went with the old format; the image beside the widget is not the
    only thing that ends right: the axis gets its own format too."""
    from losswidget.chart.frame import Frame
    from losswidget.chart.marks import loss_ticks
    from losswidget.chart.settings import ChartSettings
    from losswidget.views.base import Controls
    from losswidget.views.widget import WidgetView

    view = WidgetView(Controls(ChartSettings(1, 5), lambda: None, lambda: "monitor"))
    for _ in range(2):  # 0, 0.5, 1 at ".1f", settled
        view.render(Frame(x_range=(0.0, 10.0), y_range=(0.0, 1.4), y_ticks=loss_ticks((0.0, 1.4), False)))
    assert view.y_axis.tick_format == ".1f"
    final = Frame(x_range=(0.0, 10.0), y_range=(0.0, 5.2), y_ticks=loss_ticks((0.0, 5.2), False))
    view.render(final)
    assert view.y_axis.tick_format == ".1f"  # 0, 1, ..., 5 in the old format first: "0.0, 1.0, ..."
    view.finish(final)
    assert view.y_axis.tick_format == ".0f" == final.y_ticks.format


def test_no_toolbar_over_the_curves(monitor):
    view = monitor._display.view
    assert not view.figure.display_toolbar and not view.metric_figure.display_toolbar
    assert not view.rate_panel.figure.display_toolbar


def test_the_what_if_label_avoids_the_steep_early_curves(monitor):
    """patience 5 stops at epoch 8, where the validation curve climbs steeply through the top of the
    plot: its label goes to a row that no curve crosses."""
    from losswidget.views.layout import text_width
    from losswidget.views.widget_marks import LABEL_SIZE, PLOT_WIDTH

    view = monitor._display.view
    values = [1.0, 0.6, 0.4, 0.3, 0.35, 0.5, 0.7, 0.9, 1.1, 1.3, 1.5, 1.7, 1.9, 2.0, 2.05, 2.1]
    values += [2.1 + 0.01 * e for e in range(14)]  # best at epoch 3, then a steep rise to the top
    for epoch in monitor.epochs(len(values)):
        monitor.log(train=0.5 + 0.5 / (epoch + 1), val=values[epoch])
    frame = monitor._build_frame()
    assert frame.what_if == (8, 5)
    row = float(view.what_if_label.y[0])
    x0, x1 = frame.x_range
    text = view.what_if_label.text[0]
    span = text_width(text, LABEL_SIZE) / PLOT_WIDTH * (x1 - x0)  # the label's width, in epochs
    start = 8 + 6 / PLOT_WIDTH * (x1 - x0)
    if view.what_if_label.align == "end":
        start = 8 - 6 / PLOT_WIDTH * (x1 - x0) - span
    xs = np.linspace(start, start + span, 50)
    y0, y1 = frame.y_range
    for curve in (frame.train_smooth, frame.val_smooth):
        heights = (np.interp(xs, frame.epochs, curve) - y0) / (y1 - y0)  # on the labels' 0..1 scale
        assert not ((heights > row - 0.02) & (heights < row + 0.06)).any(), (row, heights.min(), heights.max())


def test_the_widget_legend_names_every_run_and_wraps(monitor):
    names = [f"run {k:02d}: width {2**k} dropout 0.{k} lr 0.001 ".ljust(40, "x")[:40] for k in range(12)]
    for name in names:
        history = lw.History(name)
        for epoch in range(5):
            history.log_epoch(epoch, {"train": 1 / (epoch + 1), "val": 1.2 / (epoch + 1), "acc": 0.1 * epoch})
        monitor.add_run(history)
    monitor.log(train=1.0, val=1.1, acc=0.2)
    monitor._draw()
    view = monitor._display.view
    legend = view.legend.value
    assert all(f"</span> {name}</span>" in legend for name in names)
    assert "white-space: nowrap" not in legend and "display: inline-block" in legend  # rows wrap between entries
    assert view.legend.layout.min_width == "0"  # the HBox lets it shrink to the widget's width
    assert len(view.past_metric_lines.y) == 12  # each earlier run's accuracy, faint in the metric panel


@pytest.mark.parametrize("values", [(0.12, 0.9), (0.0, 1.4), (0.5, 0.51), (0.001, 0.003)])
def test_a_metric_axis_always_gets_at_least_two_round_ticks(values):
    """An accuracy from 0.12 to 0.9 got one tick label ("0.5"): a step of 0.5 was the first round step
    over a third of the range. A finer round step is taken until two fit."""
    from losswidget.chart.marks import metric_range

    (low, high), ticks = metric_range([np.array(values)])
    labels = ticks.labels()
    assert len(labels) >= 2 and len(set(labels)) == len(labels)
    assert low <= ticks.values[0] and ticks.values[-1] <= high
