"""One truth for the best epoch: the weights that come back, the ◆, the status line, ``best_epoch``
and the stop reason all name the same epoch (the early-stopping decision's, min_delta aware).

A ``Linear(1, 1)`` whose weight is set to the epoch number before each ``log()``: the weight
restored names the epoch it came from.
"""

from __future__ import annotations

import math
import re

import pytest

import losswidget as lw
from losswidget.core.words import number

torch = pytest.importorskip("torch")


def run(values, patience=2, min_delta=0.0, relog=None, every=1):
    """Feed validation ``values`` (one per ``every`` epochs); ``relog``: {epoch: second value}."""
    model = torch.nn.Linear(1, 1)
    monitor = lw.LiveLossMonitor(patience=patience, min_delta=min_delta, model=model, display="none")
    feed = iter(values)
    for epoch in monitor.epochs(len(values) * every):
        with torch.no_grad():
            model.weight.fill_(epoch)
        if epoch % every:
            monitor.log(train=1.0)
            continue
        monitor.log(train=1.0, val=next(feed))
        if relog and epoch in relog:
            monitor.log(val=relog[epoch])
    return monitor, model


def named_epochs(monitor, model):
    """Every place that names the best epoch."""
    frame = monitor._build_frame()
    status = next(line for line in monitor.explain().splitlines() if line.startswith("Best validation loss"))
    said = monitor.status_lines[0]  # the short status names it too: "...; best validation loss 0.5 at epoch 1."
    return {
        "restored": int(model.weight.item()),
        "best_epoch": monitor.best_epoch,
        "chart": frame.best[0],
        "status": int(status.rstrip(".").split()[-1]),
        "short status": int(re.search(r"best (?:validation loss )?[\d.e-]+ at epoch (\d+)", said).group(1)),
    }


@pytest.mark.parametrize(
    ("values", "min_delta", "best", "best_value"),
    [
        ([1.0, 0.95, 0.97, 0.99], 0.1, 0, 1.0),  # 0.95 is no improvement by 0.1: epoch 0 stays best
        ([1.0, 0.5, 0.45, 0.6, 0.7], 0.1, 1, 0.5),  # 0.45 improves on 0.5 by less than 0.1
        ([1.0, 0.8, 0.9, 0.95], 0.0, 1, 0.8),
    ],
)
def test_min_delta_best_is_the_restored_epoch_everywhere(values, min_delta, best, best_value):
    monitor, model = run(values, min_delta=min_delta)
    assert monitor.stop_code is lw.StopReason.PATIENCE
    assert set(named_epochs(monitor, model).values()) == {best}
    assert f"best {number(best_value)} at epoch {best}" in monitor.stopped_reason
    assert f"Best weights (epoch {best}) restored" in monitor.status_lines[0]


def test_a_relogged_validation_value_replaces_the_first_for_weights_too():
    # epoch 1 logs 0.5 (would be best), then 1.05: the later value is kept, so epoch 0 stays best
    with pytest.warns(UserWarning, match="'val' was logged twice for epoch 1"):
        monitor, model = run([1.0, 0.5, 1.1, 1.2], relog={1: 1.05})
    assert set(named_epochs(monitor, model).values()) == {0}
    assert "best 1 at epoch 0" in monitor.stopped_reason


def test_a_relogged_value_that_improves_moves_the_best_to_that_epoch():
    with pytest.warns(UserWarning, match="'val' was logged twice for epoch 1"):
        monitor, model = run([1.0, 1.2, 1.3, 1.4], relog={1: 0.5})
    assert set(named_epochs(monitor, model).values()) == {1}


def test_validation_every_few_epochs_names_real_epoch_numbers():
    monitor, model = run([1.0, 0.5, 0.7, 0.8], every=3)  # validated at epochs 0, 3, 6, 9
    assert set(named_epochs(monitor, model).values()) == {3}
    assert "best 0.5 at epoch 3" in monitor.stopped_reason


def test_start_from_epoch_and_a_nan_keep_one_best():
    model = torch.nn.Linear(1, 1)
    monitor = lw.LiveLossMonitor(patience=5, start_from_epoch=1, model=model, display="none")
    for epoch, value in zip(monitor.epochs(4), [0.1, 0.9, 0.8, math.nan]):
        with torch.no_grad():
            model.weight.fill_(epoch)
        monitor.log(val=value)
    assert monitor.stop_code is lw.StopReason.NON_FINITE
    assert set(named_epochs(monitor, model).values()) == {2}  # epoch 0's 0.1 was not counted


def test_early_stopping_update_names_the_callers_epoch_and_rejects_a_bad_one():
    stopper = lw.EarlyStopping(patience=1)
    stopper.update(1.0, epoch=10)
    stopper.update(0.5, epoch=20)
    assert stopper.best_epoch == 20
    before = stopper.state_dict()
    with pytest.raises(TypeError, match="'epoch' must be an int or None: 'x'"):
        stopper.update(0.1, epoch="x")
    assert stopper.state_dict() == before, "a rejected call changes nothing"
