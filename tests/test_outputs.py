"""Outputs as one declared list (losswidget/outputs): TensorBoard, W&B/trackio and the user's own.

Each output is written through a real monitor and read back with an independent reader:
TensorBoard's own event reader (the ``tensorboard`` package), trackio's local store, W&B's offline
run. A failing output (an unwritable folder, a tracker that raises, a user's output that raises)
leaves training, the chart and the other outputs whole, and a ``losswidget:`` warning names it.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import losswidget as lw
from losswidget.core import tensorboard_events as events
from losswidget.core.crc32c import crc32c, masked

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def _board(folder):
    board = event_accumulator.EventAccumulator(str(folder), size_guidance={event_accumulator.SCALARS: 0})
    board.Reload()
    return board


def _scalars(board, tag):
    return [(event.step, event.value) for event in board.Scalars(tag)]


def _train(monitor, epochs=4, steps=5, val=None):
    """A loop with step losses and epoch values whose numbers float32 holds exactly."""
    for epoch in monitor.epochs(epochs):
        for step in range(steps):
            monitor.log_step(train=1.0 - 0.0625 * (epoch * steps + step) / 4)
        monitor.log(train=0.5 - epoch / 16, val=(0.75 - epoch / 32) if val is None else val[epoch], acc=epoch / 8)


class Recording(lw.Output):
    """A user's own output: what it was given, in order."""

    name = "recording"

    def __init__(self, fail_at=None):
        self.calls, self.fail_at = [], fail_at

    def open(self, run):
        self.calls.append(("open", run.label, run.number))

    def epoch(self, epoch, values, steps):
        if epoch == self.fail_at:
            raise ConnectionError("the dashboard went offline")
        self.calls.append(("epoch", epoch, dict(values), steps))

    def steps(self, losses, epochs, first):
        self.calls.append(("steps", losses.tolist(), epochs.tolist(), first))

    def end(self, outcome, stop_code):
        self.calls.append(("end", stop_code))

    def close(self):
        self.calls.append(("close",))


# -- TensorBoard ----------------------------------------------------------------------------


def test_a_monitor_writes_event_files_that_tensorboard_reads_with_exact_values_and_steps(tmp_path):
    monitor = lw.LiveLossMonitor(display="none", patience=None, tensorboard=tmp_path / "tb")
    _train(monitor)
    board = _board(tmp_path / "tb")
    assert set(board.Tags()["scalars"]) == {"loss/train", "loss/val", "acc", "loss/train_step", "epoch"}
    history = monitor.history
    assert _scalars(board, "loss/train") == [(e, t) for e, t in zip(history.epochs.tolist(), history.train.tolist())]
    assert _scalars(board, "loss/val") == [(e, v) for e, v in zip(history.epochs.tolist(), history.val.tolist())]
    assert _scalars(board, "acc") == [(e, a) for e, a in zip(history.epochs.tolist(), history["acc"].tolist())]
    assert _scalars(board, "loss/train_step") == list(enumerate(history.step_train.tolist()))
    assert _scalars(board, "epoch") == list(enumerate(map(float, history.step_epoch.tolist())))


def test_each_new_run_is_a_tensorboard_run_of_its_own_and_reads_back_as_a_history(tmp_path):
    monitor = lw.LiveLossMonitor(display="none", patience=None, tensorboard=tmp_path / "tb")
    _train(monitor, epochs=3)
    first = monitor.history.copy()
    monitor.new_run("wider")
    _train(monitor, epochs=2, steps=3)
    assert _scalars(_board(tmp_path / "tb" / "wider"), "loss/val") == [(0, 0.75), (1, 0.75 - 1 / 32)]
    back = lw.History.from_tensorboard(tmp_path / "tb")
    assert back.epochs.tolist() == first.epochs.tolist()
    for name in ("train", "val", "acc"):
        assert back[name].tolist() == first[name].tolist()
    assert back.step_train.tolist() == first.step_train.tolist()
    assert back.step_epoch.tolist() == first.step_epoch.tolist()
    with pytest.raises(FileNotFoundError, match=r"no TensorBoard event files .* its runs are in 'tb'; give one"):
        lw.History.from_tensorboard(tmp_path / "tb" / "..")  # a folder of runs: name one


