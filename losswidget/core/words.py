"""The words every sentence about variation uses, and numbers a class can read: one table.

Three questions, three kinds of variation, three names (DESIGN.md §8). The status, the diagnosis,
``monitor.explain()``, the terminal and the static SVG's description all take their words here, so
that no screen uses one word for two of them (the review of 2026-12 found "1.1 standard errors:
could be noise" beside "2.6 × the validation noise: larger than noise makes").

- **sampling error**: are these weights worse than the best ones on data like the validation set?
  What varies: which examples happened to be in the validation set. Measured from one loss per
  example: standard errors, paired between two epochs (the same examples).
- **wobble**: is the curve still falling, or was that a wobble that will come back? What varies:
  the training process (mini-batches, dropout) from epoch to epoch. Measured as the spread of the
  epoch values around their trend (what patience and smoothing ride out).
- **run-to-run spread**: would setting A beat setting B if we trained again? What varies: the run
  itself (seed, initialisation, data order). Measured over several runs per setting.

"Real" (beyond :data:`REAL` standard errors of sampling error) is not "large enough to matter":
every verdict says its size beside it. Within :data:`BORDERLINE` of :data:`REAL` (1.7 to 2.3 standard
errors, as printed) a difference is "borderline", the rule lessons 03 and 10 teach: too close to call
either way, and every verdict treats it as not clear (:func:`sampling_verdict` is that rule).
"""

from __future__ import annotations

import math

__all__ = [
    "BORDERLINE",
    "GLOSSARY",
    "REAL",
    "SAMPLING_ERROR",
    "SPREAD",
    "WOBBLE",
    "against_wobble",
    "in_standard_errors",
    "in_wobbles",
    "number",
    "quantity",
    "relative",
    "sampling_verdict",
    "signed",
    "standard_errors",
    "with_share",
    "wobble_contents",
    "wobble_verdict",
]

SAMPLING_ERROR = "sampling error"
WOBBLE = "wobble"
SPREAD = "run-to-run spread"
REAL = 2.0  # standard errors of sampling error (or wobbles) beyond which a difference is called real
BORDERLINE = 0.3  # standard errors either side of REAL: too close to call (lessons 03 and 10 teach it)

# name -> what a student reads once (monitor.explain() ends with it)
GLOSSARY = {
    SAMPLING_ERROR: (
        "how much the validation loss depends on which examples happened to be in the validation set; "
        "measured from one loss per example (a standard error; the band is ± 2 of them)"
    ),
    WOBBLE: (
        "how much the loss moves from epoch to epoch around its trend (mini-batches, dropout, the "
        "learning rate; read on the validation curve, it also holds the part of the validation set's sampling "
        "error that changes between epochs): what patience and smoothing are there to ride out"
    ),
    SPREAD: "how much a result changes when the same setting is trained again with another seed",
}
# What the validation wobble measured on the curve holds (lesson 10: wiggles = wobble + unshared sampling error)
ON_THE_CURVE = (
    "measured on the curve: training's wobble plus the part of the validation set's sampling error that changes "
    "between epochs"
)


