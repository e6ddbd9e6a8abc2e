"""The sentences of a diagnosis: each says its verdict with its size, the numbers behind it, and what
to do, in the words of :mod:`losswidget.core.words` (the wobble for "is the curve still falling?",
the sampling error for "do these weights generalise better?")."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from losswidget.core.evidence import CLEAR, Evidence
from losswidget.core.schedule import plateau_advice
from losswidget.core.smoothing import smooth
from losswidget.core.words import SAMPLING_ERROR, SPREAD, WOBBLE, in_wobbles, number, standard_errors, with_share

__all__ = ["REMEDIES", "Diagnosis", "ended", "keep", "plateau", "said"]

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


def ended(found: Diagnosis) -> Diagnosis:
    """``found`` read after its loop has ended (early stopping, Stop, the last epoch): "keep training"
    cannot be done any more, so the action says to run more epochs instead."""
    if not found.action.startswith("Keep training"):
        return found
    if found.kind == "insufficient data":
        action = "The run has ended too early to judge the trend: run more epochs (a larger patience) and look again."
    else:
        action = "The run ended while the loss was still falling: run more epochs (a larger patience) to go further."
    return replace(found, message=found.message.replace(found.action, action), action=action)


def keep(ev: Evidence) -> str:
    """Which weights to keep, and how sure that they generalise better: only the sampling error (one
    loss per validation example) can say; the wobble cannot (DESIGN.md §8)."""
    head = f"keep the weights of epoch {ev.best_epoch}"
    test = ev.sampling
    if test is None:
        return (
            f"{head} (the best on this validation set; with one validation number per epoch its "
            f"{SAMPLING_ERROR} is unknown)"
        )
    # Which test: paired (the same examples at both epochs, known only to the monitor that kept them)
    # or unpaired (a history's val_se), so that two readings of one run say why they may differ.
    how = f"paired, the same {test.n} examples" if test.paired else "unpaired, from the recorded val_se"
    if test.real:
        return (
            f"{head}: they beat the last epoch's by {with_share(test.rise, ev.best)}, "
            f"{standard_errors(test.units)} of {SAMPLING_ERROR} ({how}), so they should do better on new data"
        )
    return (
        f"{head} (the best on this validation set, though the last epoch's are within its {SAMPLING_ERROR}: "
        f"{standard_errors(test.units)}, {how})"
    )


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
        numbers = f"{in_wobbles(ev.in_wobbles(ev.rise))} of {number(wobble)} per epoch"
    else:
        share = with_share(moved, smoothed[start])
        how = f"fallen only {share}" if moved > 0 else f"not fallen ({share} higher)" if moved < 0 else "not moved"
        level = f"{name} loss has {how} since epoch {flat_since}"
        numbers = (
            f"smoothed {number(smoothed[start])} → {number(smoothed[-1])}; epoch-to-epoch {WOBBLE} {number(wobble)}"
        )
    return said("plateau", flat_since, f"plateau: {level}", numbers, plateau_advice(scheduled))
