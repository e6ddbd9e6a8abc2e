"""The learning rate as drawn: its own log-scale panel under the loss chart, and its changes marked
on the loss chart (a ``ReduceLROnPlateau`` drop is the most common reason a curve suddenly bends).

The rates are the history's ``lr`` column (the first parameter group) and ``lr/1``, ``lr/2``...
(``LiveLossMonitor(optimizer=...)``, ``fit`` and the framework callbacks record them). A rate that
never changed gets no panel: a flat line says nothing a sentence could not.
"""

from __future__ import annotations

import math

import numpy as np

from losswidget.chart.marks import Ticks, log_ticks
from losswidget.core.schedule import change_text

__all__ = ["change_text", "is_rate", "rate_panel"]  # change_text: the views' label, from core

MAX_MARKS = 8  # changes marked on the loss chart; a schedule that moves more often is read on its panel


def is_rate(name: str) -> bool:
    return name == "lr" or name.startswith("lr/")


def rate_panel(history, epochs):
    """(the rates to draw {name: (x, y)}, the changes to mark, the panel's y range, its ticks), from
    ``epochs`` (:class:`~losswidget.chart.epochs.EpochCache`, updated for ``history``): the rates'
    min/max bins, lowest and highest value and changes are kept as the epochs come."""
    drawn, low, high = {}, math.inf, -math.inf
    for name in filter(is_rate, history.metric_names):
        rate = epochs.rate(history, name)
        if rate is not None:
            x, y, lowest, highest = rate
            drawn[name] = (x.astype(np.float32), y.astype(np.float32))
            low, high = min(low, lowest), max(high, highest)
    if not drawn:
        return {}, [], (0.1, 1.0), Ticks()
    low, high = low / 1.4, high * 1.4  # room above and below, on a log axis
    marked = (epochs.rate_changes(history) if "lr" in drawn else None) or []
    return drawn, marked, (low, high), rate_ticks(low, high)


def rate_ticks(low: float, high: float) -> Ticks:
    """Decades where two fit (a ~110 px panel has room for about four labels), else the loss axis's
    1-2-5 ticks; one significant digit, as a rate is written ("0.001", "0.05")."""
    first, last = math.ceil(math.log10(low)), math.floor(math.log10(high))
    decades = [10.0**k for k in range(first, last + 1)]
    if len(decades) > 4:
        decades = decades[:: math.ceil(len(decades) / 4)]
    if len(decades) >= 2:
        return Ticks(tuple(decades), ".1g")
    fallback = log_ticks(low, high)  # 1-2-5 ticks, or round linear ones on a narrow range
    if all(float(format(value, ".1g")) == value for value in fallback.values):
        return Ticks(fallback.values, ".1g")
    return fallback
