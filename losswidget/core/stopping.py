"""Early stopping as a decision object.

The improvement rule is the one Keras and Lightning use, evaluated in float64:
mode "min" improves when ``value + min_delta < best``, mode "max" when
``value - min_delta > best``. An improvement resets ``wait`` to 0; anything else
adds one, and training should stop once ``wait >= patience``. The first counted
value always improves on the initial ±inf.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from typing import Any

from losswidget.core.validate import check_bool, check_choice, check_float, check_int
from losswidget.core.values import to_float

__all__ = ["EarlyStopping", "StopReason", "would_stop_at"]


class StopReason(str, enum.Enum):
    """Why a run stopped (or would stop). The value is a stable machine-readable code."""

    PATIENCE = "patience"
    NON_FINITE = "non-finite"
    USER = "user"
    INTERRUPTED = "interrupted"


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
            self._stop(
                StopReason.NON_FINITE,
                f"stopped at epoch {epoch}: the monitored value is {value}, not a finite number" + self._best_text(),
            )
            return True
        if self.is_improvement(value):
            self.best = value
            self.best_epoch = epoch
            self.wait = 0
        else:
            self.wait += 1
            if self.wait >= self.patience and not self.should_stop:
                self._stop(
                    StopReason.PATIENCE,
                    f"stopped at epoch {epoch}: no improvement for {self.wait} "
                    f"epoch{'s' if self.wait != 1 else ''} (patience {self.patience})" + self._best_text(),
                )
        return self.should_stop

    def _best_text(self) -> str:
        if self.best_epoch is None:
            return "; no finite value was seen before"
        return f"; best value {_format(self.best)} at epoch {self.best_epoch}"

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

    def checkpoint(self) -> dict:
        """A copy of the state for :meth:`rewind`, cheap enough to take every epoch (every field is
        an immutable value). Not for saving: :meth:`state_dict` is."""
        return self.__dict__.copy()

    def rewind(self, checkpoint: dict) -> None:
        """Back to the state :meth:`checkpoint` returned."""
        self.__dict__.update(checkpoint)

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
        self.__dict__.update(restored.__dict__)

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
