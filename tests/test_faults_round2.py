"""Nothing lost, second round: special files, a model on the meta device, odd step epochs and an
interrupted wait(). Every case is bounded by a timeout: none may hang."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

import losswidget as lw

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "run.jsonl"
    os.mkfifo(path)
    return path


def test_a_fifo_as_log_file_is_refused_at_once(fifo):
    refused: list[BaseException] = []

    def construct() -> None:
        try:
            lw.LiveLossMonitor(log_file=fifo, display="none")
        except BaseException as error:
            refused.append(error)

    worker = threading.Thread(target=construct, daemon=True)
    worker.start()
    worker.join(30)  # a bound on a hang, not a speed: opening the FIFO would wait for a reader forever
    assert not worker.is_alive(), "the constructor is waiting on the FIFO"
    with pytest.raises(ValueError, match=r"'log_file' .* is a FIFO, not a regular file"):
        raise refused[0]


def test_a_fifo_where_the_control_file_goes_never_blocks_the_loop(tmp_path):
    log = tmp_path / "run.jsonl"
    monitor = lw.LiveLossMonitor(patience=None, log_file=log, display="none")
    os.mkfifo(tmp_path / "run.control.json")  # a watcher's request file replaced by a FIFO
    for _ in monitor.epochs(5):
        for _ in range(100):
            monitor.log_step(train=1.0)
        monitor.log(train=1.0, val=1.0)
    assert len(monitor.history) == 5 and len(lw.History.load(log)) == 5


@pytest.mark.parametrize("where", ["log_file", "best_weights_file"])
def test_a_directory_or_a_symlink_loop_is_named_for_what_it_is(tmp_path, where):
    folder = tmp_path / "runs.jsonl"
    folder.mkdir()
    with pytest.raises((IsADirectoryError, ValueError), match=f"'{where}' .* is a (directory|folder)"):
        lw.LiveLossMonitor(display="none", **{where: folder})
    loop = tmp_path / "loop.jsonl"
    os.symlink(loop, loop)
    with pytest.raises(OSError, match=f"'{where}' .* cannot be used: Too many levels of symbolic links"):
        lw.LiveLossMonitor(display="none", **{where: loop})


def test_loading_a_directory_or_a_fifo_says_what_it_is(tmp_path, fifo):
    (tmp_path / "folder.jsonl").mkdir()
    with pytest.raises(IsADirectoryError, match="is a directory"):
        lw.History.load(tmp_path / "folder.jsonl")
    with pytest.raises(ValueError, match="is a FIFO"):
        lw.History.load(fifo)


def test_an_epoch_value_on_the_meta_device_is_refused_by_name_and_nothing_is_lost():
    torch = pytest.importorskip("torch")
    meta = torch.ones((), device="meta", requires_grad=True) * 2.0
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for _ in monitor.epochs(1):
        monitor.log_step(train=torch.tensor(0.5))
        with pytest.raises(ValueError, match="'val' is a tensor on the 'meta' device: it has a shape but no value"):
            monitor.log(train=1.0, val=meta)
        monitor.log(train=1.0, val=0.5)
    assert monitor.history.n_steps == 1 and list(monitor.history.val) == [0.5]


def test_step_epochs_must_be_whole_numbers_and_fit_the_steps():
    history = lw.History()
    with pytest.raises(TypeError, match="'epoch' must be whole numbers"):
        history.log_steps([1.0, 2.0], [0.5, 1.0])
    with pytest.raises(ValueError, match="'epoch' must be one number or one per step: 3 epochs for 2 steps"):
        history.log_steps([1.0, 2.0], [0, 0, 1])
    with pytest.raises(TypeError, match="'train' must be numbers"):
        history.log_steps(["a", "b"], 0)
    assert history.n_steps == 0  # a rejected call leaves the history as it was
    history.log_steps([1.0, 2.0], np.array([0.0, 1.0]))  # whole numbers as floats are fine
    assert list(history.step_epoch) == [0, 1]


def test_accuracy_refuses_outputs_without_a_score_per_class():
    torch = pytest.importorskip("torch")
    with pytest.raises(
        ValueError, match=r"one score per class, of shape \(batch, classes\): got outputs of shape \(4,\)"
    ):
        lw.accuracy(torch.zeros(4), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="one class index per example"):
        lw.accuracy(torch.zeros(4, 3), torch.zeros(4, 3))
    assert float(lw.accuracy(torch.eye(3), torch.arange(3))) == 1.0


def test_ctrl_c_during_wait_stops_the_background_run_and_wait_stays_truthful():
    monitor = lw.LiveLossMonitor(patience=None, display="none")

    def train():
        for _ in monitor.epochs(1000):
            time.sleep(0.01)
            monitor.log(train=1.0, val=1.0)
        return "ended"

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # whatever the suite inherited
    try:
        monitor.start(train)
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        assert monitor.wait(timeout=30) == "ended"  # the interrupt asked the run to stop; wait() saw it end
    finally:
        signal.signal(signal.SIGINT, previous)
    assert monitor.stop_code is lw.StopReason.INTERRUPTED and not monitor.running
    assert 5 < len(monitor.history) < 1000
    assert monitor.wait(timeout=1) == "ended"  # and a later wait() says the same
