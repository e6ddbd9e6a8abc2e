"""A watcher's requests to this run: the control file beside the log, read at each epoch boundary and
a few times a second between steps (:mod:`losswidget.files.control`). A new patience goes to the one
owner of the settings; a stop goes to the stop control, with the watcher's reason; a pause and the
learning-rate changes go to steering (:mod:`losswidget.run.steering`), each change once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from losswidget.chart.settings import ChartSettings
from losswidget.core.reasons import StopReason
from losswidget.files.control import ControlFile
from losswidget.run.stop_control import StopControl


class WatcherRequests:
    def __init__(self, log_file: str | Path | None, settings: ChartSettings, stop: StopControl) -> None:
        self._file = None if log_file is None else ControlFile(log_file)
        self._settings, self._stop = settings, stop
        self.steering: Any = None  # the monitor's Steering, once made (None: steering is not available)
        self._rates_taken = 0  # the last learning-rate change applied (its n)

    def apply(self, epoch: int | None, sync_controls: Any) -> None:
        """Apply a request that is new since the last call; ``sync_controls(settings)`` shows a new
        patience on this monitor's own slider."""
        request = None if self._file is None else self._file.poll()
        if request is None:
            return
        if request.patience is not None:
            self._settings.from_control("patience", request.patience, source="watcher")
            sync_controls(self._settings)
        if request.stop_reason is not None:
            self._stop.request(StopReason.USER, request.stop_reason, epoch)
        steering = self.steering
        if steering is None:
            return
        for n, factor in request.rates:
            if n > self._rates_taken:
                steering.request_rate(None, factor, "watcher")
                self._rates_taken = n
        if request.pause is True and not steering.pause_wanted:
            steering.request_pause("watcher")
        elif request.pause is False and steering.pause_wanted:
            steering.request_resume("watcher")
