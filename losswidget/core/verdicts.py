"""The sentences of a diagnosis: each says its verdict with its size, the numbers behind it, and what
to do, in the words of :mod:`losswidget.core.words` (the wobble for "is the curve still falling?",
the sampling error for "do these weights generalise better?")."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from losswidget.core.evidence import CLEAR, Evidence
from losswidget.core.schedule import plateau_advice
from losswidget.core.smoothing import smooth
from losswidget.core.sureness import against_best, keep
from losswidget.core.words import (
    SPREAD,
    WOBBLE,
    against_wobble,
    number,
    relative,
    with_share,
    wobble_verdict,
)

__all__ = [
    "REMEDIES",
    "UNCLEAR",
    "Diagnosis",
    "cut_words",
    "ended",
    "keep",
    "not_improving",
    "overfitting",
    "overfitting_begins",
    "plateau",
    "said",
    "stuck",
]

UNCLEAR = "not clear yet"  # the kind of a verdict its evidence cannot settle: never stronger than its body

# What overfitting calls for. Whether one of them helps this model is a comparison of runs, so it
# is said with the run-to-run spread, never as a promise (DESIGN.md §8).
REMEDIES = "the usual remedies are more data, regularisation or a smaller model."
REMEDIES_NOTE = f"Whether one helps here is a question of the {SPREAD}: train each with a few seeds and compare."


@dataclass(frozen=True)
class Diagnosis:
    """``message``: everything, with the numbers behind it. The status reads it in two sentences:
    ``verdict`` (what is happening, with its size) and ``action`` (what to do)."""

    kind: str
    since_epoch: int | None
    message: str
    verdict: str = ""
    action: str = ""

    def __str__(self) -> str:
        return self.message


def said(kind: str, since: int | None, verdict: str, numbers: str, action: str, note: str = "") -> Diagnosis:
    """A diagnosis from its verdict (one sentence, with its size), the numbers behind it (for the
    full message and ``monitor.explain()``), what to do (one sentence) and a ``note`` for the full
    message only."""
    message = f"{verdict}{f' ({numbers})' if numbers else ''}. {action} {note}".strip()
    return Diagnosis(kind, since, message, verdict[0].upper() + verdict[1:] + ".", action)


def ended(found: Diagnosis, stopped_early: bool = False) -> Diagnosis:
    """``found`` read after its loop has ended (early stopping, Stop, the last epoch): "keep training"
    cannot be done any more, so the action says to run more epochs instead; a larger patience only
    where early stopping ended the run (``stopped_early``). "Too early" is the verdict's to say."""
    if not found.action.startswith("Keep training"):
        return found
    more = "run more epochs (a larger patience)" if stopped_early else "run more epochs"
    if found.kind == "insufficient data":
        action = f"{more[0].upper()}{more[1:]} and look again."
    else:
        action = f"The run ended while the loss was still falling: {more} to go further."
    return replace(found, message=found.message.replace(found.action, action), action=action)


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


def cut_words(cuts: tuple[int, ...]) -> str:
    """ "the learning-rate cut at epoch 24", "the learning-rate cuts at epochs 32, 36 and 40", "12
    learning-rate cuts, the last at epoch 80": the epochs that first trained at the lower rate."""
    if len(cuts) == 1:
        return f"the learning-rate cut at epoch {cuts[0]}"
    if len(cuts) > 4:  # a rate that decays every epoch
        return f"{len(cuts)} learning-rate cuts, the last at epoch {cuts[-1]}"
    return f"the learning-rate cuts at epochs {', '.join(map(str, cuts[:-1]))} and {cuts[-1]}"


