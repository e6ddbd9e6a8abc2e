"""Issue #35, third round: outputs and TensorBoard never slow, stop or change training, and lose nothing.

A tracker is someone else's network code: here real trackers block on real threads (a
``threading.Event``), raise exceptions whose message cannot be read, change the dict they are
given, and are ``async def``. Every hang is bounded by pytest-timeout; nothing is timed. The
TensorBoard faults are real files: a second monitor on one folder, a perplexity of e^95, a folder
deleted mid-run, run names that leave the folder, a flipped bit.
"""

from __future__ import annotations

import asyncio
import math
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import losswidget as lw
from losswidget.core import tensorboard_events as events
from losswidget.outputs import worker

ROOT = str(Path(__file__).resolve().parents[1])

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def _scalars(folder, tag):
    board = event_accumulator.EventAccumulator(str(folder), size_guidance={event_accumulator.SCALARS: 0})
    board.Reload()
    return [(event.step, event.value) for event in board.Scalars(tag)]


class Tracker:
    """A tracker run (W&B's shape): ``log(dict, step=)``, each call held until ``gate`` opens."""

    def __init__(self, gate=None):
        self.rows, self.gate = [], gate

    def log(self, values, step=None):
        if self.gate is not None:
            self.gate.wait(timeout=300)  # a network call that has not answered
        self.rows.append((step, dict(values)))


def _train(monitor, epochs=3, steps=4, after=None):
    for epoch in monitor.epochs(epochs):
        for step in range(steps):
            monitor.log_step(train=1.0 - (epoch * steps + step) / 64)
        monitor.log(train=0.5 - epoch / 16, val=0.75 - epoch / 32)
        if after is not None and epoch == epochs - 1:
            after()


@pytest.fixture
def gate():
    opened = threading.Event()
    yield opened
    opened.set()  # whatever still waits on it ends with the test


# -- outputs run off the training thread -----------------------------------------------------------


@pytest.mark.timeout(120)
def test_a_tracker_slower_than_training_never_holds_it(gate):
    """The tracker answers only once training has logged its last epoch: on training's thread, the
    first call would wait for a moment that never comes."""
    tracker = Tracker(gate)
    monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[lw.TrackerLog(tracker)])
    _train(monitor, after=gate.set)
    assert monitor.history.n_steps == 12 and len(monitor.history) == 3
    # the loop's end waited for it: every record is there, in order
    assert [
        row["loss/train_step"] for _, row in tracker.rows if "loss/train_step" in row
    ] == monitor.history.step_train.tolist()
    assert [row["loss/val"] for _, row in tracker.rows if "loss/val" in row] == monitor.history.val.tolist()
    assert not monitor._recorder.outputs.problems()


@pytest.mark.timeout(120)
def test_a_tracker_that_never_returns_is_turned_off_and_training_ends(gate, monkeypatch):
    monkeypatch.setattr(worker, "END_WAIT_SECONDS", 2.0)  # the working tracker drains meanwhile
    recording = Tracker()  # a second tracker that works: it keeps every record
    monitor = lw.LiveLossMonitor(
        display="none", patience=None, outputs=[lw.TrackerLog(Tracker(gate)), lw.TrackerLog(recording)]
    )
    with pytest.warns(
        UserWarning, match=r"losswidget: The output tracker \(test_faults.*failed \(OutputStalled"
    ) as said:
        _train(monitor)
    assert len([w for w in said if "OutputStalled" in str(w.message)]) == 1  # said once
    assert len(monitor.history) == 3 and monitor.history.n_steps == 12
    assert [row["loss/val"] for _, row in recording.rows if "loss/val" in row] == monitor.history.val.tolist()
    assert any("OutputStalled" in line and "turned off" in line for line in monitor.status_lines)
    monitor.new_run("next")  # a later run sends it nothing, and waits for nothing
    monitor.log(val=0.5)


