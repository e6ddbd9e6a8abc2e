"""A Keras 3 callback that feeds a LiveLossMonitor (keras imported lazily; any backend, torch tested).

>>> model.fit(x, y, validation_split=0.2, epochs=100,
...           callbacks=[lw.KerasCallback(patience=5)], verbose=0)        # doctest: +SKIP

- Per batch: the batch's loss. Keras reports a running mean over the epoch; the batch's own
  value is recovered from two consecutive means (exact for equal batch sizes; a smaller last
  batch is counted like the others). Per epoch: ``loss`` and ``val_loss`` as train and
  validation, every other metric (``val_*`` too) under its own name: the epoch's values are
  Keras' own numbers.
- Stop and early stopping set ``model.stop_training``: Keras ends after the current batch.
- Best weights, like Keras' ``restore_best_weights``: kept in memory (``get_weights()``) at each
  new best validation loss and set back when the monitor stopped the run early. Beside Keras'
  own ``EarlyStopping`` there is no fight: when Keras' rule ends the run, its restore stands.
"""

from __future__ import annotations

from typing import Any

from losswidget.integrations.frameworks import FrameworkRun, epoch_values, number, refuse_other_frameworks
from losswidget.run.monitor import LiveLossMonitor


class KerasWeights:
    """A Keras model's weights behind the ``state_dict``/``load_state_dict`` the monitor keeps."""

    training = True  # Keras has no train()/eval() modes for the teaching guards to check

    def __init__(self, model: Any) -> None:
        self.model = model

    def state_dict(self) -> dict[str, Any]:
        return {str(index): weight for index, weight in enumerate(self.model.get_weights())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.set_weights([state[str(index)] for index in range(len(state))])


def _base() -> type:
    try:
        import keras
    except ImportError:
        raise ImportError(
            'KerasCallback needs Keras 3: pip install keras, and os.environ["KERAS_BACKEND"] = "torch" before '
            "importing it"
        ) from None
    if not keras.__version__.startswith("3."):
        raise ImportError(f"KerasCallback needs Keras 3: found keras {keras.__version__}")
    return keras.callbacks.Callback


def KerasCallback(monitor: LiveLossMonitor | None = None, **monitor_arguments: Any) -> Any:
    """A ``keras.callbacks.Callback`` that drives ``monitor`` (created at train begin if None)."""
    run = FrameworkRun(monitor, monitor_arguments, "lw.KerasCallback")

    class _Callback(_base()):
        def __init__(self) -> None:
            super().__init__()
            self.run = run
            self._previous_mean = 0.0

        @property
        def monitor(self) -> LiveLossMonitor | None:
            return run.monitor

        def on_train_begin(self, logs: dict | None = None) -> None:
            run.begin(KerasWeights(self.model), int(self.params.get("epochs") or 0), optimizer=self.model.optimizer)

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self._previous_mean = 0.0

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            mean = number((logs or {}).get("loss"))  # Keras' running mean over this epoch's batches 0..batch
            if mean is None:
                stop = run.step(None)
            else:  # a device tensor stays one: converted in bulk at the next frame, no sync per batch
                stop = run.step(mean * (batch + 1) - self._previous_mean * batch)
                self._previous_mean = mean
            if stop:
                self.model.stop_training = True

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if run.epoch(epoch_values(logs or {}, {"loss": "train", "val_loss": "val"}, ("learning_rate",))):
                self.model.stop_training = True

        def on_train_end(self, logs: dict | None = None) -> None:
            run.end()

    return refuse_other_frameworks(_Callback, "lw.KerasCallback", "Keras' model.fit")()