def number(value: float) -> str:
    """Three significant digits, never in e-notation: "0.0039", "0.0000297", "12300"; beyond a million
    or below a millionth as a power of ten a class can read: "1.2 × 10^34" (a diverged run)."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    power = math.floor(math.log10(abs(value)))
    if not -6 <= power < 6:
        mantissa = round(value / 10.0**power, 1)
        if abs(mantissa) >= 10:  # 9.96 rounds up to the next power
            mantissa, power = mantissa / 10, power + 1
        return f"{mantissa:.1f} × 10^{power}"
    digits = max(0, 2 - power)
    text = f"{round(value, digits):.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def quantity(amount: float, noun: str) -> str:
    """ "1 epoch", "2 epochs", "0.5 epochs", "1.5 points": the noun singular only for exactly one."""
    return f"{amount:g} {noun}" if amount == 1 else f"{amount:g} {noun}s"


def signed(value: float) -> str:
    """ "+0.0039", "−0.05" (a true minus sign)."""
    return ("+" if value >= 0 else "−") + number(abs(value))


def relative(change: float, base: float) -> str:
    """``change`` as a share of ``base``: "1.5 %", "24 %"; beyond 100 % as a ratio, "to 3.2 times its value"
    (never "1108 %")."""
    if not base or not math.isfinite(change) or not math.isfinite(base):
        return "?"
    share = abs(change / base)
    if share > 1:
        return f"to {number(round(1 + share, 1) if share < 9 else round(1 + share))} times its value"
    if share >= 0.1:
        return f"{share * 100:.0f} %"
    return f"{share * 100:.2g} %"


def with_share(change: float, base: float, of: str = "") -> str:
    """ "0.0039 (1.5 %)": a change with its size against ``base``, as STYLE.md writes it; ``of`` names
    the base where the sentence does not make it plain: "0.0039 (1.5 % of the best)"."""
    share = relative(change, base)
    named = f" of {of}" if of and share.endswith("%") else ""
    return f"{number(abs(change))} ({share}{named})"


def _printed(units: float) -> str:
    """``units`` as every sentence prints it: one decimal below 10, none beyond."""
    return f"{units:.1f}" if units < 10 else f"{units:.0f}"


def standard_errors(units: float) -> str:
    """ "1.1 standard errors", "6 standard errors", "250 standard errors"."""
    units = abs(units)
    if not math.isfinite(units):
        return "many standard errors (a standard error of 0)"
    amount = _printed(units)
    return f"{amount} standard error{'' if amount == '1.0' else 's'}"


def sampling_verdict(units: float) -> str:
    """ "beyond its sampling error", "borderline" or "within its sampling error": the one rule for
    "real" (``units``: a difference in standard errors of sampling error). Read on the number as
    printed, so that "1.7 standard errors" is never called within and "2.3" never beyond."""
    units = abs(units)
    printed = float(_printed(units)) if math.isfinite(units) else units
    if printed > REAL + BORDERLINE:
        return f"beyond its {SAMPLING_ERROR}"
    if printed >= REAL - BORDERLINE:
        return "borderline"
    return f"within its {SAMPLING_ERROR}"


def in_standard_errors(units: float, how: str = "") -> str:
    """ "2.6 standard errors (sampling error, paired)": the one way
    every sentence quotes a difference against its sampling error (not "standard errors of sampling
    error")."""
    return f"{standard_errors(units)} ({SAMPLING_ERROR}{f', {how}' if how else ''})"


BARELY = 20  # a change beyond this many wobbles: the wobble is tiny next to it, its multiple means nothing


def against_wobble(change: float, wobble: float) -> str:
    """ "2.6 × the wobble of 0.0031 per epoch"; where the wobble is tiny next to ``change`` (a smooth,
    full-batch curve), "the curve barely wobbles over its last half": a multiple of a near-zero wobble says nothing."""
    units = abs(change / wobble) if wobble > 0 else math.inf
    if units > BARELY:
        return "the curve barely wobbles over its last half"
    return f"{units:.1f} × the {WOBBLE} of {number(wobble)} per epoch"


def in_wobbles(units: float) -> str:
    """ "2.6 × the wobble"; beyond 20 "far beyond the wobble" (a smooth curve's tiny wobble makes
    ratios that only mean "clearly")."""
    units = abs(units)
    if units > BARELY:
        return "far beyond the wobble"
    return f"{units:.1f} × the wobble"


def wobble_verdict(units: float) -> str:
    """How sure a sentence about a change can be, against the epoch-to-epoch wobble."""
    units = abs(units)
    if units >= REAL:
        return "more than the wobble makes"
    if units >= 1:
        return "could still be the wobble"
    return "within the wobble"


def wobble_contents(wobble: float, unshared: tuple[float, int] | None = None, quoted: bool = False) -> str:
    """The validation curve's wobble and what it holds, for the details: "Validation epoch-to-epoch wobble
    ≈ 0.0215 per epoch (measured on the curve: ...)."; ``unshared``: (the part of the sampling error that
    changes between epochs, per epoch; the epochs that measured it) from per-example losses, where known:
    then training's own wobble beside it (the two add in squares, lesson 10's split). ``quoted``: the
    line before quoted the wobble (the advice): "That wobble is measured on the curve: ..."."""
    if quoted:
        head = f"That {WOBBLE} is {ON_THE_CURVE}"
    else:
        head = f"Validation epoch-to-epoch {WOBBLE} ≈ {number(wobble)} per epoch ({ON_THE_CURVE})"
    if unshared is None:
        return f"{head}."
    part, epochs = unshared
    measured = f"{head}; from the per-example losses of {epochs} epochs, that part ≈ {number(part)} per epoch"
    own = math.sqrt(max(wobble**2 - part**2, 0.0))
    if own <= 0.1 * wobble:  # the two estimates are noisy: "0.0004" left of 0.02 says nothing
        return f"{measured}: about all of it, training's own wobble too small to tell apart."
    return f"{measured}, so training's own wobble ≈ {number(own)} (the two add in squares)."
