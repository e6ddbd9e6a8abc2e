"""Why a run stopped, in words: one table for every place that says it.

The status line, the chart's stop line, the idle Stop button, the terminal, the static SVG's
description, the log's ``end`` record and the watcher all read a reason's words here, so that no
two of them can name one stop differently (as Lightning keeps its stopping messages beside the
criterion that produced them).
"""

from __future__ import annotations

import enum

from losswidget.core.words import number

__all__ = ["StopReason", "button_label", "chart_label", "sentence"]


class StopReason(str, enum.Enum):
    """Why a run stopped (or would stop). The value is a stable machine-readable code."""

    PATIENCE = "patience"
    NON_FINITE = "non-finite"
    USER = "user"
    INTERRUPTED = "interrupted"


# reason -> (the chart's stop line, the idle Stop button)
_LABELS = {
    StopReason.PATIENCE: ("early stop", "Early stop"),
    StopReason.NON_FINITE: ("NaN/inf", "NaN/inf"),
    StopReason.USER: ("stopped", "Stopped"),
    StopReason.INTERRUPTED: ("interrupted", "Interrupted"),
}

# The sentences, by situation. Placeholders are filled by :func:`sentence`.
_SENTENCES = {
    "patience": (
        "early stopping at epoch {epoch}: no improvement{beyond} for {wait} epoch{s} (patience {patience}){best}"
    ),
    "non-finite": "{what} is {value} at epoch {epoch}, not a finite number{best}",
    "training diverged": (
        "the training loss is {value} at epoch {epoch}, not a finite number "
        "(training diverged: lower the learning rate)"
    ),
    "steps diverged": (
        "every training step of epoch {epoch} logged NaN/inf (training diverged: lower the learning rate)"
    ),
    "button": "the Stop button was pressed",
    "stop()": "stop() was called",
    "watcher": "a watcher asked to stop",
    "watcher button": "a watcher's Stop button was pressed",
    "other rank": "another rank asked to stop",
    "interrupt": "the kernel was interrupted (■)",
    "second interrupt": "the kernel was interrupted twice",
}


def best_text(best: tuple[int, float] | None) -> str:
    """The best epoch as a stop sentence ends with it."""
    return "" if best is None else f"; best {number(best[1])} at epoch {best[0]}"


def sentence(situation: str, **facts: object) -> str:
    """The sentence for ``situation`` (a key of the table) with its facts filled in.

    ``best`` is an ``(epoch, value)`` pair or None; ``wait`` also decides the plural; ``beyond``
    (patience) says what an improvement had to beat, if more than the best.
    """
    template = _SENTENCES[situation]
    facts.setdefault("beyond", "")
    best = facts.pop("best", None)
    return template.format(best=best_text(best), s="" if facts.get("wait") == 1 else "s", **facts)  # type: ignore[arg-type]


def chart_label(code: StopReason | None) -> str:
    """The short label of the chart's stop line ("early stop (epoch 12)")."""
    return _LABELS.get(code, _LABELS[StopReason.USER])[0]  # type: ignore[arg-type]


def button_label(code: StopReason | None, epoch: int | None) -> str:
    """What the disabled Stop button says once the loop that stopped has ended."""
    where = "" if epoch is None else f" at epoch {epoch}"
    return _LABELS.get(code, _LABELS[StopReason.USER])[1] + where  # type: ignore[arg-type]
