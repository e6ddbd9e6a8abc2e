"""Events everywhere: a patience moved by the slider, by code and by a watcher's control file, a
min_delta set by code, a learning-rate change and a branch are each an event, and each reaches every
output: the JSONL log, CSV export, TensorBoard (a text summary read back with TensorBoard's own reader),
a user's output and trackio's local store. Real files, read back."""

import csv
import json
import os
import subprocess
import sys
import textwrap

import pytest

torch = pytest.importorskip("torch")

import losswidget as lw  # noqa: E402
from losswidget.core.events import Event  # noqa: E402
from losswidget.files.control import control_path, write_request  # noqa: E402

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
tensor_util = pytest.importorskip("tensorboard.util.tensor_util")


class Events(lw.Output):
    """A user's own output: the events it was given."""

    name = "events"

    def __init__(self):
        self.events = []

    def event(self, event):
        self.events.append(event)


def _steered_run(tmp_path, display="none", **options):
    """A real run in which the patience moves three ways, min_delta once, the rate once."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(32, 3, generator=torch.Generator().manual_seed(1))
    y = x.sum(dim=1, keepdim=True)
    user = Events()
    monitor = lw.LiveLossMonitor(
        patience=5,
        display=display,
        model=model,
        optimizer=optimizer,
        log_file=tmp_path / "run.jsonl",
        tensorboard=tmp_path / "tb",
        outputs=[user],
        **options,
    )
    moves = {
        1: lambda: setattr(monitor, "patience", 8),  # code
        2: lambda: write_request(control_path(tmp_path / "run.jsonl"), patience=12),  # a watcher
        3: lambda: setattr(monitor, "min_delta", 0.001),
        4: lambda: monitor.set_learning_rate(factor=0.5),
    }
    for epoch in monitor.epochs(6):
        for _ in range(4):
            loss = torch.nn.functional.mse_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            monitor.log_step(train=loss)
        monitor.log(train=loss.item(), val=loss.item())
        moves.get(epoch, lambda: None)()
    monitor._recorder.outputs.wait()  # the user's output runs on a thread of its own
    return monitor, user


EXPECTED = [
    ("patience", 5, 8, "api"),
    ("patience", 8, 12, "watcher"),
    ("min_delta", 0.0, 0.001, "api"),
    ("lr", 0.1, 0.05, "api"),
]


def _kinds(events):
    return [(e.kind, e.old, e.new, e.source) for e in events]


def test_settings_moved_by_code_and_a_watcher_are_events_in_every_output(tmp_path):
    monitor, user = _steered_run(tmp_path)
    events = monitor.history.events
    assert _kinds(events) == EXPECTED
    assert [(e.epoch, e.step) for e in events] == [(2, 8), (3, 12), (4, 16), (5, 20)]  # where the loop took them
    assert monitor.patience == 12 and monitor.min_delta == 0.001
    assert user.events == events
    # The JSONL log, read back.
    assert lw.History.load(tmp_path / "run.jsonl").events == events
    # CSV export: one event row each, read back with the csv module and with History.load.
    saved = monitor.history.save(tmp_path / "run.csv")
    with open(saved, newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0][-5:] == ["event", "event_old", "event_new", "event_source", "event_parent"]
    event_rows = [row for row in rows if row[0] == "event"]
    assert [(row[1], row[2], row[-5], row[-4], row[-3], row[-2]) for row in event_rows] == [
        ("2", "8", "patience", "5.0", "8.0", "api"),
        ("3", "12", "patience", "8.0", "12.0", "watcher"),
        ("4", "16", "min_delta", "0.0", "0.001", "api"),
        ("5", "20", "lr", "0.1", "0.05", "api"),
    ]
    loaded = lw.History.load(saved)
    assert loaded.events == events and list(loaded.epochs) == list(monitor.history.epochs)
    assert loaded.metric_names == monitor.history.metric_names  # the event columns are not metrics
    # TensorBoard: a text summary per event, at its step, read with TensorBoard's own reader.
    board = event_accumulator.EventAccumulator(str(tmp_path / "tb"), size_guidance={event_accumulator.TENSORS: 0})
    board.Reload()
    assert board.SummaryMetadata("events").plugin_data.plugin_name == "text"
    texts = [(t.step, tensor_util.make_ndarray(t.tensor_proto).item().decode()) for t in board.Tensors("events")]
    assert texts == [(e.step, e.sentence) for e in events]
    assert texts[0][1] == "Patience 5 → 8 at epoch 2, step 8, by a call."
    assert lw.History.from_tensorboard(tmp_path / "tb").val.tolist() == monitor.history.val.tolist()


def test_the_patience_slider_moved_mid_run_is_an_event_from_the_control(tmp_path, quiet_comms):
    pytest.importorskip("bqplot")
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    monitor = lw.LiveLossMonitor(patience=5, display="widget", model=model, log_file=tmp_path / "run.jsonl")
    monitor._display.ensure_view(monitor._controls)
    slider = monitor._display.view.patience_slider
    for epoch in monitor.epochs(3):
        monitor.log_step(train=1.0)
        if epoch == 1:
            slider.value = 9  # as the frontend's message sets it
        monitor.log_step(train=0.9)
        monitor.log(train=0.9, val=1.0 - epoch / 10)
    (event,) = monitor.history.events
    assert event == Event("patience", 1, 4, 5, 9, "control")  # taken at the next step: from step 4 on
    assert lw.History.load(tmp_path / "run.jsonl").events == [event]
    monitor.patience = None  # early stopping off is an event too; the what-if slider alone is not
    slider.value = 4
    assert _kinds(monitor.history.events[1:]) == [("patience", 9, None, "api")]
    assert monitor.history.events[1].sentence == "Patience 9 → off at epoch 3, step 6, by a call."


def test_a_rejected_setting_changes_nothing_and_records_nothing():
    monitor = lw.LiveLossMonitor(display="none")
    monitor.log(train=1.0, val=1.0)
    with pytest.raises(ValueError, match=r"'min_delta' must be >= 0\.0: -1\.0"):
        monitor.min_delta = -1
    with pytest.raises(ValueError, match="'patience' must be >= 0: -1"):
        monitor.patience = -1
    monitor.patience = 5  # unchanged: no event
    assert monitor.history.events == [] and monitor.min_delta == 0.0


def test_trackio_local_store_holds_the_events(tmp_path):
    pytest.importorskip("trackio")
    source = textwrap.dedent(
        """
        import json, trackio, losswidget as lw
        run = trackio.init(project="losswidget-test", name="steered", embed=False, auto_log_cpu=False)
        monitor = lw.LiveLossMonitor(display="none", outputs=[lw.TrackerLog(run)])
        for epoch in monitor.epochs(3):
            for step in range(4):
                monitor.log_step(train=1.0 - 0.0625 * (epoch * 4 + step))
            monitor.log(train=0.5, val=0.75 - epoch / 32)
            if epoch == 0:
                monitor.patience = 7
        run.finish()
        from trackio.sqlite_storage import SQLiteStorage
        open("out.json", "w").write(json.dumps(SQLiteStorage.get_logs("losswidget-test", "steered")))
        """
    )
    env = {**os.environ, "TRACKIO_DIR": str(tmp_path / "trackio")}
    done = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads((tmp_path / "out.json").read_text())
    (event,) = [row for row in rows if "event" in row]
    assert event["event"] == "Patience 5 → 7 at epoch 1, step 4, by a call." and event["event/patience"] == 7
    steps = [row["step"] for row in rows]
    assert steps == sorted(steps) and steps.count(event["step"]) == 1  # never back; a step of its own
