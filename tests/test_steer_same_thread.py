"""A learning-rate change asked on the training thread itself (a loop that presses "lr ×½" in its
own code, as lessons do) takes effect at once: the epoch's first step trains with it, and the
history records it for that epoch, not the next."""

from __future__ import annotations

import torch

import losswidget as lw


def test_a_change_at_the_top_of_an_epoch_is_that_epochs_rate_from_its_first_step():
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    monitor = lw.LiveLossMonitor(patience=None, display="none", model=model, optimizer=optimizer)
    used: list[tuple[int, float]] = []
    for epoch in monitor.epochs(4):
        if epoch == 2:
            monitor.set_learning_rate(factor=0.5)
        for _ in range(3):
            used.append((epoch, optimizer.param_groups[0]["lr"]))  # the rate this step trains with
            optimizer.step()
            monitor.log_step(train=1.0)
        monitor.log(val=1.0)
    assert [rate for epoch, rate in used if epoch == 2] == [0.05, 0.05, 0.05]
    assert list(monitor.history["lr"]) == [0.1, 0.1, 0.05, 0.05]
    (event,) = monitor.history.events
    assert (event.epoch, event.old, event.new, event.source) == (2, 0.1, 0.05, "api")


def test_a_change_mid_epoch_on_the_training_thread_leaves_the_epochs_rate_as_it_began():
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    monitor = lw.LiveLossMonitor(patience=None, display="none", model=model, optimizer=optimizer)
    for epoch in monitor.epochs(3):
        for step in range(3):
            optimizer.step()
            monitor.log_step(train=1.0)
            if epoch == 1 and step == 0:
                monitor.set_learning_rate(value=0.02)
        monitor.log(val=1.0)
    assert optimizer.param_groups[0]["lr"] == 0.02
    assert list(monitor.history["lr"]) == [0.1, 0.1, 0.02]  # epoch 1 began at 0.1 and took a step with it
