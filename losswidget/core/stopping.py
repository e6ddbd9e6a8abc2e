"""Early stopping as a decision object.

The improvement rule is the one Keras and Lightning use, evaluated in float64:
mode "min" improves when ``value + min_delta < best``, mode "max" when
``value - min_delta > best``. An improvement resets ``wait`` to 0; anything else
adds one, and training should stop once ``wait >= patience``. The first counted
value always improves on the initial ±inf.

``min_delta_se = k`` also asks an improvement to beat the noise of the measurement: it counts only
when it is larger than ``min_delta + k * se``, where ``se`` (given to :meth:`EarlyStopping.update`)
is the standard error of ``value - best`` (a monitor computes it from per-example validation losses,
paired when the same examples are kept). With k = 2, an improvement that chance alone would make
about one time in 40 is not counted as one (a one-sided test at about 2.3 %).
"""

from __future__ import annotations

import math
from typing import Any

from losswidget.core.reasons import StopReason, sentence
from losswidget.core.validate import check_bool, check_choice, check_float, check_int
from losswidget.core.values import to_float

__all__ = ["MAX_PATIENCE", "NEVER", "EarlyStopping", "StopReason"]

MAX_PATIENCE = 1_000_000  # the most a person or a watcher may set (a slider, a control file)
NEVER = 2**31 - 1  # a patience that never stops: early stopping off, the best epoch still followed

# What one run has seen, by name: what checkpoint/rewind take and give back. The configuration
# (patience, min_delta, mode, start_from_epoch, check_finite) is never among them: a patience moved
# between a checkpoint and its rewind stays moved.
_STATE = ("best", "best_epoch", "wait", "updates", "should_stop", "reason_code", "reason")

_STATE_KEYS = (
    "patience",
    "min_delta",
    "min_delta_se",
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
        min_delta_se: float = 0.0,
    ) -> None:
        self.patience = patience
        self.min_delta = check_float("min_delta", min_delta, minimum=0.0)
        self.min_delta_se = check_float("min_delta_se", min_delta_se, minimum=0.0)
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

    def margin(self, se: float | None = None) -> float:
        """How much a value must beat the best by to count: ``min_delta + min_delta_se * se``."""
        if not self.min_delta_se:
            return self.min_delta
        if se is None or not math.isfinite(se) or se < 0:
            raise ValueError(
                f"EarlyStopping(min_delta_se={self.min_delta_se:g}) needs each value's standard error against "
                f"the best (update(value, se=...)), got se={se!r}: log one loss per validation example, "
                "monitor.log(val=losses) with a 1-D tensor or array, or set min_delta_se=0"
            )
        return self.min_delta + self.min_delta_se * se

    def is_improvement(self, value: float, se: float | None = None) -> bool:
        # The first counted value, or a non-finite one (kept with check_finite=False): no noise to beat.
        if math.isinf(self.best) or not math.isfinite(value):
            return value < self.best if self.mode == "min" else value > self.best
        if self.mode == "min":
            return value + self.margin(se) < self.best
        return value - self.margin(se) > self.best

    def update(self, value: Any, epoch: int | None = None, se: float | None = None) -> bool:
        """Feed one epoch's monitored value; return True when training should stop.

        ``epoch`` names the value in ``best_epoch`` and the messages (default: the count of
        earlier updates). A monitor that validates every few epochs passes its own numbers,
        so that the best epoch is the one whose weights it kept. ``se``: the standard error of
        ``value - best``, which ``min_delta_se`` needs (ignored without it).
        """
        value = to_float(value, "value")
        if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, int)):
            raise TypeError(f"'epoch' must be an int or None: {epoch!r}")
        if self.min_delta_se and math.isfinite(value) and not math.isinf(self.best):
            self.margin(se)  # refused before anything changes
        index = self.updates
        self.updates += 1
        epoch = index if epoch is None else epoch
        if index < self.start_from_epoch:
            return self.should_stop
        if self.check_finite and not math.isfinite(value):
            words = sentence("non-finite", what="the monitored value", value=value, epoch=epoch, best=self.best_pair)
            self._stop(StopReason.NON_FINITE, words)
            return True
        if self.is_improvement(value, se):
            self.best = value
            self.best_epoch = epoch
            self.wait = 0
        else:
            self.wait += 1
            if self.wait >= self.patience and not self.should_stop:
                beyond = f" beyond {self.min_delta_se:g} standard errors" if self.min_delta_se else ""
                words = sentence(
                    "patience", epoch=epoch, wait=self.wait, patience=self.patience, best=self.best_pair, beyond=beyond
                )
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
            self.min_delta_se,
        )

    @property
    def rule(self) -> dict[str, float]:
        """What counts as an improvement, as a log's header says it (``min_delta``, ``min_delta_se``)."""
        return {"min_delta": self.min_delta, "min_delta_se": self.min_delta_se}

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
        state = {"min_delta_se": 0.0, **state}  # a state saved before min_delta_se existed
        missing = [key for key in _STATE_KEYS if key not in state]
        if missing:
            raise ValueError(f"EarlyStopping state is missing {', '.join(missing)}; pass what state_dict() returned")
        restored = EarlyStopping(
            patience=state["patience"],
            min_delta=state["min_delta"],
            mode=state["mode"],
            start_from_epoch=state["start_from_epoch"],
            check_finite=state["check_finite"],
            min_delta_se=state["min_delta_se"],
        )
        restored.best = to_float(state["best"], "best")
        restored.best_epoch = None if state["best_epoch"] is None else check_int("best_epoch", state["best_epoch"])
        restored.wait = check_int("wait", state["wait"], minimum=0)
        restored.updates = check_int("updates", state["updates"], minimum=0)
        restored.should_stop = check_bool("should_stop", state["should_stop"])
        restored.reason_code = None if state["stop_reason"] is None else StopReason(state["stop_reason"])
        restored.reason = state["reason"]
        self.patience = restored.patience  # through the property: an owner of the patience sees it
        self.min_delta, self.min_delta_se, self.mode = restored.min_delta, restored.min_delta_se, restored.mode
        self.start_from_epoch, self.check_finite = restored.start_from_epoch, restored.check_finite
        self.rewind(restored.checkpoint())

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, "
            + (f"min_delta_se={self.min_delta_se}, " if self.min_delta_se else "")
            + f"mode={self.mode!r}, "
            f"best={_format(self.best)}, best_epoch={self.best_epoch}, wait={self.wait}, "
            f"should_stop={self.should_stop})"
        )
