"""The status line under the chart: pure text from one snapshot of the run.

Like tqdm's ``format_meter``: the monitor gathers a :class:`StatusSnapshot`, these functions
only format it, and every view (widget, SVG, text) prints the same lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from losswidget.chart.frame import Progress, format_duration
from losswidget.core.advice import Advice

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
    diagnosis: str = ""
    advice: Advice | None = None  # the patience and smoothing the validation noise calls for
    rise: str | None = None  # per-example validation: is the rise since the best epoch beyond its standard error
    non_finite: int = 0
    outcome: str | None = None
    stopping_message: str | None = None  # a stop was requested and the loop is still finishing its epoch
    regime: str | None = None  # how clicks reach the kernel, while something runs
    progress: str | None = None  # replaces the progress line (a watcher says what it follows)
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
        return f"Early stopping: patience {s.patience}, {s.wait} epochs without improvement."
    prefix = f"Early stopping is off; with patience {s.what_if_patience} it would"
    if s.what_if is None:
        return f"{prefix} not have stopped yet."
    return f"{prefix} have stopped at epoch {s.what_if[0]}."


def status_lines(s: StatusSnapshot) -> list[str]:
    lines = [progress_text(s)]
    if s.best is not None:
        lines.append(f"Best validation loss {s.best[1]:.4g} at epoch {s.best[0]}.")
    elif s.epochs_recorded:
        lines.append("No validation loss logged: early stopping and the best epoch need log(val=...).")
    if s.rise:
        lines.append(s.rise)
    lines.append(stopping_text(s))
    if s.advice is not None:
        lines.append(s.advice.text(s.patience if s.early_stopping else s.what_if_patience))
    lines.append(s.diagnosis)
    if s.non_finite:
        lines.append(f"{s.non_finite} NaN/inf value{'s' if s.non_finite != 1 else ''} shown as gaps.")
    if s.outcome:
        lines.append(s.outcome)
    elif s.stopping_message:
        lines.append(f"Stopping at the end of this epoch: {s.stopping_message}.")
    if s.regime:
        lines.append(s.regime)
    lines.extend(s.extra)
    return [line for line in lines if line]
