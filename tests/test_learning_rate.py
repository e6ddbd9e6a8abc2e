"""The learning rate on the chart: read from the optimizer once an epoch (never per step), recorded as
``lr`` (and ``lr/1``... for other parameter groups) in the history and every output, drawn on a
log-scale panel of its own with its changes marked on the loss chart; the framework callbacks give
the monitor their optimizer (tests/test_frameworks.py, tests/test_lightning.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import losswidget as lw

torch = pytest.importorskip("torch")


def _model():
    torch.manual_seed(0)
    return torch.nn.Linear(3, 1)


def test_a_plain_loop_records_the_rate_each_epoch_trained_with_under_reduce_on_plateau():
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
    monitor = lw.LiveLossMonitor(patience=None, display="none", optimizer=optimizer)
    assert monitor.optimizer is optimizer
    seen = []
    for epoch in monitor.epochs(5):
        seen.append(optimizer.param_groups[0]["lr"])  # the rate this epoch trains with
        monitor.log(train=1.0, val=[1.0, 0.9, 1.0, 1.0, 1.0][epoch])
        scheduler.step(monitor.history.val[-1])  # after log(): the next epoch's rate
    assert monitor.history["lr"].tolist() == seen == [0.1, 0.1, 0.1, 0.05, 0.025]


def test_every_parameter_group_and_a_rate_the_loop_logged_itself():
    model = _model()
    optimizer = torch.optim.Adam([{"params": [model.weight], "lr": 0.01}, {"params": [model.bias], "lr": 0.1}])
    monitor = lw.LiveLossMonitor(display="none", optimizer=optimizer)
    for epoch in monitor.epochs(2):
        monitor.log(train=1.0, val=1.0, **({"lr": 0.5} if epoch == 1 else {}))
    assert monitor.history["lr"].tolist() == [0.01, 0.5]  # the loop's own value is kept, not replaced
    assert monitor.history["lr/1"].tolist() == [0.1, 0.1]


def test_log_outside_epochs_records_the_rate_at_each_call():
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    monitor = lw.LiveLossMonitor(display="none")
    monitor.optimizer = optimizer  # as fit and the framework callbacks set it
    monitor.log(train=1.0)
    optimizer.param_groups[0]["lr"] = 0.02
    monitor.log(train=0.5)
    assert monitor.history["lr"].tolist() == [0.2, 0.02]
    monitor.optimizer = None
    monitor.log(train=0.25)
    assert math.isnan(monitor.history["lr"][-1])


@pytest.mark.parametrize(
    ("optimizer", "message"),
    [
        (torch.optim.SGD, "'optimizer' must be the optimizer the loop steps with .* got type"),
        ("adam", "'optimizer' must be the optimizer the loop steps with .* got str 'adam'"),
        (torch.nn.Linear(2, 2), "got Linear"),
    ],
)
def test_a_wrong_optimizer_is_refused_by_name_before_anything_is_created(tmp_path, optimizer, message):
    with pytest.raises(TypeError, match=message):
        lw.LiveLossMonitor(display="none", optimizer=optimizer, log_file=tmp_path / "run.jsonl")
    assert not (tmp_path / "run.jsonl").exists()


def test_the_rates_reach_the_log_file_and_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    monitor = lw.LiveLossMonitor(
        display="none", optimizer=optimizer, log_file=tmp_path / "run.jsonl", tensorboard=tmp_path / "tb"
    )
    for _ in monitor.epochs(3):
        optimizer.step()
        monitor.log(train=1.0, val=1.0)
        scheduler.step()
    assert lw.History.load(tmp_path / "run.jsonl")["lr"].tolist() == [0.5, 0.25, 0.125]
    board = EventAccumulator(str(tmp_path / "tb"))
    board.Reload()
    assert [(e.step, e.value) for e in board.Scalars("lr")] == [(0, 0.5), (1, 0.25), (2, 0.125)]


def test_the_chart_draws_the_rate_on_its_own_log_panel_and_marks_its_changes():
    history = lw.History()
    for epoch, rate in enumerate([0.1, 0.1, 0.1, 0.01, 0.01, 0.001]):
        history.log_epoch(epoch, {"train": 1.0 / (epoch + 1), "val": 1.0, "lr": rate, "acc": 0.5})
    monitor = lw.LiveLossMonitor(display="none")
    monitor.add_run(history)  # an earlier run's rates are not drawn: only the running run's
    assert not monitor._build_frame().rates
    for epoch, rate in enumerate([0.1, 0.1, 0.1, 0.01, 0.01, 0.001]):
        monitor.log(train=1.0 / (epoch + 1), val=1.0, lr=rate, acc=0.5)
    frame = monitor._build_frame()
    assert set(frame.metrics) == {"acc"}  # the rate has a panel of its own, not the metric axis
    x, y = frame.rates["lr"]
    assert x.tolist() == [0, 1, 2, 3, 4, 5] and np.allclose(y, [0.1, 0.1, 0.1, 0.01, 0.01, 0.001])
    assert [epoch for epoch, _ in frame.rate_changes] == [3, 5]  # and new / old:
    assert [ratio for _, ratio in frame.rate_changes] == pytest.approx([0.1, 0.1])
    assert frame.rate_range[0] <= 0.001 and frame.rate_range[1] >= 0.1


def test_a_constant_rate_gets_no_panel():
    monitor = lw.LiveLossMonitor(display="none")
    for _epoch in range(4):
        monitor.log(train=1.0, val=1.0, lr=0.01)
    frame = monitor._build_frame()
    assert not frame.rates and not frame.rate_changes


def _scheduled_history(cut_at, epochs, curve, noise=0.0005, seed=1):
    rng = np.random.default_rng(seed)
    history = lw.History()
    for epoch in range(epochs):
        value = curve(epoch)
        rate = 0.1 if epoch < cut_at else 0.01
        history.log_epoch(
            epoch, {"train": value - 0.05 + rng.normal(0, noise), "val": value + rng.normal(0, noise), "lr": rate}
        )
    return history


def test_the_diagnosis_says_a_drop_right_after_a_cut_is_the_schedules_doing():
    history = _scheduled_history(30, 40, lambda e: 0.5 if e < 30 else 0.5 - 0.1 * (1 - math.exp(-(e - 29) / 2)))
    found = lw.diagnose(history)
    assert found.kind == "learning"
    assert "The learning rate was cut at epoch 30 (lr ×0.1): a sudden drop right after it is the schedule's doing" in (
        found.message
    )
    without = lw.History()  # the same curves without the rate: no such sentence
    for epoch, train, val in zip(history.epochs, history.train, history.val):
        without.log_epoch(int(epoch), {"train": train, "val": val})
    assert "schedule" not in lw.diagnose(without).message


def test_a_plateau_around_a_cut_does_not_advise_a_schedule_it_already_has():
    # seed 4: the lowest epoch is not the last (a last epoch at its best is "still improving slowly")
    history = _scheduled_history(36, 48, lambda e: 1.0 / (1 + e) + 0.2 if e < 24 else 1 / 25 + 0.2, seed=4)
    assert history.best_epoch() != history.last_epoch
    found = lw.diagnose(history)
    assert found.kind == "plateau"
    assert "try a learning-rate schedule" not in found.message
    assert "More epochs at this learning rate are unlikely to help." in found.message
    assert "The learning rate was cut at epoch 36 (lr ×0.1), to 0.01" in found.message
    assert "can be the schedule's doing" in found.message  # how sure: can be, not is


def test_an_old_change_or_none_adds_nothing():
    flat = lambda e: 1.0 / (1 + e) + 0.2 if e < 24 else 1 / 25 + 0.2  # noqa: E731
    old = lw.diagnose(_scheduled_history(5, 48, flat, seed=4))  # the cut long before the plateau
    assert old.kind == "plateau" and "The learning rate was cut" not in old.message
    assert "More epochs at this learning rate" in old.message  # the run has a schedule all the same
    plain = lw.History()
    for epoch in range(48):
        plain.log_epoch(epoch, {"train": flat(epoch) - 0.05, "val": flat(epoch)})
    assert "try a learning-rate schedule" in lw.diagnose(plain).message


def test_a_rate_that_can_no_longer_be_read_is_said_once_and_training_goes_on():
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    monitor = lw.LiveLossMonitor(display="none", optimizer=optimizer)
    with pytest.warns(UserWarning, match=r"losswidget: the learning rate of 'optimizer' \(SGD\) cannot be read"):
        for epoch in monitor.epochs(3):
            if epoch == 1:
                optimizer.param_groups[0]["lr"] = "a schedule's mistake"
            monitor.log(train=1.0, val=1.0)
    assert len(monitor.history) == 3 and monitor.optimizer is None
    # epoch 1's rate was read as it began, before the change; epoch 2's could not be
    assert monitor.history["lr"][:2].tolist() == [0.1, 0.1] and np.isnan(monitor.history["lr"][2])


def test_each_run_reads_its_own_optimizer():
    first, second = _model(), _model()
    monitor = lw.LiveLossMonitor(display="none", optimizer=torch.optim.SGD(first.parameters(), lr=0.1))
    monitor.log(train=1.0)
    with pytest.raises(TypeError, match="'optimizer' must be the optimizer the loop steps with"):
        monitor.new_run("bad", model=second, optimizer="sgd")
    assert monitor.model is None and len(monitor.runs) == 0  # the rejected call changed nothing
    monitor.new_run("second", optimizer=torch.optim.SGD(second.parameters(), lr=0.3))
    monitor.log(train=1.0)
    assert monitor.history["lr"].tolist() == [0.3] and monitor.runs[0]["lr"].tolist() == [0.1]


def test_fit_gives_the_monitor_the_optimizer_that_steps_in_each_run():
    from torch.utils.data import DataLoader, TensorDataset

    train, val = (
        TensorDataset(torch.randn(32, 3), torch.randn(32, 1)),
        TensorDataset(torch.randn(8, 3), torch.randn(8, 1)),
    )
    monitor = lw.LiveLossMonitor(display="none", patience=None)
    for name, rate in (("first", 0.01), ("second", 0.02)):
        if name == "second":
            monitor.new_run(name)
        model = _model()
        optimizer = torch.optim.SGD(model.parameters(), lr=rate)
        lw.fit(model, DataLoader(train, 8), DataLoader(val, 8), torch.nn.MSELoss(), optimizer, 2, monitor=monitor)
        assert monitor.optimizer is optimizer and monitor.history["lr"].tolist() == [rate, rate]