@pytest.mark.timeout(120)
def test_a_tracker_that_is_hung_is_found_at_the_next_record(gate, monkeypatch):
    monkeypatch.setattr(worker, "HUNG_AFTER_SECONDS", 0.0)
    monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[lw.TrackerLog(Tracker(gate))])
    monitor.log(val=1.0)
    outputs = monitor._recorder.outputs
    (_, hung), *_ = outputs._entries
    while hung._busy_since is None:  # its first call is under way (and stays there)
        threading.Event().wait(0.01)
    with pytest.warns(
        UserWarning, match=r"OutputStalled: its log\(\)|OutputStalled: its epoch\(\) call has not returned"
    ):
        monitor.log(val=0.5)
    assert len(outputs) == 0 and len(monitor.history) == 2


@pytest.mark.timeout(120)
def test_a_tracker_that_falls_behind_is_turned_off_and_nothing_waits_for_it(gate, monkeypatch):
    monkeypatch.setattr(worker, "QUEUE_RECORDS", 3)
    monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[lw.TrackerLog(Tracker(gate))])
    with pytest.warns(UserWarning, match=r"OutputStalled: it fell 3 records behind training"):
        for value in range(10):
            monitor.log(val=1.0 / (value + 1))
    assert len(monitor._recorder.outputs) == 0 and len(monitor.history) == 10


@pytest.mark.timeout(120)
def test_an_output_whose_close_hangs_costs_new_run_a_bounded_wait(gate, monkeypatch):
    monkeypatch.setattr(worker, "END_WAIT_SECONDS", 0.5)

    class HangsOnClose(lw.Output):
        def close(self):
            gate.wait(timeout=300)

    monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[HangsOnClose()])
    monitor.log(val=1.0)
    with pytest.warns(UserWarning, match=r"The output HangsOnClose failed \(OutputStalled: it had not taken its last"):
        monitor.new_run("next")
    monitor.log(val=0.5)
    assert len(monitor.history) == 1 and len(monitor.runs) == 1


@pytest.mark.timeout(120)
def test_an_output_that_changes_its_arrays_changes_nothing_another_output_receives():
    class Zeroing(lw.Output):
        def steps(self, losses, epochs, first):
            losses[:] = 0.0
            epochs[:] = -1

    class Keeping(lw.Output):
        def __init__(self):
            self.losses, self.epochs = [], []

        def steps(self, losses, epochs, first):
            self.losses += losses.tolist()
            self.epochs += epochs.tolist()

    keeping = Keeping()
    monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[Zeroing(), keeping])
    _train(monitor)
    assert keeping.losses == monitor.history.step_train.tolist() and keeping.epochs == [0] * 4 + [1] * 4 + [2] * 4


@pytest.mark.timeout(120)
def test_an_exception_whose_message_raises_is_said_and_training_goes_on():
    class Unreadable(Exception):
        def __str__(self):
            raise RuntimeError("no message")

    class Failing:
        def log(self, values, step=None):
            raise Unreadable()

    monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[lw.TrackerLog(Failing())])
    with pytest.warns(UserWarning, match=r"failed \(Unreadable: \(its message could not be read\)\) and was turned"):
        _train(monitor)
    assert len(monitor.history) == 3


@pytest.mark.timeout(120)
def test_an_output_that_changes_its_dict_changes_nothing_early_stopping_sees():
    class Meddling(lw.Output):
        def epoch(self, epoch, values, steps):
            values["val"] = 0.0  # "the best yet", every epoch
            values.clear()

    monitor = lw.LiveLossMonitor(display="none", patience=2, outputs=[Meddling()])
    for epoch in monitor.epochs(20):
        monitor.log(train=1.0, val=[1.0, 0.5, 0.75, 0.875, 0.9375, 0.96875][min(epoch, 5)])
    assert monitor.best_epoch == 1 and monitor.should_stop and len(monitor.history) == 4
    assert monitor.history.val.tolist() == [1.0, 0.5, 0.75, 0.875]


