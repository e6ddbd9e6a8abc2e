"""Early stopping as a decision object.

The improvement rule is the one Keras and Lightning use, evaluated in float64:
mode "min" improves when ``value + min_delta < best``, mode "max" when
``value - min_delta > best``. An improvement resets ``wait`` to 0; anything else
adds one, and training should stop once ``wait >= patience``. The first counted
value always improves on the initial ±inf.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from losswidget.core.reasons import StopReason, sentence
from losswidget.core.validate import check_bool, check_choice, check_float, check_int
from losswidget.core.values import to_float

__all__ = ["MAX_PATIENCE", "NEVER", "EarlyStopping", "StopReason", "best_of", "would_stop_at"]

MAX_PATIENCE = 1_000_000  # the most a person or a watcher may set (a slider, a control file)
NEVER = 2**31 - 1  # a patience that never stops: early stopping off, the best epoch still followed

# What one run has seen, by name: what checkpoint/rewind take and give back. The configuration
# (patience, min_delta, mode, start_from_epoch, check_finite) is never among them: a patience moved
# between a checkpoint and its rewind stays moved.
_STATE = ("best", "best_epoch", "wait", "updates", "should_stop", "reason_code", "reason")

_STATE_KEYS = (
    "patience",
    "min_delta",
    "mode",
    "start_from_epoch",
    "check_finite",
    "best",
    "best_epoch",
    "wait",
    "updates",
    "should_stop",
    "stop_reason",
    "reason",
)


def _format(value: float) -> str:
    return f"{value:.4g}"


class EarlyStopping:
    """Decide when to stop training from one monitored value per epoch.

    >>> stopper = EarlyStopping(patience=2)
    >>> [stopper.update(v) for v in [1.0, 0.8, 0.9, 0.85]]
    [False, False, False, True]
    >>> stopper.best_epoch, stopper.reason_code.value
    (1, 'patience')

    ``patience`` may be reassigned at any time; the new value is used from the
    next :meth:`update`. Values fed before ``start_from_epoch`` updates are
    ignored entirely. With ``check_finite``, a NaN or inf stops at once.
    Once stopped, ``should_stop`` stays true until :meth:`reset`; later values
    still update ``best`` and ``wait``.
    """

    def __init__(
        self,
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "min",
        start_from_epoch: int = 0,
        check_finite: bool = True,
    ) -> None:
        self.patience = patience
        self.min_delta = check_float("min_delta", min_delta, minimum=0.0)
        self.mode = check_choice("mode", mode, ("min", "max"))
        self.start_from_epoch = check_int("start_from_epoch", start_from_epoch, minimum=0)
        self.check_finite = check_bool("check_finite", check_finite)
        self.reset()

    @property
    def patience(self) -> int:
        return self._patience

    @patience.setter
    def patience(self, value: int) -> None:
        self._patience = check_int("patience", value, minimum=0)

    def reset(self) -> None:
        """Forget every value seen; keep the configuration."""
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.wait = 0
        self.updates = 0
        self.should_stop = False
        self.reason_code: StopReason | None = None
        self.reason: str | None = None

    def resume(self) -> None:
        """Clear a stop decision but keep ``best`` and ``wait``, to continue training.

        With ``wait`` already at ``patience``, the next value that does not improve stops again.
        """
        self.should_stop = False
        self.reason_code = None
        self.reason = None

    def is_improvement(self, value: float) -> bool:
        if self.mode == "min":
            return value + self.min_delta < self.best
        return value - self.min_delta > self.best

    def update(self, value: Any, epoch: int | None = None) -> bool:
        """Feed one epoch's monitored value; return True when training should stop.

        ``epoch`` names the value in ``best_epoch`` and the messages (default: the count of
        earlier updates). A monitor that validates every few epochs passes its own numbers,
        so that the best epoch is the one whose weights it kept.
        """
        value = to_float(value, "value")
        if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, int)):
            raise TypeError(f"'epoch' must be an int or None: {epoch!r}")
        index = self.updates
        self.updates += 1
        epoch = index if epoch is None else epoch
        if index < self.start_from_epoch:
            return self.should_stop
        if self.check_finite and not math.isfinite(value):
            words = sentence("non-finite", what="the monitored value", value=value, epoch=epoch, best=self.best_pair)
            self._stop(StopReason.NON_FINITE, words)
            return True
        if self.is_improvement(value):
            self.best = value
            self.best_epoch = epoch
            self.wait = 0
        else:
            self.wait += 1
            if self.wait >= self.patience and not self.should_stop:
                words = sentence("patience", epoch=epoch, wait=self.wait, patience=self.patience, best=self.best_pair)
                self._stop(StopReason.PATIENCE, words)
        return self.should_stop

    @property
    def best_pair(self) -> tuple[int, float] | None:
        """(best epoch, best value), or None before the first counted finite value."""
        return None if self.best_epoch is None else (self.best_epoch, self.best)

    def fresh(self, patience: int | None = None) -> EarlyStopping:
        """A new decision with this one's configuration (and, if given, another patience): the
        patience slider's "what if" replays the history with it, so that it follows every rule the
        real decision follows."""
        return EarlyStopping(
            self.patience if patience is None else patience,
            self.min_delta,
            self.mode,
            self.start_from_epoch,
            self.check_finite,
        )

    def _stop(self, code: StopReason, message: str) -> None:
        self.should_stop = True
        self.reason_code = code
        self.reason = message

    def state_dict(self) -> dict:
        """Everything needed to resume, as plain JSON-compatible values."""
        state = {key: getattr(self, key) for key in _STATE_KEYS if key not in ("patience", "stop_reason")}
        state["patience"] = self.patience
        state["stop_reason"] = None if self.reason_code is None else self.reason_code.value
        return state

    def checkpoint(self) -> tuple:
        """What this run has seen, for :meth:`rewind`: the named state fields, never the configuration
        (a patience set in between stays set). Cheap enough to take every epoch; not for saving:
        :meth:`state_dict` is."""
        return tuple(getattr(self, key) for key in _STATE)

    def rewind(self, checkpoint: tuple) -> None:
        """Back to the state :meth:`checkpoint` returned; the configuration stays as it is now."""
        for key, value in zip(_STATE, checkpoint, strict=True):
            setattr(self, key, value)

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned; validated before anything changes."""
        if not isinstance(state, dict):
            raise TypeError(f"'state' must be a dict from EarlyStopping.state_dict(): {type(state).__name__}")
        missing = [key for key in _STATE_KEYS if key not in state]
        if missing:
            raise ValueError(f"EarlyStopping state is missing {', '.join(missing)}; pass what state_dict() returned")
        restored = EarlyStopping(
            patience=state["patience"],
            min_delta=state["min_delta"],
            mode=state["mode"],
            start_from_epoch=state["start_from_epoch"],
            check_finite=state["check_finite"],
        )
        restored.best = to_float(state["best"], "best")
        restored.best_epoch = None if state["best_epoch"] is None else check_int("best_epoch", state["best_epoch"])
        restored.wait = check_int("wait", state["wait"], minimum=0)
        restored.updates = check_int("updates", state["updates"], minimum=0)
        restored.should_stop = check_bool("should_stop", state["should_stop"])
        restored.reason_code = None if state["stop_reason"] is None else StopReason(state["stop_reason"])
        restored.reason = state["reason"]
        self.patience = restored.patience  # through the property: an owner of the patience sees it
        self.min_delta, self.mode = restored.min_delta, restored.mode
        self.start_from_epoch, self.check_finite = restored.start_from_epoch, restored.check_finite
        self.rewind(restored.checkpoint())

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, mode={self.mode!r}, "
            f"best={_format(self.best)}, best_epoch={self.best_epoch}, wait={self.wait}, "
            f"should_stop={self.should_stop})"
        )


