"""A plain-language reading of the loss curves, for people learning what they mean.

:func:`diagnose` looks at per-epoch train and validation losses and returns one of nine kinds,
checked in this order; a verdict its evidence cannot settle is ``"not clear yet"``, its own kind.
Every wobble it uses or quotes is the one estimator of :mod:`losswidget.core.evidence`, the same
figure the advice quotes; a claim about which weights generalise better rests on the sampling error
(per-example losses) or says that it is unknown. The words are :mod:`losswidget.core.words`'s.

1. ``"insufficient data"``: fewer than ``min_epochs`` (5) epochs with a finite monitored loss
   (validation if any was logged, else training), or curves that wobble so much that the recent
   window could not see a 10 % change ("too early to tell").
2. ``"diverged"``: a logged loss is +/-inf; or the last epoch's train or validation loss is NaN
   where the epoch before had a number; or a sustained rise: each of the last 3 training losses
   above both its first value and twice its (smoothed) minimum, the minimum at least 3 epochs back.
   A few wobbly early epochs, or one bad epoch, are not divergence.
3. ``"overfitting"``: the best epoch (early stopping's, as the status names it: the validation
   minimum with the default rule) is at least 3 epochs old, the smoothed validation loss has since
   risen by more than the wobble (and by over 1 % of the best value), and the training loss has
   fallen from the best epoch's value to its smoothed end by more than twice the wobble of that
   difference (and 1 %). Smoothing spans at most half the epochs since the best (a fresh rise is
   not averaged away). With fewer than 6 epochs since the best or a rise under twice the wobble,
   the verdict starts "probably overfitting" and says why. As strong as the sampling error allows:
   known and the rise not beyond it (under 2.3 standard errors: borderline or within), ``"not clear yet"``;
   unknown (one validation number per epoch), "looks like overfitting", and the action says how to
   know (per-example losses). It quotes the raw rise, best epoch to last; "memorising" only when sure.
   After a learning-rate cut (to <= 0.7 of the rate before) since the best epoch the training fall is the cut's:
   without a real rise, ``"plateau"``, or ``"not clear yet"`` ("whether it is rising") where it rose.
4. ``"overfitting begins"``: the validation loss is flat (see 6) while training still falls, from
   the best epoch's value (or where validation went level, if earlier) by more than twice its
   wobble and 2 %: the moment early stopping usually fires. Where the last epoch is within the sampling
   error or under twice the wobble above the best: ``"not clear yet"``, said as what is seen.
5. ``"underfitting"``: flat (see 6), training has removed less than half of the initial training
   loss, and validation loss is within 15 % of training loss: both high and close together. Where
   training removed under 10 % of it, ``"not learning"``: the training is stuck (a dead ReLU, a
   learning rate that moves nothing): check the rate, the seed, the data (wider helps only by keeping units alive).
6. ``"plateau"``: over the last quarter of the run (at least 5 epochs) the smoothed monitored loss
   fell by less than twice the wobble of a difference of two window means (``wobble *
   sqrt(2 / window)``) or 1 % of its value; where the last epoch is the best, "still improving slowly".
7. ``"learning"``: none of the above, the losses are still falling. Where the last validation
   value sits above the best one, 3 or more epochs back, the verdict follows best against last:
   beyond the wobble (or 2 standard errors of sampling error), ``"plateau"`` ("not improving for
   now"); within it, "learning" says how far above the best the last value is.

Trends are always judged on curves smoothed over up to 5 epochs (window ``n // 5``), so a single
wobbly epoch never changes the verdict. ``since_epoch`` is the epoch the condition started (the
best epoch for the two overfitting kinds), or None. Each :class:`Diagnosis` has a one-sentence
``verdict`` with its size, an ``action``, and the ``message`` with the numbers behind them.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from losswidget.core.evidence import CLEAR, Evidence, flat_since_epoch, level_since, read_evidence
from losswidget.core.schedule import history_changes, rate_cuts, schedule_note
from losswidget.core.smoothing import smooth
from losswidget.core.validate import check_int
from losswidget.core.verdicts import (
    UNCLEAR,
    Diagnosis,
    not_improving,
    overfitting,
    overfitting_begins,
    plateau,
    said,
    stuck,
)
from losswidget.core.words import WOBBLE, number, with_share

__all__ = ["KINDS", "Diagnosis", "diagnose"]

SUSTAINED = 3  # epochs in a row a training loss must stay high to be called diverging
TOO_WOBBLY = 0.1  # a window that cannot see a 10 % change says nothing about a plateau
STILL = 0.1  # a training loss that fell less than this share of its first value has barely moved

KINDS = (
    "learning",
    "overfitting begins",
    "overfitting",
    UNCLEAR,
    "underfitting",
    "plateau",
    "diverged",
    "insufficient data",
    "not learning",
)


_g = number  # a value as every sentence prints it


def _diverged(epochs: np.ndarray, train: np.ndarray, val: np.ndarray, window: int) -> Diagnosis | None:
    for name, values in (("training", train), ("validation", val)):
        infinite = np.flatnonzero(np.isinf(values))
        if infinite.size:
            epoch = int(epochs[infinite[0]])
            return said("diverged", epoch, f"{name} loss became infinite at epoch {epoch}: training has diverged", "",
                         "Lower the learning rate, or clip gradients.")  # fmt: skip
        if values.size >= 2 and np.isnan(values[-1]) and np.isfinite(values[-2]):
            epoch = int(epochs[-1])
            return said(
                "diverged",
                epoch,
                f"{name} loss is NaN (not a number) at epoch {epoch}: training has diverged",
                "",
                "Lower the learning rate, check the data for NaNs, or clip gradients.",
            )
    finite = np.isfinite(train)
    if finite.sum() >= 3 + SUSTAINED:
        smoothed = smooth(train[finite], window)
        lowest = int(smoothed.argmin())
        last = train[finite][-SUSTAINED:]  # a sustained rise: every one of the last epochs, not one bump
        high = max(smoothed[0], 2 * smoothed[lowest])
        sustained = lowest < smoothed.size - SUSTAINED and bool(np.all(last > high))
        if sustained and smoothed[-1] > high and smoothed[lowest] > 0:
            epoch = int(epochs[finite][lowest])
            return said(
                "diverged",
                epoch,
                f"training is diverging: its loss has grown from {_g(smoothed[lowest])} at epoch {epoch} to "
                f"{_g(smoothed[-1])}, above where it started",
                "",
                "Lower the learning rate.",
            )
    return None


def _cuts_since(cuts: np.ndarray, epoch: int) -> tuple[int, ...]:
    """The epochs the learning rate was cut after ``epoch`` (a falling training loss follows them)."""
    return tuple(int(at) for at in cuts[cuts > epoch])


def _overfitting(
    epochs: np.ndarray, train: np.ndarray, val: np.ndarray, window: int, ev: Evidence, cuts: np.ndarray
) -> Diagnosis | None:
    rows = np.isfinite(val) & np.isfinite(train)
    if rows.sum() < 5 or ev.val is None or ev.train is None:
        return None
    v, t, e = val[rows], train[rows], epochs[rows]
    # The best epoch is early stopping's (the evidence's: its owner's, or its rule replayed), so that
    # the diagnosis and the status name one epoch; the plain minimum only where it has none here.
    owned = np.flatnonzero(e == ev.best_epoch) if ev.best_epoch is not None else np.array([], int)
    best = int(owned[0]) if owned.size else int(v.argmin())
    after = v.size - 1 - best
    if after < 3:
        return None
    # Smoothing over at most half the epochs since the minimum, so a fresh rise is not averaged away.
    window = max(min(window, 2), min(window, after // 2))
    vs, ts = smooth(v, window), smooth(t, window)
    rise = vs[-1] - vs[best:].min()
    wobble = ev.val.wobble
    threshold = max(wobble, 0.01 * abs(v[best]))  # a floor for wobble-free curves: 1 % of the minimum
    # Training from the best epoch's own value (a trailing mean at the best epoch still holds the fall
    # before it, and would call a flat training loss "still falling"; a mean after it holds the fall
    # since): one raw value against the smoothed end, beyond twice the wobble of that difference.
    train_then = float(t[best])
    train_drop = train_then - ts[-1]
    beyond = max(CLEAR * ev.train.wobble * math.sqrt(1 + 1 / window), 0.01 * abs(train_then))
    if rise <= threshold or train_drop <= beyond or t[-1] >= t[best]:
        return None
    best_epoch = int(e[best])
    since = _cuts_since(cuts, best_epoch)
    if since and float(t[e >= since[0]][0]) - t[-1] < 0.25 * (train_then - t[-1]):
        since = ()  # the fall came mostly before the first cut, which cannot explain it
    return overfitting(ev, (best_epoch, after), (float(v[best]), float(v[-1]), rise), (train_then, float(t[-1])), since)


def _overfitting_begins(
    epochs: np.ndarray, train: np.ndarray, ev: Evidence, flat_since: int, window: int, cuts: np.ndarray
) -> Diagnosis | None:
    """Validation has stopped improving while training still clearly falls since then (since the best
    epoch, or since validation went level if that came first): one raw value against the smoothed
    end, beyond twice the wobble of that difference and 2 %. Where overfitting begins, the moment
    early stopping usually fires."""
    finite = np.isfinite(train)
    if ev.train is None or ev.best_epoch is None:
        return None
    t, e = train[finite], epochs[finite]
    start = np.flatnonzero(e >= min(ev.best_epoch, flat_since))
    if start.size < 3:
        return None
    then, now = float(t[start[0]]), float(smooth(t, window)[-1])  # as _overfitting reads it
    drop = then - now
    if drop <= max(CLEAR * ev.train.wobble * math.sqrt(1 + 1 / window), 0.02 * abs(then)) or t[-1] >= then:
        return None
    # One reference epoch in the sentence: the training fall is measured from the best epoch too.
    at_best, since = np.flatnonzero(e == ev.best_epoch), f"since epoch {int(e[start[0]])}"
    if at_best.size and float(t[at_best[0]]) > now:
        then, drop, since = float(t[at_best[0]]), float(t[at_best[0]]) - now, "since then"
    return overfitting_begins(ev, then, now, since, _cuts_since(cuts, ev.best_epoch))


def diagnose(history, min_epochs: int = 5, evidence: Evidence | None = None) -> Diagnosis:
    """Say in plain words what the curves of ``history`` show (rules in the module docstring).
    ``evidence``: :func:`~losswidget.core.evidence.read_evidence` of the same history, when the
    caller has it (the status reads it once for the diagnosis and the advice). Where the learning
    rate changed recently, a sentence says what of the curves' bend is the schedule's doing."""
    min_epochs = check_int("min_epochs", min_epochs, minimum=2)
    for attribute in ("epochs", "train", "val"):
        if not hasattr(history, attribute):
            raise TypeError(f"'history' must be a losswidget History: got {type(history).__name__}")
    changes = history_changes(history)
    found = _diagnose(history, min_epochs, evidence, changes)
    note = schedule_note(history, found.kind, changes)
    return replace(found, message=found.message + note) if note else found


def _diagnose(history, min_epochs: int, evidence: Evidence | None, changes: list) -> Diagnosis:
    epochs = np.asarray(history.epochs)
    train = np.asarray(history.train, dtype=np.float64)
    val = np.asarray(history.val, dtype=np.float64)
    has_val = bool(np.isfinite(val).any())
    monitored, monitored_name = (val, "validation") if has_val else (train, "training")
    finite = np.isfinite(monitored)
    count = int(finite.sum())
    window = max(1, min(5, count // 5))

    if count < min_epochs and not np.isinf(monitored).any():
        return said(
            "insufficient data",
            None,
            f"too early to tell: {count} epoch{'s' if count != 1 else ''} of {monitored_name} loss so far",
            f"at least {min_epochs} are needed to judge a trend",
            "Keep training.",
        )
    diverged = _diverged(epochs, train, val, window)
    if diverged:
        return diverged
    ev = read_evidence(history) if evidence is None else evidence
    cuts = rate_cuts(history) if changes else np.empty(0, dtype=np.int64)
    if has_val:
        overfitting = _overfitting(epochs, train, val, window, ev, cuts)
        if overfitting:
            return overfitting

    reading = ev.val if has_val else ev.train
    wobble = reading.wobble if reading is not None else 0.0
    flat_since, resolution = flat_since_epoch(epochs[finite], monitored[finite], window, wobble)
    if flat_since is not None and resolution > TOO_WOBBLY:
        return said(
            "insufficient data",
            None,
            f"too early to tell: {count} epochs of {monitored_name} loss wobble too much to judge a trend yet",
            f"only a change of {f'{100 * resolution:.0f} %' if resolution <= 1 else 'more than the loss itself'} "
            f"would stand out from the epoch-to-epoch {WOBBLE}",
            "Keep training (or smooth the chart) and look again.",
        )
    if flat_since is not None and has_val:
        begins = _overfitting_begins(epochs, train, ev, flat_since, window, cuts)
        if begins:
            return begins
    if flat_since is not None:  # said from where the chart goes level, not where the test's window begins
        flat_since = level_since(epochs[finite], monitored[finite], window, wobble, flat_since)
        t = train[np.isfinite(train)]
        if has_val and t.size >= 2:
            v_end = smooth(monitored[finite], window)[-1]
            t_end = smooth(t, window)[-1]
            if t_end > (1 - STILL) * t[0]:
                return stuck(monitored_name, float(t[0]), float(t_end), flat_since)
            learned_little = t_end > 0.5 * t[0]
            close = abs(v_end - t_end) <= 0.15 * max(abs(t_end), 1e-12)
            if learned_little and close:
                return said(
                    "underfitting",
                    flat_since,
                    f"underfitting: training and validation loss are both high and close together and have "
                    f"stopped improving since epoch {flat_since}",
                    f"train {_g(t_end)}, validation {_g(v_end)}",
                    "The model is too simple for the data: try a larger model, better features or a higher "
                    "learning rate.",
                )
        return plateau(
            epochs[finite], monitored[finite], monitored_name, flat_since, window, ev, has_val, bool(changes), wobble
        )
    after = (ev.latest_epoch - ev.best_epoch) if has_val and ev.best_epoch is not None else 0
    # Still falling when smoothed, but the last value above the best, 3 or more epochs back: beyond
    # the wobble (or the sampling error), not improving; within it, "learning" says so.
    behind = after >= 3 and ev.rise > 0
    if behind and (ev.in_wobbles(ev.rise) >= 1 or (ev.sampling is not None and ev.sampling.real)):
        return not_improving(ev, after)
    v = smooth(monitored[finite], window)
    span = min(v.size - 1, max(5, v.size // 4))
    smoothed = f"{monitored_name} {_g(v[-span - 1])} → {_g(v[-1])}{' (smoothed)' if window > 1 else ''}"
    # The share is the smoothed curve's: named in the verdict too, which the status shows alone.
    curve = f"{monitored_name} loss (smoothed over {window} epochs)" if window > 1 else f"{monitored_name} loss"
    fell = f"{curve} fell {with_share(v[-span - 1] - v[-1], v[-span - 1])} in the last {span} epochs"
    if has_val:
        last = (
            f"; its last value is {with_share(ev.rise, ev.best)} above its best at epoch {ev.best_epoch}, "
            f"{ev.sureness(ev.rise)}"
            if behind
            else ""
        )
        return said("learning", None, f"learning: {fell}, and training loss is falling too{last}", smoothed,
                    "Keep training.")  # fmt: skip
    return said("learning", None, f"learning: {fell}", smoothed,
                "Keep training (log a validation loss to see overfitting).")  # fmt: skip
