"""Noise-aware advice: the patience it suggests is not fooled by the noise it measured."""

import numpy as np
import pytest

import losswidget as lw
from losswidget.core.advice import noise_advice

EPOCHS = np.arange(60)


def improving(seed, slope=0.01, noise=0.02):
    return 1.0 - slope * EPOCHS + np.random.default_rng(seed).normal(0.0, noise, EPOCHS.size)


def test_the_advised_patience_rarely_stops_a_run_that_is_still_improving():
    early_short, early_advised = [], []
    for seed in range(200):
        val = improving(seed)  # improving all along: any stop before epoch 60 is the noise's doing
        advice = noise_advice(val[:30])  # what the status said at epoch 30
        assert advice is not None
        early_short.append(lw.would_stop_at(val, 2) is not None)
        early_advised.append(lw.would_stop_at(val, advice.patience) is not None)
    assert np.mean(early_short) > 0.95
    assert np.mean(early_advised) < 0.2


def test_the_advice_reads_the_noise_and_the_trend():
    advice = noise_advice(improving(0))
    assert advice.noise == pytest.approx(0.02, rel=0.35) and advice.slope == pytest.approx(-0.01, rel=0.35)
    assert 4 <= advice.patience <= 14 and 2 <= advice.smoothing <= 5
    assert advice.text(2).endswith(f"with patience 2 a noisy bump could stop you early; try ≥ {advice.patience} "
                                   f"(and smoothing {advice.smoothing} to see the trend).")  # fmt: skip
    assert "are not fooled by it" in advice.text(advice.patience)


@pytest.mark.parametrize(
    "val",
    [
        np.linspace(1.0, 0.5, 7),  # too few epochs
        np.linspace(1.0, 0.5, 30),  # no noise: nothing to be fooled by
        0.5 + np.random.default_rng(1).normal(0, 0.02, 30) + 0.002 * np.arange(30),  # rising: stop, not wait
    ],
)
def test_no_advice_without_noise_a_trend_down_or_enough_epochs(val):
    assert noise_advice(val) is None


def test_the_status_gives_it_and_follows_the_patience_slider():
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for epoch, value in enumerate(improving(3)[:30]):
        monitor.log(train=1.0 - 0.02 * epoch, val=float(value))
    monitor.settings.patience = 2
    line = next(line for line in monitor.status_lines if line.startswith("Validation noise"))
    assert "with patience 2 a noisy bump could stop you early" in line
    monitor.settings.patience = 40
    line = next(line for line in monitor.status_lines if line.startswith("Validation noise"))
    assert "patience ≥" in line and "not fooled" in line
