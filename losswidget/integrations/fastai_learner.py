"""A fastai callback that feeds a LiveLossMonitor (fastai imported lazily).

>>> learn = Learner(dls, model, loss_func=..., cbs=lw.FastaiCallback(patience=5))   # doctest: +SKIP
>>> learn.fit(50)

- Per training batch: ``learn.loss`` (a tensor: no synchronisation per step). Per epoch: the
  Recorder's own ``valid_loss`` and metrics, as fastai prints them, and as the training loss the
  true epoch mean of the finite batch losses this callback saw. Not fastai's
  ``train_loss``: that is an exponential moving average (beta 0.98) carried across epochs, which
  lags the curve and would be smoothed a second time by the chart's slider.
- Stop and early stopping raise fastai's ``CancelFitException`` between batches (after the
  optimizer step): fastai runs its ``after_cancel_fit`` and ``after_fit`` as for its own
  ``EarlyStoppingCallback``.
- Best weights: kept in memory at each new best validation loss and loaded back into
  ``learn.model`` when the monitor stopped the fit early.
"""

from __future__ import annotations

from typing import Any

from losswidget.integrations.frameworks import FrameworkRun, epoch_values, refuse_other_frameworks
from losswidget.run.monitor import LiveLossMonitor


def _fastai() -> tuple[type, type, type]:
    try:
        from fastai.callback.core import Callback, CancelFitException
        from fastai.learner import Recorder
    except ImportError:
        raise ImportError("FastaiCallback needs fastai: pip install fastai") from None
    return Callback, CancelFitException, Recorder


def FastaiCallback(monitor: LiveLossMonitor | None = None, **monitor_arguments: Any) -> Any:
    """A fastai ``Callback`` that drives ``monitor`` (created at fit begin if None)."""
    base, cancel_fit, recorder = _fastai()
    run = FrameworkRun(monitor, monitor_arguments, "lw.FastaiCallback")

    class _Callback(base):
        order = recorder.order + 1  # after the Recorder: its epoch values are in
        run_valid = True

        # No attribute named "run" here: fastai's Callback uses it (whether the callback runs).

        @property
        def monitor(self) -> LiveLossMonitor | None:
            return run.monitor

        def before_train(self) -> None:
            """The first training phase of a fit. Not before_fit: ``learn.validate()`` sends
            before_fit/after_epoch/after_fit too, and is not a run."""
            if run.active or getattr(self.learn, "lr_finder", False) or not hasattr(self.learn, "recorder"):
                return  # lr_find's trial fit is not a run either
            run.begin(self.learn.model, self.learn.n_epoch, optimizer=self.learn.opt)

        def before_epoch(self) -> None:
            self.batch_losses = []  # this epoch's training losses, kept as tensors: no sync per step

        def after_batch(self) -> None:
            if run.active and self.training:
                self.batch_losses.append(self.learn.loss.detach())
                if run.step(self.learn.loss):
                    raise cancel_fit()

        def _epoch_mean(self) -> float | None:
            import torch

            losses = getattr(self, "batch_losses", [])
            if not losses:
                return None
            values = torch.stack([loss.float().reshape(()) for loss in losses])
            finite = values[torch.isfinite(values)]
            return float(finite.mean()) if finite.numel() else None

        def after_epoch(self) -> None:
            if not run.active:
                return
            names = self.learn.recorder.metric_names[1:-1]  # without 'epoch' and 'time'
            logs = dict(zip(names, self.learn.recorder.values[-1]))
            values = epoch_values(logs, {"valid_loss": "val"}, skip=("train_loss",))  # fastai's EMA left out
            mean = self._epoch_mean()
            if mean is not None:
                values["train"] = mean
            if run.epoch(values):
                raise cancel_fit()

        def after_fit(self) -> None:
            run.end()

    return refuse_other_frameworks(_Callback, "lw.FastaiCallback", "a fastai Learner")()
