"""LiveLossMonitor's loop semantics, without a frontend (display="none" or "text")."""

import math
import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest

import losswidget as lw
from losswidget.core.stopping import StopReason

torch = pytest.importorskip("torch")


def val_curve(epoch: int, turn: int = 10) -> float:
    """Falls until ``turn``, then rises: the classroom overfitting shape, minimum at ``turn``."""
    return 0.1 + 0.05 * abs(epoch - turn)


class Weights:
    """A tiny real model whose weights change every epoch, and what they were."""

    def __init__(self):
        torch.manual_seed(0)
        self.model = torch.nn.Linear(2, 1)
        self.seen = {}

    def step(self, epoch):
        with torch.no_grad():
            self.model.weight += 0.1
        self.seen[epoch] = self.model.weight.detach().clone()


# -- loop semantics ---------------------------------------------------------------------


def test_log_inside_epochs_merges_and_numbering_continues():
    monitor = lw.LiveLossMonitor(display="none")
    for epoch in monitor.epochs(3):
        monitor.log(train=1.0 + epoch)
        monitor.log(val=2.0 + epoch, acc=0.5)
    assert monitor.history.epochs.tolist() == [0, 1, 2]
    assert monitor.history.val.tolist() == [2.0, 3.0, 4.0]
    assert list(monitor.epochs(2)) == [3, 4]


def test_log_outside_epochs_is_one_epoch_per_call():
    monitor = lw.LiveLossMonitor(display="none")
    monitor.log(train=1.0)
    monitor.log(train=0.9, val=1.0)
    assert monitor.history.epochs.tolist() == [0, 1]
    assert math.isnan(monitor.history.val[0])


@pytest.mark.parametrize(
    ("patience", "turn", "expected_last"),
    [(3, 10, 13), (0, 10, 11), (5, 4, 9), (30, 10, 39)],  # 30: never stops within 40 epochs
)
def test_early_stopping_ends_the_loop(patience, turn, expected_last):
    monitor = lw.LiveLossMonitor(patience=patience, display="none")
    seen = []
    for epoch in monitor.epochs(40):
        seen.append(epoch)
        assert not monitor.should_stop
        decided = monitor.log(train=0.1, val=val_curve(epoch, turn))
        assert decided == monitor.should_stop  # decided right after this log()
    assert seen[-1] == expected_last
    if expected_last < 39:
        assert monitor.stop_code is StopReason.PATIENCE
        assert f"(patience {patience})" in monitor.stopped_reason
        assert monitor.best_epoch == turn
    else:
        assert not monitor.should_stop


def test_patience_none_turns_early_stopping_off_but_what_if_still_answers():
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for epoch in monitor.epochs(20):
        monitor.log(val=val_curve(epoch))
    assert len(monitor.history) == 20 and not monitor.should_stop
    assert monitor.best_epoch == 10
    assert "with patience 5 it would have stopped at epoch 15" in monitor.explain()
    monitor.settings.from_control("patience", 3)  # what the slider does
    assert "with patience 3 it would have stopped at epoch 13" in monitor.explain()


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_validation_stops_even_without_early_stopping(bad):
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for epoch in monitor.epochs(10):
        monitor.log(val=bad if epoch == 4 else 1.0 - epoch / 10)
    assert monitor.history.epochs[-1] == 4
    assert monitor.stop_code is StopReason.NON_FINITE
    assert "not a finite number" in monitor.stopped_reason
    assert monitor.history.val[:4].tolist() == [1.0, 0.9, 0.8, 0.7]  # kept


def test_non_finite_ignored_with_check_finite_false():
    monitor = lw.LiveLossMonitor(patience=None, check_finite=False, display="none")
    for _epoch in monitor.epochs(5):
        monitor.log(train=math.nan, val=math.nan)
    assert len(monitor.history) == 5 and not monitor.should_stop


def test_patience_change_mid_run_changes_the_decision():
    monitor = lw.LiveLossMonitor(patience=20, display="none")
    for epoch in monitor.epochs(40):
        monitor.log(val=val_curve(epoch))
        if epoch == 12:  # 2 epochs past the minimum
            monitor.patience = 2
    assert monitor.history.epochs[-1] == 13
    assert "(patience 2)" in monitor.stopped_reason


