"""A PyTorch Lightning callback that feeds a LiveLossMonitor (Lightning is imported lazily).

>>> trainer = pl.Trainer(callbacks=[lw.LightningCallback(patience=5)])   # doctest: +SKIP

Per training step the callback logs the step's loss; at the end of each training
epoch it logs the epoch's ``train_loss``/``val_loss`` (the names your LightningModule
``self.log``s) and any other logged metrics. Stop, early stopping and the kernel
interrupt set ``trainer.should_stop``, so Lightning ends the fit gracefully; the best
epoch's weights are loaded back into the module when the monitor stopped the fit early or
the fit failed.
"""

from __future__ import annotations

from typing import Any

from losswidget.integrations.frameworks import FrameworkRun, epoch_values, refuse_other_frameworks
from losswidget.run.monitor import LiveLossMonitor


def _lightning_callback_base() -> type:
    try:
        from lightning.pytorch import Callback
    except ImportError:
        try:
            from pytorch_lightning import Callback
        except ImportError:
            raise ImportError("LightningCallback needs Lightning: pip install lightning") from None
    return Callback


def LightningCallback(
    monitor: LiveLossMonitor | None = None,
    *,
    train_key: str = "train_loss",
    val_key: str = "val_loss",
    **monitor_arguments: Any,
) -> Any:
    """A Lightning ``Callback`` that drives ``monitor`` (created on fit start if None)."""
    run = FrameworkRun(monitor, monitor_arguments, "lw.LightningCallback")

    class _Callback(_lightning_callback_base()):
        def __init__(self) -> None:
            self.run = run

        @property
        def monitor(self) -> LiveLossMonitor | None:
            return run.monitor

        def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
            run.begin(pl_module, trainer.max_epochs or 0, optimizer=(trainer.optimizers or [None])[0])

        def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
            if run.active:  # Lightning steps epoch schedulers before on_train_epoch_end: read the rate now
                run.monitor.begin_epoch()

        def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
            loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
            if run.active and run.step(loss):
                trainer.should_stop = True

        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            if trainer.sanity_checking or not run.active:
                return
            metrics = {
                key.removesuffix("_epoch"): value
                for key, value in trainer.callback_metrics.items()
                if not key.endswith("_step")
            }
            if run.epoch(epoch_values(metrics, {train_key: "train", val_key: "val"})):
                trainer.should_stop = True

        def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
            run.end()

        def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
            run.end(failed=True)  # the best weights come back, as after any early end

    return refuse_other_frameworks(_Callback, "lw.LightningCallback", "a Lightning Trainer")()