def overfitting(ev: Evidence, since: tuple[int, int], val: tuple, train: tuple, cuts: tuple[int, ...]) -> Diagnosis:
    """Validation has risen since the best epoch while training fell: as strong as its evidence.
    ``since``: (best epoch, epochs after it); ``val``: (best, last, smoothed rise); ``train``: (at the
    best epoch, last); ``cuts``: the learning-rate cuts after the best epoch. Sampling error
    known and the rise not beyond it (within, or borderline): "not clear yet", its own kind; unknown:
    "looks like"; after a cut that explains the training fall, with a level curve: a plateau."""
    (best_epoch, after), (best, last, rise), (then, now) = since, val, train
    units, test = ev.in_wobbles(rise), ev.sampling
    gap = last - best
    sized = (
        f"{with_share(gap, best, 'the best')} at the last epoch"
        if gap > 0
        else f"{with_share(rise, best, 'the best')} smoothed"
    )
    fell = f"training loss fell {relative(then - now, then)}"
    unclear = test is not None and not test.real
    # One rise per sentence, each named; no wobble multiple beside a rise the sampling error cannot tell.
    against = "" if unclear else f", {against_wobble(rise, ev.val.wobble)}"
    numbers = (
        f"validation {number(best)} at the best epoch → {number(last)} at the last; the smoothed curve rose "
        f"{number(rise)}{against}; training {number(then)} → {number(now)}"
    )
    if cuts and unclear and gap > 0:  # after a cut: the training fall is the cuts', the rise not yet clear
        verdict = (
            f"not clear yet whether validation loss is rising: the last epoch is {with_share(gap, best)} "
            f"above its best at epoch {best_epoch}, {against_best(ev, gap)}; the {fell} since then, "
            f"with {cut_words(cuts)}"
        )
        # A rise within the sampling error is a question of how many validation examples, not epochs.
        action = (
            f"{_cap(keep(ev, True))}; more validation examples would tell whether the rise is real; "
            "at this learning rate more epochs will change little."
        )
        return said(UNCLEAR, best_epoch, verdict, numbers, action)
    if cuts and unclear:  # a level curve: the training fall is the cuts', the rise not real
        verdict = (
            f"plateau: validation loss has not improved since its best at epoch {best_epoch} (the last is {sized} "
            f"above it, {against_best(ev, gap)}); the {fell} since then, with {cut_words(cuts)}"
        )
        return said("plateau", best_epoch, verdict, numbers, f"{_cap(keep(ev, True))}; {plateau_advice(True).lower()}")
    # The size and the distance in epochs, not "risen for N epochs": the curve may have dipped between.
    risen = f"validation loss is above its best (epoch {best_epoch}) by {sized}, {after} epochs later"
    thin = [f"only {after} epochs since the best epoch"] if after < 6 else []
    if units < CLEAR:
        thin.append(f"the rise {wobble_verdict(units)}")
    why = f" ({'; '.join(thin)})" if thin else ""
    sure = test is not None and test.real and not thin and ev.in_wobbles(gap) >= CLEAR
    reading = f"the model {'is memorising' if sure else 'may be starting to memorise'} the training data"
    if cuts:
        reading = f"the training fall follows {cut_words(cuts)}"
    if test is None:
        verdict = f"looks like overfitting{why}: {risen}, while {fell}: {reading}"
    elif unclear:
        verdict = (
            f"not clear yet whether this is overfitting: {risen}, while {fell}; the rise is {against_best(ev, gap)}"
        )
    else:
        verdict = f"{'probably overfitting' + why if thin else 'overfitting'}: {risen}, while {fell}: {reading}"
    action = f"{_cap(keep(ev, unclear))}; {REMEDIES}"
    return said(UNCLEAR if unclear else "overfitting", best_epoch, verdict, numbers, action, REMEDIES_NOTE)


def overfitting_begins(ev: Evidence, then: float, now: float, since: str, cuts: tuple[int, ...]) -> Diagnosis:
    """Validation has not improved since the best epoch while training still falls (from ``then`` to the
    smoothed ``now``, ``since`` "since then" or "since epoch 18"; ``cuts``: the learning-rate cuts after
    the best epoch). "Overfitting begins" only where the last epoch sits clearly above the best: beyond
    its sampling error where known, and beyond the wobble. Else the verdict leads with what is seen and
    says "not clear yet", its own kind: a headline never stronger than its body."""
    test, units = ev.sampling, ev.in_wobbles(ev.rise)
    fell = f"{relative(then - now, then)} {since}{f', with {cut_words(cuts)}' if cuts else ''}"
    numbers = (
        f"best {number(ev.best)}, now {number(ev.latest)}: {ev.sureness(ev.rise)}; "
        f"training {number(then)} → {number(now)} smoothed"
    )
    doubts = [against_best(ev, ev.rise)] if test is not None and not test.real else []
    if units < CLEAR:
        doubts.append(ev.sureness(ev.rise))
    if not doubts:
        verdict = (
            f"overfitting begins: validation loss has not improved since its best at epoch {ev.best_epoch}, while "
            f"training loss fell {fell}"
        )
        action = f"{_cap(keep(ev))}: the gap opening between the curves is what the model memorises."
        return said("overfitting begins", ev.best_epoch, verdict, numbers, action)
    above = (
        f"the last epoch is {with_share(ev.rise, ev.best)} above its best"
        if ev.rise > 0
        else "the last epoch is its best"
    )
    verdict = (
        f"validation loss has stopped improving since its best at epoch {ev.best_epoch} while training loss still "
        f"falls (by {fell}): overfitting may be beginning, not clear yet: {above}, {'; '.join(doubts)}"
    )
    # The sampling error, where it is a doubt, is quoted in the verdict already: said once.
    action = (
        f"{_cap(keep(ev, test is not None and not test.real))}; a few more epochs will show whether the gap "
        "between the curves keeps opening."
    )
    return said(UNCLEAR, ev.best_epoch, verdict, numbers, action)