def test_history_to_tensorboard_round_trips_and_nan_is_a_gap(tmp_path):
    history = lw.History("kept")
    for epoch, (train, val) in enumerate([(0.9, 1.0), (0.7, math.nan), (0.5, 0.75)]):
        history.log_epoch(epoch, {"train": train, "val": val, "lr": 0.125})
    history.log_steps([2.0, 1.5, math.nan, 1.0], [0, 0, 1, 2])
    path = history.to_tensorboard(tmp_path / "tb")
    assert path.parent == tmp_path / "tb" and events.PREFIX in path.name
    board = _board(tmp_path / "tb")
    assert _scalars(board, "loss/val") == [(0, 1.0), (2, 0.75)]  # the NaN is not written
    assert _scalars(board, "loss/train_step") == [(0, 2.0), (1, 1.5), (3, 1.0)]
    back = lw.History.from_tensorboard(tmp_path / "tb")
    assert back.epochs.tolist() == [0, 1, 2]
    assert back.val[[0, 2]].tolist() == [1.0, 0.75] and math.isnan(back.val[1])
    assert back.train.tolist() == pytest.approx([0.9, 0.7, 0.5], rel=1e-7)  # float32 in the file
    assert back["lr"].tolist() == [0.125] * 3
    assert back.step_train.tolist() == [2.0, 1.5, 1.0] and back.step_epoch.tolist() == [0, 0, 2]


def test_a_run_written_by_torch_summary_writer_reads_back_with_its_tags_mapped(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path / "hf"))
    for step, (train, val) in enumerate([(0.75, 0.875), (0.5, 0.625), (0.25, 0.5)]):
        writer.add_scalar("train/loss", train, step * 10)
        writer.add_scalar("eval/loss", val, step * 10)
        writer.add_scalar("train/learning_rate", 0.001, step * 10)
    writer.close()
    history = lw.History.from_tensorboard(tmp_path / "hf", tags={"train/loss": "train", "eval/loss": "val"})
    assert history.epochs.tolist() == [0, 10, 20]
    assert history.train.tolist() == [0.75, 0.5, 0.25] and history.val.tolist() == [0.875, 0.625, 0.5]
    assert history["train/learning_rate"].tolist() == pytest.approx([0.001] * 3)
    monitor = lw.LiveLossMonitor(display="none")
    monitor.add_run(history)  # compared in the chart beside a new run
    assert monitor._build_frame().runs[0].label.startswith("hf")


def test_tensorflow_2_tensor_scalars_are_read_too(tmp_path):
    """tf.summary.scalar writes a float TensorProto instead of simple_value: written here with
    TensorBoard's own protobuf classes and record writer."""
    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(tmp_path / "tf2"))
    for step, value in enumerate([0.75, 0.5]):
        tensor = tensor_pb2.TensorProto(dtype=1, float_val=[value])
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="epoch_loss", tensor=tensor)])
        writer.add_event(event_pb2.Event(step=step, wall_time=1.0, summary=summary))
    double = tensor_pb2.TensorProto(dtype=2, tensor_content=np.float64(0.25).tobytes())
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="epoch_loss", tensor=double)])
    writer.add_event(event_pb2.Event(step=2, wall_time=1.0, summary=summary))
    writer.close()
    history = lw.History.from_tensorboard(tmp_path / "tf2", tags={"epoch_loss": "train"})
    assert history.train.tolist() == [0.75, 0.5, 0.25]


