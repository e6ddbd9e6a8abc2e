"""Each epoch's values decide: early stopping on the validation loss, a stop on a non-finite loss,
and the best weights that follow early stopping's best epoch.

A validation value logged again in the same epoch replaces the first one for all of them: the
decision and the weights roll back to before the epoch's first value and decide again.
"""

from __future__ import annotations

import math

from losswidget.core.reasons import StopReason, sentence
from losswidget.core.replay import DIFF_SE
from losswidget.core.stopping import EarlyStopping
from losswidget.run.best_weights import BestWeights
from losswidget.run.stop_control import StopControl


class Decision:
    def __init__(self, stopper: EarlyStopping, best: BestWeights, stop: StopControl) -> None:
        self._stopper, self._best, self._stop = stopper, best, stop
        self._before_epoch: dict | None = None
        self._decided: tuple[int, str | None] | None = None  # (epoch, message): the stop this epoch's value decided

    def new_epoch(self) -> None:
        self._before_epoch = None

    def epoch_logged(self, epoch: int, values: dict[str, float], relogged_val: bool) -> None:
        if "val" in values:
            self._validation(epoch, values["val"], relogged_val, values.get(DIFF_SE))
        train = values.get("train")
        if train is not None and self._stopper.check_finite and not math.isfinite(train):
            self._stop.request(StopReason.NON_FINITE, sentence("training diverged", value=train, epoch=epoch), epoch)

    def _validation(self, epoch: int, val: float, relogged: bool, se: float | None) -> None:
        stopper = self._stopper
        if relogged and self._before_epoch is not None:
            stopper.rewind(self._before_epoch)
            self._best.roll_back()
            if self._decided is not None:  # the stop decided on the value now replaced
                self._stop.withdraw(*self._decided)
        else:
            self._before_epoch = stopper.checkpoint()
            self._best.begin_epoch()
        self._decided = None
        best_before = (stopper.best_epoch, stopper.best)
        stopper.update(val, epoch, se)
        if stopper.best_epoch is not None and (stopper.best_epoch, stopper.best) != best_before:
            self._best.keep(epoch, stopper.checkpoint())
        if stopper.should_stop:
            self._stop.from_stopper(stopper, epoch, val)
            self._decided = (epoch, self._stop.message) if self._stop.epoch == epoch else None
