"""Validation uncertainty from the data itself: per-example validation losses give the epoch's mean
and its standard error, and the status says whether the rise since the best epoch is beyond it,
checked on simulated validation sets where the true rise is known."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import losswidget as lw
from losswidget.core.evidence import rise_test, sample_mean

N = 400


def _epoch_losses(rng, base, shift, sigma=0.05):
    return base + shift + rng.normal(0.0, sigma, base.size)


def test_log_records_the_mean_and_its_standard_error_and_files_keep_it(tmp_path):
    torch = pytest.importorskip("torch")
    losses = np.random.default_rng(0).gamma(2.0, 0.2, N)
    monitor = lw.LiveLossMonitor(display="none")
    monitor.log(train=1.0, val=torch.tensor(losses))
    assert monitor.history.val[-1] == pytest.approx(losses.mean())
    assert monitor.history["val_se"][-1] == pytest.approx(losses.std(ddof=1) / math.sqrt(N))
    assert "val_se" not in monitor._build_frame().metrics  # a property of the val curve, not a panel
    assert lw.History.load(monitor.history.save(tmp_path / "run.jsonl")) == monitor.history


@pytest.mark.parametrize("k", [0.0, 0.5, 4.0, 8.0])
def test_a_rise_of_k_paired_standard_errors_reads_k_and_is_called_real_only_beyond_the_borderline(k):
    rng = np.random.default_rng(1)
    sigma = 0.05
    paired_se = sigma * math.sqrt(2.0) / math.sqrt(N)  # the truth: the noise the simulation adds
    readings = []
    for _ in range(200):
        base = rng.gamma(2.0, 0.2, N)  # the same examples at both epochs: their spread cancels
        best = _epoch_losses(rng, base, 0.0, sigma)
        latest = _epoch_losses(rng, base, k * paired_se, sigma)
        readings.append(rise_test(latest, best, sample_mean(latest)[1], sample_mean(best)[1]))
    assert all(reading.paired for reading in readings)
    assert np.mean([reading.units for reading in readings]) == pytest.approx(k, abs=0.2)
    real = np.mean(["a real rise" in reading.sentence(3) for reading in readings])
    if k >= 4:  # real beyond 2.3 (below it, borderline): a reading of a true 4 falls under 2.3 about 1 in 22
        assert real > 0.9
    elif k == 0:
        assert real < 0.1  # a false alarm about one time in twenty, as two standard errors promise


def test_the_status_says_whether_the_rise_since_the_best_epoch_is_real():
    rng = np.random.default_rng(2)
    base = rng.gamma(2.0, 0.2, N)
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    shifts = [0.3, 0.2, 0.1, 0.0, 0.001, 0.002]  # falls to epoch 3, then rises by a hair
    for epoch, shift in enumerate(shifts):
        monitor.log(train=1.0 - 0.1 * epoch, val=_epoch_losses(rng, base, shift, 0.05))
    line = next(line for line in monitor.explain().splitlines() if line.startswith("Validation +"))
    assert "since the best epoch 3" in line and "paired, the same 400 examples" in line
    assert line.endswith("within the sampling error.")
    for shift in (0.05, 0.06):
        monitor.log(train=0.3, val=_epoch_losses(rng, base, shift, 0.05))
    line = next(line for line in monitor.explain().splitlines() if line.startswith("Validation +"))
    assert re.search(
        r"standard errors \(sampling error, paired, the same 400 examples\): a real rise, [\d.]+ \([\d.]+ % of the best\)\.$",
        line,
    )


def test_a_rejected_log_keeps_nothing_and_a_number_still_works():
    monitor = lw.LiveLossMonitor(display="none")
    with pytest.raises(TypeError, match="'acc'"):
        monitor.log(val=np.ones(10), acc="high")
    assert len(monitor.history) == 0
    monitor.log(val=0.5)
    assert "val_se" not in monitor.history.metric_names
    assert not any(line.startswith("Validation +") for line in monitor.explain().splitlines())
    with pytest.raises(ValueError, match="empty"):
        sample_mean([])


def test_evaluate_per_example_gives_one_loss_per_example_in_order_and_leaves_the_loss_fn_alone():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    x, y = torch.randn(50, 4), torch.randint(0, 3, (50,))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses = lw.evaluate(model, loader, loss_fn, per_example=True)
    with torch.no_grad():
        expected = torch.nn.functional.cross_entropy(model(x), y, reduction="none").double()
    assert losses.shape == (50,) and torch.allclose(losses, expected)
    assert loss_fn.reduction == "mean"  # a copy was asked, not the user's module
    assert float(losses.mean()) == pytest.approx(lw.evaluate(model, loader, loss_fn))
    plain = lw.evaluate(
        model, loader, lambda out, target: torch.nn.functional.cross_entropy(out, target), per_example=True
    )
    assert torch.allclose(plain, expected)  # a function: called once per example
    both = lw.evaluate(model, loader, loss_fn, per_example=True, metrics={"acc": lw.accuracy})
    assert torch.allclose(both["loss"], expected) and 0 <= both["acc"] <= 1
    monitor = lw.LiveLossMonitor(display="none")
    monitor.log(train=1.0, val=losses)
    assert monitor.history["val_se"][-1] == pytest.approx(float(expected.std() / math.sqrt(50)))
    with pytest.raises(TypeError, match="'per_example' must be"):
        lw.evaluate(model, loader, loss_fn, per_example="yes")
