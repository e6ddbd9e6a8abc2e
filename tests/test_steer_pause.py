"""Pause and Resume, and every change recorded: real torch training on a thread of its own, a second
thread pausing, resuming and stopping it as a widget's handler would. Every wait is bounded; no
assertion is timed."""

import json
import threading
import time

import pytest

torch = pytest.importorskip("torch")

import losswidget as lw  # noqa: E402
from losswidget.core.events import Event  # noqa: E402
from losswidget.core.history_jsonl import HistoryFileError  # noqa: E402
from losswidget.views.svg import describe, render_svg  # noqa: E402

WAIT = 60  # seconds: a bound on a hang, never a measurement


def _until(condition, what):
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"waited {WAIT} s for {what}"
        time.sleep(0.01)


class Training:
    """A real run on its own thread: a small regression, ``log_step`` every step (or only ``log``
    each epoch), the weights of every epoch kept to check which ones come back."""

    def __init__(self, monitor=None, per_step=True, epochs=6, steps=20, gate_at=None, **options):
        torch.manual_seed(0)
        self.model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.05)
        options = {"patience": None, "display": "none", **options}
        self.monitor = monitor or lw.LiveLossMonitor(model=self.model, optimizer=self.optimizer, **options)
        self.per_step, self.epochs, self.steps = per_step, epochs, steps
        self.logged = 0  # steps (or epochs, without per-step logging) the loop has logged
        # With gate_at: the loop waits after that many, until the test opens the gate (after its pause
        # request), so that a fast machine cannot finish the run before the request is made.
        self.gate_at, self.gate = gate_at, threading.Event()
        self.weights = {}
        self.error = None
        self.thread = threading.Thread(target=self._train, daemon=True)

    def _train(self):
        try:
            x = torch.randn(128, 4, generator=torch.Generator().manual_seed(1))
            y = (x**2).sum(dim=1, keepdim=True)
            for epoch in self.monitor.epochs(self.epochs):
                for _ in range(self.steps):
                    loss = torch.nn.functional.mse_loss(self.model(x), y)
                    self.optimizer.zero_grad()
                    loss.backward()
                    self.optimizer.step()
                    if self.per_step:
                        if self.monitor.log_step(train=loss):
                            break
                        self.logged += 1
                        self._gate()
                with torch.no_grad():
                    val = torch.nn.functional.mse_loss(self.model(x + 0.1), y).item()
                self.monitor.log(train=loss.item(), val=val)
                self.weights[epoch] = {k: v.clone() for k, v in self.model.state_dict().items()}
                if not self.per_step:
                    self.logged += 1
                    self._gate()
        except BaseException as error:  # the test thread says it
            self.error = error

    def _gate(self):
        if self.logged == self.gate_at:
            assert self.gate.wait(WAIT), "the test never opened the gate"

    def start(self):
        self.thread.start()
        return self

    def join(self):
        self.thread.join(timeout=WAIT)
        assert not self.thread.is_alive(), "the training thread did not end"
        assert self.error is None, self.error


def _paused(monitor):
    return any(line.startswith("Paused at epoch") for line in monitor.status_lines)


def test_pause_from_another_thread_holds_the_loop_and_resume_continues():
    run = Training(gate_at=25).start()
    monitor = run.monitor
    _until(lambda: run.logged >= 25, "25 steps")
    pauser = threading.Thread(target=monitor.pause)
    pauser.start()
    pauser.join(timeout=WAIT)
    run.gate.set()
    _until(lambda: _paused(monitor), "the loop to hold")
    held_at, elapsed = run.logged, monitor._loop.elapsed
    time.sleep(0.3)  # a bounded look: no step is logged while paused
    assert run.logged == held_at and monitor.paused
    assert monitor._loop.elapsed == elapsed  # the pause is left out of the elapsed time (and so of the ETA)
    (line,) = [line for line in monitor.status_lines if line.startswith("Paused")]
    assert held_at == 25
    epoch, step = held_at // 20, held_at + 1  # held in the log_step of the step after held_at
    assert line.startswith(f"Paused at epoch {epoch}, step {step}:")
    threading.Thread(target=monitor.resume).start()
    run.join()
    assert run.logged == 6 * 20 and not monitor.paused and not monitor.should_stop
    assert monitor.history.events == [Event("pause", epoch, step, source="api"), Event("resume", epoch, step)]
    assert not _paused(monitor)


