"""Faults a run meets outside the user's code: side files that cannot be written, bad paths.

The rule: refuse at construction what can never work; when a side file fails mid-run, training
goes on, the best weights stay in memory (and come back), and a warning and the status line
name the file. Disk-full faults are real: a subprocess with a file-size limit (RLIMIT_FSIZE).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import losswidget as lw

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("", ValueError, "'best_weights_file' is empty"),
        (".", ValueError, "is a folder"),
        ("/proc/losswidget/best.pt", ValueError, "cannot be written"),
        (3, TypeError, "'best_weights_file' must be a path: got int"),
    ],
)
def test_a_best_weights_file_that_can_never_be_written_is_refused_at_once(path, error, message):
    with pytest.raises(error, match=message):
        lw.LiveLossMonitor(best_weights_file=path, display="none")


def test_the_best_weights_file_is_written_off_the_training_thread_and_complete_at_the_end(tmp_path):
    model = torch.nn.Linear(3, 1)
    path = tmp_path / "deep" / "best.pt"
    monitor = lw.LiveLossMonitor(patience=2, model=model, best_weights_file=path, display="none")
    for epoch in monitor.epochs(20):
        with torch.no_grad():
            model.weight.fill_(epoch)
        monitor.log(val=abs(epoch - 4) + 1.0)
    assert monitor.best_epoch == 4
    assert torch.load(path, weights_only=True)["weight"].flatten().tolist() == [4.0, 4.0, 4.0]
    assert not list(tmp_path.rglob("*.partial"))


DISK_FULL = """
import resource, signal, sys, warnings, torch, losswidget as lw
log, best, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
model = torch.nn.Linear(64, 64)
monitor = lw.LiveLossMonitor(patience=3, model=model, log_file=log, best_weights_file=best, display="none")
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for epoch in monitor.epochs(40):
        with torch.no_grad():
            model.weight.fill_(epoch)
        for step in range(20):
            monitor.log_step(train=1.0 / (epoch + 1))
        monitor.log(train=1.0 / (epoch + 1), val=abs(epoch - 10) + 1.0)