def test_stop_from_another_thread_restores_best_weights():
    weights = Weights()
    monitor = lw.LiveLossMonitor(patience=None, model=weights.model, display="none")
    for epoch in monitor.epochs(100):
        weights.step(epoch)
        monitor.log(val=val_curve(epoch))
        if epoch == 15:
            thread = threading.Thread(target=monitor.stop, args=("teacher said so",))
            thread.start()
            thread.join()
    assert monitor.history.epochs[-1] == 15
    assert monitor.stop_code is StopReason.USER and monitor.stopped_reason == "teacher said so"
    assert torch.equal(weights.model.weight, weights.seen[10])
    assert any("Best weights (epoch 10) restored" in line for line in monitor.status_lines)


def test_finishing_keeps_final_weights_and_restore_best_loads_them():
    weights = Weights()
    monitor = lw.LiveLossMonitor(patience=None, model=weights.model, display="none")
    for epoch in monitor.epochs(15):
        weights.step(epoch)
        monitor.log(val=val_curve(epoch))
    assert torch.equal(weights.model.weight, weights.seen[14])
    assert any("monitor.restore_best()" in line for line in monitor.status_lines)
    assert monitor.restore_best() == 10
    assert torch.equal(weights.model.weight, weights.seen[10])


def test_best_weights_are_a_copy_not_a_view():
    weights = Weights()
    monitor = lw.LiveLossMonitor(patience=1, model=weights.model, display="none")
    for epoch in monitor.epochs(10):
        weights.step(epoch)
        monitor.log(val=[1.0, 0.5, 0.7, 0.9][min(epoch, 3)])
    assert monitor.history.epochs[-1] == 2
    assert torch.equal(weights.model.weight, weights.seen[1])


def test_exception_in_loop_keeps_history_restores_weights_and_propagates():
    weights = Weights()
    monitor = lw.LiveLossMonitor(patience=None, model=weights.model, display="none")
    with pytest.raises(RuntimeError, match="boom"):
        for epoch in monitor.epochs(50):
            weights.step(epoch)
            monitor.log(val=val_curve(epoch))
            if epoch == 13:
                raise RuntimeError("boom")
    assert monitor.history.epochs.tolist() == list(range(14))
    assert torch.equal(weights.model.weight, weights.seen[10])
    assert not monitor.running
    assert any("ended early at epoch 13" in line for line in monitor.status_lines)
    assert list(monitor.epochs(1)) == [14]  # usable again


def test_kernel_interrupt_is_a_graceful_stop():
    found = signal.getsignal(signal.SIGINT)  # Python's default, or SIG_IGN under `&`, nohup and some CI runners
    weights = Weights()
    monitor = lw.LiveLossMonitor(patience=None, model=weights.model, display="none")
    for epoch in monitor.epochs(50):
        weights.step(epoch)
        if epoch == 12:
            os.kill(os.getpid(), signal.SIGINT)  # what the kernel's ■ does
            time.sleep(0.05)
        monitor.log(val=val_curve(epoch))  # the epoch still completes
    assert monitor.history.epochs[-1] == 12
    assert monitor.stop_code is StopReason.INTERRUPTED
    assert torch.equal(weights.model.weight, weights.seen[10])
    assert signal.getsignal(signal.SIGINT) is found  # the handler found is the handler restored


def test_second_interrupt_raises():
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    with pytest.raises(KeyboardInterrupt):
        for epoch in monitor.epochs(50):
            monitor.log(val=1.0)
            if epoch == 3:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
    assert len(monitor.history) == 4
    assert monitor.stop_code is StopReason.INTERRUPTED


def test_logging_twice_warns_once_and_redecides():
    monitor = lw.LiveLossMonitor(patience=1, display="none")
    for epoch in monitor.epochs(3):
        monitor.log(val=1.0 - epoch * 0.1)
        if epoch == 1:
            with pytest.warns(UserWarning, match=r"losswidget: 'val' was logged twice for epoch 1; keeping the latest"):
                monitor.log(val=5.0)  # replaces 0.9: now no improvement, and patience 1 stops
    assert monitor.history.val.tolist() == [1.0, 5.0]
    assert monitor.should_stop and monitor.early_stopping.updates == 2


def test_logging_after_a_stop_is_recorded():
    monitor = lw.LiveLossMonitor(patience=0, display="none")
    for epoch in monitor.epochs(5):
        monitor.log(val=1.0 + epoch)
    assert monitor.should_stop and len(monitor.history) == 2
    monitor.log(val=0.5)
    assert len(monitor.history) == 3 and monitor.history.epochs[-1] == 2


