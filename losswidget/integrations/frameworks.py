"""What every framework callback does with its monitor (Trainer, Keras, fastai, Lightning).

A framework owns the loop; its callback only translates events. :class:`FrameworkRun` holds the
monitor and drives it through the declared driver API (``show``, ``begin_loop``, ``log_step``,
``check``, ``log``, ``end_loop``), so the chart, Stop, the sliders, the static image and the log
file behave as with a hand-written ``epochs()`` loop.

Who restores the best weights: the monitor, when *it* ended the run early (Stop, early stopping);
not when the framework's own rule ended it (Keras' ``EarlyStopping``, the Trainer's
``EarlyStoppingCallback``), whose own restore then stands.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from losswidget.core.history import RESERVED_NAMES
from losswidget.run.monitor import LiveLossMonitor


def check_monitor(monitor: Any) -> LiveLossMonitor | None:
    if monitor is not None and not isinstance(monitor, LiveLossMonitor):
        raise TypeError(f"'monitor' must be a LiveLossMonitor or None: got {type(monitor).__name__}")
    return monitor


def number(value: Any) -> float | Any | None:
    """A loggable scalar from a framework's logs (float, int, one-element tensor or array), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    size = getattr(value, "numel", None) or getattr(value, "size", None)
    size = size() if callable(size) else size
    if size == 1 and hasattr(value, "dtype"):
        return value.detach() if hasattr(value, "detach") else value
    return None


def epoch_values(logs: Mapping[str, Any], renames: Mapping[str, str], skip: Iterable[str] = ()) -> dict[str, Any]:
    """A framework's end-of-epoch logs as ``log()`` arguments: losses renamed to train/val, every
    other scalar kept under its own name; non-scalars, skipped and reserved names left out."""
    skipped = set(skip)
    values = {}
    for key, value in logs.items():
        scalar = number(value)
        if scalar is None or key in skipped:
            continue
        name = renames.get(key, key)
        if name not in RESERVED_NAMES:
            values[name] = scalar
    return values


# The first thing each framework asks of a callback it is given: a callback made for another
# framework answers with a clear error instead of an AttributeError from inside that framework.
FIRST_CALLS = {
    "transformers.Trainer (use lw.TrainerCallback)": ("on_init_end",),
    "Keras' model.fit (use lw.KerasCallback)": (
        "set_model",
        "set_params",
        *(f"on_{phase}batch_{when}" for phase in ("", "train_", "test_", "predict_") for when in ("begin", "end")),
    ),
    "a Lightning Trainer (use lw.LightningCallback)": ("setup", "on_fit_start"),
    "a fastai Learner (use lw.FastaiCallback)": ("after_create", "before_fit"),
}


def refuse_other_frameworks(cls: type, name: str, own: str) -> type:
    """Give ``cls`` the first calls of the other frameworks, each raising a TypeError that says so."""
    for framework, calls in FIRST_CALLS.items():
        if own in framework:
            continue
        for call in calls:
            if call in vars(cls) or any(call in vars(base) for base in cls.__mro__[1:] if base is not object):
                continue

            def refuse(self: Any, *args: Any, framework: str = framework, **kwargs: Any) -> None:
                raise TypeError(f"{name} was given to {framework}; {name} is for {own}")

            setattr(cls, call, refuse)
    return cls


class FrameworkRun:
    """One callback's monitor across the framework's fit: start, steps, epochs, end."""

    def __init__(self, monitor: LiveLossMonitor | None, monitor_arguments: dict[str, Any], callback: str) -> None:
        self.monitor = check_monitor(monitor)
        self._arguments = monitor_arguments
        self._callback = callback
        self.active = False
        self.stop_requested_by_us = False
        if monitor is None:  # bad arguments fail here, when the callback is made, not mid-fit
            checked = {"display": "none", "log_file": None, "best_weights_file": None, "model": None}
            LiveLossMonitor(**{**monitor_arguments, **checked})  # no file, no hook on a model

    def begin(self, model: Any, epochs: int, x_label: str = "epoch", optimizer: Any = None) -> None:
        if self.active:
            self.end(failed=True)  # the run it began ends here: nothing recorded is lost
            raise RuntimeError(
                f"this {self._callback} received a second 'training begins' while its run was going: "
                "it was added to the callbacks twice; add it once"
            )
        if self.monitor is None:
            self.monitor = LiveLossMonitor(**{"model": model, **self._arguments})  # a model given wins
        elif self.monitor.model is None and model is not None:
            self.monitor.model = model
        if optimizer is not None:  # the one that steps in this fit: its learning rate, charted
            self.monitor.optimizer = optimizer
        if self.monitor.running:  # a previous fit that ended by an exception never said so
            self.monitor.end_loop(finished=False)
        self.monitor.x_label = x_label
        self.monitor.show()
        self.monitor.begin_loop(max(int(epochs), 0))
        self.active, self.stop_requested_by_us = True, False

    def step(self, loss: Any) -> bool:
        """One training step's loss (None: no loss this step, only the controls are checked)."""
        monitor = self.monitor
        stop = monitor.check() if loss is None else monitor.log_step(train=loss)
        self.stop_requested_by_us |= stop
        return stop

    def epoch(self, values: dict[str, Any]) -> bool:
        """One epoch (or evaluation)'s values; NaN and None dropped. Returns should_stop."""
        values = {k: v for k, v in values.items() if not (isinstance(v, float) and math.isnan(v))}
        stop = self.monitor.log(**values) if values else self.monitor.check()
        self.stop_requested_by_us |= stop
        return stop

    def end(self, failed: bool = False) -> None:
        """The fit ended: the best weights come back when the monitor stopped it early, or when it
        ``failed`` (an exception the framework reports)."""
        if self.active:
            self.active = False
            self.monitor.end_loop(finished=not (self.stop_requested_by_us or failed))
