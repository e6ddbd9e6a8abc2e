"""The evidence every sentence reads: one noise estimator on simulated curves of known noise, rises
in noise units, early stopping's best epoch, and one noise figure per screen."""

from __future__ import annotations

import re

import numpy as np
import pytest

import losswidget as lw
from losswidget.core.evidence import curve_evidence, noise_of, read_evidence
from losswidget.core.replay import best_of


@pytest.mark.parametrize("sigma", [0.002, 0.02, 0.1])
@pytest.mark.parametrize("trend", [0.0, -0.01, 0.005])
def test_the_noise_of_a_curve_with_known_noise_reads_that_noise(sigma, trend):
    rng = np.random.default_rng(0)
    readings = [noise_of(1.0 + trend * np.arange(60) + rng.normal(0, sigma, 60)) for _ in range(300)]
    assert np.mean(readings) == pytest.approx(sigma, rel=0.1)  # unbiased, whatever the trend


def test_one_wild_epoch_does_not_move_the_noise():
    rng = np.random.default_rng(1)
    values = 0.5 + rng.normal(0, 0.01, 40)
    calm = noise_of(values)
    values[20] += 5.0
    assert noise_of(values) == pytest.approx(calm, rel=0.3)


def test_the_trend_and_the_window_are_the_recent_half():
    values = np.concatenate([np.linspace(2.0, 1.0, 30), np.linspace(1.0, 0.7, 30)])
    reading = curve_evidence(values)
    assert reading.window == 30 and reading.trend == pytest.approx(-0.3 / 29, rel=1e-6)
    assert curve_evidence([1.0, np.nan]) is None


@pytest.mark.parametrize(("k", "words"), [(0.5, "within the noise"), (1.5, "could still be noise"), (3.0, "larger")])
def test_a_rise_of_k_true_sigmas_reads_about_k_noise_units_and_is_said_as_sure_as_it_is(k, words):
    sigma, readings, said = 0.01, [], []
    for seed in range(100):
        val = 0.3 + np.random.default_rng(seed).normal(0, sigma, 40)
        val[-1] = val.min() + k * sigma  # the latest epoch sits k true standard deviations above the best
        history = lw.History()
        for epoch, value in enumerate(val):
            history.log_epoch(epoch, {"train": 1.0, "val": float(value)})
        evidence = read_evidence(history)  # the noise as the estimator reads it, not the truth
        readings.append(evidence.in_noise(evidence.rise))
        said.append(evidence.sureness(evidence.rise))
    assert np.median(readings) == pytest.approx(k, rel=0.25)
    assert np.mean([sentence.startswith(words) for sentence in said]) > 0.6


def test_the_best_epoch_is_its_owners_or_early_stoppings_rule_replayed():
    history = lw.History()
    for epoch, value in enumerate([1.0, 0.8, 0.79, 0.9, 0.95]):
        history.log_epoch(epoch, {"val": value})
    assert read_evidence(history).best_epoch == 2 == best_of(history.val)[0]  # replayed: the plain rule
    owner = best_of(history.val, min_delta=0.05)  # what a monitor with min_delta=0.05 holds
    assert read_evidence(history, owner).best_epoch == owner[0] == 1
    assert read_evidence(history, None).best_epoch is None  # an owner with no best yet


def _noise_figures(lines):
    return {float(x) for x in re.findall(r"noise (?:of|≈) ([\d.e-]+)", " ".join(lines))}


def test_the_demo_at_its_early_stop_quotes_one_noise_and_no_advice_against_its_diagnosis():
    from losswidget.demo import train

    monitor = train(400, 20, display="none")
    lines = monitor.status_lines
    diagnosis = next(line for line in lines if line.startswith("Diagnosis:"))
    assert "overfitting" in diagnosis and "× the validation noise of" in diagnosis
    assert len(_noise_figures(lines)) == 1, lines  # the screen quoted two noises
    assert not any(line.startswith("Validation noise") for line in lines)  # no patience advice once it overfits


def test_advice_and_diagnosis_read_the_same_noise_while_the_question_is_open():
    rng = np.random.default_rng(3)
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for epoch in range(40):
        monitor.log(train=1.0 - 0.02 * epoch, val=float(1.0 - 0.01 * epoch + rng.normal(0, 0.02)))
    advice = next(line for line in monitor.status_lines if line.startswith("Validation noise"))
    expected = read_evidence(monitor.history).val.noise
    assert f"{expected:.2g}" in advice
