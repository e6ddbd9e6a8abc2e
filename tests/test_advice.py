"""Wobble-aware advice: the patience it suggests is not fooled by the epoch-to-epoch wobble it measured."""

import numpy as np
import pytest

import losswidget as lw
from losswidget.core.advice import wobble_advice

EPOCHS = np.arange(60)


def improving(seed, slope=0.01, noise=0.02):
    return 1.0 - slope * EPOCHS + np.random.default_rng(seed).normal(0.0, noise, EPOCHS.size)


def test_the_advised_patience_rarely_stops_a_run_that_is_still_improving():
    early_short, early_advised = [], []
    for seed in range(200):
        val = improving(seed)  # improving all along: any stop before epoch 60 is the noise's doing
        advice = wobble_advice(val[:30])  # what the status said at epoch 30
        assert advice is not None
        early_short.append(lw.would_stop_at(val, 2) is not None)
        early_advised.append(lw.would_stop_at(val, advice.patience) is not None)
    assert np.mean(early_short) > 0.95
    assert np.mean(early_advised) < 0.2


def test_the_advice_reads_the_noise_and_the_trend():
    readings = [wobble_advice(improving(seed)) for seed in range(40)]
    assert np.mean([advice.wobble for advice in readings]) == pytest.approx(0.02, rel=0.1)
    assert np.mean([advice.slope for advice in readings]) == pytest.approx(-0.01, rel=0.1)
    advice = readings[0]
    assert 4 <= advice.patience <= 14 and 2 <= advice.smoothing <= 5
    assert advice.text(2).endswith(f"with patience 2 a wobble could stop the run while it still improves: try patience "
                                   f"≥ {advice.patience} and smoothing {advice.smoothing} to see the trend.")  # fmt: skip
    assert advice.text(advice.patience).endswith(f"patience ≥ {advice.patience} rides it out.")
    assert advice.short(advice.patience) == ""  # nothing to do: the status says nothing
    assert "smoothing" not in advice.short(2, smoothing=advice.smoothing)  # the chart already smooths enough


@pytest.mark.parametrize(
    "val",
    [
        np.linspace(1.0, 0.5, 7),  # too few epochs
        np.linspace(1.0, 0.5, 30),  # no wobble: nothing to be fooled by
        0.5 + np.random.default_rng(1).normal(0, 0.02, 30) + 0.002 * np.arange(30),  # rising: stop, not wait
    ],
)
def test_no_advice_without_wobble_a_trend_down_or_enough_epochs(val):
    assert wobble_advice(val) is None


def test_the_status_gives_it_while_early_stopping_can_act_and_follows_the_patience_slider():
    monitor = lw.LiveLossMonitor(patience=40, display="none")
    said = []
    for epoch in monitor.epochs(30):
        monitor.log(train=1.0 - 0.02 * epoch, val=float(improving(3)[epoch]))
        if epoch == 29:  # the loop runs with early stopping on: the patience is a live question
            monitor.settings.patience = 2
            said = monitor.status_lines
            monitor.settings.patience = 40
    assert "Diagnosis: Learning" in said[1]
    assert "with patience 2 a wobble could stop the run while it still improves" in said[2]
    # The loop ran all its epochs: no patience advice for a run it can no longer stop (lesson 04).
    monitor.settings.patience = 2
    assert "patience" not in monitor.status_lines[2], monitor.status_lines
    line = next(line for line in monitor.explain().splitlines() if line.startswith("Validation wobble"))
    assert "could stop" not in line and "patience ≥" in line and "rides it out" in line


def test_with_early_stopping_off_the_status_never_advises_a_patience():
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for epoch, value in enumerate(improving(3)[:30]):
        monitor.log(train=1.0 - 0.02 * epoch, val=float(value))
    monitor.settings.patience = 2
    assert "Diagnosis: Learning" in monitor.status_lines[1]
    assert monitor.status_lines[2] == "Keep training."
