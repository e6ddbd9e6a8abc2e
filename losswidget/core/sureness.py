"""How sure the two claims beside a verdict are, each said with its own kind of variation and its
number (DESIGN.md §8): which weights to keep and whether they generalise better (the sampling error,
one loss per validation example), and whether the rise since the best epoch is a trend or a bump (the
epoch-to-epoch wobble). The verdicts (:mod:`losswidget.core.verdicts`) quote them."""

from __future__ import annotations

from losswidget.core.evidence import CLEAR, Evidence, in_units
from losswidget.core.words import (
    BARELY,
    SAMPLING_ERROR,
    WOBBLE,
    in_standard_errors,
    number,
    standard_errors,
    with_share,
)

__all__ = ["against_best", "keep"]


PAIRED = "paired: the same examples at both epochs"  # said with what it means: a student meets it here


def _against_wobble(ev: Evidence, lead: float) -> str:
    """The best weights' ``lead`` against the epoch-to-epoch wobble: the second claim of :func:`keep`,
    about the curve (a trend or a bump), never about new data (that is the sampling error's)."""
    wobble = ev.val.wobble if ev.val is not None else 0.0
    units, per_epoch = abs(in_units(lead, wobble)), f"{number(wobble)} per epoch"
    if units > BARELY:
        return "the curve barely wobbles over its last half: the rise since is a trend, not a bump"
    if units >= CLEAR:
        return f"the rise since is beyond the epoch-to-epoch {WOBBLE} ({per_epoch}): a trend, not a bump"
    if units >= 1:
        return f"the rise since is {units:.1f} × the epoch-to-epoch {WOBBLE} ({per_epoch}): it could still be a bump"
    return (
        f"the lead is within one epoch-to-epoch {WOBBLE} ({per_epoch}), about what picking the lowest epoch "
        "flatters it by"
    )


def keep(ev: Evidence, said_sampling: bool = False) -> str:
    """Which weights to keep, and how sure that they generalise better: only the sampling error (one
    loss per validation example) can say; the wobble says whether the rise since is a trend (DESIGN.md
    §8): two claims, each with its own kind of variation and its number. ``said_sampling``: the
    verdict beside it already quoted the sampling error (a screen says it once)."""
    head = f"keep the weights of epoch {ev.best_epoch}"
    test = ev.sampling
    if test is None:
        return (
            f"{head} (the best on this validation set; with one validation number per epoch its "
            f"{SAMPLING_ERROR} is unknown: to know how sure, log one loss per validation example, "
            "monitor.log(val=lw.evaluate(..., per_example=True)))"
        )
    if said_sampling:
        return f"{head} (the best on this validation set)"
    # Paired (the same examples at both epochs) or unpaired; the monitor and a saved history read
    # the same test (the history records the paired standard error), so say it in the same words.
    how = PAIRED if test.paired else "unpaired"
    if test.real:
        # The best epoch is the minimum picked on these same examples: its lead is biased high.
        return (
            f"{head}: they beat the last epoch's by {with_share(test.rise, ev.best, 'the best')}, "
            f"{in_standard_errors(test.units, how)}, flattered by an amount this test does not measure: epoch "
            f"{ev.best_epoch} was picked as the lowest on these same examples; and {_against_wobble(ev, test.rise)}"
        )
    if test.borderline:
        return (
            f"{head} (the best on this validation set; whether the last epoch's are worse is borderline: "
            f"{in_standard_errors(test.units, how)}, too close to 2 to call)"
        )
    return (
        f"{head} (the best on this validation set, though the last epoch's are within its {SAMPLING_ERROR}: "
        f"{standard_errors(test.units)}, {how})"
    )


def against_best(ev: Evidence, gap: float) -> str:
    """How sure a rise of ``gap`` since the best epoch is: in sampling error where known, else the wobble."""
    test = ev.sampling
    if test is None:
        return f"{ev.sureness(gap)}; its {SAMPLING_ERROR} is unknown"
    how = PAIRED if test.paired else "unpaired"  # a saved history may hold only the unpaired test
    if test.real:
        return in_standard_errors(test.units, how)
    if test.borderline:
        return f"borderline: {in_standard_errors(test.units, how)}"
    return f"within its {SAMPLING_ERROR}: {standard_errors(test.units)}, {how}"
