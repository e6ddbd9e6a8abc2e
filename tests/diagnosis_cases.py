"""A labelled table of loss curves: what a teacher would say at that moment.

Synthetic shapes (clean and noisy, several sizes of rise, cut at the epoch early stopping would
fire) and real small runs. Each case is (name, train, val, expected kind). Used by
tests/test_diagnosis_table.py; extend it when a reading is wrong in class.
"""

from __future__ import annotations

import math

import numpy as np


def overfit_history(rates=None, se=None):
    """A clean overfit as a History: validation bottoms at epoch 20, then rises 0.04 per epoch, training
    keeps falling; no wobble at all (a full-batch run's smooth curve). ``rates``: each epoch's ``lr``;
    ``se``: every epoch's ``val_se``."""
    import losswidget as lw

    history = lw.History()
    for e in range(30):
        values = {"train": 2.0 * math.exp(-e / 8), "val": 1.5 - 0.05 * e if e <= 20 else 0.5 + 0.04 * (e - 20)}
        if rates is not None:
            values["lr"] = rates[e]
        if se is not None:
            values["val_se"] = se
        history.log_epoch(e, values)
    return history


def with_paired(history, se):
    """``history`` with a recorded paired standard error ``se`` (as a monitor with per-example
    validation writes it) at every epoch after the first."""
    import losswidget as lw

    out = lw.History()
    for row, epoch in enumerate(history.epochs):
        values = {"train": history.train[row], "val": history.val[row], "val_se": 0.05}
        values.update({name: history[name][row] for name in history.metric_names})
        if row:
            values["val_diff_se"] = se
        out.log_epoch(int(epoch), values)
    return out


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


def begins_curves(n: int = 51, best_at: int = 35, sigma: float = 0.006) -> tuple[np.ndarray, np.ndarray]:
    """(train, val) where overfitting begins: validation level after its best at ``best_at`` (0.228 with
    noise ``sigma``), training still falling."""
    train = 0.05 + 0.25 * np.exp(-np.arange(n) / 40.0) + _noise(n, sigma / 4, 9)
    val = np.empty(n)
    val[: best_at + 1] = 0.225 + 0.5 * (np.exp(-np.arange(best_at + 1) / 6.0) - np.exp(-best_at / 6.0))
    val[best_at + 1 :] = 0.228 + _noise(n - best_at - 1, sigma, 10)
    val[best_at] = 0.225 - sigma  # the minimum early stopping counted from
    return train, val


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
    # Not learning: the training loss does not move from the start (a dead ReLU: ln 10 throughout).
    for n in (20, 40):
        train = np.full(n, math.log(10)) + _noise(n, 0.001, 9)
        cases.append((f"not learning n={n}", train, train + 0.002, "not learning"))
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
    # Overfitting begins: validation has stopped improving (flat, within its noise) while training
    # still clearly falls; the moment early stopping fires on a small, noisy validation set
    # (issue 25: best 0.225 at epoch 35, 0.241 at epoch 50, training 0.127 -> 0.096).
    for n, best_at, sigma in ((51, 35, 0.006), (60, 40, 0.004), (40, 25, 0.0)):
        train, val = begins_curves(n, best_at, sigma)
        cases.append((f"overfitting begins n={n} best@{best_at} noise={sigma}", train, val, "overfitting begins"))
    # The same run, its last epoch back near its best: within the wobble, not clear yet.
    train, val = begins_curves(51, 35, 0.006)
    val[-1] = val[35] + 0.002
    cases.append(("overfitting may begin n=51 best@35 noise=0.006", train, val, "not clear yet"))
    # A Stop pressed during the first noisy epochs (Adam's large early steps): not divergence, and
    # too noisy for any trend yet.
    train = np.array([1.9, 0.9, 1.6, 0.7, 1.3, 0.6, 1.1, 0.55, 0.95, 0.5])
    cases.append(("noisy first epochs", train, train + 0.3, "insufficient data"))
    # One bad epoch after the curves have flattened is a bump, not divergence.
    train = decay(20, floor=0.1, rate=0.3)
    train[-1] = 1.5
    cases.append(("one bad last epoch", train, train + 0.05, "plateau"))
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
