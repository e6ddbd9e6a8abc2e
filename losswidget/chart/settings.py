"""The settings a person controls, set by the sliders or by code: one owner for each, clamped once.

The widget's sliders, the monitor's properties, a watcher's control-file request and the monitor's
early stopping all read and write here: the patience (the slider's value; early stopping's own
patience while early stopping is on), whether early stopping is on, the smoothing window, the log
scale, the validation band and the presentation size. Whoever changes a value, ``on_change`` is told (the monitor asks
for a redraw). Setters may run on a kernel-subshell thread: they store a value and call back.

A move of early stopping's own patience (None while early stopping is off; the what-if slider moved
while it is off changes no training) is also told to ``on_moved(name, old, new, source)``, with who
moved it: "control" (a slider), "watcher" (a control file) or "api" (code): the monitor records it
as an event (:mod:`losswidget.core.events`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from losswidget.core.stopping import MAX_PATIENCE
from losswidget.core.validate import check_bool, check_int

MAX_SMOOTHING = 100_000


class ChartSettings:
    """Patience and early stopping on/off, smoothing window, log scale, validation band, presentation size."""

    def __init__(
        self, smoothing: int = 1, patience: int = 5, log_y: bool = False, early_stopping: bool = False
    ) -> None:
        self._smoothing = check_int("smoothing", smoothing, minimum=1, maximum=MAX_SMOOTHING)
        self._patience = check_int("patience", patience, minimum=0, maximum=MAX_PATIENCE)
        self._early_stopping = check_bool("early_stopping", early_stopping)
        self._log_y = check_bool("log_scale", log_y)
        self._presentation = False
        self._band = True
        self.on_change: Callable[[str], None] = lambda name: None
        self.on_moved: Callable[[str, int | None, int | None, str], None] = lambda *moved: None
        self._source = threading.local()  # who is setting a value on this thread (from_control says)

    @property
    def smoothing(self) -> int:
        return self._smoothing

    @smoothing.setter
    def smoothing(self, value: int) -> None:
        self._store("smoothing", check_int("smoothing", value, minimum=1, maximum=MAX_SMOOTHING))

    @property
    def patience(self) -> int:
        """The patience slider's value: early stopping's patience while it is on, else the patience
        whose stopping point the chart marks ("what if")."""
        return self._patience

    @patience.setter
    def patience(self, value: int) -> None:
        self._store("patience", check_int("patience", value, minimum=0, maximum=MAX_PATIENCE))

    @property
    def early_stopping(self) -> bool:
        """Whether the run stops by itself once ``patience`` epochs bring no improvement."""
        return self._early_stopping

    @early_stopping.setter
    def early_stopping(self, value: bool) -> None:
        self._store("early_stopping", check_bool("early_stopping", value))

    @property
    def log_y(self) -> bool:
        return self._log_y

    @log_y.setter
    def log_y(self, value: bool) -> None:
        self._store("log_y", check_bool("log_scale", value))

    @property
    def presentation(self) -> bool:
        """Large text, thick lines and a tall chart: readable from the back of a room on a projector."""
        return self._presentation

    @presentation.setter
    def presentation(self, value: bool) -> None:
        self._store("presentation", check_bool("presentation", value))

    @property
    def band(self) -> bool:
        """The band of ±2 standard errors around the validation curve, where it has them (per-example
        validation losses)."""
        return self._band

    @band.setter
    def band(self, value: bool) -> None:
        self._store("band", check_bool("band", value))

    @property
    def stopping_patience(self) -> int | None:
        """Early stopping's patience: the slider's while early stopping is on, None while it is off."""
        return self._patience if self._early_stopping else None

    def _store(self, name: str, value: object) -> None:
        if value != getattr(self, "_" + name):
            before = self.stopping_patience
            setattr(self, "_" + name, value)
            self.on_change(name)
            if self.stopping_patience != before:
                self.on_moved("patience", before, self.stopping_patience, getattr(self._source, "name", "api"))

    def from_control(self, name: str, value: object, source: str = "control") -> None:
        """A value from a widget or a watcher (any thread): clamped into range, never raising."""
        self._source.name = source
        try:
            if name in ("log_y", "band", "early_stopping"):
                setattr(self, name, bool(value))
            elif name == "smoothing":
                self.smoothing = min(max(int(value), 1), MAX_SMOOTHING)  # type: ignore[call-overload]
            elif name == "patience":
                self.patience = min(max(int(value), 0), MAX_PATIENCE)  # type: ignore[call-overload]
        except (TypeError, ValueError, OverflowError):  # a malformed message from a frontend: ignore it
            pass
        finally:
            self._source.name = "api"
