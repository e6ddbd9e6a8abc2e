"""A plain-language reading of the loss curves, for people learning what they mean.

:func:`diagnose` looks at per-epoch train and validation losses and returns one
of six kinds, checked in this order:

1. ``"insufficient data"``: fewer than ``min_epochs`` (5) epochs with a finite
   monitored loss (validation if any was logged, else training).
2. ``"diverged"``: a logged loss is +/-inf; or the last epoch's train or
   validation loss is NaN where the epoch before had a number; or the smoothed
   training loss ends above its first value and more than twice its minimum.
3. ``"overfitting"``: the validation minimum is at least 3 epochs old, the
   smoothed validation loss has since risen by more than the epoch-to-epoch
   noise (and by over 1 % of the minimum), and the smoothed training loss has
   fallen since the minimum by more than twice its own noise (and 1 %). Noise
   is measured from the minimum's neighbourhood on (not the first epochs' large
   moves), smoothing spans at most half the epochs since the minimum (a fresh
   rise is not averaged away). With fewer than 6 epochs since the minimum or a
   rise under twice the noise, the message starts "probably overfitting" and
   says why.
4. ``"underfitting"``: the recent trend is flat (see 5), training has removed
   less than half of the initial training loss, and validation loss is within
   15 % of training loss: both high and close together.
5. ``"plateau"``: over the last quarter of the run (at least 5 epochs) the
   smoothed monitored loss fell by less than the noise or 1 % of its value.
6. ``"learning"``: none of the above, the losses are still falling.

Trends are always judged on curves smoothed over up to 5 epochs (window
``n // 5``), with noise estimated robustly from successive differences, so a
single noisy epoch never changes the verdict. ``since_epoch`` is the epoch the
condition started (the validation minimum for overfitting), or None.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from losswidget.core.smoothing import smooth
from losswidget.core.validate import check_int

__all__ = ["KINDS", "Diagnosis", "diagnose"]

KINDS = ("learning", "overfitting", "underfitting", "plateau", "diverged", "insufficient data")


@dataclass(frozen=True)
class Diagnosis:
    kind: str
    since_epoch: int | None
    message: str

    def __str__(self) -> str:
        return self.message


def _g(value: float) -> str:
    return f"{value:.3g}"


def _noise(values: np.ndarray) -> float:
    """Robust per-point noise: scaled median absolute successive difference."""
    if values.size < 3:
        return 0.0
    return float(1.4826 * np.median(np.abs(np.diff(values))) / np.sqrt(2.0))


def _diverged(epochs: np.ndarray, train: np.ndarray, val: np.ndarray, window: int) -> Diagnosis | None:
    for name, values in (("training", train), ("validation", val)):
        infinite = np.flatnonzero(np.isinf(values))
        if infinite.size:
            epoch = int(epochs[infinite[0]])
            return Diagnosis(
                "diverged",
                epoch,
                f"{name} loss became infinite at epoch {epoch}: training has diverged. "
                "Lower the learning rate, or clip gradients.",
            )
        if values.size >= 2 and np.isnan(values[-1]) and np.isfinite(values[-2]):
            epoch = int(epochs[-1])
            return Diagnosis(
                "diverged",
                epoch,
                f"{name} loss is NaN (not a number) at epoch {epoch}: training has diverged. "
                "Lower the learning rate, check the data for NaNs, or clip gradients.",
            )
    finite = np.isfinite(train)
    if finite.sum() >= 3:
        smoothed = smooth(train[finite], window)
        lowest = int(smoothed.argmin())
        if smoothed[-1] > smoothed[0] and smoothed[-1] > 2 * smoothed[lowest] and smoothed[lowest] > 0:
            epoch = int(epochs[finite][lowest])
            return Diagnosis(
                "diverged",
                epoch,
                f"training loss has grown from {_g(smoothed[lowest])} at epoch {epoch} to "
                f"{_g(smoothed[-1])}, above where it started: training is diverging. "
                "Lower the learning rate.",
            )
    return None


def _overfitting(epochs: np.ndarray, train: np.ndarray, val: np.ndarray, window: int) -> Diagnosis | None:
    rows = np.isfinite(val) & np.isfinite(train)
    if rows.sum() < 5:
        return None
    v, t, e = val[rows], train[rows], epochs[rows]
    best = int(v.argmin())
    after = v.size - 1 - best
    if after < 3:
        return None
    # Noise from the minimum's neighbourhood on, not from the first epochs' large moves; smoothing
    # over at most half the epochs since the minimum, so a fresh rise is not averaged away.
    start = max(0, best - max(after, 10))
    window = max(min(window, 2), min(window, after // 2))
    vs, ts = smooth(v, window), smooth(t, window)
    rise = vs[-1] - vs[best:].min()
    threshold = max(_noise(v[start:]), 0.01 * abs(v[best]))
    train_drop = ts[best] - ts[-1]
    if rise <= threshold or train_drop <= max(2 * _noise(t[start:]), 0.01 * abs(ts[best])):
        return None
    best_epoch = int(e[best])
    thin = [f"only {after} epochs since the minimum"] if after < 6 else []
    if rise < 2 * threshold:
        thin.append(f"a rise of {_g(rise)}, under twice the epoch-to-epoch noise")
    opening = f"probably overfitting ({'; '.join(thin)}): " if thin else ""
    return Diagnosis(
        "overfitting",
        best_epoch,
        f"{opening}validation loss has risen for {after} epochs since its minimum at epoch {best_epoch} "
        f"({_g(v[best])} → {_g(v[-1])}) while training loss kept falling "
        f"({_g(t[best])} → {_g(t[-1])}): the model is memorising the training data. "
        f"The weights of epoch {best_epoch} generalise best; more data, regularisation "
        "or a smaller model would help.",
    )


def _flat_since(epochs: np.ndarray, values: np.ndarray, window: int) -> int | None:
    """Epoch from which ``values`` stopped falling meaningfully, or None if still falling."""
    smoothed = smooth(values, window)
    recent = max(5, values.size // 4)
    if values.size < recent + 1:
        return None
    drop = smoothed[-recent - 1] - smoothed[-1]
    threshold = max(_noise(values), 0.01 * abs(smoothed[-1]))
    if drop >= threshold:
        return None
    return int(epochs[-recent - 1])


def diagnose(history, min_epochs: int = 5) -> Diagnosis:
    """Say in plain words what the curves of ``history`` show (rules in the module docstring)."""
    min_epochs = check_int("min_epochs", min_epochs, minimum=2)
    for attribute in ("epochs", "train", "val"):
        if not hasattr(history, attribute):
            raise TypeError(f"'history' must be a losswidget History: got {type(history).__name__}")
    epochs = np.asarray(history.epochs)
    train = np.asarray(history.train, dtype=np.float64)
    val = np.asarray(history.val, dtype=np.float64)
    has_val = bool(np.isfinite(val).any())
    monitored, monitored_name = (val, "validation") if has_val else (train, "training")
    finite = np.isfinite(monitored)
    count = int(finite.sum())
    window = max(1, min(5, count // 5))

    if count < min_epochs and not np.isinf(monitored).any():
        return Diagnosis(
            "insufficient data",
            None,
            f"{count} epoch{'s' if count != 1 else ''} of {monitored_name} loss so far: "
            f"too few to judge a trend (at least {min_epochs} are needed).",
        )
    diverged = _diverged(epochs, train, val, window)
    if diverged:
        return diverged
    if has_val:
        overfitting = _overfitting(epochs, train, val, window)
        if overfitting:
            return overfitting

    flat_since = _flat_since(epochs[finite], monitored[finite], window)
    if flat_since is not None:
        t = train[np.isfinite(train)]
        if has_val and t.size >= 2:
            v_end = smooth(monitored[finite], window)[-1]
            t_end = smooth(t, window)[-1]
            learned_little = t_end > 0.5 * t[0]
            close = abs(v_end - t_end) <= 0.15 * max(abs(t_end), 1e-12)
            if learned_little and close:
                return Diagnosis(
                    "underfitting",
                    flat_since,
                    f"training and validation loss are both high and close together "
                    f"(train {_g(t_end)}, validation {_g(v_end)}) and have stopped improving since "
                    f"epoch {flat_since}: the model is too simple for the data. Try a larger model, "
                    "better features or a higher learning rate.",
                )
        return Diagnosis(
            "plateau",
            flat_since,
            f"{monitored_name} loss has barely changed since epoch {flat_since}: training has "
            "plateaued. More epochs are unlikely to help; stop here, or try a learning-rate "
            "schedule.",
        )
    if has_val:
        message = "training and validation loss are still falling: the model is learning; keep training."
    else:
        message = "training loss is still falling: the model is learning (log a validation loss to see overfitting)."
    return Diagnosis("learning", None, message)