def test_tensorboard_arguments_are_checked_before_anything_is_created(tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(NotADirectoryError, match=r"'tensorboard' .*a-file' is a file"):
        lw.LiveLossMonitor(display="none", tensorboard=tmp_path / "a-file", log_file=tmp_path / "run.jsonl")
    with pytest.raises(TypeError, match="'tensorboard' must be a file path"):
        lw.LiveLossMonitor(display="none", tensorboard=3)
    assert not (tmp_path / "run.jsonl").exists()
    with pytest.raises(NotADirectoryError, match="not a folder of TensorBoard event files"):
        lw.History.from_tensorboard(tmp_path / "a-file")
    with pytest.raises(FileNotFoundError, match="no TensorBoard event files in"):
        lw.History.from_tensorboard(tmp_path)
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / f"{events.PREFIX}1.h.1.1").write_bytes(b"not an event file at all")
    with pytest.raises(ValueError, match="not a TensorBoard event file"):
        lw.History.from_tensorboard(tmp_path / "x")


def test_a_torn_last_record_ends_the_file_quietly(tmp_path):
    history = lw.History()
    for epoch in range(3):
        history.log_epoch(epoch, {"val": 1.0 - epoch / 4})
    path = history.to_tensorboard(tmp_path)
    path.write_bytes(path.read_bytes()[:-7])  # the writer died in the middle of its last record
    assert lw.History.from_tensorboard(tmp_path).val.tolist() == [1.0, 0.75]


# -- failures stay where they happen ----------------------------------------------------------


def test_an_unwritable_tensorboard_folder_leaves_training_the_chart_and_the_log_whole(tmp_path):
    (tmp_path / "a-file").write_text("x")
    recording = Recording()
    with pytest.warns(UserWarning, match=r"losswidget: TensorBoard's event file .*could not be written"):
        monitor = lw.LiveLossMonitor(
            display="none",
            patience=None,
            log_file=tmp_path / "run.jsonl",
            tensorboard=tmp_path / "a-file" / "tb",  # its parent is a file: no folder can be made
            outputs=[recording],
        )
    _train(monitor, epochs=3)
    assert len(monitor.history) == 3
    assert lw.History.load(tmp_path / "run.jsonl").val.tolist() == monitor.history.val.tolist()
    assert [call[1] for call in recording.calls if call[0] == "epoch"] == [0, 1, 2]
    assert any("TensorBoard" in line and "turned off" in line for line in monitor.status_lines)


def test_explain_and_the_details_say_an_output_turned_off_as_the_status_does(tmp_path):
    """One list of notes, asked by the status and by explain() (the widget's details): explain()
    once missed the output turned off that the status said."""
    (tmp_path / "a-file").write_text("x")
    with pytest.warns(UserWarning, match=r"losswidget: TensorBoard's event file .*could not be written"):
        monitor = lw.LiveLossMonitor(display="none", patience=None, tensorboard=tmp_path / "a-file" / "tb")
    _train(monitor, epochs=2)
    (notice,) = [line for line in monitor.status_lines if "TensorBoard" in line and "turned off" in line]
    assert notice in monitor.explain().splitlines()
    assert notice in monitor._build_frame().details


def test_a_users_output_that_raises_is_turned_off_and_named_while_the_others_go_on(tmp_path):
    failing, recording = Recording(fail_at=1), Recording()
    monitor = lw.LiveLossMonitor(
        display="none", patience=None, tensorboard=tmp_path / "tb", outputs=[failing, recording]
    )
    with pytest.warns(UserWarning, match=r"losswidget: The output recording failed \(ConnectionError: the dash"):
        _train(monitor, epochs=3, steps=2)
    assert ("close",) == failing.calls[-1]  # closed once it failed, and given nothing after
    assert [call[1] for call in failing.calls if call[0] == "epoch"] == [0]
    assert [call[1] for call in recording.calls if call[0] == "epoch"] == [0, 1, 2]
    assert len(_scalars(_board(tmp_path / "tb"), "loss/val")) == 3
    assert any("The output recording failed" in line for line in monitor.status_lines)


