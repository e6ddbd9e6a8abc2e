"""The one stop decision of a loop: who asked, why, at which epoch.

Requests come from the Stop button, ``stop()``, early stopping, a non-finite loss, the kernel
interrupt and a watcher's control file. The first one wins; its words are what the status
line, the chart's stop line, the log's ``end`` record and ``stopped_reason`` show. Under DDP a
button or interrupt on one rank waits for the epoch boundary, where all ranks agree (one rank
leaving alone would deadlock the others).
"""

from __future__ import annotations

import threading
from typing import Any

from losswidget.core.reasons import StopReason, button_label, chart_label, sentence
from losswidget.core.stopping import EarlyStopping


class StopControl:
    """A thread-safe stop flag with its reason; ``requested`` is a plain read for the per-step path
    (slotted: one cache line to read between training steps)."""

    __slots__ = ("_event", "_pending", "_ranks", "code", "epoch", "message", "requested")

    def __init__(self, ranks: Any = None) -> None:
        self._ranks = ranks
        self._event = threading.Event()
        self.requested = False
        self.code: StopReason | None = None
        self.message: str | None = None
        self.epoch: int | None = None
        self._pending: tuple | None = None  # with several ranks: waits for the epoch boundary

    @property
    def is_set(self) -> bool:
        return self._event.is_set()

    def request(self, code: StopReason, message: str, epoch: int | None) -> None:
        """Ask to stop (any thread). Under DDP, user requests wait for :meth:`agree`."""
        if self._ranks is not None and code in (StopReason.USER, StopReason.INTERRUPTED):
            if self._pending is None:
                self._pending = (code, message, epoch)
            return
        self._set(code, message, epoch)

    def _set(self, code: StopReason, message: str, epoch: int | None) -> None:
        if self._event.is_set():
            return
        self.code, self.message, self.epoch = code, message, epoch
        self._event.set()
        self.requested = True

    def agree(self, epoch: int | None) -> None:
        """At an epoch boundary under DDP: stop everywhere if any rank asked to."""
        if self._ranks is None:
            return
        pending, self._pending = self._pending, None
        if self._ranks.any(pending is not None):
            self._set(*(pending or (StopReason.USER, sentence("other rank"), epoch)))

    def withdraw(self, epoch: int, message: str) -> None:
        """Take back the stop early stopping decided at ``epoch`` with ``message`` (a validation value
        logged again in that epoch replaces the one it was decided on; the decision is made again).
        Any other stop (a click, a NaN training loss) stays."""
        if self._event.is_set() and self.epoch == epoch and self.message == message:
            self.clear()

    def clear(self) -> None:
        self._event.clear()
        self.requested = False
        self.code = self.message = self.epoch = None

    def chart_marker(self) -> tuple[int, str] | None:
        """(epoch, short label) for the chart's stop line, or None."""
        if not self._event.is_set() or self.epoch is None:
            return None
        return self.epoch, chart_label(self.code)

    def idle_label(self) -> str | None:
        """What the disabled Stop button says once the loop has ended, if a stop ended it."""
        if not self._event.is_set() or self.code is None:
            return None
        return button_label(self.code, self.epoch)

    def from_stopper(self, stopper: EarlyStopping, epoch: int, val: float) -> None:
        """Early stopping decided: its own sentence, naming the best epoch it kept; a non-finite value
        is named as what it is here, the validation loss."""
        message = stopper.reason or ""
        if stopper.reason_code is StopReason.NON_FINITE:
            message = sentence("non-finite", what="the validation loss", value=val, epoch=epoch, best=stopper.best_pair)
        self.request(stopper.reason_code, message, epoch)  # type: ignore[arg-type]