def test_steps_belong_to_their_epoch_and_fill_the_epoch_train_loss():
    monitor = lw.LiveLossMonitor(display="none")
    for epoch in monitor.epochs(3):
        for step in range(4):
            assert monitor.log_step(train=torch.tensor(float(epoch * 10 + step))) is False
        monitor.log(val=1.0)
    assert monitor.history.step_epoch.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert monitor.history.train.tolist() == [1.5, 11.5, 21.5]


def test_log_step_returns_should_stop_for_step_level_breaks():
    monitor = lw.LiveLossMonitor(display="none")
    steps = 0
    for _ in monitor.epochs(5):
        for _ in range(100):
            steps += 1
            if steps == 30:
                monitor.stop()
            if monitor.log_step(train=0.5):
                break
    assert steps == 30 and len(monitor.history) == 1


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda m: m.log(), TypeError, r"log\(\) needs at least one value"),
        (lambda m: m.log(train="0.5"), TypeError, r"'train' must be a number: got the str '0.5'"),
        (lambda m: m.log(train=0.5, val=torch.ones(4, 8)), ValueError, r"'val' .* shape \(4, 8\); log a scalar"),
        (lambda m: m.log(epoch=3.0), ValueError, r"'epoch' is reserved"),
        (lambda m: m.log_step(train=None), TypeError, r"'train' is required"),
        (lambda m: m.log_step(train=[1, 2]), TypeError, r"got a list of length 2"),
        (lambda m: m.epochs(-1), ValueError, r"'n' must be >= 0: -1"),
        (lambda m: m.stop(reason=3), TypeError, r"'reason' must be a string"),
    ],
)
def test_bad_calls_change_nothing(call, error, message):
    monitor = lw.LiveLossMonitor(display="none")
    monitor.log(train=1.0, val=1.0)
    monitor.log_step(train=0.5)
    monitor._recorder.flush_steps()
    before = monitor.history.copy()
    with pytest.raises(error, match=message):
        call(monitor)
    monitor._recorder.flush_steps()
    assert monitor.history == before


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"patience": -1}, ValueError, r"'patience' must be >= 0: -1"),
        ({"patience": 2.5}, TypeError, r"'patience' must be an int"),
        ({"smoothing": 0}, ValueError, r"'smoothing' must be >= 1: 0"),
        ({"min_delta": -0.1}, ValueError, r"'min_delta' must be >= 0.0: -0.1"),
        ({"display": "gui"}, ValueError, r"'display' must be one of 'auto', 'widget', 'text', 'none': 'gui'"),
        ({"model": "resnet"}, TypeError, r"'model' must be a torch.nn.Module"),
        ({"frame_rate": 0}, ValueError, r"'frame_rate' must be >= 0.01"),
        ({"log_file": "run.csv"}, ValueError, r"'log_file' must end in .jsonl"),
    ],
)
def test_bad_configuration(kwargs, error, message):
    with pytest.raises(error, match=message):
        lw.LiveLossMonitor(**kwargs)


def test_assigned_values_are_validated():
    monitor = lw.LiveLossMonitor(display="none")
    with pytest.raises(ValueError, match="'smoothing' must be >= 1: 0"):
        monitor.smoothing = 0
    with pytest.raises(ValueError, match="'patience' must be <= 1000000"):
        monitor.patience = 10**9
    assert monitor.smoothing == 1 and monitor.patience == 5


def test_log_file_is_written_as_it_goes(tmp_path):
    path = tmp_path / "runs" / "one.jsonl"
    monitor = lw.LiveLossMonitor(log_file=path, display="none", name="one")
    for epoch in monitor.epochs(3):
        monitor.log_step(train=1.0)
        monitor.log(train=1.0 / (epoch + 1), val=2.0, acc=0.5)
        if epoch == 1:  # already on disk, mid-run
            assert len(lw.History.load(path)) == 2
    assert lw.History.load(path) == monitor.history
    with pytest.raises(FileExistsError, match="is being written by another monitor"):
        lw.LiveLossMonitor(log_file=path, display="none")


def test_background_run_and_wait():
    monitor = lw.LiveLossMonitor(patience=None, display="none")

    def train(epochs):
        for epoch in monitor.epochs(epochs):
            time.sleep(0.01)
            monitor.log(val=val_curve(epoch))
        return "done"

    monitor.start(train, 1000)
    time.sleep(0.2)
    assert monitor.running and monitor.regime == "thread"
    monitor.stop()
    assert monitor.wait(timeout=10) == "done"
    assert 0 < len(monitor.history) < 1000 and monitor.stop_code is StopReason.USER


