"""What every output is: the records of a run, in order, and nothing else.

A view draws frames (throttled, a few a second, :class:`losswidget.views.base.View`); an output
receives every record as it is made: each epoch's values, each batch of step losses, each loop's
end. The JSONL log, TensorBoard's event files and a W&B or trackio run are outputs; so is anything
a user writes by subclassing :class:`Output` and passing ``LiveLossMonitor(outputs=[...])``.

Each output runs on a thread of its own (:mod:`losswidget.outputs.worker`): a slow one never slows
training, and one that hangs or falls behind is turned off. Every method may raise: the monitor
then turns that output off, says so in a ``losswidget:`` warning and in the status, and training,
the chart and the other outputs go on (:mod:`losswidget.outputs.fanout`). A method may also be an
``async def``: it is awaited on the output's thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from losswidget.outputs.worker import error_text


@dataclass(frozen=True)
class RunInfo:
    """The run an output is opened for. ``number``: 1 for a monitor's first run, 2 after the first
    ``new_run()``, ...; ``rule``: early stopping's settings (``min_delta``, ``min_delta_se``)."""

    name: str | None
    number: int = 1
    rule: Mapping[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """A name for the run that is never empty: its own name, else ``run<number>``."""
        return self.name or f"run{self.number}"


class Output:
    """One destination of a run's records. Override what you need; each default does nothing.

    Called on the output's own thread, in the order the records were made, each with a copy of its
    values of its own. The end of a loop waits until the output has taken that loop's records, at
    most a few seconds; a call that has not returned after half a minute turns the output off.
    """

    name = "output"  # how warnings and the status name it
    on_training_thread = False  # ours only (the log file, TensorBoard: a local file, flushed per record)
    notice: str | None = None  # a passing trouble in one sentence (a server gone): the status shows it, warned once

    def open(self, run: RunInfo) -> None:
        """A run begins: the monitor was made, or ``new_run()`` was called (after :meth:`close`)."""

    def epoch(self, epoch: int, values: Mapping[str, float], steps: int) -> None:
        """Values logged for ``epoch`` (several calls in one epoch add to it; a later value for a name
        replaces the earlier). ``steps``: how many step losses the run has recorded so far."""

    def steps(self, losses: np.ndarray, epochs: np.ndarray, first: int) -> None:
        """Step losses (float64; NaN for a gap), the epoch of each, and the run's index of the first
        (steps are numbered from 0 in each run)."""

    def event(self, event: Any) -> None:
        """Something happened to the run (a :class:`~losswidget.core.events.Event`: a learning-rate change,
        a pause, a resume), applied at ``event.step`` of ``event.epoch``."""

    def end(self, outcome: str, stop_code: str | None) -> None:
        """A training loop ended (another may follow in the same run): why, in words and as a code."""

    def close(self) -> None:
        """The run is over (``new_run()``): release what :meth:`open` took."""

    def failure(self, error: BaseException) -> str:
        """The sentence the status shows once this output has failed with ``error`` and was turned off."""
        name = self.name if self.name != Output.name else type(self).__name__  # a user's, left unnamed
        return (
            f"The output {name} failed ({error_text(error)}) and was turned off; "
            "training, the chart and the other outputs go on."
        )