print(json.dumps({
    "epochs": len(monitor.history), "stop": str(monitor.stop_code), "best": monitor.best_epoch,
    "restored": model.weight[0, 0].item(), "warnings": [str(w.message) for w in caught],
    "status": monitor.status_lines,
}))
"""


@pytest.mark.parametrize("limit", [600, 3_000, 12_000])
def test_a_full_disk_never_stops_training_or_loses_the_best_weights(tmp_path, limit):
    script = tmp_path / "train.py"
    script.write_text("import json\n" + textwrap.dedent(DISK_FULL))
    log, best = tmp_path / "run.jsonl", tmp_path / "best.pt"
    result = subprocess.run(
        [sys.executable, str(script), str(log), str(best), str(limit)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Exception ignored" not in result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["epochs"] == 14 and outcome["stop"] == "StopReason.PATIENCE"  # the loop ran as without a disk
    assert outcome["best"] == 10 and outcome["restored"] == 10.0  # best weights back from memory
    said = " ".join(outcome["warnings"]) + " ".join(outcome["status"])
    assert str(best) in said and "could not be written" in said  # 17 KB of weights never fit
    if limit < 10_000:  # the log (~7 KB) hit the limit too: it says so and names the file
        assert str(log) in said and "the history is complete in memory" in said
    else:
        assert str(log) not in said
    assert not list(Path(tmp_path).glob("*.partial"))
    with warnings.catch_warnings():  # a torn last line loads with a warning: what was written is kept
        warnings.simplefilter("ignore")
        loaded = lw.History.load(log)
    assert loaded.epochs.tolist() == list(range(loaded.epochs.size)) and loaded.epochs.size >= 1


def test_new_run_with_a_log_file_saves_every_run(tmp_path):
    log = tmp_path / "runs" / "cap.jsonl"
    monitor = lw.LiveLossMonitor(log_file=log, display="none")
    for epoch in monitor.epochs(3):
        monitor.log(train=1.0, val=1.0 / (epoch + 1))
    monitor.new_run("wider")
    for epoch in monitor.epochs(2):
        monitor.log(train=0.5, val=0.5 / (epoch + 1))
    monitor.new_run("widest")
    monitor.log(val=0.1)
    monitor._recorder.flush_steps()
    first, second, third = (
        lw.History.load(tmp_path / "runs" / name) for name in ("cap.jsonl", "cap.run2.jsonl", "cap.run3.jsonl")
    )
    assert (len(first), len(second), len(third)) == (3, 2, 1)
    assert second.name == "wider" and third.name == "widest"


def _fit_setup():
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    train = DataLoader(TensorDataset(torch.randn(32, 3), torch.randn(32, 1)), batch_size=8)
    val = DataLoader(TensorDataset(torch.randn(16, 3), torch.randn(16, 1)), batch_size=8)
    model = torch.nn.Linear(3, 1)
    return model, train, val, torch.optim.SGD(model.parameters(), lr=0.1)


def _empty_loader():
    from torch.utils.data import DataLoader, TensorDataset

    return DataLoader(TensorDataset(torch.randn(0, 3), torch.randn(0, 1)), batch_size=8)


MSE = torch.nn.functional.mse_loss


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"model": None}, TypeError, r"fit\(\): 'model' must be a torch.nn.Module: got NoneType"),
        ({"metrics": {"loss": lw.accuracy}}, ValueError, "'metrics' cannot use the name 'loss'"),
        ({"metrics": {"val": MSE}}, ValueError, "'metrics' cannot use the name 'val'"),
        ({"metrics": {"train": MSE}}, ValueError, "'metrics' cannot use the name 'train'"),
        ({"metrics": {"lr": MSE}}, ValueError, "'metrics' cannot use the name 'lr'"),
        ({"metrics": {"epoch": MSE}}, ValueError, "'metrics' cannot use the name 'epoch'"),
        ({"device": "garbage"}, ValueError, "'device' must name a torch device .*: got 'garbage'"),
        ({"loss_fn": lambda o, t: 0.5}, TypeError, r"loss_fn returned a float \(0.5\), not a tensor"),
        ({"loss_fn": lambda o, t: "low"}, TypeError, r"loss_fn returned a str \('low'\), not a tensor"),
        ({"loss_fn": lambda o, t: MSE(o, t).detach()}, ValueError, "does not require grad"),
        ({"val_loader": "empty"}, ValueError, "'val_loader' yields no batches"),
    ],
)
def test_fit_refuses_what_would_silently_change_meaning_or_fail_late(change, error, message):
    model, train, val, optimizer = _fit_setup()
    arguments = dict(model=model, train_loader=train, val_loader=val, loss_fn=MSE, optimizer=optimizer, epochs=3)
    arguments.update({k: (_empty_loader() if v == "empty" else v) for k, v in change.items()})
    monitor = lw.LiveLossMonitor(display="none")
    with pytest.raises(error, match=message):
        lw.fit(**arguments, monitor=monitor)
    assert len(monitor.history) == 0 and monitor.history.n_steps == 0  # nothing half-recorded


def test_evaluate_refuses_a_metric_named_loss():
    model, _, val, _ = _fit_setup()
    with pytest.raises(ValueError, match="'metrics' cannot use the name 'loss'"):
        lw.evaluate(model, val, MSE, metrics={"loss": lw.accuracy})
    with pytest.raises(TypeError, match=r"evaluate\(\): 'model' must be a torch.nn.Module"):
        lw.evaluate(None, val, MSE)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (10**400, ValueError, "'train' is too large for a float"),
        (10**100_000, ValueError, "an int of about 100000 digits"),
        (torch.tensor(True), TypeError, "'train' must be a number: got a bool tensor"),
        (torch.tensor([False]), TypeError, "bool tensor"),
    ],
    ids=["10**400", "10**100000", "bool-tensor", "bool-tensor-1"],
)
def test_values_that_are_not_losses_are_refused_and_change_nothing(value, error, message):
    monitor = lw.LiveLossMonitor(display="none")
    monitor.log(train=1.0)
    for call in (lambda: monitor.log(train=value), lambda: monitor.log_step(train=value)):
        with pytest.raises(error, match=message):
            call()
    monitor._recorder.flush_steps()
    assert len(monitor.history) == 1 and monitor.history.n_steps == 0


def test_a_run_whose_every_step_is_nan_stops():
    monitor = lw.LiveLossMonitor(display="none")
    for _epoch in monitor.epochs(100):
        for _ in range(5):
            monitor.log_step(train=float("nan"))
    assert monitor.history.step_epoch.max() == 0 and monitor.stop_code is lw.StopReason.NON_FINITE
    assert "every training step of epoch 0 logged NaN/inf" in monitor.stopped_reason


def test_values_near_the_float64_limit_give_a_finite_json_axis():
    monitor = lw.LiveLossMonitor(display="none")
    for value in (1.7e308, -1.7e308, 1e300, 0.5):
        monitor.log(train=value, val=abs(value))
    frame = monitor._build_frame()
    json.dumps(frame.y_range, allow_nan=False)