def test_background_errors_reach_wait():
    monitor = lw.LiveLossMonitor(display="none")

    def train():
        for _ in monitor.epochs(5):
            raise ValueError("bad batch")

    monitor.start(train)
    with pytest.raises(ValueError, match="bad batch"):
        monitor.wait(10)
    with pytest.raises(TypeError, match="'function' must be callable"):
        monitor.start(42)


def test_new_run_keeps_the_old_one_for_comparison():
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for epoch in monitor.epochs(5):
        monitor.log(val=1.0 / (epoch + 1))
    monitor.new_run("large")
    for epoch in monitor.epochs(3):
        monitor.log(val=0.5 / (epoch + 1))
    assert [run.name for run in monitor.runs] == ["run 1"]
    assert monitor.history.name == "large" and monitor.history.epochs.tolist() == [0, 1, 2]
    monitor.add_run(lw.History(), name="empty")
    frame = monitor._build_frame()
    assert [run.name for run in frame.runs] == ["run 1", "empty"]


def test_text_view_prints_progress_and_outcome(capsys):
    monitor = lw.LiveLossMonitor(patience=2, display="text")
    for epoch in monitor.epochs(30):
        monitor.log(train=0.5, val=val_curve(epoch, turn=3))
    out = capsys.readouterr().out
    assert "Epoch 0 of epochs 0–29" in out
    assert "Stopped: early stopping at epoch 5" in out
    assert "Diagnosis:" in out


