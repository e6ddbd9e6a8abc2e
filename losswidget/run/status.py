"""The status under the chart: pure text from one snapshot of the run.

Like tqdm's ``format_meter``: the monitor gathers a :class:`StatusSnapshot`, these functions only
format it, and every view (widget, SVG, text) prints the same lines. Two readings of one snapshot:

- :func:`status_lines`, the default: at most three sentences a teacher can read aloud (where the
  run is, what is happening, what to do), then only alarms (NaN gaps, an output that failed, a
  Stop button that cannot act until the cell ends);
- :func:`detail_lines`, the numbers behind each (``monitor.explain()``, the widget's "details").

The words for variation are :mod:`losswidget.core.words`'s; a diagnosis read at an earlier epoch
than the snapshot's says its epoch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from losswidget.chart.frame import Progress, format_duration, what_if_meaning
from losswidget.core.advice import Advice
from losswidget.core.verdicts import Diagnosis, ended
from losswidget.core.words import GLOSSARY, number, wobble_contents
from losswidget.kernel.channel import REGIME_TEXT

ETA_AFTER = 3  # epochs done before an ETA is quoted: the first ones include warm-up and first frames


@dataclass(frozen=True)
class StatusSnapshot:
    epochs_recorded: int
    loop_active: bool = False
    current_epoch: int | None = None
    loop_first_epoch: int = 0
    planned_last: int | None = None
    elapsed: float = 0.0
    epochs_done_in_loop: int = 0
    best: tuple[int, float] | None = None  # the early-stopping decision's best epoch and value
    early_stopping: bool = True
    patience: int = 5
    wait: int = 0
    what_if_patience: int = 5
    what_if: tuple[int, int] | None = None
    diagnosis: Diagnosis | None = None
    diagnosis_epoch: int | None = None  # the last epoch the diagnosis saw
    last_epoch: int | None = None  # the history's last epoch now (the chart's)
    advice: Advice | None = None  # the patience and smoothing the validation wobble calls for
    # The validation wobble and the part of the sampling error in it, per epoch, with the epochs that
    # measured that part (None where per-example losses did not): core.words.wobble_contents says them.
    wobble: tuple[float, tuple[float, int] | None] | None = None
    smoothing: int = 1
    rise: str | None = None  # per-example validation: the rise since the best epoch in sampling error
    non_finite: int = 0
    outcome: str | None = None
    stopped_early: bool = False  # early stopping (patience) ended the last loop
    stopping_message: str | None = None  # a stop was requested and the loop is still finishing its epoch
    regime: str | None = None  # how clicks reach the kernel, while something runs
    progress: str | None = None  # replaces the progress line (a watcher says what it follows)
    # The notes both the status and the details say (steering's last change or pause, the best weights'
    # file trouble, an output turned off or in passing trouble): one list, asked by both.
    extra: tuple[str, ...] = field(default_factory=tuple)


def eta(s: StatusSnapshot) -> float | None:
    """Seconds left at the pace of this loop's epochs so far, once :data:`ETA_AFTER` are done."""
    if s.epochs_done_in_loop < ETA_AFTER or s.planned_last is None or s.current_epoch is None:
        return None
    remaining = s.planned_last - s.current_epoch + 1
    return s.elapsed / s.epochs_done_in_loop * remaining


def progress_of(s: StatusSnapshot) -> Progress | None:
    """The loop's progress as data, for a terminal's bar; None when no loop runs."""
    if not s.loop_active:
        return None
    total = None if s.planned_last is None else s.planned_last - s.loop_first_epoch + 1
    return Progress(s.current_epoch, s.epochs_done_in_loop, total, s.elapsed, eta(s))


def progress_text(s: StatusSnapshot) -> str:
    if s.progress is not None:
        return s.progress
    if not s.loop_active:
        return f"{s.epochs_recorded} epochs recorded." if s.epochs_recorded else "Waiting for the first epoch."
    text = f"Epoch {s.current_epoch}"
    if s.planned_last is not None:
        text += f" of epochs {s.loop_first_epoch}–{s.planned_last}"
    text += f" · elapsed {format_duration(s.elapsed)}"
    left = eta(s)
    if left is not None:
        text += f" · ETA {format_duration(left)}"
    return text + "."


def stopping_text(s: StatusSnapshot) -> str:
    if s.early_stopping:
        return f"Early stopping: patience {s.patience}, {s.wait} epoch{'' if s.wait == 1 else 's'} without improvement."
    prefix = f"Early stopping is off; with patience {s.what_if_patience} it would"
    if s.what_if is None:
        return f"{prefix} not have stopped yet."
    return f"{prefix} have stopped at epoch {s.what_if[0]}."


