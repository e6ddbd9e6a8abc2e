"""The evidence every sentence reads: one wobble estimator on simulated curves of known wobble, rises
in wobbles, early stopping's best epoch, and one wobble figure per screen."""

from __future__ import annotations

import re

import numpy as np
import pytest

import losswidget as lw
from losswidget.core.evidence import curve_evidence, read_evidence, wobble_of
from losswidget.core.replay import best_of
from losswidget.core.words import number


@pytest.mark.parametrize("sigma", [0.002, 0.02, 0.1])
@pytest.mark.parametrize("trend", [0.0, -0.01, 0.005])
def test_the_wobble_of_a_curve_with_known_noise_reads_that_noise(sigma, trend):
    rng = np.random.default_rng(0)
    readings = [wobble_of(1.0 + trend * np.arange(60) + rng.normal(0, sigma, 60)) for _ in range(300)]
    assert np.mean(readings) == pytest.approx(sigma, rel=0.1)  # unbiased, whatever the trend


def test_one_wild_epoch_does_not_move_the_wobble():
    rng = np.random.default_rng(1)
    values = 0.5 + rng.normal(0, 0.01, 40)
    calm = wobble_of(values)
    values[20] += 5.0
    assert wobble_of(values) == pytest.approx(calm, rel=0.3)


def test_the_trend_and_the_window_are_the_recent_half():
    values = np.concatenate([np.linspace(2.0, 1.0, 30), np.linspace(1.0, 0.7, 30)])
    reading = curve_evidence(values)
    assert reading.window == 30 and reading.trend == pytest.approx(-0.3 / 29, rel=1e-6)
    assert curve_evidence([1.0, np.nan]) is None


@pytest.mark.parametrize(
    ("k", "words"), [(0.5, "within the wobble"), (1.5, "could still be the wobble"), (3.0, "more than")]
)
def test_a_rise_of_k_true_sigmas_reads_about_k_wobbles_and_is_said_as_sure_as_it_is(k, words):
    sigma, readings, said = 0.01, [], []
    for seed in range(100):
        val = 0.3 + np.random.default_rng(seed).normal(0, sigma, 40)
        val[-1] = val.min() + k * sigma  # the latest epoch sits k true standard deviations above the best
        history = lw.History()
        for epoch, value in enumerate(val):
            history.log_epoch(epoch, {"train": 1.0, "val": float(value)})
        evidence = read_evidence(history)  # the wobble as the estimator reads it, not the truth
        readings.append(evidence.in_wobbles(evidence.rise))
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


def _wobble_figures(lines):
    return {float(x) for x in re.findall(r"wobble (?:of|≈) ([\d.]+)", " ".join(lines))}


def test_the_demo_at_its_early_stop_quotes_one_wobble_and_no_advice_against_its_diagnosis():
    from losswidget.demo import train

    monitor = train(400, 20, display="none")
    lines = monitor.explain().splitlines()
    diagnosis = next(line for line in lines if line.startswith("Diagnosis:"))
    assert "overfitting" in diagnosis and "the wobble of" in diagnosis
    assert len(_wobble_figures(lines)) == 1, lines  # the screen quoted two noises
    assert not any(line.startswith("Validation wobble") for line in lines)  # no patience advice once it overfits
    assert "patience" not in monitor.status_lines[2]


def test_a_bend_is_not_read_as_wobble():
    """Lesson 04's smooth fall (2.10, 1.47, 0.85, 0.58, 0.40 ...) read 0.14 per epoch from first
    differences, and the status advised smoothing 1 "to see the trend"."""
    smooth_fall = 0.25 + 1.85 * np.exp(-0.55 * np.arange(8))
    assert wobble_of(smooth_fall) < 0.04  # first differences read 0.116 here


def test_advice_and_diagnosis_read_the_same_wobble_while_the_question_is_open():
    rng = np.random.default_rng(3)
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for epoch in range(40):
        monitor.log(train=1.0 - 0.02 * epoch, val=float(1.0 - 0.01 * epoch + rng.normal(0, 0.02)))
    advice = next(line for line in monitor.explain().splitlines() if line.startswith("Validation wobble"))
    expected = read_evidence(monitor.history).val.wobble
    assert f"≈ {number(expected)} per epoch" in advice