def test_frame_size_does_not_grow_with_history_and_keeps_the_spikes():
    """What a frame sends is bounded (≤ 2,000 float32 points per line) at any history length, and the
    decimation keeps the extremes. Its cost is measured in benchmarks/bench_monitor.py, not here."""
    sizes = []
    for n_steps in (10_000, 1_000_000):
        monitor = lw.LiveLossMonitor(display="none")
        values = np.random.default_rng(0).random(n_steps)
        values[n_steps // 3] = 50.0  # one spike
        monitor.history.log_steps(values, 0)
        frame = monitor._build_frame()
        assert frame.steps_x.dtype == np.float32
        assert frame.steps_raw.max() == np.float32(50.0) and frame.steps_raw.min() == np.float32(values.min())
        sizes.append(frame.steps_x.size)
    assert 1000 < sizes[0] <= 2000 and 1000 < sizes[1] <= 2000


def test_the_per_step_path_reads_the_clock_every_10_ms_and_at_least_every_64_steps():
    from losswidget.run.redraw import MAX_STEPS_PER_CLOCK, RedrawClock

    clock = RedrawClock(frame_rate=2.0)
    now, counts = 100.0, []
    for step_seconds in (0.0001, 0.0025, 0.02):  # fast steps, 4 per 10 ms, one step longer than 10 ms
        for _ in range(6):
            steps = clock.steps_per_clock
            now += steps * step_seconds
            clock.clock_read(now)
        counts.append(clock.steps_per_clock)
    assert counts == [MAX_STEPS_PER_CLOCK, 4, 1]
    now += 30.0  # a pause (a long validation, the cell between loops): read again at the next step
    assert clock.clock_read(now) == 1


def test_a_slider_or_stop_from_another_thread_reaches_the_loop_within_64_steps():
    from losswidget.run.redraw import MAX_STEPS_PER_CLOCK

    monitor = lw.LiveLossMonitor(patience=None, display="none", frame_rate=0.01)  # frames almost never
    seen = {}
    for _epoch in monitor.epochs(1):
        for step in range(10_000):
            if monitor.log_step(train=1.0):
                seen["returned"] = step
                break
            if step == 5_000:
                drawn = monitor._display.clock.frames_drawn
                worker = threading.Thread(target=setattr, args=(monitor, "smoothing", 5))
                worker.start()
                worker.join()
                seen["set"] = step
            if "set" in seen and "drawn" not in seen and monitor._display.clock.frames_drawn > drawn:
                seen["drawn"] = step
            if step == 7_000:
                worker = threading.Thread(target=monitor.stop)
                worker.start()
                worker.join()
                seen["stop"] = step
    assert 0 < seen["drawn"] - seen["set"] <= MAX_STEPS_PER_CLOCK  # the redraw came at the next clock read
    assert seen["returned"] == seen["stop"] + 1  # a stop is a flag: the very next log_step returns True
    assert monitor.history.n_steps == 7_002  # that step is recorded too


def test_a_million_steps_in_one_epoch_keep_pending_values_bounded():
    from losswidget.run.step_path import PENDING_LIMIT

    monitor = lw.LiveLossMonitor(display="none", frame_rate=0.01)  # frames almost never: the bound must hold anyway
    largest = 0
    for _epoch in monitor.epochs(1):
        for step in range(1_000_000):
            monitor.log_step(train=1.0 / (step + 1))
            if step % 997 == 0:
                largest = max(largest, len(monitor._recorder.steps.values))
    assert largest < PENDING_LIMIT
    assert monitor.history.n_steps == 1_000_000  # nothing lost on the way


def test_a_loss_changed_in_place_after_logging_is_said_and_copied_from_then_on():
    torch = pytest.importorskip("torch")
    from losswidget.run.recorder import Recorder

    recorder = Recorder()
    weights = torch.ones(2, requires_grad=True)
    losses = [(weights * k).sum() for k in (1.0, 2.0, 3.0)]
    recorder.steps.values.extend(loss.detach() for loss in losses)  # what log_step keeps of a fresh device loss
    recorder.steps.has_tensors = True
    with torch.no_grad():
        losses[1].div_(2)  # `loss /= 2` after log_step
    with pytest.warns(UserWarning, match=r"losswidget: 1 of the last 3 loss tensors .* changed in place") as caught:
        recorder.flush_steps()
    assert caught[0].filename == __file__  # names the caller's line, not losswidget's
    assert recorder.history.step_train.tolist() == [2.0, 2.0, 6.0]  # its value after the change: all there is
    assert recorder.steps.alias_device is False
    on_device = torch.ones(2, device="meta", requires_grad=True)
    loss = (on_device * 2).sum()
    kept = recorder.step_value(loss)  # a fresh device loss: now copied
    with torch.no_grad():
        loss.div_(2)
    assert kept._version == 0
    recorder.steps.values.append(losses[0].detach())
    with torch.no_grad():
        losses[0].mul_(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once per monitor
        recorder.flush_steps()
    assert recorder.history.step_train.tolist() == [2.0, 2.0, 6.0, 4.0]


def test_a_fresh_device_loss_takes_the_short_path_and_is_still_checked():
    torch = pytest.importorskip("torch")
    monitor = lw.LiveLossMonitor(display="none", frame_rate=0.01)
    weights = torch.ones(3, device="meta", requires_grad=True)  # a device with no data: nothing is read
    pending = monitor._recorder.steps.values
    monitor._recorder.steps.until_clock = 10**9  # no clock read, so no frame: nothing is flushed

    def kept_as_it_is(loss) -> bool:  # an alias sees an in-place change; a copy does not
        before = pending[-1]._version
        with torch.no_grad():
            loss.add_(0.0)
        return pending[-1]._version != before

    try:
        for _ in range(3):  # the first takes the slow path, which learns the tensor type
            assert not monitor.log_step(train=(weights * 2).sum())
        loss = (weights * 2).sum()
        monitor.log_step(train=loss)
        assert kept_as_it_is(loss)
        before = len(pending)
        with pytest.raises(ValueError, match="must be a scalar"):
            monitor.log_step(train=weights * 2)  # three values, with a graph
        with pytest.raises(TypeError, match="must be a real number"):
            monitor.log_step(train=(weights * 2).sum() * 1j)  # complex, with a graph
        assert len(pending) == before  # a rejected call records nothing
        monitor._recorder.steps.alias_device = False  # as after a loss changed in place after logging
        loss = (weights * 2).sum()
        monitor.log_step(train=loss)
        assert not kept_as_it_is(loss)
    finally:
        pending.clear()  # meta tensors cannot be converted


def test_pending_tensors_are_bounded_too():
    torch = pytest.importorskip("torch")
    from losswidget.run.step_path import PENDING_LIMIT

    monitor = lw.LiveLossMonitor(display="none", frame_rate=0.01)
    loss = torch.tensor(0.5, requires_grad=True) * 2  # a CPU stand-in; device tensors take the same path
    for _epoch in monitor.epochs(1):
        for _ in range(3 * PENDING_LIMIT):
            monitor.log_step(train=loss)
            assert len(monitor._recorder.steps.values) < PENDING_LIMIT
    assert monitor.history.n_steps == 3 * PENDING_LIMIT