@pytest.mark.timeout(120)
def test_step_losses_after_epochs_without_any_each_reach_the_tracker_at_a_step_of_their_own():
    tracker = Tracker()
    monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[lw.TrackerLog(tracker)])
    for epoch in monitor.epochs(3):  # a warm-up without step losses
        monitor.log(train=1.0 - epoch / 8, val=1.0 - epoch / 16)
    _train(monitor, epochs=2, steps=5)
    for epoch in monitor.epochs(2):  # and epochs without them again
        monitor.log(val=0.5 - epoch / 64)
    steps_by_name: dict[str, list[int]] = {}
    epoch_at: dict[int, set[int]] = {}
    for step, row in tracker.rows:
        for name in row:
            steps_by_name.setdefault(name, []).append(step)
        epoch_at.setdefault(step, set()).add(row["epoch"])
    for name, steps in steps_by_name.items():
        if name != "epoch":
            assert steps == sorted(set(steps)), name  # strictly increasing: no value overwrites another
    assert all(len(epochs) == 1 for epochs in epoch_at.values())  # one step, one epoch
    assert [
        row["loss/train_step"] for _, row in tracker.rows if "loss/train_step" in row
    ] == monitor.history.step_train.tolist()
    assert len(steps_by_name["loss/val"]) == len(monitor.history) == 7


@pytest.mark.timeout(120)
def test_an_async_tracker_is_awaited():
    class AsyncTracker:
        def __init__(self):
            self.rows = []

        async def log(self, values, step=None):
            await asyncio.sleep(0)
            self.rows.append((step, dict(values)))

    tracker = AsyncTracker()
    monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[lw.TrackerLog(tracker)])
    _train(monitor)
    assert [row["loss/val"] for _, row in tracker.rows if "loss/val" in row] == monitor.history.val.tolist()
    assert len([row for _, row in tracker.rows if "loss/train_step" in row]) == 12


ASYNC_SCRIPT = """
import asyncio, losswidget as lw
class Run:
    def __init__(self):
        self.steps = []
    async def log(self, values, step=None):
        await asyncio.sleep(0)
        self.steps.append(step)
run = Run()
monitor = lw.LiveLossMonitor(display="none", outputs=[lw.TrackerLog(run)])
for epoch in monitor.epochs(3):
    monitor.log(train=1.0, val=1.0 / (epoch + 1))
print(run.steps)
"""


