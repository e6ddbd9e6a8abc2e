"""A labelled table of loss curves: what a teacher would say at that moment.

Synthetic shapes (clean and noisy, several sizes of rise, cut at the epoch early stopping would
fire) and real small runs. Each case is (name, train, val, expected kind). Used by
tests/test_diagnosis_table.py; extend it when a reading is wrong in class.
"""

from __future__ import annotations

import numpy as np


def _noise(n: int, sigma: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, sigma, n)


def decay(n: int, start: float = 1.0, floor: float = 0.1, rate: float = 0.1) -> np.ndarray:
    return floor + (start - floor) * np.exp(-rate * np.arange(n))


def overfitting_curve(n: int, minimum_at: int, rise: float, floor: float = 0.3) -> np.ndarray:
    """Validation loss falling to ``floor`` at ``minimum_at`` then rising by ``rise`` (a fraction of
    the floor) by the last epoch, roughly quadratically: the classical U."""
    epochs = np.arange(n, dtype=float)
    falling = floor + (1.0 - floor) * np.exp(-4.0 * epochs / max(minimum_at, 1))
    falling -= falling[minimum_at] - floor
    after = np.clip(epochs - minimum_at, 0, None) / max(n - 1 - minimum_at, 1)
    return np.where(epochs <= minimum_at, falling, floor * (1 + rise * after**1.5))


def synthetic_cases() -> list[tuple[str, np.ndarray, np.ndarray, str]]:
    cases = []
    # Overfitting: the U, at several rises, noise levels and run lengths.
    for n, minimum_at in ((40, 15), (60, 25), (100, 40)):
        for rise in (0.1, 0.3, 0.8):
            for sigma in (0.0, 0.005):
                train = decay(n, floor=0.02, rate=0.06) + _noise(n, sigma / 2, 1)
                val = overfitting_curve(n, minimum_at, rise) + _noise(n, sigma, 2)
                cases.append(
                    (f"overfitting n={n} min@{minimum_at} rise={rise} noise={sigma}", train, val, "overfitting")
                )
    # The moment early stopping fires: patience epochs after the minimum (cut there).
    for patience in (5, 10, 20):
        n, minimum_at = 30 + patience, 30
        train = decay(n, floor=0.02, rate=0.08) + _noise(n, 0.002, 3)
        val = overfitting_curve(n, minimum_at, 0.15) + _noise(n, 0.004, 4)
        val[minimum_at] = val.min() - 0.01  # the minimum early stopping counted from
        cases.append((f"early stop, patience {patience}", train, val, "overfitting"))
    # Learning: both still falling, clean and noisy.
    for n in (10, 30, 60):
        for sigma in (0.0, 0.01):
            train = decay(n, floor=0.0, rate=3.0 / n) + _noise(n, sigma, 5)
            val = decay(n, floor=0.05, rate=3.0 / n) + 0.05 + _noise(n, sigma, 6)
            cases.append((f"learning n={n} noise={sigma}", train, val, "learning"))
    # Plateau: both curves flat for the last half.
    for n in (30, 60):
        for sigma in (0.0, 0.003):
            train = np.concatenate([decay(n // 2, floor=0.2, rate=0.5), np.full(n - n // 2, 0.2)]) + _noise(n, sigma, 7)
            val = train + 0.05 + _noise(n, sigma, 8)
            cases.append((f"plateau n={n} noise={sigma}", train, val, "plateau"))
    # Underfitting: both high and close together, flat.
    for n in (20, 50):
        train = 0.8 + 0.2 * np.exp(-np.arange(n) / 3.0)
        val = train * 1.05
        cases.append((f"underfitting n={n}", train, val, "underfitting"))
    # Diverged: the loss grows past where it started, or becomes inf / NaN.
    for n in (15, 30):
        train = np.concatenate([decay(n // 3, rate=0.3), np.geomspace(0.5, 50, n - n // 3)])
        cases.append((f"diverging n={n}", train, train * 1.1, "diverged"))
    train = decay(12)
    train[-1] = np.inf
    cases.append(("loss became inf", train, decay(12) + 0.1, "diverged"))
    val = decay(12) + 0.1
    val[-1] = np.nan
    cases.append(("validation became NaN", decay(12), val, "diverged"))
    # Too few epochs to say anything.
    for n in (1, 3, 4):
        cases.append((f"{n} epochs", decay(n), decay(n) + 0.1, "insufficient data"))
    return cases


def demo_run(patience: int | None = 20, epochs: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """The terminal demo (a wide network overfitting 20 noisy points). With patience 20, as early
    stopping left it: fired at epoch 63, validation 9 % above its minimum at epoch 43, training 22 %
    lower. Without it, notebook 02's 300 epochs."""
    from losswidget.demo import train

    history = train(epochs, patience, display="none").history
    return history.train.copy(), history.val.copy()
