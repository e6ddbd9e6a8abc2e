"""Steering a script's run from a watcher: Pause, Resume and the learning rate, through the control
file, applied by the training process (real subprocesses, real files)."""

from __future__ import annotations

import time

import pytest
from test_watch import wait_until, watched_training

import losswidget as lw
from losswidget.files.control import control_path, parse_request, read_request

torch = pytest.importorskip("torch")

TRAIN_SCRIPT = """
import sys, time, torch, losswidget as lw
torch.manual_seed(0)
model = torch.nn.Linear(3, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(64, 3), torch.randn(64, 1)
monitor = lw.LiveLossMonitor(patience=None, model=model, optimizer=optimizer, log_file=sys.argv[1], display="none")
for epoch in monitor.epochs(10_000):
    for step in range(4):
        loss = torch.nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad(); loss.backward(); optimizer.step()
        monitor.log_step(train=loss)
        time.sleep(0.01)
    monitor.log(val=1.0 / (epoch + 1))
print("ENDED", epoch, monitor.stop_code, optimizer.param_groups[0]["lr"], flush=True)
"""


def events(watcher, kind: str) -> list:
    watcher.poll()
    return [event for event in watcher.history.events if event.kind == kind]


def test_pause_resume_and_the_learning_rate_reach_a_script_s_run(tmp_path):
    with watched_training(tmp_path, TRAIN_SCRIPT) as (process, _, _, watcher):
        wait_until(lambda: len(watcher.history) >= 3, what="3 epochs")
        assert watcher._controls.steering.rate_control()[0]  # the run logs its rate: the buttons show
        watcher.change_lr(0.5)
        watcher.change_lr(0.5)  # two clicks, two changes: never merged
        wait_until(lambda: len(events(watcher, "lr")) == 2, what="two learning-rate events")
        first, second = events(watcher, "lr")
        assert (first.old, first.new, first.source) == (pytest.approx(0.1), pytest.approx(0.05), "watcher")
        assert (second.old, second.new) == (pytest.approx(0.05), pytest.approx(0.025))
        assert "Asked job.jsonl to multiply its learning rate by 0.5." in watcher.status_lines

        watcher.pause()
        wait_until(lambda: events(watcher, "pause"), what="the pause event")
        held = len(watcher.history)
        time.sleep(1.0)  # 25 steps' time: a run that did not hold would log epochs
        watcher.poll()
        assert len(watcher.history) == held and not events(watcher, "resume")
        watcher.resume()
        wait_until(lambda: events(watcher, "resume") and len(watcher.history) > held + 2, what="training again")
        assert events(watcher, "pause")[0].source == "watcher"

        watcher.stop()
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "StopReason.USER 0.025" in out, out  # the optimizer's own rate at the end
    watcher.poll()
    assert watcher.history["lr"][-1] == pytest.approx(0.025)
    # Once the run has ended, the status no longer says what was asked of it (how it ended says it).
    assert not any(line.startswith("Asked job.jsonl") for line in watcher.status_lines), watcher.status_lines


def test_a_watcher_s_requests_are_read_strictly(tmp_path):
    path = control_path(tmp_path / "job.jsonl")
    watcher = lw.watch(tmp_path / "job.jsonl", display="none")
    try:
        with pytest.raises(ValueError, match="'factor' must be <= 1000"):
            watcher.change_lr(1e6)
        with pytest.raises(TypeError, match="'factor' must be a number"):
            watcher.change_lr("half")
        assert not path.exists()  # refused: nothing written (and no run to write to yet)
    finally:
        watcher.close()
    odd = {
        "version": 1,
        "pause": "yes",
        "rates": [
            {"n": 2, "factor": 2.0},
            {"n": True, "factor": 0.5},
            {"n": 3, "factor": 1e9},
            "x",
            {"n": 1, "factor": 0.5},
        ],
    }
    request = parse_request(odd)
    assert request.pause is None  # not a bool: no request
    assert request.rates == ((1, 0.5), (2, 2.0))  # in order; a bool n, an absurd factor, junk ignored
    assert read_request(path) == {}


def test_a_watcher_s_buttons_write_requests_and_offer_no_branch(tmp_path, quiet_comms):
    pytest.importorskip("bqplot")
    log = tmp_path / "job.jsonl"
    monitor = lw.LiveLossMonitor(patience=None, log_file=log, display="none")
    for epoch in range(3):
        monitor.log(train=1.0, val=1.0 / (epoch + 1), lr=0.1)
    watcher = lw.watch(log, interval=0.05, display="widget")
    try:
        watcher._display.ensure_view(watcher._controls)
        buttons = watcher._display.view.steer_buttons
        assert buttons.back_button not in buttons.widgets  # a branch needs the training's own process
        buttons.render(True)
        assert buttons.rate_buttons[0].layout.display is None  # the run logs a learning rate: shown
        buttons.pause_button.click()  # as a kernel subshell delivers it: a request, written
        assert read_request(control_path(log))["pause"] is True and buttons.pause_button.description == "Resume"
        buttons.rate_buttons[0].click()
        assert read_request(control_path(log))["rates"] == [{"n": 1, "factor": 0.5}]
        assert parse_request(read_request(control_path(log))).rates == ((1, 0.5),)
    finally:
        watcher.close()