def test_the_protocol_gets_every_record_in_order_with_step_numbers(tmp_path):
    recording = Recording()
    monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[recording], name="base")
    for _epoch in monitor.epochs(2):
        monitor.log_step(train=1.0)
        monitor.log_step(train=0.5)
        monitor.log(train=0.75, val=1.0)
    monitor.new_run("next")
    monitor.log(val=0.5)
    monitor._recorder.outputs.wait()  # a log() outside a loop: on the output's own thread, soon after
    assert recording.calls == [
        ("open", "base", 1),
        ("steps", [1.0, 0.5], [0, 0], 0),
        ("epoch", 0, {"train": 0.75, "val": 1.0}, 2),
        ("steps", [1.0, 0.5], [1, 1], 2),
        ("epoch", 1, {"train": 0.75, "val": 1.0}, 4),
        ("end", None),
        ("close",),
        ("open", "next", 2),
        ("epoch", 0, {"val": 0.5}, 0),
    ]


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        (lw.Output(), "'outputs' must be a list of losswidget outputs"),
        ("tensorboard", "'outputs' must be a list of losswidget outputs"),
        ([lw.Output(), None], r"'outputs'\[1\] must be a losswidget output .*got NoneType None"),
        ([print], r"'outputs'\[0\] must be a losswidget output"),
    ],
)
def test_outputs_that_are_not_outputs_are_refused_by_name_and_nothing_is_created(tmp_path, outputs, message):
    with pytest.raises(TypeError, match=message):
        lw.LiveLossMonitor(display="none", log_file=tmp_path / "run.jsonl", outputs=outputs)
    assert not (tmp_path / "run.jsonl").exists()


def test_a_tracker_needs_a_run_with_log():
    with pytest.raises(TypeError, match=r"'run' must be a tracker run with a log\(dict, step=\) method.*got int 3"):
        lw.TrackerLog(3)
    with pytest.raises(TypeError, match="'steps' must be True or False"):
        lw.TrackerLog(_FakeRun(), steps="no")


# -- trackers, through their own packages (each in a process of its own: their stores and threads) --


class _FakeRun:
    def __init__(self, fail=False):
        self.rows, self.fail = [], fail

    def log(self, values, step=None):
        if self.fail:
            raise ConnectionError("offline")
        self.rows.append((step, dict(values)))


def test_tracker_steps_never_go_back_and_a_later_run_is_prefixed():
    run = _FakeRun()
    monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[lw.TrackerLog(run)])
    monitor.log(train=0.5, val=0.75)  # no steps yet: at the epoch
    for _ in monitor.epochs(1):
        monitor.log_step(train=1.0)
        monitor.log_step(train=0.5)
        monitor.log(val=0.625)
    monitor.new_run("wider")
    monitor.log(val=0.5)
    monitor._recorder.outputs.wait()
    steps = [step for step, _ in run.rows]
    assert steps == sorted(steps)
    assert run.rows[0] == (0, {"loss/train": 0.5, "loss/val": 0.75, "epoch": 0})
    # the steps after epoch 0's record (never on its step: they carry another epoch), then at the
    # epoch's last step its validation loss, then its train loss (the mean of its steps) as it closes
    assert run.rows[1:3] == [(1, {"loss/train_step": 1.0, "epoch": 1}), (2, {"loss/train_step": 0.5, "epoch": 1})]
    assert run.rows[-3:-1] == [(2, {"loss/val": 0.625, "epoch": 1}), (2, {"loss/train": 0.75, "epoch": 1})]
    assert run.rows[-1] == (3, {"wider/loss/val": 0.5, "wider/epoch": 0})


