"""Nothing lost, second round: threads, processes and a replaced log. Every case is bounded by a
timeout: none may hang."""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import threading
import warnings

import numpy as np
import pytest

import losswidget as lw
from losswidget.files.follower import FileFollower

pytestmark = pytest.mark.timeout(120)


def test_log_and_log_step_from_several_threads_lose_nothing_and_the_file_loads(tmp_path):
    torch = pytest.importorskip("torch")
    log = tmp_path / "run.jsonl"
    monitor = lw.LiveLossMonitor(patience=None, log_file=log, display="none", frame_rate=100)
    steps, errors = 3000, []

    def worker(k: int) -> None:  # a callback or a second loop: floats and tensors, and an epoch metric
        try:
            for i in range(steps):
                monitor.log_step(torch.tensor(0.5) if i % 2 else 0.5)
                if i == steps // 2:
                    monitor.log(**{f"from_thread_{k}": float(i)})  # once per epoch each
        except Exception as error:  # pragma: no cover - what the test exists to catch
            errors.append(error)

    for _ in monitor.epochs(3):
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for _ in range(steps):
            monitor.log_step(0.25)
        for thread in threads:
            thread.join(60)
        monitor.log(train=1.0, val=1.0)
    assert errors == []
    expected = 3 * 5 * steps
    assert monitor.history.step_train.size == expected
    assert np.isclose(monitor.history.step_train.sum(), 3 * steps * (0.25 + 4 * 0.5))
    loaded = lw.History.load(log)
    assert loaded.step_train.size == expected and len(loaded) == 3


def _start_on(path: str, barrier, results) -> None:
    barrier.wait(30)
    try:
        monitor = lw.LiveLossMonitor(log_file=path, display="none")
        monitor.log(train=1.0)
        results.put(("wrote", os.getpid()))
        barrier.wait(30)  # keep the monitor alive until every process has tried
    except FileExistsError as error:
        results.put(("refused", str(error)))
        barrier.wait(30)


def test_two_processes_starting_on_one_new_log_file_one_writes_the_other_is_told_who(tmp_path):
    context = multiprocessing.get_context("spawn")
    path = str(tmp_path / "run.jsonl")
    barrier, results = context.Barrier(3), context.Queue()
    processes = [context.Process(target=_start_on, args=(path, barrier, results)) for _ in range(3)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=90) for _ in processes]
    for process in processes:
        process.join(30)
    writers = [value for kind, value in outcomes if kind == "wrote"]
    refusals = [value for kind, value in outcomes if kind == "refused"]
    assert len(writers) == 1 and len(refusals) == 2, outcomes
    for refusal in refusals:  # the other owner is named while it lives, or as the one who wrote it
        assert f"process {writers[0]} on host" in refusal and "run.jsonl" in refusal
    assert len(lw.History.load(path)) == 1


def test_a_second_monitor_on_a_live_log_is_refused_and_a_failed_start_leaves_no_file(tmp_path):
    log = tmp_path / "run.jsonl"
    first = lw.LiveLossMonitor(log_file=log, display="none")
    first.log(train=1.0)
    with pytest.raises(FileExistsError, match=rf"is being written by another monitor \(process {os.getpid()} on host"):
        lw.LiveLossMonitor(log_file=log, display="none")
    del first
    gc.collect()
    with pytest.raises(FileExistsError, match=r"already holds a history \(written by process"):
        lw.LiveLossMonitor(log_file=log, display="none")
    retry = tmp_path / "retry.jsonl"
    with pytest.raises(ValueError, match=r"'frame_rate' must be >= 0\.01"):
        lw.LiveLossMonitor(log_file=retry, display="none", frame_rate=-1)
    assert not retry.exists()  # nothing left that would block the retry
    lw.LiveLossMonitor(log_file=retry, display="none").log(train=1.0)
    with pytest.raises(TypeError, match=r"'log_file' must be a file path .*: 123 \(int\)"):
        lw.LiveLossMonitor(log_file=123, display="none")


