"""A W&B or trackio run as an output: ``outputs=[lw.TrackerLog(wandb.init(...))]``.

trackio speaks W&B's API (``init`` returns a run with ``log(dict, step=)`` and ``finish()``), so one
output serves both, and any other tracker with that method. Nothing is imported here: the user's
own ``import wandb`` / ``import trackio`` made the run.

The same names as TensorBoard (``loss/train``, ``loss/val``, ``loss/train_step``, each metric) and
``epoch`` with every record. Steps: both dashboards want one step that never goes back, and a
name logged twice at one step keeps only the last value, so a run that logs step losses puts each
at its global step and each epoch's values at the epoch's last step; a run without step losses uses
the epoch. Where those would collide (step losses after epochs without any, epochs without step
losses after some) the later values move on to the next free step: every value reaches the tracker
at a step of its own, in order. A later run of the same monitor (``new_run``) goes on in the same
tracker run, its names prefixed with its own (``wider/loss/val``), its steps after the first run's.

The tracker runs on a thread of its own (:mod:`losswidget.outputs.worker`): its network calls never
slow training. A ``log`` that is an ``async def`` (an asyncio client) is awaited there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from losswidget.core import history_tensorboard as tb
from losswidget.outputs.base import Output, RunInfo
from losswidget.outputs.worker import run_awaitable


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
        self._last, self._last_epoch = -1, -1  # the last tracker step logged, and the epoch it carries
        self._shift = 0  # tracker step = the run's step + this (it grows where the two would collide)
        self._prefix = ""

    def open(self, run: RunInfo) -> None:
        if run.number > 1:
            self._shift, self._prefix = self._last + 1, f"{run.label}/"

    def _log(self, values: dict[str, Any], step: int, epoch: int) -> None:
        values = {f"{self._prefix}{name}": value for name, value in {**values, "epoch": epoch}.items()}
        run_awaitable(self.run.log(values, step=step))
        self._last, self._last_epoch = step, epoch

    def epoch(self, epoch: int, values: Mapping[str, float], steps: int) -> None:
        finite = {tb.tag_of(name): value for name, value in values.items() if not math.isnan(value)}
        if not finite:
            return
        step = (steps - 1 if steps else epoch) + self._shift  # the epoch's last step loss, or the epoch
        if step <= self._last:  # never back; beside a step loss of its own epoch, never another epoch's
            step = self._last if self._last_epoch == epoch else self._last + 1
        self._log(finite, step, epoch)

    def event(self, event: Any) -> None:
        values: dict[str, Any] = {"event": event.sentence}
        if event.new is not None:
            values[f"event/{event.kind}"] = float(event.new)
        self._log(values, max(event.step + self._shift, self._last + 1), event.epoch)

    def steps(self, losses: np.ndarray, epochs: np.ndarray, first: int) -> None:
        if not self.log_steps:
            return
        self._shift = max(self._shift, self._last + 1 - first)  # after every step logged (epochs without steps)
        for index, (loss, epoch) in enumerate(zip(losses.tolist(), epochs.tolist())):
            if not math.isnan(loss):
                self._log({tb.STEP_TAG: loss}, first + index + self._shift, epoch)
