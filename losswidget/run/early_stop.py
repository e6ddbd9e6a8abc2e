"""The monitor's early stopping: the core decision, with its patience and on/off state owned by the
chart settings.

One owner per setting: the patience slider, ``monitor.patience``, a watcher's request and
``monitor.early_stopping.patience`` all end in :class:`~losswidget.chart.settings.ChartSettings`,
and this decision reads its patience there at every update. Nothing keeps a second copy that a
rewind, a reset or a loaded state could bring back.
"""

from __future__ import annotations

from losswidget.chart.settings import ChartSettings
from losswidget.core.stopping import NEVER, EarlyStopping
from losswidget.core.validate import check_int


class SettingsStopping(EarlyStopping):
    """:class:`EarlyStopping` whose ``patience`` is the settings' while early stopping is on, and
    :data:`NEVER` while it is off (the decision still follows the best epoch and non-finite values)."""

    def __init__(
        self,
        settings: ChartSettings,
        min_delta: float = 0.0,
        start_from_epoch: int = 0,
        check_finite: bool = True,
        min_delta_se: float = 0.0,
    ) -> None:
        self._settings = settings
        self._configured = False
        super().__init__(
            patience=settings.patience,
            min_delta=min_delta,
            start_from_epoch=start_from_epoch,
            check_finite=check_finite,
            min_delta_se=min_delta_se,
        )
        self._configured = True

    @property
    def patience(self) -> int:
        settings = self._settings
        return settings.patience if settings.early_stopping else NEVER

    @patience.setter
    def patience(self, value: int) -> None:
        value = check_int("patience", value, minimum=0)
        if not self._configured:  # the base constructor: the settings already hold it
            return
        if value >= NEVER:  # a state saved with early stopping off
            self._settings.early_stopping = False
        else:
            self._settings.patience = value
            self._settings.early_stopping = True