@pytest.mark.timeout(120)
def test_an_async_trackers_event_loop_is_closed_when_the_script_ends(tmp_path):
    """The output's thread ends at the interpreter's exit once it has sent everything, closing the
    event loop it awaited on (left open, Python says 'ResourceWarning: unclosed event loop')."""
    script = tmp_path / "train.py"
    script.write_text(ASYNC_SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    done = subprocess.run(
        [sys.executable, "-W", "always", str(script)], capture_output=True, text=True, env=env, timeout=100
    )
    assert done.returncode == 0 and done.stdout.strip() == "[0, 1, 2]", done.stderr
    assert "unclosed event loop" not in done.stderr


# -- TensorBoard -----------------------------------------------------------------------------------


def test_a_second_monitor_on_one_folder_is_a_run_of_its_own(tmp_path):
    first = lw.LiveLossMonitor(display="none", patience=None, tensorboard=tmp_path / "tb")
    _train(first, epochs=3)
    second = lw.LiveLossMonitor(display="none", patience=None, tensorboard=tmp_path / "tb")  # the cell, run again
    for epoch in second.epochs(2):
        second.log(val=0.25 + epoch / 8)
    back = lw.History.from_tensorboard(tmp_path / "tb")
    assert back.val.tolist() == first.history.val.tolist() and back.n_steps == 12
    runs = [path for path in (tmp_path / "tb").iterdir() if path.is_dir()]
    assert [path.name for path in runs] == ["run1"]
    assert _scalars(runs[0], "loss/val") == [(0, 0.25), (1, 0.375)]


def test_a_metric_beyond_float32_is_written_as_inf_and_tensorboard_goes_on(tmp_path):
    monitor = lw.LiveLossMonitor(display="none", patience=None, tensorboard=tmp_path / "tb")
    with pytest.warns(UserWarning, match=r"losswidget: 'ppl' = 1.81e\+41 is beyond the largest number") as said:
        for epoch in monitor.epochs(4):
            monitor.log(val=1.0 - epoch / 8, ppl=math.exp(95 - epoch))
    assert len([w for w in said if "'ppl'" in str(w.message)]) == 1
    assert _scalars(tmp_path / "tb", "loss/val") == [(e, 1.0 - e / 8) for e in range(4)]
    assert [value for _, value in _scalars(tmp_path / "tb", "ppl")][:2] == [math.inf, math.inf]
    assert not monitor._recorder.outputs.problems()


def test_a_tensorboard_folder_deleted_mid_run_is_said_once(tmp_path):
    monitor = lw.LiveLossMonitor(
        display="none", patience=None, tensorboard=tmp_path / "tb", log_file=tmp_path / "r.jsonl"
    )
    monitor.log(val=1.0)
    shutil.rmtree(tmp_path / "tb")
    with pytest.warns(UserWarning, match=r"TensorBoard's event file .* \(EventFileLost: it was deleted") as said:
        for value in (0.75, 0.5, 0.25):
            monitor.log(val=value)
    assert len(said) == 1
    assert lw.History.load(tmp_path / "r.jsonl").val.tolist() == [1.0, 0.75, 0.5, 0.25]
    assert any("TensorBoard output was turned off" in line for line in monitor.status_lines)


def test_run_names_stay_inside_the_folder_and_each_new_run_has_its_own(tmp_path):
    board = tmp_path / "tb"
    monitor = lw.LiveLossMonitor(display="none", patience=None, tensorboard=board)
    monitor.log(val=1.0)
    for name, val in (("wide", 0.5), ("wide", 0.25), ("../x", 0.125), ("y" * 400, 0.0625), ("after", 0.03125)):
        monitor.new_run(name)
        monitor.log(val=val)
    assert not (tmp_path / "x").exists()
    folders = sorted(path.name for path in board.iterdir() if path.is_dir())
    assert folders == sorted(["wide", "wide-2", "_x", "y" * 60, "after"])
    assert _scalars(board / "wide", "loss/val") == [(0, 0.5)]
    assert _scalars(board / "wide-2", "loss/val") == [(0, 0.25)]
    assert _scalars(board / "after", "loss/val") == [(0, 0.03125)]  # TensorBoard still on after the long name
    assert not monitor._recorder.outputs.problems()


def test_a_flipped_bit_is_left_out_and_said_not_read_as_a_huge_number(tmp_path):
    history = lw.History()
    for epoch in range(3):
        history.log_epoch(epoch, {"val": 0.75 - epoch / 8})
    path = history.to_tensorboard(tmp_path)
    data = bytearray(path.read_bytes())
    at = data.index(events.as_float32(0.625).tobytes())  # epoch 1's value
    data[at + 3] ^= 0x40  # the exponent's top bit: 0.625 would read as 2.1e38
    path.write_bytes(bytes(data))
    with pytest.warns(
        UserWarning,
        match=r"losswidget: the event file .* is damaged: 1 record\(s\) fail their checksum and were left out",
    ):
        back = lw.History.from_tensorboard(tmp_path)
    assert back.epochs.tolist() == [0, 2] and back.val.tolist() == [0.75, 0.5]


def test_a_flipped_bit_in_a_records_length_keeps_every_record_before_it(tmp_path):
    """A length that fails its check frames nothing after it (as in TensorBoard's own reader); the
    records before it are the run so far, not a reason to refuse the whole file."""
    history = lw.History()
    for epoch in range(4):
        history.log_epoch(epoch, {"val": 0.75 - epoch / 8})
    path = history.to_tensorboard(tmp_path)
    data = bytearray(path.read_bytes())
    at = 0
    for _ in range(3):  # the version record, epochs 0 and 1: the fourth record is epoch 2's
        at += 12 + int.from_bytes(data[at : at + 8], "little") + 4
    data[at] ^= 0x01  # its length, one bit off
    path.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match=rf"damaged: a record's length check fails at byte {at}, so its last") as said:
        back = lw.History.from_tensorboard(tmp_path)
    assert back.epochs.tolist() == [0, 1] and back.val.tolist() == [0.75, 0.625]
    assert "the other 2 values are read" in str(said[0].message)
    data[:12] = bytes(12)  # the first record's length fails too: this is no event file
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not a TensorBoard event file"):
        lw.History.from_tensorboard(tmp_path)