def not_improving(ev: Evidence, after: int) -> Diagnosis:
    """The smoothed curve still falls, but the last validation value sits above the best, ``after``
    epochs back: not "learning" (the verdict follows best against last)."""
    gap = ev.latest - ev.best
    verdict = (
        f"not improving for now: validation loss has not beaten its best at epoch {ev.best_epoch} for {after} "
        f"epochs; the last is {with_share(gap, ev.best)} above it ({against_best(ev, gap)})"
    )
    numbers = f"best {number(ev.best)}, last {number(ev.latest)}"
    action = "Keep training a few epochs to see whether it falls below its best again; if not, keep the best weights."
    return said("plateau", ev.best_epoch, verdict, numbers, action)


def stuck(name: str, first: float, last: float, since: int) -> Diagnosis:
    """Training loss that has not moved: the training failed (a dead ReLU, a learning rate that moves
    nothing or too much): "not learning", not "underfitting". A wider network, another seed or a smaller
    learning rate can unstick it (more units, some stay alive), so the words never say that width cannot."""
    verdict = (
        f"not learning: training loss has barely moved ({number(first)} → {number(last)}) and {name} loss has "
        f"stayed level since epoch {since}: the training is stuck"
    )
    action = (
        "Check the learning rate, the seed (dead ReLU units) and the data; a wider network may help only by "
        "keeping some units alive."
    )
    return said("not learning", since, verdict, f"training fell {relative(first - last, first)}", action)


def plateau(
    epochs, values, name: str, flat_since: int, window: int, ev: Evidence, has_val: bool, scheduled: bool, wobble: float
) -> Diagnosis:
    """Level since ``flat_since``; where that level sits clearly above an earlier best, said with its size,
    as the status's sampling-error sentence says it."""
    smoothed = smooth(values, window)
    start = int(np.flatnonzero(epochs == flat_since)[0])
    moved = smoothed[start] - smoothed[-1]
    above = has_val and ev.best_epoch is not None and ev.best_epoch < flat_since and ev.in_wobbles(ev.rise) >= CLEAR
    if above:
        above_best = f"{with_share(ev.rise, ev.best)} above its best at epoch {ev.best_epoch}"
        level = f"{name} loss has stayed level since epoch {flat_since}, {above_best}"
        numbers = against_wobble(ev.rise, wobble)
    else:
        share = with_share(moved, smoothed[start], "its value then")
        how = f"fallen only {share}" if moved > 0 else f"not fallen ({share} higher)" if moved < 0 else "not moved"
        smoothed_word = "smoothed " if window > 1 else ""  # beside "no improvement for N epochs", read raw
        level = f"{smoothed_word}{name} loss has {how} since epoch {flat_since}"
        numbers = (
            f"smoothed {number(smoothed[start])} → {number(smoothed[-1])}; epoch-to-epoch {WOBBLE} {number(wobble)}"
        )
    if has_val and ev.best_epoch is not None and ev.best_epoch == ev.latest_epoch and moved > 0:
        # The last epoch is the best: not a plateau that can be called finished.
        verdict = f"still improving slowly: {level}, and its last epoch is its best"
        return said("plateau", flat_since, verdict, numbers, "More epochs may still help, a little at a time.")
    return said("plateau", flat_since, f"plateau: {level}", numbers, plateau_advice(scheduled))
