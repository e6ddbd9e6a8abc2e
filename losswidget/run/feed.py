"""What the monitor shows: one frame for the views and one status snapshot, gathered from the parts.

Every fact comes from its owner: the best epoch from early stopping, the stop line from the stop
control, the settings from the chart settings, the loop's progress from the loop, the files'
problems from their writers; nothing here decides anything. The display draws from it (it is the
display's :class:`~losswidget.run.display.FrameSource`), so no frame is built by calling back into
the monitor.
"""

from __future__ import annotations

import time

import numpy as np

from losswidget.chart.frame import STATUS_INTERVAL, Frame, PastRun, StepCache, build_frame
from losswidget.chart.settings import ChartSettings
from losswidget.core.advice import Advice, wobble_advice
from losswidget.core.diagnosis import Diagnosis, diagnose
from losswidget.core.evidence import RiseTest, read_evidence
from losswidget.core.history import History
from losswidget.core.reasons import StopReason
from losswidget.core.stopping import EarlyStopping
from losswidget.run.background import Background
from losswidget.run.best_weights import BestWeights
from losswidget.run.loop import Loop
from losswidget.run.recorder import Recorder
from losswidget.run.redraw import DRAW_BUDGET
from losswidget.run.status import StatusSnapshot, detail_lines, progress_of, status_lines
from losswidget.run.steering import steering_sentence
from losswidget.run.stop_control import StopControl
from losswidget.run.validation import ValidationSamples

# The validation wobble, and the part of the sampling error in it with the epochs that measured it
Wobble = tuple[float, "tuple[float, int] | None"]


