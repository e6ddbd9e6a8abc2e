"""Replay: a steered run's saved history, given to a new monitor as ``replay=``, makes the same
learning-rate, patience and min_delta changes at the same epoch and step, unattended: the replayed
run trains at the same rate at every step. Real torch training with a scheduler; the steering of
the first run comes from another thread, as a widget's handler would send it."""

import threading
import time

import pytest

torch = pytest.importorskip("torch")

import losswidget as lw  # noqa: E402

WAIT = 60  # seconds: a bound on a hang, never a measurement


class Run:
    """SGD with momentum and an ExponentialLR stepped each epoch; the rate of every optimizer step is kept."""

    def __init__(self, **options):
        torch.manual_seed(0)
        self.model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.05, momentum=0.9)
        self.scheduler = torch.optim.lr_scheduler.ExponentialLR(self.optimizer, gamma=0.9)
        self.monitor = lw.LiveLossMonitor(
            patience=None, display="none", model=self.model, optimizer=self.optimizer, **options
        )
        self.rates = []  # the rate each optimizer step used
        self.x = torch.randn(64, 4, generator=torch.Generator().manual_seed(1))
        self.y = (self.x**2).sum(dim=1, keepdim=True)
        self.after_step = lambda step: None

    def train(self, epochs=6, steps=10, per_step=True):
        for _ in self.monitor.epochs(epochs):
            for _ in range(steps):
                loss = torch.nn.functional.mse_loss(self.model(self.x), self.y)
                self.optimizer.zero_grad()
                loss.backward()
                self.rates.append(self.optimizer.param_groups[0]["lr"])
                self.optimizer.step()
                if per_step:
                    self.monitor.log_step(train=loss)
                self.after_step(len(self.rates))
            self.monitor.log(train=loss.item(), val=loss.item())
            self.scheduler.step()


def _where(events):
    return [(e.kind, e.epoch, e.step, e.old, e.new) for e in events]


def test_a_steered_run_replayed_trains_at_the_same_rate_at_every_step(tmp_path):
    steered = Run(log_file=tmp_path / "steered.jsonl")
    moves = {
        7: lambda: steered.monitor.set_learning_rate(factor=0.5),
        23: lambda: steered.monitor.set_learning_rate(0.004),
        24: lambda: setattr(steered.monitor, "patience", 50),
        31: lambda: setattr(steered.monitor, "min_delta", 0.01),
        44: lambda: steered.monitor.set_learning_rate(factor=3.0),
    }

    def after_step(step):  # each change sent from another thread, while the training thread waits
        if step in moves:
            sender = threading.Thread(target=moves[step])
            sender.start()
            sender.join(timeout=WAIT)

    steered.after_step = after_step
    steered.train()
    events = steered.monitor.history.events
    assert [e.kind for e in events] == ["lr", "lr", "patience", "min_delta", "lr"]

    replayed = Run(replay=tmp_path / "steered.jsonl")  # the saved file, unattended
    replayed.train()
    assert replayed.rates == steered.rates  # the same rate at every step
    assert len(set(steered.rates)) > 6  # the schedule and the three changes: not a constant
    assert _where(replayed.monitor.history.events) == _where(events)
    assert {e.source for e in replayed.monitor.history.events} == {"replay"}
    assert replayed.monitor.patience == 50 and replayed.monitor.min_delta == 0.01
    assert replayed.monitor.history.events[0].sentence.endswith("by the replay.")


def test_changes_between_epochs_without_per_step_logging_replay_at_the_top_of_the_same_epoch():
    steered = Run()
    steered.after_step = lambda step: steered.monitor.set_learning_rate(factor=0.5) if step in (20, 40) else None
    steered.train(per_step=False)
    events = steered.monitor.history.events
    assert [(e.epoch, e.step) for e in events] == [(2, 0), (4, 0)]  # taken at the next epoch's top
    replayed = Run(replay=steered.monitor.history)
    replayed.train(per_step=False)
    assert replayed.rates == steered.rates
    assert _where(replayed.monitor.history.events) == _where(events)


def test_replay_refuses_what_is_not_a_history_and_replays_no_pause(tmp_path):
    with pytest.raises(TypeError, match="'replay' must be a losswidget History"):
        lw.LiveLossMonitor(display="none", replay={"events": []})
    with pytest.raises(FileNotFoundError):
        lw.LiveLossMonitor(display="none", replay=tmp_path / "missing.jsonl")
    steered = Run()
    steered.after_step = lambda step: steered.monitor.pause() if step == 5 else None
    resumer = threading.Thread(
        target=lambda: (_until(lambda: steered.monitor._loop.paused_at is not None), steered.monitor.resume())
    )
    resumer.start()
    steered.train(epochs=2)
    resumer.join(timeout=WAIT)
    assert [e.kind for e in steered.monitor.history.events] == ["pause", "resume"]
    replayed = Run(replay=steered.monitor.history)
    replayed.train(epochs=2)  # would hold for ever if the pause were replayed
    assert replayed.monitor.history.events == [] and replayed.rates == steered.rates


def _until(condition):
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.01)