def would_stop_at(
    values: Iterable[float],
    patience: int,
    min_delta: float = 0.0,
    mode: str = "min",
    start_from_epoch: int = 0,
    check_finite: bool = True,
) -> int | None:
    """Index at which :class:`EarlyStopping` would first stop on ``values``, or None.

    The patience slider's "what if": replays the recorded history.
    """
    stopper = EarlyStopping(patience, min_delta, mode, start_from_epoch, check_finite)
    for index, value in enumerate(values):
        if stopper.update(value):
            return index
    return None


def best_of(values: Any, epochs: Any = None, min_delta: float = 0.0, mode: str = "min") -> tuple[int, float] | None:
    """(epoch, value) that early stopping would call best on ``values``, or None.

    The one rule of the best epoch (min_delta aware, first of equals), for a history read back or
    followed from a file: NaN (not logged) and inf values are skipped, as a monitor's decision never
    takes them for best. ``epochs`` names each value (default: its index).
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    epochs = np.arange(values.size) if epochs is None else np.asarray(epochs).reshape(-1)
    if epochs.shape != values.shape:
        raise ValueError(f"'epochs' must have one number per value: {epochs.size} for {values.size} values")
    stopper = EarlyStopping(NEVER, min_delta, mode, check_finite=False)
    for row in np.flatnonzero(np.isfinite(values)):
        stopper.update(float(values[row]), int(epochs[row]))
    return stopper.best_pair
