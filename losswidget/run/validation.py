"""Per-example validation losses: ``monitor.log(val=losses)`` with one loss per validation example
(a 1-D tensor or array) records their mean as the epoch's ``val`` and its standard error as
``val_se``, and keeps the best epoch's losses, so that the status can say whether the rise since
the best epoch is larger than its sampling error (:func:`losswidget.core.evidence.rise_test`: paired when
the same examples come in the same order, as a validation loader without ``shuffle`` gives them).

The best epoch is asked of its owner (early stopping) after each epoch's decision. With
``min_delta_se`` set, the same test sizes each epoch's improvement before the decision: its standard
error against the best epoch before it is recorded as ``val_diff_se`` (so that a replay, the patience
slider's "what if" or a watcher, decides as the run did), and early stopping counts an improvement
only beyond ``min_delta_se`` of them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from losswidget.core.evidence import RiseTest, rise_test, sample_mean
from losswidget.core.replay import DIFF_SE
from losswidget.core.stopping import EarlyStopping
from losswidget.core.values import as_series, to_float

_Losses = tuple[int, np.ndarray, float]  # (epoch, losses, standard error)


def per_example(value: Any) -> bool:
    """A 1-D array or tensor of more than one loss (a scalar, or a one-element array, is one value)."""
    shape = getattr(value, "shape", None)
    return shape is not None and len(shape) == 1 and shape[0] > 1


class ValidationSamples:
    def __init__(self, stopper: EarlyStopping) -> None:
        self._stopper = stopper
        self.reset()

    def reset(self) -> None:
        """A new run: no epoch's losses are kept."""
        self._latest: _Losses | None = None
        self._best: _Losses | None = None
        self._before: _Losses | None = None  # the best before the best epoch's own (a relogged val)

    def values_of(self, val: Any, values: dict[str, float]) -> tuple[np.ndarray, float] | None:
        """Put ``val``'s epoch values into ``values`` (``val``, and ``val_se`` for per-example losses);
        returns the losses and their standard error for :meth:`logged`, or None for a number."""
        if not per_example(val):
            if self._stopper.min_delta_se:
                raise ValueError(
                    f"min_delta_se={self._stopper.min_delta_se:g} counts an improvement only beyond that many "
                    f"standard errors, and one validation number has none: {val!r}. Log one loss per validation "
                    "example, monitor.log(val=losses) with a 1-D tensor or array (lw.evaluate(..., "
                    "per_example=True) gives them), or set min_delta_se=0"
                )
            values["val"] = to_float(val, "val")
            return None
        losses = as_series(val, "val")
        mean, se, _ = sample_mean(losses)
        values["val"], values["val_se"] = mean, se
        return losses, se

    def against_best(self, epoch: int, losses: tuple[np.ndarray, float] | None, values: dict[str, float]) -> None:
        """Before the epoch's decision, with ``min_delta_se``: put the standard error of this epoch's
        ``val`` minus the best one before it into ``values`` as ``val_diff_se`` (none before a best)."""
        if losses is None or not self._stopper.min_delta_se:
            return
        best = self._before if self._best is not None and self._best[0] == epoch else self._best
        if best is not None:
            values[DIFF_SE] = rise_test(losses[0], best[1], losses[1], best[2]).se

    def logged(self, epoch: int, best_epoch: int | None, losses: tuple[np.ndarray, float] | None) -> None:
        """After the epoch's decision: keep its losses, and the best epoch's."""
        if losses is None:
            return
        self._latest = (epoch, *losses)
        if self._best is not None and self._best[0] == epoch and best_epoch != epoch:
            self._best = self._before  # a val logged again in the best epoch, now no improvement
        elif best_epoch == epoch:
            if self._best is None or self._best[0] != epoch:
                self._before = self._best
            self._best = self._latest

    def test(self, best_epoch: int | None) -> tuple[int, RiseTest] | None:
        """The latest epoch against the best one (both given per example), or None."""
        if self._latest is None or self._best is None or best_epoch != self._best[0]:
            return None
        if self._latest[0] == best_epoch or not math.isfinite(self._latest[2]):
            return None
        return best_epoch, rise_test(self._latest[1], self._best[1], self._latest[2], self._best[2])

    def sentence(self, best_epoch: int | None, best: float | None = None) -> str | None:
        found = self.test(best_epoch)
        return None if found is None else found[1].sentence(found[0], best)
