"""A PyTorch Lightning callback that feeds a LiveLossMonitor (Lightning is imported lazily).

>>> trainer = pl.Trainer(callbacks=[lw.LightningCallback(patience=5)])   # doctest: +SKIP

Per training step the callback logs the step's loss; at the end of each training
epoch it logs the epoch's ``train_loss``/``val_loss`` (the names your LightningModule
``self.log``s) and any other logged metrics. Stop, early stopping and the kernel
interrupt set ``trainer.should_stop``, so Lightning ends the fit gracefully; the best
epoch's weights are loaded back into the module when the fit stopped early.
"""

from __future__ import annotations

from typing import Any

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


def _number(value: Any) -> Any:
    if hasattr(value, "detach") and value.numel() == 1:
        return value.detach()
    return value if isinstance(value, (int, float)) else None


def LightningCallback(
    monitor: LiveLossMonitor | None = None,
    *,
    train_key: str = "train_loss",
    val_key: str = "val_loss",
    **monitor_arguments: Any,
) -> Any:
    """A Lightning ``Callback`` that drives ``monitor`` (created on fit start if None)."""
    if monitor is not None and not isinstance(monitor, LiveLossMonitor):
        raise TypeError(f"'monitor' must be a LiveLossMonitor or None: got {type(monitor).__name__}")

    class _Callback(_lightning_callback_base()):
        def __init__(self) -> None:
            self.monitor = monitor

        def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
            if self.monitor is None:
                self.monitor = LiveLossMonitor(model=pl_module, **monitor_arguments)
            elif self.monitor.model is None:
                self.monitor.model = pl_module
            self.monitor.show()
            self.monitor.begin_loop(max(trainer.max_epochs or 0, 0))

        def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
            loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
            if loss is not None and self.monitor.log_step(train=loss):
                trainer.should_stop = True

        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            if trainer.sanity_checking:
                return
            values = {}
            for key, value in trainer.callback_metrics.items():
                number = _number(value)
                if number is None or key.endswith("_step"):
                    continue
                key = key.removesuffix("_epoch")
                name = {train_key: "train", val_key: "val"}.get(key, key)
                if name not in ("epoch", "step", "kind"):
                    values[name] = number
            if values and self.monitor.log(**values):
                trainer.should_stop = True
            elif self.monitor.should_stop:
                trainer.should_stop = True

        def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
            self.monitor.end_loop(finished=not self.monitor.should_stop)

        def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
            self.monitor.end_loop(finished=False)  # the best weights come back, as after any early end

    return _Callback()
