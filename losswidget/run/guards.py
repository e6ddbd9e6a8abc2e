"""Teaching guards: warnings for the mistakes students make with train()/eval() and gradients.

Each warning is given once per monitor, starts with ``losswidget:`` and says the remedy.
"""

from __future__ import annotations

import warnings
from typing import Any

from losswidget.core.values import is_tensor

MESSAGES = {
    "eval-steps": "losswidget: training steps are logged while the model is in eval() mode: call model.train() "
    "before training, or dropout and batch norm stay switched off",
    "train-val": "losswidget: the validation loss was logged while the model is in train() mode: call model.eval() "
    "before validating (lw.evaluate does), or dropout makes it noisy and too high and batch norm normalises "
    "with the validation batch's own statistics and moves its running statistics",
    "val-grad": "losswidget: the validation loss was computed with gradients enabled: wrap evaluation "
    "in torch.no_grad() (or use lw.evaluate) to save memory and time",
}


class TeachingGuards:
    def __init__(self) -> None:
        self.model: Any = None
        self.train_mode_without_grad = False  # set by a forward hook on the model
        self._warned: set[str] = set()
        self._mode_layers: bool | None = None
        self._hook: Any = None

    def attach(self, model: Any) -> None:
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        self.model, self._mode_layers = model, None
        if model is not None and callable(getattr(model, "register_forward_pre_hook", None)):
            from losswidget.model.modes import watch_train_mode_without_grad

            self._hook = watch_train_mode_without_grad(model, self)

    def warn_once(self, key: str, message: str, stacklevel: int = 4) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(message, stacklevel=stacklevel)

    def relogged(self, names: list[str], epoch: int) -> None:
        """Names logged a second time in one epoch: the latest value is kept, said once each."""
        for name in names:
            self.warn_once(
                f"twice-{name}",
                f"losswidget: {name!r} was logged twice for epoch {epoch}; keeping the latest value "
                "(log each value once per epoch)",
                stacklevel=4,
            )

    def steps_logged(self) -> None:
        """A few times a second while steps are logged: is the model still in eval() mode?"""
        if self.model is not None and not self.model.training and "eval-steps" not in self._warned:
            self._check_mode("eval-steps")

    def validation_logged(self, val: Any) -> None:
        if is_tensor(val) and getattr(val, "requires_grad", False):
            self.warn_once("val-grad", MESSAGES["val-grad"])
        if self.train_mode_without_grad:
            self._check_mode("train-val")

    def epoch_logged(self) -> None:
        self.train_mode_without_grad = False

    def _check_mode(self, key: str) -> None:
        """Dropout and batch norm behave differently in train() and eval() mode: only they matter."""
        if self._mode_layers is None:
            from losswidget.model.modes import has_mode_dependent_layers

            self._mode_layers = has_mode_dependent_layers(self.model)
        if self._mode_layers:
            self.warn_once(key, MESSAGES[key], stacklevel=5)