def test_the_pause_button_on_another_thread_pauses_and_resumes(quiet_comms):
    pytest.importorskip("bqplot")
    run = Training(display="widget", frame_rate=1000)
    run.monitor._display.ensure_view(run.monitor._controls)
    button = run.monitor._display.view.steer_buttons.pause_button
    run.gate_at = 5
    run.start()
    _until(lambda: run.logged >= 5, "5 steps")
    clicker = threading.Thread(target=button.click)  # as a kernel subshell delivers a click
    clicker.start()
    clicker.join(timeout=WAIT)
    run.gate.set()
    _until(lambda: _paused(run.monitor), "the loop to hold")
    held_at = run.logged
    _until(lambda: button.description == "Resume", "the button to say Resume")
    time.sleep(0.2)
    assert run.logged == held_at
    threading.Thread(target=button.click).start()
    run.join()
    assert [(e.kind, e.source) for e in run.monitor.history.events] == [("pause", "control"), ("resume", "control")]
    assert button.description == "Pause" and button.disabled  # the loop ended: nothing to pause
    pause = run.monitor.history.events[0]
    at = pause.epoch - 0.5 + (pause.step - 20 * pause.epoch) / 20  # among the steps it held between
    frame = run.monitor._build_frame()
    assert [(mark.xs, mark.text) for mark in frame.changes] == [((pytest.approx(at),), "paused")]
    marks = run.monitor._display.view.change_marks  # in the left half: right of its rule
    assert list(marks.right_labels.text) == ["paused"] and marks.right_labels.visible
    assert list(marks.right_labels.x) == [pytest.approx(at)] and not marks.left_labels.visible
    assert ">paused</text>" in render_svg(frame)
    assert f"Changes marked on the chart: paused at epoch {pause.epoch}." in describe(frame)


def test_stop_while_paused_ends_the_run_at_once_with_the_best_weights_back():
    run = Training(gate_at=50).start()
    monitor = run.monitor
    _until(lambda: run.logged >= 50, "50 steps")
    monitor.pause()
    run.gate.set()
    _until(lambda: _paused(monitor), "the loop to hold")
    threading.Thread(target=monitor.stop).start()
    run.join()
    assert monitor.should_stop and run.logged < 6 * 20
    best = monitor.best_epoch
    assert best is not None and monitor._loop.outcome.endswith(f"Best weights (epoch {best}) restored.")
    for name, value in run.model.state_dict().items():  # the steps after the best epoch are undone
        assert torch.equal(value, run.weights[best][name])
    assert [e.kind for e in monitor.history.events] == ["pause"]  # stopped, not resumed
    assert not monitor.paused


def test_without_per_step_logging_the_loop_holds_before_the_next_epoch():
    run = Training(per_step=False, epochs=8, steps=5, gate_at=2).start()
    monitor = run.monitor
    _until(lambda: run.logged >= 2, "2 epochs")
    monitor.pause()
    run.gate.set()
    _until(lambda: _paused(monitor), "the loop to hold")
    held_at = run.logged
    time.sleep(0.3)
    assert run.logged == held_at and len(monitor.history) == held_at
    (pause,) = monitor.history.events
    assert (pause.kind, pause.epoch) == ("pause", held_at)  # before that epoch began
    monitor.resume()
    run.join()
    assert len(monitor.history) == 8


def test_the_learning_rate_changes_while_paused_and_events_reach_the_log_file(tmp_path):
    log = tmp_path / "run.jsonl"
    run = Training(log_file=log, gate_at=10).start()
    monitor = run.monitor
    _until(lambda: run.logged >= 10, "10 steps")
    monitor.pause()
    run.gate.set()
    _until(lambda: _paused(monitor), "the loop to hold")
    monitor.set_learning_rate(factor=0.5)  # applied by the paused training thread
    _until(lambda: monitor.learning_rate == 0.025, "the change while paused")
    monitor.resume()
    run.join()
    kinds = [(e.kind, e.old, e.new) for e in monitor.history.events]
    assert kinds == [("pause", None, None), ("lr", 0.05, 0.025), ("resume", None, None)]
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["event"] for r in records if r.get("kind") == "event"] == ["pause", "lr", "resume"]
    loaded = lw.History.load(log)
    assert loaded.events == monitor.history.events
    saved = monitor.history.save(tmp_path / "saved.jsonl")
    assert lw.History.load(saved) == monitor.history  # events included
    assert lw.History.load(saved).events == monitor.history.events


def test_a_log_without_events_loads_and_a_newer_writers_records_are_skipped(tmp_path):
    history = lw.History("old")
    history.log_epoch(0, {"train": 1.0, "val": 1.2})
    old = history.save(tmp_path / "old.jsonl")
    assert lw.History.load(old).events == [] and lw.History.load(old) == history
    newer = tmp_path / "newer.jsonl"
    lines = old.read_text().splitlines()
    newer.write_text("\n".join([*lines, '{"kind": "branch", "from_epoch": 0}', ""]))
    assert lw.History.load(newer) == history
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        "\n".join([*lines, '{"kind": "event", "event": "lr", "epoch": 0, "step": 0, "old": -1, "source": "api"}', ""])
    )
    with pytest.raises(HistoryFileError, match=r"line 3: .*positive finite 'old' and 'new'"):
        lw.History.load(bad)