def _patience(s: StatusSnapshot) -> int:
    return s.patience if s.early_stopping else s.what_if_patience


def where_text(s: StatusSnapshot) -> str:
    """Where the run is, in one sentence: the loop's progress (or how it ended) and the best epoch."""
    if s.outcome:
        said = s.outcome
    elif s.stopping_message:
        said = f"{progress_text(s)[:-1]}; stopping at the end of this epoch: {s.stopping_message}."
    else:
        said = progress_text(s)
    best = None if s.best is None else f"best validation loss {number(s.best[1])} at epoch {s.best[0]}."
    # Said once: a stop reason ("best 0.255 at epoch 27") or the end of a run (its restore hint) may have it.
    if best is not None and not any(
        f"{head}{number(s.best[1])} at epoch {s.best[0]}" in said.lower() for head in ("best ", "best validation loss ")
    ):
        said = f"{said} {best[0].upper()}{best[1:]}" if s.outcome else f"{said[:-1]} · {best}"
    elif s.best is None and s.epochs_recorded and s.progress is None:
        said = f"{said} No validation loss logged: early stopping and the best epoch need log(val=...)."
    return said


def _diagnosis_head(s: StatusSnapshot) -> str:
    """ "Diagnosis:", or "Diagnosis at epoch 63:" when it was read before the epoch the status shows."""
    stale = s.diagnosis_epoch is not None and s.last_epoch is not None and s.diagnosis_epoch < s.last_epoch
    return f"Diagnosis at epoch {s.diagnosis_epoch}:" if stale else "Diagnosis:"


def _read(s: StatusSnapshot) -> Diagnosis | None:
    """The diagnosis as this snapshot says it: once the loop has ended, never "keep training"."""
    if s.diagnosis is None or s.loop_active or not s.outcome:
        return s.diagnosis
    return ended(s.diagnosis, s.stopped_early)


def _patience_matters(s: StatusSnapshot) -> bool:
    """A patience is worth advising only where it acts: a loop running with early stopping on, or a
    run early stopping ended (not a run that ran all its epochs, nor one with early stopping off)."""
    return (s.loop_active and s.early_stopping) or s.stopped_early


def todo_text(s: StatusSnapshot) -> str:
    """What to do: the diagnosis' advice, and the patience the wobble calls for while it learns."""
    found = _read(s)
    if found is None or not found.action:
        return ""
    advice = s.advice.short(_patience(s), s.smoothing) if s.advice is not None and _patience_matters(s) else ""
    return f"{found.action[:-1]}; {advice}." if advice else found.action


def status_lines(s: StatusSnapshot) -> list[str]:
    """The status as shown: at most three sentences, then alarms only."""
    lines = [where_text(s)]
    if s.diagnosis is not None:
        lines += [f"{_diagnosis_head(s)} {s.diagnosis.verdict}", todo_text(s)]
    if s.non_finite:
        lines.append(f"{s.non_finite} NaN/inf value{'s' if s.non_finite != 1 else ''} shown as gaps.")
    if s.regime and REGIME_TEXT["interrupt"] in s.regime:  # an alarm: Stop waits for the cell to end
        lines.append(s.regime)
    lines.extend(s.extra)
    return [line for line in lines if line]


def detail_lines(s: StatusSnapshot) -> list[str]:
    """Every number behind the status (``monitor.explain()``; the widget's "details")."""
    lines = [progress_text(s)]
    if s.best is not None:
        lines.append(f"Best validation loss {s.best[1]:.4g} at epoch {s.best[0]}.")
    if s.rise:
        lines.append(s.rise)
    lines.append(stopping_text(s))
    if s.what_if is not None:  # the chart draws the what-if line: say once what it is
        lines.append(what_if_meaning(s.what_if[1]))
    if s.advice is not None:
        lines.append(s.advice.text(_patience(s), s.smoothing, _patience_matters(s)))
    if s.wobble is not None:  # after the advice, which quotes the same wobble: what it holds
        lines.append(wobble_contents(*s.wobble, quoted=s.advice is not None))
    if s.diagnosis is not None:
        lines.append(f"{_diagnosis_head(s)} {_read(s).message}")
    if s.outcome:
        lines.append(s.outcome)
    elif s.stopping_message:
        lines.append(f"Stopping at the end of this epoch: {s.stopping_message}.")
    if s.regime:
        lines.append(s.regime)
    lines.extend(s.extra)  # as the status says them: explain() and the details miss none of them
    text = " ".join(lines)
    lines += [f"Words: {name}: {meaning}." for name, meaning in GLOSSARY.items() if name in text]
    return [line for line in lines if line]