class _LoggingDataset:
    """A data set whose items log: what a student writes who logs inside a DataLoader worker."""

    def __init__(self, monitor) -> None:
        self.monitor = monitor

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int):
        self.monitor.log(train=float(index))
        return index


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forked workers are a POSIX matter")
def test_logging_from_a_forked_dataloader_worker_is_refused_by_name(tmp_path):
    torch = pytest.importorskip("torch")
    log = tmp_path / "run.jsonl"
    monitor = lw.LiveLossMonitor(log_file=log, display="none")
    loader = torch.utils.data.DataLoader(
        _LoggingDataset(monitor), num_workers=1, multiprocessing_context=multiprocessing.get_context("fork")
    )
    with pytest.raises(RuntimeError, match=r"a forked copy of it \(a DataLoader worker"):
        list(loader)
    monitor.log(train=1.0, val=1.0)  # the parent's monitor and file are as they were
    assert len(monitor.history) == 1 and len(lw.History.load(log)) == 1


def test_zipped_epochs_loops_of_one_monitor_are_refused():
    monitor = lw.LiveLossMonitor(display="none")
    with pytest.raises(RuntimeError, match=r"two loops of one monitor cannot run together \(zip"):
        list(zip(monitor.epochs(3), monitor.epochs(3)))


def _run_file(epochs: int, name: str) -> bytes:
    header = {"format": "losswidget-history", "version": 1, "name": name, "run": name}
    lines = [json.dumps(header)]
    lines += [json.dumps({"kind": "epoch", "epoch": e, "values": {"train": float(e)}}) for e in range(epochs)]
    return ("\n".join(lines) + "\n").encode()


def test_a_log_rewritten_in_place_by_a_new_run_is_followed_as_the_new_run_never_mixed(tmp_path):
    path = tmp_path / "run.jsonl"
    path.write_bytes(_run_file(3, "first"))
    follower = FileFollower(path)
    follower.poll()
    assert list(follower.history.epochs) == [0, 1, 2]
    with open(path, "r+b") as stream:  # the same inode, and larger than what was read: only the header tells
        stream.truncate(0)
        stream.write(_run_file(8, "second"))
    assert os.stat(path).st_size > follower._offset
    follower.poll()
    assert follower.history.name == "second" and list(follower.history.epochs) == list(range(8))
    assert "a new run at this path" in follower.problem


def test_a_log_deleted_or_turned_into_a_directory_mid_run_is_said_and_nothing_is_lost(tmp_path):
    for change in ("delete", "directory"):
        log = tmp_path / f"{change}.jsonl"
        monitor = lw.LiveLossMonitor(patience=None, log_file=log, display="none")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for epoch in monitor.epochs(5):
                monitor.log(train=1.0 / (epoch + 1), val=1.0)
                if epoch == 1:
                    os.remove(log)
                    if change == "directory":
                        os.mkdir(log)
        said = [str(w.message) for w in caught if "losswidget:" in str(w.message)]
        expected = "deleted" if change == "delete" else "now names a directory"
        assert len(said) == 1 and expected in said[0] and "complete in memory" in said[0]
        assert len(monitor.history) == 5  # every epoch kept in memory
        assert any(expected in line for line in monitor.status_lines)  # and the status says it


def test_a_watcher_does_not_block_on_a_log_path_that_became_a_fifo(tmp_path):
    path = tmp_path / "run.jsonl"
    path.write_bytes(_run_file(2, "first"))
    follower = FileFollower(path)
    follower.poll()
    os.remove(path)
    os.mkfifo(path)
    done = threading.Event()
    threading.Thread(target=lambda: (follower.poll(), done.set()), daemon=True).start()
    assert done.wait(30), "the follower is waiting on the FIFO"  # a bound on a hang, not a speed
    assert "does not name a regular file" in follower.problem