def test_a_tracker_that_raises_leaves_the_run_whole():
    monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[lw.TrackerLog(_FakeRun(fail=True))])
    with pytest.warns(UserWarning, match=r"losswidget: The output tracker \(test_outputs\) failed \(ConnectionError"):
        _train(monitor, epochs=3)
    assert len(monitor.history) == 3 and monitor.history.n_steps == 15


def _run_script(parts, tmp_path, **env):
    source = "\n".join(textwrap.dedent(part) for part in parts)
    completed = subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, **env},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads((tmp_path / "out.json").read_text())


TRAIN = """
    import json, losswidget as lw
    monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[lw.TrackerLog(run)])
    for epoch in monitor.epochs(3):
        for step in range(4):
            monitor.log_step(train=1.0 - 0.0625 * (epoch * 4 + step))
        monitor.log(train=0.5 - epoch / 16, val=0.75 - epoch / 32, acc=epoch / 8)
"""


def test_trackio_local_store_holds_the_same_series(tmp_path):
    pytest.importorskip("trackio")
    rows = _run_script(
        (
            """
        import trackio
        run = trackio.init(project="losswidget-test", name="first", embed=False, auto_log_cpu=False)
        """,
            TRAIN,
            """
        run.finish()
        from trackio.sqlite_storage import SQLiteStorage
        open("out.json", "w").write(json.dumps(SQLiteStorage.get_logs("losswidget-test", "first")))
        """,
        ),
        tmp_path,
        TRACKIO_DIR=str(tmp_path / "trackio"),
    )
    epochs = [row for row in rows if "loss/val" in row]
    assert [(row["step"], row["epoch"], row["loss/val"]) for row in epochs] == [
        (3, 0, 0.75),
        (7, 1, 0.75 - 1 / 32),
        (11, 2, 0.75 - 2 / 32),
    ]
    assert [row["acc"] for row in epochs] == [0.0, 0.125, 0.25]
    steps = [(row["step"], row["loss/train_step"]) for row in rows if "loss/train_step" in row]
    assert steps == [(i, 1.0 - 0.0625 * i) for i in range(12)]


def test_wandb_offline_runs_the_same_code_path(tmp_path):
    pytest.importorskip("wandb")
    summary = _run_script(
        (
            """
        import wandb
        run = wandb.init(project="losswidget-test", mode="offline", dir=".")
        """,
            TRAIN,
            """
        summary = dict(run.summary)  # the rows committed so far: W&B commits a step when the next begins
        run.finish()
        open("out.json", "w").write(json.dumps({k: v for k, v in summary.items() if not k.startswith("_")}))
        """,
        ),
        tmp_path,
        WANDB_SILENT="true",
        WANDB_MODE="offline",
    )
    # Committed so far: epoch 1's values at its last step (7), and the step losses up to step 10.
    assert summary == {
        "loss/train": 0.5 - 1 / 16,
        "loss/val": 0.75 - 1 / 32,
        "acc": 0.125,
        "epoch": 2,
        "loss/train_step": 1.0 - 0.0625 * 10,
    }


def test_every_record_of_a_batch_carries_the_crc_of_its_own_bytes():
    """The batch CRCs (the constant part once, one lookup per varying byte) against the plain CRC-32C of
    each record, across the varint widths of the step (1 to 4 bytes here) and random values."""
    import struct

    rng = np.random.default_rng(0)
    steps = np.concatenate([np.arange(0, 130), np.arange(16_380, 16_390), np.arange(2**21 - 2, 2**21 + 2)])
    data = events.step_events("loss/train_step", steps, rng.normal(size=steps.size), {"epoch": steps // 7})
    at, seen = 0, 0
    while at < len(data):
        (length,) = struct.unpack_from("<Q", data, at)
        record = data[at + 12 : at + 12 + length]
        (stored,) = struct.unpack_from("<I", data, at + 12 + length)
        assert stored == masked(crc32c(record)), f"record {seen}"
        at, seen = at + 12 + length + 4, seen + 1
    assert seen == steps.size
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