class ChartFeed:
    def __init__(
        self,
        recorder: Recorder,
        stopper: EarlyStopping,
        stop: StopControl,
        settings: ChartSettings,
        past: list[History],
        max_points: int,
        loop: Loop,
        best: BestWeights,
        background: Background,
        samples: ValidationSamples,
    ) -> None:
        self._recorder, self._stopper, self._stop, self._settings = recorder, stopper, stop, settings
        self._past = past
        self._loop, self._best, self._background, self._samples = loop, best, background, samples
        self.steps = StepCache(max_points)
        # (the history's key, the diagnosis, the wobble advice, the wobble's contents, the rise in
        # standard errors, the last epoch they saw): read once per new value, not per frame
        self._reading: tuple[tuple, Diagnosis | None, Advice | None, Wobble | None, str | None, int | None] = (
            (),
            None,
            None,
            None,
            None,
            None,
        )
        self._read_next = -float("inf")  # (monotonic) when a frame may read the diagnosis again
        self.x_label = "epoch"
        self.loss_name: str | None = None  # the loss axis' name for the loss ("MSE"); None: "loss"
        self.metric_source: str | None = None  # where the metrics were measured ("validation"); None: unknown

    def best(self) -> tuple[int, float] | None:
        epoch = self._stopper.best_epoch
        return None if epoch is None else (epoch, self._stopper.best)

    @property
    def running(self) -> bool:
        return self._loop.active or self._background.alive

    def flush(self) -> None:
        self._recorder.flush_steps()

    def frame(self, regime: str) -> Frame:
        """While a loop runs, the diagnosis and advice are read at most once a ``STATUS_INTERVAL`` (see
        :meth:`status`)."""
        status = self.status(regime, fresh=not self._loop.active)
        recorder, settings = self._recorder, self._settings
        return build_frame(
            recorder.history,
            self.steps,
            smoothing=settings.smoothing,
            what_if=self._stopper.fresh(settings.patience),
            log_y=settings.log_y,
            best=self.best(),
            planned_last=status.planned_last if status.loop_active else None,
            open_epoch=recorder.current_epoch if recorder.epoch_open else None,
            stop=self._stop.chart_marker(),
            runs=[PastRun.of(history) for history in self._past],
            status=status_lines(status),
            details=detail_lines(status),
            progress=progress_of(status),
            title=recorder.history.name or "",
            stop_control=None if status.regime is not None else self._idle_stop_label(status),  # regime: running
            x_label=self.x_label,
            presentation=settings.presentation,
            band=settings.band,
            loss_name=self.loss_name,
            metric_source=self.metric_source,
        )

    def _idle_stop_label(self, status: StatusSnapshot) -> str:
        """What the disabled Stop button says when nothing runs: how the last loop ended."""
        return self._stop.idle_label() or ("Finished" if status.outcome else "Stop")

    def status(self, regime: str, fresh: bool = True) -> StatusSnapshot:
        """``regime`` (how clicks arrive, in words) is shown while something runs. ``fresh=False``
        (frames while a loop runs): the diagnosis and the advice are read again at most once every
        ``STATUS_INTERVAL``, as often as the widget shows the status, and less often where reading them
        would take more than ``DRAW_BUDGET`` of the time: they look at the whole history (tens of
        milliseconds at 10^5 epochs: benchmarks/RESULTS.md), and frames must not grow with it; the
        status then says the epoch they saw. While it is too early to tell, at every new value (a short
        history is cheap, and "0 epochs so far" beside a chart of epochs 0-7 said the opposite)."""
        loop = self._loop
        steering = steering_sentence(loop.paused_at, self._recorder.history.events)
        notes = (steering, self._best.file_problem(), *self._recorder.outputs.problems())
        notes = tuple(note for note in notes if note)
        history, stopper, settings = self._recorder.history, self._stopper, self._settings
        key = (len(history), history.val[-1] if len(history) else None)
        now = time.monotonic()
        # While it is too early to tell, at every new value: a short history is cheap to read.
        early = len(history) < 200 and (self._reading[1] is None or self._reading[1].kind == "insufficient data")
        if key != self._reading[0] and (fresh or early or now >= self._read_next):
            started = time.perf_counter()
            best = self.best()
            found = None if best is None else self._samples.test(best[0])
            sentence = None if found is None else found[1].sentence(found[0], best[1])  # type: ignore[index]
            paired = None if found is None else found[1]
            self._reading = (key, *_reading(history, best, paired, self._samples), sentence, history.last_epoch)
            self._read_next = now + max(STATUS_INTERVAL, (time.perf_counter() - started) / DRAW_BUDGET)
        early_stopping = settings.early_stopping
        what_if = None
        if not early_stopping:
            what_if = self.steps.what_if(history, stopper.fresh(settings.patience))
        return StatusSnapshot(
            epochs_recorded=len(history),
            loop_active=loop.active,
            current_epoch=self._recorder.epoch_now,
            loop_first_epoch=loop.first_epoch,
            planned_last=loop.planned_last,
            elapsed=loop.elapsed,
            epochs_done_in_loop=loop.epochs_done,
            best=self.best(),
            early_stopping=early_stopping,
            patience=stopper.patience,
            wait=stopper.wait,
            what_if_patience=settings.patience,
            what_if=what_if,
            rise=self._reading[4],
            diagnosis=self._reading[1],
            diagnosis_epoch=self._reading[5],
            last_epoch=history.last_epoch,
            advice=self._reading[2],
            wobble=self._reading[3],
            smoothing=settings.smoothing,
            non_finite=self.steps.non_finite(history),
            outcome=loop.outcome,
            stopped_early=not loop.active and self._stop.code == StopReason.PATIENCE,
            stopping_message=self._stop.message if self._stop.is_set and loop.active else None,
            regime=regime if self.running else None,
            extra=notes,
        )


# Where the patience question is still open: beside "plateau" ("stop here") or "overfitting" ("keep
# the weights of epoch 43") a longer patience would contradict the verdict.
ADVISED_WHEN = ("learning",)


def _reading(
    history: History, best: tuple[int, float] | None, paired: RiseTest | None, samples: ValidationSamples
) -> tuple[Diagnosis, Advice | None, Wobble | None]:
    """The diagnosis, the advice and the wobble's contents, from one reading of the evidence: the wobble
    and trend every sentence quotes are the same numbers, and the weights' sampling error is the paired
    test's. The part of the sampling error inside the wobble is measured over the wobble's own window."""
    evidence = read_evidence(history, best, paired)  # the best epoch its owner, early stopping, has
    diagnosis = diagnose(history, evidence=evidence)
    advice = wobble_advice(history.val, evidence.val) if diagnosis.kind in ADVISED_WHEN else None
    contents = None
    if evidence.val is not None and evidence.val.window >= 4:  # wobble_of reads none from fewer
        epochs = history.epochs[np.isfinite(history.val)]
        unshared = samples.unshared(int(epochs[-evidence.val.window]))
        contents = (evidence.val.wobble, unshared)
    return diagnosis, advice, contents
