"""A W&B or trackio run as an output: ``outputs=[lw.TrackerLog(wandb.init(...))]``.

trackio speaks W&B's API (``init`` returns a run with ``log(dict, step=)`` and ``finish()``), so one
output serves both, and any other tracker with that method. Nothing is imported here: the user's
own ``import wandb`` / ``import trackio`` made the run.

The same names as TensorBoard (``loss/train``, ``loss/val``, ``loss/train_step``, each metric) and
``epoch`` with every record. Steps: both dashboards want one step that never goes back, so a run
that logs step losses puts each at its global step and each epoch's values at the epoch's last
step; a run without step losses uses the epoch. A later run of the same monitor (``new_run``) goes
on in the same tracker run, its names prefixed with its own (``wider/loss/val``), its steps after
the first run's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from losswidget.core import history_tensorboard as tb
from losswidget.outputs.base import Output, RunInfo


class TrackerLog(Output):
    """Log to ``run`` (what ``wandb.init()`` or ``trackio.init()`` returned; ``run.finish()`` stays
    yours). ``steps=False`` leaves the step losses out (one ``log`` call each: a tracker's cost)."""

    name = "tracker"

    def __init__(self, run: Any, *, steps: bool = True) -> None:
        if isinstance(run, type) or not callable(getattr(run, "log", None)):
            raise TypeError(
                "'run' must be a tracker run with a log(dict, step=) method, e.g. what wandb.init() or "
                f"trackio.init() returns: got {type(run).__name__} {run!r:.80}"
            )
        if not isinstance(steps, bool):
            raise TypeError(f"'steps' must be True or False: {steps!r}")
        self.run, self.log_steps = run, steps
        self.name = f"tracker ({type(run).__module__.split('.')[0]})"
        self._last = -1  # the last step logged: a tracker drops a step that goes back
        self._offset = 0  # where this monitor run's steps start in the tracker run
        self._prefix = ""

    def open(self, run: RunInfo) -> None:
        if run.number > 1:
            self._offset, self._prefix = self._last + 1, f"{run.label}/"

    def _log(self, values: dict[str, float], step: int) -> None:
        step = max(step + self._offset, self._last)
        self.run.log({f"{self._prefix}{name}": value for name, value in values.items()}, step=step)
        self._last = step

    def epoch(self, epoch: int, values: Mapping[str, float], steps: int) -> None:
        finite = {tb.tag_of(name): value for name, value in values.items() if not math.isnan(value)}
        if finite:
            self._log({**finite, "epoch": epoch}, steps - 1 if steps else epoch)

    def steps(self, losses: np.ndarray, epochs: np.ndarray, first: int) -> None:
        if not self.log_steps:
            return
        for index, (loss, epoch) in enumerate(zip(losses.tolist(), epochs.tolist())):
            if not math.isnan(loss):
                self._log({tb.STEP_TAG: loss, "epoch": epoch}, first + index)
