"""One owner per fact: each setting and each fact a user sees is kept in one place and asked
everywhere else (issue: "One owner per fact"). One regression test per drift that was found."""

from __future__ import annotations

import numpy as np
import pytest

import losswidget as lw
from losswidget.core.reasons import StopReason, button_label, chart_label, sentence
from losswidget.core.replay import best_of, would_stop_at
from losswidget.core.stopping import MAX_PATIENCE, NEVER
from losswidget.files.control import control_path, parse_request, write_request


def monitor_(**kwargs):
    return lw.LiveLossMonitor(display="none", **kwargs)


# -- the patience: one owner -------------------------------------------------------------


@pytest.mark.parametrize("how", ["property", "slider"])
def test_a_patience_set_mid_epoch_survives_a_validation_value_logged_again(how):
    """The drift: a rewind (val logged twice in one epoch) brought back the old patience while the
    settings still said 1, and setting 1 again then changed nothing."""
    monitor = monitor_(patience=5)
    for epoch in monitor.epochs(10):
        if epoch == 0:
            monitor.log(train=1.0, val=1.0)
            continue
        monitor.log(train=1.0, val=1.1)  # no improvement: wait 1
        if how == "property":
            monitor.patience = 1
        else:
            monitor.settings.from_control("patience", 1)  # what the slider does
        with pytest.warns(UserWarning, match="logged twice"):
            monitor.log(val=1.2)  # replaces 1.1: the decision rolls back and decides again
    assert monitor.patience == 1 == monitor.early_stopping.patience == monitor.settings.patience
    assert monitor.should_stop and monitor.stop_code is StopReason.PATIENCE
    assert "patience 1" in monitor.stopped_reason and monitor.history.last_epoch == 1


def test_the_decision_object_and_the_settings_are_one_patience():
    monitor = monitor_(patience=4)
    monitor.early_stopping.patience = 7  # the public decision object, written directly
    assert monitor.patience == 7 == monitor.settings.patience == monitor.what_if_patience
    monitor.patience = None
    assert monitor.patience is None and monitor.early_stopping.patience == NEVER
    assert monitor.settings.patience == 7  # the slider keeps its value: the "what if" line uses it
    monitor.early_stopping.patience = 2  # setting a patience turns early stopping on, as monitor.patience does
    assert monitor.patience == 2 and monitor.settings.early_stopping


def test_a_loaded_state_sets_the_one_patience():
    source = lw.EarlyStopping(patience=3)
    for value in [1.0, 0.9, 0.95]:
        source.update(value)
    monitor = monitor_(patience=10)
    monitor.early_stopping.load_state_dict(source.state_dict())
    assert monitor.patience == 3 == monitor.settings.patience and monitor.early_stopping.wait == 1
    off = monitor_(patience=None)
    monitor.early_stopping.load_state_dict(off.early_stopping.state_dict())
    assert monitor.patience is None


def test_checkpoint_names_its_fields_and_never_takes_back_the_configuration():
    stopper = lw.EarlyStopping(patience=5)
    stopper.update(1.0)
    saved = stopper.checkpoint()
    stopper.patience = 1
    stopper.update(2.0)
    stopper.rewind(saved)
    assert stopper.patience == 1 and stopper.wait == 0 and stopper.best == 1.0
    assert stopper.update(2.0)  # patience 1: the first value without improvement stops


# -- the best epoch: one rule ------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_history_monitor_and_replay_name_the_same_best_epoch(seed):
    rng = np.random.default_rng(seed)
    min_delta = float(rng.choice([0.0, 0.01, 0.05]))
    monitor = monitor_(patience=None, min_delta=min_delta)
    for _ in monitor.epochs(40):
        value = float(abs(rng.normal(1.0, 0.05)))
        if rng.random() < 0.1:
            value = float("nan")  # not logged this epoch
            monitor.log(train=1.0)
        else:
            monitor.log(train=1.0, val=value)
    history = monitor.history
    assert history.best_epoch(min_delta=min_delta) == monitor.best_epoch
    assert best_of(history.val, history.epochs, min_delta) == (monitor.best_epoch, monitor.early_stopping.best)


def test_history_best_epoch_is_min_delta_aware_and_first_of_equals():
    history = lw.History()
    for epoch, value in enumerate([1.0, 0.995, 0.99, 0.5, 0.5]):
        history.log_epoch(epoch, {"val": value})
    assert history.best_epoch() == 3  # the first of two equal minima
    history2 = lw.History()
    for epoch, value in enumerate([1.0, 0.995, 0.98]):
        history2.log_epoch(epoch, {"val": value})
    assert history2.best_epoch() == 2 and history2.best_epoch(min_delta=0.05) == 0
    with pytest.raises(ValueError, match="'min_delta' must be >= 0"):
        history2.best_epoch(min_delta=-1)
    with pytest.raises(ValueError, match="'mode' must be one of"):
        history2.best_epoch(mode="lowest")


def test_the_watcher_names_the_jobs_min_delta_best_epoch(tmp_path):
    log = tmp_path / "job.jsonl"
    monitor = monitor_(patience=None, min_delta=0.05, log_file=log)
    for value in [1.0, 0.99, 0.98, 0.97, 0.9]:
        monitor.log(train=1.0, val=value)
    watcher = lw.watch(log, display="none")
    try:
        assert monitor.best_epoch == 4 and watcher.best_epoch == 4  # 0.99-0.97 are within min_delta of 1.0
    finally:
        watcher.close()


# -- the stop words: one table -------------------------------------------------------------


def test_every_reason_has_its_labels_in_one_table():
    for code in StopReason:
        assert chart_label(code) and button_label(code, 3).endswith(" at epoch 3")
    assert button_label(StopReason.PATIENCE, None) == "Early stop"


