"""What the chart shows, set by the sliders or by code: one source of truth, clamped once.

The widget's sliders and the monitor's properties both write here; whoever changes a value,
``on_change`` is told (the monitor applies a new patience to early stopping and asks for a
redraw). Setters may run on a kernel-subshell thread: they store a value and call back.
"""

from __future__ import annotations

from collections.abc import Callable

from losswidget.core.validate import check_bool, check_int

MAX_SMOOTHING = 100_000
MAX_PATIENCE = 1_000_000


class ChartSettings:
    """Smoothing window, the patience of the "what if" line, the log scale, and the presentation size."""

    def __init__(self, smoothing: int = 1, what_if_patience: int = 5, log_y: bool = False) -> None:
        self._smoothing = check_int("smoothing", smoothing, minimum=1, maximum=MAX_SMOOTHING)
        self._what_if_patience = check_int("patience", what_if_patience, minimum=0, maximum=MAX_PATIENCE)
        self._log_y = check_bool("log_scale", log_y)
        self._presentation = False
        self.on_change: Callable[[str], None] = lambda name: None

    @property
    def smoothing(self) -> int:
        return self._smoothing

    @smoothing.setter
    def smoothing(self, value: int) -> None:
        self._store("smoothing", check_int("smoothing", value, minimum=1, maximum=MAX_SMOOTHING))

    @property
    def what_if_patience(self) -> int:
        return self._what_if_patience

    @what_if_patience.setter
    def what_if_patience(self, value: int) -> None:
        self._store("what_if_patience", check_int("patience", value, minimum=0, maximum=MAX_PATIENCE))

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

    def _store(self, name: str, value: object) -> None:
        if value != getattr(self, "_" + name):
            setattr(self, "_" + name, value)
            self.on_change(name)

    def from_control(self, name: str, value: object) -> None:
        """A value from a widget (any thread): clamped into range, never raising."""
        try:
            if name == "log_y":
                self.log_y = bool(value)
            elif name == "smoothing":
                self.smoothing = min(max(int(value), 1), MAX_SMOOTHING)  # type: ignore[call-overload]
            elif name == "what_if_patience":
                self.what_if_patience = min(max(int(value), 0), MAX_PATIENCE)  # type: ignore[call-overload]
        except (TypeError, ValueError):  # a malformed message from a frontend: ignore it
            pass
