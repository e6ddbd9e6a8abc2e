"""Back to the best epoch, and branch: the best epoch's weights, optimizer state and schedulers' states
restored, and the training goes on from there as a new run in the same chart ("run 2, from epoch 13
of run 1, lr 0.01 → 0.003"), its epochs numbered on from the branch point, the first run kept whole
beside it, faded.

``monitor.branch()`` during a loop (or the widget's "Back to best" button) only requests: the
training thread performs it at the next epoch boundary, and the loop goes on in the new run. After
the loop, it is performed at once, and the next ``monitor.epochs(...)`` trains on from it. The new
run's history begins with the best epoch's row (those weights' own values: the ◆ and the curve start
there) and a ``branch`` event naming the run it came from (``History.lineage``); its early stopping
goes on from the best epoch's state. The snapshots are the best weights' (:mod:`losswidget.run.best_weights`).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from losswidget.core.events import Event
from losswidget.core.reasons import StopReason
from losswidget.core.validate import user_stacklevel
from losswidget.model import lr_steer

BranchRequest = tuple[float | None, float | None, str | None, str]  # (learning rate, factor, name, source)


class BranchFace:
    """``branch``, ``branch_unavailable`` and ``restore_best`` of
    :class:`~losswidget.run.monitor.LiveLossMonitor`."""

    _best: Any
    _recorder: Any
    _stopper: Any
    _steering: Any
    _stop: Any
    _loop: Any
    _past: Any
    _feed: Any
    _samples: Any
    _request_redraw: Any
    _replay: Any
    model: Any
    optimizer: Any

    def restore_best(self) -> int:
        """Load the best epoch's weights into the model; returns that epoch."""
        if self.model is None:
            raise RuntimeError("no model to restore: pass model=... to LiveLossMonitor")
        epoch = self._best.restore(strict=True)
        if epoch is None:
            raise RuntimeError("no best weights yet: log a finite validation loss first")
        self._request_redraw()
        return epoch

    @property
    def branch_unavailable(self) -> str | None:
        """Why :meth:`branch` cannot go back to the best epoch now, in words; None when it can."""
        if self._steering.unavailable:
            return self._steering.unavailable
        if self._loop.active and self._loop.framework:
            return "a framework owns this loop (its epochs cannot be renumbered from here): branch after it ends"
        return self._best.branch_problem() or lr_steer.unavailable_reason(self.optimizer)

    def branch(
        self, learning_rate: float | None = None, *, factor: float | None = None, name: str | None = None
    ) -> None:
        """Go back to the best epoch and train on from it as a new run: its weights, the optimizer's
        state (Adam's moments included) and every scheduler's come back, the learning rate becomes
        ``learning_rate`` (or is multiplied by ``factor``; neither: the best epoch's own), and the
        history goes on as a new run (``name``; the current one stays in the chart, faded and whole).
        During a loop it happens at the next epoch boundary and the loop goes on in the new run; after
        it, at once. Recorded as a ``branch`` event (``history.events``, ``history.lineage``)."""
        if learning_rate is not None and factor is not None:
            raise TypeError(f"branch() takes 'learning_rate' or 'factor', not both: {learning_rate!r}, {factor!r}")
        for label, number in (("learning_rate", learning_rate), ("factor", factor)):
            if number is not None and (
                isinstance(number, bool)
                or not isinstance(number, (int, float))
                or not math.isfinite(number)
                or number <= 0
            ):
                raise ValueError(f"{label!r} must be a positive finite number: {number!r}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"'name' must be a string or None: {name!r}")
        problem = self.branch_unavailable
        if problem is not None:
            raise RuntimeError(f"cannot go back to the best epoch: {problem}")
        request: BranchRequest = (
            None if learning_rate is None else float(learning_rate),
            None if factor is None else float(factor),
            name,
            "api",
        )
        if self._loop.active:
            self._steering.request_branch(*request)
            self._request_redraw()
        else:
            self._branch_now(request)

    def _epoch_boundary(self, epoch: int, left: int) -> int:
        """At the top of each epoch of ``epochs()`` (training thread): the best epoch's optimizer state
        is kept if the best just moved; a branch asked for is performed. The epoch to open next."""
        self._best.settle()
        if self._replay.pending:  # a replayed change made at the top of this epoch
            self._replay.apply_due()
        if self._steering.branch_request is None or self._stop.code in (StopReason.USER, StopReason.INTERRUPTED):
            return epoch  # a Stop asked for wins: the branch waits for the next loop
        request = self._steering.take_branch()
        try:
            self._branch_now(request)  # type: ignore[arg-type]
        except RuntimeError as error:
            warnings.warn(f"losswidget: {error}; the run goes on as it was", stacklevel=user_stacklevel())
            return epoch
        if self._loop.planned_last is not None:  # the loop's epochs left, numbered on from the branch
            self._loop.planned_last = self._recorder.next_epoch + left - 1
        return self._recorder.next_epoch

    def _branch_now(self, request: BranchRequest) -> None:
        """On the loop's thread: restore, then the new run (nothing changes if the restore is refused)."""
        value, factor, name, source = request
        problem = self.branch_unavailable
        if problem is not None:
            raise RuntimeError(f"cannot go back to the best epoch: {problem}")
        recorder, best = self._recorder, self._best
        with recorder.lock:
            recorder.flush_steps()
            row = _row(recorder.history, best.epoch)
            epoch = best.restore_training()  # raises, with nothing changed, when the weights no longer fit
            optimizer = self.optimizer
            old = lr_steer.current_rate(optimizer)
            if value is not None or factor is not None:
                lr_steer.scale(optimizer, value / old if value is not None else factor)  # type: ignore[operator]
            finished = recorder.new_history(name)  # the outputs close run 1 and open run 2
            finished.name = finished.name or f"run {len(self._past) + 1}"
            self._past.append(finished)
            event = Event("branch", epoch, 0, old, lr_steer.current_rate(optimizer), source, parent=finished.name)
            recorder.history.log_checked_epoch(epoch, row)
            recorder.outputs.epoch(epoch, dict(row), 0)
            recorder.history.events.append(event)
            recorder.outputs.event(event)
            recorder.next_epoch = epoch + 1
        if best.stopper_state is not None:
            self._stopper.rewind(best.stopper_state)
        self._feed.steps.reset()
        self._samples.branched(epoch)  # the best epoch's per-example losses: run 2's tests stay paired
        self._stop.clear()
        self._loop.outcome = None
        self._request_redraw()


def _row(history: Any, epoch: int | None) -> dict[str, float]:
    """The values ``history`` holds for ``epoch`` (the best epoch's: the new run's first row)."""
    rows = [row for row in history.records() if row["epoch"] == epoch] if epoch is not None else []
    if not rows:
        raise RuntimeError(f"cannot go back to the best epoch: epoch {epoch} is not in this run's history")
    return {name: value for name, value in rows[-1].items() if name != "epoch" and not math.isnan(value)}
