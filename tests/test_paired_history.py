"""One run, one diagnosis: ``lw.diagnose(monitor.history)`` reads the paired test the monitor read
(the history records its standard error as ``val_diff_se``), also after a JSONL or CSV round trip.
Before, the history kept only the unpaired ``val_se``, and the saved run was diagnosed otherwise
(lessons 02 and 12: "1.7 standard errors, paired" live, "0.2 standard errors, unpaired" saved)."""

from __future__ import annotations

import pytest

import losswidget as lw

torch = pytest.importorskip("torch")


def _overfit_run():
    """A real run that overfits: 150 digits, 20 % wrong labels, per-example validation losses."""
    from torch.utils.data import DataLoader

    from losswidget.datasets import digits

    data = digits(n_train=150, n_val=400, label_noise=0.2, seed=2)
    val_loader = DataLoader(data["val"], batch_size=400)
    x, y = data["train"].tensors
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for _ in monitor.epochs(40):
        model.train()
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        monitor.log(train=loss, val=lw.evaluate(model, val_loader, loss_fn, per_example=True))
    return monitor


def test_the_saved_history_is_diagnosed_as_the_monitor_diagnosed_it(tmp_path):
    monitor = _overfit_run()
    live = monitor._status().diagnosis
    history = monitor.history
    assert "val_diff_se" in history.metric_names
    assert live.kind == "overfitting" and "paired" in live.message, live.message
    assert lw.diagnose(history) == live
    for name in ("run.jsonl", "run.csv"):
        loaded = lw.History.load(history.save(tmp_path / name))
        assert lw.diagnose(loaded) == live, name
    # The column is what makes them agree: without it the history reads the unpaired val_se.
    unpaired = lw.History()
    for row, epoch in enumerate(history.epochs):
        unpaired.log_epoch(int(epoch), {"train": history.train[row], "val": history.val[row],
                                        "val_se": history["val_se"][row]})  # fmt: skip
    assert "unpaired" in lw.diagnose(unpaired).message


def test_the_end_of_a_run_says_the_best_epoch_once():
    """The review: "The best epoch was 43: monitor.restore_best() loads its weights." beside "Best
    validation loss 0.198 at epoch 43." on one screen. One sentence says it, with the restore hint."""
    model = torch.nn.Linear(1, 1)
    monitor = lw.LiveLossMonitor(patience=None, model=model, display="none")
    for epoch in monitor.epochs(6):
        monitor.log(train=1.0 - 0.1 * epoch, val=[0.5, 0.4, 0.45, 0.5, 0.55, 0.6][epoch])
    shown = " ".join(monitor.status_lines)
    assert shown.count("at epoch 1") == 1 and "The best epoch was" not in shown, shown
    assert "Best validation loss 0.4 at epoch 1: monitor.restore_best() loads its weights." in shown