def test_the_stopper_the_monitor_and_the_log_say_the_same_sentence(tmp_path):
    log = tmp_path / "run.jsonl"
    monitor = monitor_(patience=2, log_file=log)
    for epoch in monitor.epochs(20):
        monitor.log(train=1.0, val=1.0 if epoch == 0 else 1.5)
    stopper = monitor.early_stopping
    assert monitor.stopped_reason == stopper.reason
    expected = sentence("patience", epoch=2, wait=2, patience=2, best=(0, 1.0))
    assert (
        stopper.reason
        == expected
        == "early stopping at epoch 2: no improvement for 2 epochs (patience 2); best 1 at epoch 0"
    )
    frame = monitor._build_frame()
    assert frame.stop == (2, chart_label(StopReason.PATIENCE)) and frame.stop_control == "Early stop at epoch 2"
    end = next(line for line in log.read_text().splitlines() if '"end"' in line)
    assert expected in end and '"stop_code": "patience"' in end


def test_a_watchers_request_is_read_once_with_the_shared_limit(tmp_path):
    assert parse_request({"patience": MAX_PATIENCE}).patience == MAX_PATIENCE
    assert parse_request({"patience": MAX_PATIENCE + 1}).patience is None
    assert parse_request({"stop": {"reason": " "}}).stop_reason == sentence("watcher")
    with pytest.raises(ValueError, match=f"'patience' must be <= {MAX_PATIENCE}"):
        monitor_(patience=MAX_PATIENCE + 1)
    log = tmp_path / "job.jsonl"
    monitor = monitor_(patience=5, log_file=log)
    write_request(control_path(log), patience=2, stop={"reason": "from the watcher"})
    monitor.log(train=1.0, val=1.0)
    for _ in monitor.epochs(1):
        monitor.log(train=1.0, val=1.0)
    assert monitor.patience == 2 and monitor.stopped_reason == "from the watcher"


# -- the what-if line: the run's own rules -------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [{"start_from_epoch": 6}, {"check_finite": False}, {"min_delta": 0.02}, {}],
    ids=["start_from_epoch", "check_finite", "min_delta", "plain"],
)
def test_the_what_if_line_replays_with_the_runs_own_configuration(config):
    values = [1.0, 0.9, 0.95, 0.96, 0.961, 0.97, 0.98, 0.89, 0.99, 1.0, 1.01, 1.02, 1.03]
    if config.get("check_finite") is False:
        values[4] = float("inf")  # the monitor goes on, and so must the replay: one rise more
    monitor = monitor_(patience=None, **config)
    monitor.settings.patience = 3
    for value in values:
        monitor.log(train=1.0, val=value)
    expected = would_stop_at(values, 3, **config)
    frame = monitor._build_frame()
    assert (None if frame.what_if is None else frame.what_if[0]) == expected
    if "start_from_epoch" in config:
        assert expected is not None and expected >= 6 + 3  # nothing counted before epoch 6


# -- the views: they draw what the frame says, the same in the widget and the SVG ---------------


@pytest.mark.parametrize("log_y", [False, True])
def test_the_widget_and_the_saved_picture_show_the_same_ticks_legend_and_runs(log_y):
    pytest.importorskip("bqplot")
    import re

    from losswidget.views.svg import render_svg
    from losswidget.views.widget import WidgetView

    monitor = monitor_(patience=None)
    for epoch in range(8):
        monitor.log(train=2.0 / (epoch + 1))  # a run with no validation: shown by its training curve
    monitor.new_run("second")
    for epoch in range(30):
        monitor.log(train=1.0 / (epoch + 1), val=1.2 / (epoch + 1) + 0.01 * epoch, acc=epoch / 30)
    monitor.log_scale = log_y
    frame = monitor._build_frame()
    view = WidgetView(monitor._controls)
    view.render(frame)
    view.finish(frame)  # the saved picture's moment; a format that waited for its ticks is sent by then
    svg = render_svg(frame)

    widget_ticks = [format(value, view.y_axis.tick_format) for value in view.y_axis.tick_values]
    svg_ticks = re.findall(r'text-anchor="end">([^<]+)</text>', svg)
    assert len(widget_ticks) >= 2 and svg_ticks[: len(widget_ticks)] == widget_ticks == frame.y_ticks.labels()
    assert [format(v, view.x_axis.tick_format) for v in view.x_axis.tick_values] == frame.x_ticks.labels()
    assert (view.metric_y.min, view.metric_y.max) == pytest.approx(frame.metric_range)

    labels = [entry.label for entry in frame.legend]
    assert labels == ["train, second", "validation, second", "best epoch", "run 1 (train only)"]  # every run named
    for label in labels:
        assert label in view.legend.value and f">{label}</text>" in svg
    assert list(view.past_train.labels) == ["run 1 (train only)"]


def test_the_display_draws_from_a_part_never_from_its_owner(tmp_path):
    """The drift: monitor -> Display -> monitor (_build_frame, flush_steps) and monitor -> StopControl ->
    monitor -> settings -> monitor. Now the display's frames come from the feed, and the stop control
    holds no callable of the monitor."""
    monitor = monitor_(log_file=tmp_path / "run.jsonl")
    assert monitor._display.source is monitor._feed
    owners = [value for value in vars(monitor._display).values() if getattr(value, "__self__", None) is monitor]
    assert owners == []
    stop = monitor._stop
    assert not any(getattr(getattr(stop, name, None), "__self__", None) is monitor for name in stop.__slots__)
    watcher = lw.watch(tmp_path / "run.jsonl", display="none")
    try:
        assert watcher._display.source is watcher._feed
    finally:
        watcher.close()
