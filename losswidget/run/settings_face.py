"""The monitor's settings as properties: each reads and writes its one owner,
:class:`~losswidget.chart.settings.ChartSettings`, and shows a value set from code on the controls.
"""

from __future__ import annotations

from typing import Any

from losswidget.chart.marks import LOSS_NAME_LIMIT
from losswidget.chart.settings import ChartSettings
from losswidget.core.stopping import MAX_PATIENCE
from losswidget.core.validate import check_choice, check_float, check_int


class SettingsFace:
    """``patience``, ``min_delta``, ``smoothing``, ``log_scale``, ``band``, ``presentation``, ``what_if_patience``,
    ``x_label``, ``loss_name`` and ``metric_source`` of :class:`~losswidget.run.monitor.LiveLossMonitor`
    (its ``settings``, ``_display`` and ``_feed``)."""

    settings: ChartSettings
    _display: Any
    _feed: Any
    _stopper: Any
    _steering: Any
    _request_redraw: Any

    @property
    def patience(self) -> int | None:
        """Early-stopping patience (None: off). Assignable; counts from the next validation value."""
        return self.settings.patience if self.settings.early_stopping else None

    @patience.setter
    def patience(self, value: int | None) -> None:
        if value is None:
            self.settings.early_stopping = False
        else:
            self.settings.patience = check_int("patience", value, minimum=0, maximum=MAX_PATIENCE)
            self.settings.early_stopping = True
        self._display.sync_controls(self.settings)

    @property
    def min_delta(self) -> float:
        """How much a validation value must beat the best by to count as better. Assignable: counts
        from the next validation value, and is recorded in ``history.events``."""
        return self._stopper.min_delta

    @min_delta.setter
    def min_delta(self, value: float) -> None:
        value = check_float("min_delta", value, minimum=0.0)
        old, self._stopper.min_delta = self._stopper.min_delta, value
        self._steering.setting_moved("min_delta", old, value, "api")
        self._request_redraw()

    @property
    def what_if_patience(self) -> int:
        """The patience slider's value: the patience whose stopping point the chart marks while early
        stopping is off (and early stopping's own while it is on)."""
        return self.settings.patience

    @property
    def smoothing(self) -> int:
        """Trailing window, in points, of the smoothed lines. Assignable."""
        return self.settings.smoothing

    @smoothing.setter
    def smoothing(self, value: int) -> None:
        self.settings.smoothing = value
        self._display.sync_controls(self.settings)

    @property
    def log_scale(self) -> bool:
        return self.settings.log_y

    @log_scale.setter
    def log_scale(self, value: bool) -> None:
        self.settings.log_y = value
        self._display.sync_controls(self.settings)

    @property
    def band(self) -> bool:
        """The band of ±2 standard errors around the validation curve (drawn where validation was
        logged per example: ``log(val=losses)``). Assignable; the chart's "± 2 SE" toggle."""
        return self.settings.band

    @band.setter
    def band(self, value: bool) -> None:
        self.settings.band = value
        self._display.sync_controls(self.settings)

    @property
    def presentation(self) -> bool:
        """Projector size (large text, thick lines, a tall chart). Assignable, also mid-run."""
        return self.settings.presentation

    @presentation.setter
    def presentation(self, value: bool) -> None:
        self.settings.presentation = value

    @property
    def x_label(self) -> str:
        """What one point on the x axis is: "epoch", or e.g. "evaluation (every 50 steps)". Assignable."""
        return self._feed.x_label

    @x_label.setter
    def x_label(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip() or len(value) > 80:
            raise ValueError(f"'x_label' must be a non-empty string of at most 80 characters: {value!r}")
        self._feed.x_label = value
        self._request_redraw()

    @property
    def loss_name(self) -> str | None:
        """The loss by name, for the loss axis ("MSE" draws "MSE loss"); None: "loss". Assignable;
        :func:`~losswidget.fit` sets it from its ``loss_fn`` where none was given."""
        return self._feed.loss_name

    @loss_name.setter
    def loss_name(self, value: str | None) -> None:
        if value is not None and (not isinstance(value, str) or not value.strip() or len(value) > LOSS_NAME_LIMIT):
            raise ValueError(
                f"'loss_name' must be None or a non-empty string of at most {LOSS_NAME_LIMIT} characters: {value!r}"
            )
        self._feed.loss_name = value
        self._request_redraw()

    @property
    def metric_source(self) -> str | None:
        """Where the logged metrics were measured: "validation", "training" or None (not said). The
        metric panel names them so ("val acc"); :func:`~losswidget.fit` sets "validation"."""
        return self._feed.metric_source

    @metric_source.setter
    def metric_source(self, value: str | None) -> None:
        if value is not None:
            check_choice("metric_source", value, ("validation", "training"))
        self._feed.metric_source = value
        self._request_redraw()
