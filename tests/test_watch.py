"""Watching a run from another process: following its log, sending it a stop request."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import losswidget as lw
from losswidget.files.control import control_path, read_request
from losswidget.files.follower import FileFollower

torch = pytest.importorskip("torch")

TRAIN_SCRIPT = """
import sys, time, torch, losswidget as lw
log, best = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
model = torch.nn.Linear(3, 1)
monitor = lw.LiveLossMonitor(patience=None, model=model, log_file=log, best_weights_file=best, display="none")
for epoch in monitor.epochs(10_000):
    for step in range(5):
        with torch.no_grad():
            model.weight += 0.01
        monitor.log_step(train=1.0 / (epoch + 1))
        time.sleep(0.01)
    monitor.log(train=1.0 / (epoch + 1), val=0.2 + 0.02 * abs(epoch - 6))
print("ENDED", epoch, monitor.stop_code, monitor.stopped_reason, flush=True)
"""


def start_training(tmp_path: Path, script_text: str = TRAIN_SCRIPT) -> tuple[subprocess.Popen, Path, Path]:
    """A training script of its own process, logging to ``job.jsonl`` (argv: the log, a best-weights file)."""
    log, best = tmp_path / "job.jsonl", tmp_path / "best.pt"
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(script_text))
    process = subprocess.Popen(
        [sys.executable, str(script), str(log), str(best)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return process, log, best


@contextlib.contextmanager
def watched_training(tmp_path: Path, script_text: str = TRAIN_SCRIPT):
    """(process, log, best-weights file, watcher): the script started and watched; the watcher closed
    and a process still running killed at the end, whatever the test did."""
    process, log, best = start_training(tmp_path, script_text)
    watcher = lw.watch(log, interval=0.1, display="none")
    try:
        yield process, log, best, watcher
    finally:
        watcher.close()
        if process.poll() is None:
            process.kill()


def wait_until(condition, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out{' waiting for ' + what if what else ''}")
        time.sleep(0.05)


def test_watch_a_training_process_and_stop_it(tmp_path):
    with watched_training(tmp_path) as (process, log, best, watcher):
        wait_until(lambda: len(watcher.history) >= 10)
        assert watcher.history.n_steps >= 10
        watcher.stop("the teacher pressed Stop")
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "StopReason.USER the teacher pressed Stop" in out
    watcher.poll()
    ended = watcher.followers[0].ended
    assert ended is not None and ended["stop_code"] == "user"
    assert "the run ended" in watcher.status_lines[0]
    state = torch.load(best, weights_only=True)  # best weights saved, for epoch 6
    assert set(state) == {"weight", "bias"}
    assert watcher.best_epoch == 6
    # a stop request for a run that already ended changes nothing and says so
    control_path(log).unlink(missing_ok=True)
    watcher.stop()
    assert not control_path(log).exists()
    assert any("had already ended" in line for line in watcher.status_lines)


def test_two_watchers_and_a_watcher_started_before_the_file(tmp_path):
    log = tmp_path / "later.jsonl"
    early = lw.watch(log, interval=0.05, display="none")
    assert "Waiting for" in early.status_lines[0]
    monitor = lw.LiveLossMonitor(patience=None, log_file=log, display="none")
    for epoch in range(3):
        monitor.log(train=1.0, val=1.0 / (epoch + 1))
    late = lw.watch([log], interval=0.05, display="none")
    try:
        wait_until(lambda: len(early.history) == 3 and len(late.history) == 3, timeout=10)
        late.stop()
        assert read_request(control_path(log))["stop"]["reason"] == "a watcher's Stop button was pressed"
        late.settings.patience = 9
        assert read_request(control_path(log))["patience"] == 9  # both requests kept
    finally:
        early.close()
        late.close()


def test_follower_handles_torn_lines_truncation_and_new_versions(tmp_path):
    path = tmp_path / "run.jsonl"
    follower = FileFollower(path)
    assert follower.poll() and follower.problem == "waiting"
    header = json.dumps({"format": "losswidget-history", "version": 1, "name": "r"}) + "\n"
    record = json.dumps({"kind": "epoch", "epoch": 0, "values": {"train": 1.0}}) + "\n"
    path.write_text(header + record[:10])  # the writer is mid-line
    follower.poll()
    assert len(follower.history) == 0 and follower.problem is None
    with open(path, "a") as stream:
        stream.write(record[10:])
    follower.poll()
    assert len(follower.history) == 1
    path.write_text(header)  # truncated (rotated): read again from the start
    follower.poll()
    assert len(follower.history) == 0 and "replaced or rewritten" in follower.problem
    newer = tmp_path / "newer.jsonl"
    newer.write_text(json.dumps({"format": "losswidget-history", "version": 99}) + "\n")
    other = FileFollower(newer)
    other.poll()
    assert "newer losswidget" in other.problem


@pytest.mark.parametrize(
    ("paths", "error", "message"),
    [
        ([], ValueError, "'paths' is empty"),
        ("run.csv", ValueError, r"follows .jsonl logs"),
        (42, TypeError, "'paths' must be a path or a list of paths"),
    ],
)
def test_bad_paths(paths, error, message):
    with pytest.raises(error, match=message):
        lw.watch(paths, display="none")
