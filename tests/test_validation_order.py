"""A validation loader that shuffles gives the same examples in another order each epoch: the monitor
pairs two epochs' per-example losses only where they correlate (the same examples in the same order),
else compares them unpaired and says why once. Real torch, real DataLoaders, real training on digits.

And the validation curve's wobble, measured on the curve, holds the part of the sampling error that
changes between epochs: where per-example losses of consecutive epochs were logged, the details say
how large that part is (lesson 10's split), checked on simulated losses whose two parts are known."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest

import losswidget as lw
from losswidget.core.evidence import read_evidence
from losswidget.core.pooled import correlation
from losswidget.core.words import number

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader  # noqa: E402

from losswidget.datasets import digits  # noqa: E402

UNORDERED = "hardly correlate"


def _model(seed: int = 0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))


def _run(shuffle: bool, trained_epochs: int, min_delta_se: float = 0.0):
    """Train ``trained_epochs`` full-batch epochs first, then log 5 epochs of per-example validation
    losses (training on between them), the last after the weights were knocked off their best."""
    data = digits(n_train=300, n_val=400, seed=1)
    loss_fn = torch.nn.CrossEntropyLoss()
    model = _model()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    x, y = data["train"].tensors

    def train_one_epoch() -> float:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(trained_epochs):
        train_one_epoch()
    loader = DataLoader(data["val"], batch_size=100, shuffle=shuffle, generator=torch.Generator().manual_seed(0))
    monitor = lw.LiveLossMonitor(patience=None, min_delta_se=min_delta_se, display="none")
    logged = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for epoch in range(5):
            train = train_one_epoch() if epoch else math.nan
            if epoch == 4:  # worse weights: the last epoch is not the best, the status reads its rise
                with torch.no_grad():
                    for parameter in model.parameters():
                        parameter.add_(0.05 * torch.randn(parameter.shape, generator=torch.Generator().manual_seed(1)))
            losses = lw.evaluate(model, loader, loss_fn, per_example=True)
            logged.append(losses.numpy().copy())
            monitor.log(train=train, val=losses)
    said = [str(w.message) for w in caught if UNORDERED in str(w.message)]
    return monitor, said, logged


def _rise_line(monitor) -> str:
    return next(line for line in monitor.explain().splitlines() if line.startswith("Validation +"))


def test_a_shuffled_validation_loader_is_compared_unpaired_and_said_once():
    monitor, said, logged = _run(shuffle=True, trained_epochs=30)
    assert len(said) == 1, said
    assert said[0].startswith("losswidget: the per-example validation losses of epoch 0 and epoch 1 hardly correlate")
    assert "use shuffle=False for validation" in said[0] and said[0].endswith("Compared unpaired.")
    r = float(said[0].split("(r = ")[1].split(")")[0])
    assert abs(r) < 0.1 and r == pytest.approx(correlation(logged[0], logged[1])[0], abs=0.005)
    assert "val_diff_se" not in monitor.history.metric_names  # nothing recorded as paired
    assert monitor.best_epoch != 4
    assert "unpaired" in _rise_line(monitor) and "paired, the same" not in _rise_line(monitor)


def test_with_min_delta_se_a_shuffled_loaders_standard_error_is_recorded_as_unpaired():
    monitor, said, _ = _run(shuffle=True, trained_epochs=30, min_delta_se=2.0)
    assert len(said) == 1
    history = monitor.history
    assert np.isfinite(history["val_diff_se"][1:]).all()  # recorded for min_delta_se's replay ...
    reading = read_evidence(history, (monitor.best_epoch, monitor.history.val[monitor.best_epoch]))
    assert reading.sampling is not None and not reading.sampling.paired  # ... and read back as unpaired


def test_an_unshuffled_loader_stays_paired_without_a_warning():
    monitor, said, logged = _run(shuffle=False, trained_epochs=30)
    assert said == []
    assert np.isfinite(monitor.history["val_diff_se"][1:]).all()
    assert "paired, the same 400 examples" in _rise_line(monitor)
    assert min(correlation(logged[0], later)[0] for later in logged[1:]) > 0.5


def test_fresh_weights_epochs_0_and_1_in_order_are_paired_without_a_warning():
    monitor, said, logged = _run(shuffle=False, trained_epochs=0)
    assert said == []
    assert math.isfinite(monitor.history["val_diff_se"][1])  # epoch 1 against epoch 0: paired
    assert correlation(logged[0], logged[1])[0] > 0.5


# -- what the validation wobble holds -------------------------------------------------------------------------


def _simulated(rng, epochs: int, n: int, wobble: float, unshared: float, shuffle: bool = False):
    """Per-example losses: each example's own difficulty (shared by every epoch), a falling trend,
    training's wobble (one draw per epoch, every example alike) and each example's own change from
    epoch to epoch (its spread over sqrt(n) is the unshared sampling error per epoch)."""
    difficulty = rng.gamma(2.0, 0.25, n)
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        for epoch in range(epochs):
            level = 0.3 + 0.5 * math.exp(-epoch / 15) + rng.normal(0.0, wobble)
            losses = difficulty + level + rng.normal(0.0, unshared * math.sqrt(n), n)
            monitor.log(train=0.5, val=rng.permutation(losses) if shuffle else losses)
    return monitor


def _wobble_line(monitor) -> str:
    return next(
        line for line in monitor.explain().splitlines() if line.startswith(("Validation epoch-to-epoch", "That wobble"))
    )


def test_the_details_say_the_wobble_holds_the_unshared_sampling_error_and_measure_it():
    rng = np.random.default_rng(3)
    n, wobble, unshared = 400, 0.004, 0.003
    parts, owns = [], []
    for _ in range(10):
        line = _wobble_line(_simulated(rng, 40, n, wobble, unshared))
        assert "measured on the curve: training's wobble plus the part of the validation set's sampling error" in line
        parts.append(float(line.split("that part ≈ ")[1].split(" ")[0]))
        if "training's own wobble ≈ " in line:
            owns.append(float(line.split("training's own wobble ≈ ")[1].split(" ")[0]))
    assert np.mean(parts) == pytest.approx(unshared, rel=0.15)  # the known unshared part, from 20 epochs
    assert np.median(owns) == pytest.approx(wobble, rel=0.35)  # the rest: training's (a robust, noisier reading)


def test_a_shuffled_run_and_a_number_per_epoch_name_the_wobble_without_measuring_its_parts():
    rng = np.random.default_rng(4)
    shuffled = _wobble_line(_simulated(rng, 30, 400, 0.004, 0.003, shuffle=True))
    assert "that part" not in shuffled and re.search(r"that changes between epochs\)?\.$", shuffled)
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for epoch in range(20):
        monitor.log(train=0.5, val=0.3 + 0.002 * epoch + rng.normal(0.0, 0.004))  # rising: no advice line
    line = _wobble_line(monitor)
    assert line.endswith("changes between epochs).") and "that part" not in line
    # the wobble it quotes is the evidence's, the one every sentence reads
    assert f"wobble ≈ {number(read_evidence(monitor.history).val.wobble)} per epoch (measured on the curve" in line
