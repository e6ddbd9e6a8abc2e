"""The facts a user reads from a monitor, each asked of its one owner.

| fact | owner |
|---|---|
| ``should_stop``, ``stopped_reason``, ``stop_code`` | :class:`~losswidget.run.stop_control.StopControl` |
| ``best_epoch`` | early stopping (:class:`~losswidget.run.early_stop.SettingsStopping`), min_delta aware |
| ``patience`` and the other settings | :class:`~losswidget.chart.settings.ChartSettings` (``settings_face``) |
| ``regime``, ``frame_seconds`` | :class:`~losswidget.run.display.Display` and its frame clock |
| ``status_lines``, ``explain()`` | :mod:`losswidget.run.status` over the feed's snapshot |

Nothing here keeps a value of its own.
"""

from __future__ import annotations

from typing import Any

from losswidget.core.reasons import StopReason
from losswidget.core.stopping import EarlyStopping
from losswidget.run.status import detail_lines, status_lines


class Explanation(str):
    """Text that a notebook shows as text (its repr is itself, not a quoted string)."""

    def __repr__(self) -> str:
        return str(self)


class FactsFace:
    """The read-only facts of :class:`~losswidget.run.monitor.LiveLossMonitor`."""

    _stop: Any
    _stopper: EarlyStopping
    _display: Any
    _status: Any

    @property
    def should_stop(self) -> bool:
        return self._stop.is_set

    @property
    def stopped_reason(self) -> str | None:
        return self._stop.message

    @property
    def stop_code(self) -> StopReason | None:
        return self._stop.code

    @property
    def best_epoch(self) -> int | None:
        """The best epoch: early stopping's (min_delta aware), whose weights come back."""
        return self._stopper.best_epoch

    @property
    def early_stopping(self) -> EarlyStopping:
        """The underlying decision object (its ``state_dict()`` resumes a run)."""
        return self._stopper

    @property
    def regime(self) -> str:
        """How clicks reach the kernel now: subshell, pump, thread, interrupt or terminal."""
        return self._display.regime

    @property
    def status_lines(self) -> list[str]:
        """The status as the chart shows it: at most three sentences (where the run is, what is
        happening, what to do), then alarms only."""
        return status_lines(self._status())

    def explain(self) -> Explanation:
        """Every number behind the status, with the words it uses (the widget's "details")."""
        return Explanation("\n".join(detail_lines(self._status())))

    @property
    def frame_seconds(self) -> float:
        """Python-side cost of the last frame."""
        return self._display.clock.frame_seconds
