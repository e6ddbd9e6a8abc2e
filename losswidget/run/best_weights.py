"""The best epoch's weights: kept in memory (and on disk if asked), restored when the loop ends early.

The best epoch itself is the early-stopping decision's (``EarlyStopping.best_epoch``, min_delta
aware); this object only follows it: a snapshot whenever the decision's best changes, rolled
back with the decision when an epoch's validation value is logged again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from losswidget.integrations.weights import restore, save_state, snapshot


class BestWeights:
    def __init__(self, file: Path | None = None) -> None:
        self.model: Any = None
        self.file = file
        self.state: dict | None = None
        self.epoch: int | None = None
        self.restored_epoch: int | None = None
        self._before_epoch: tuple[dict | None, int | None] = (None, None)

    def reset(self) -> None:
        self.state = self.epoch = self.restored_epoch = None
        self._before_epoch = (None, None)

    def begin_epoch(self) -> None:
        """Before an epoch's first validation value: what a re-logged value rolls back to."""
        self._before_epoch = (self.state, self.epoch)

    def roll_back(self) -> None:
        changed = self._before_epoch[1] != self.epoch
        self.state, self.epoch = self._before_epoch
        if changed and self.file is not None and self.state is not None:
            save_state(self.file, self.state)

    def keep(self, epoch: int) -> None:
        """The decision's best moved to ``epoch``: snapshot the model as it is now."""
        if self.model is None:
            return
        self.state = snapshot(self.model)
        self.epoch = epoch
        if self.file is not None:
            save_state(self.file, self.state)

    def restore(self) -> int | None:
        """Load the best weights into the model; the epoch restored, or None when there is nothing to load."""
        if self.model is None or self.state is None:
            return None
        restore(self.model, self.state)
        self.restored_epoch = self.epoch
        return self.epoch
