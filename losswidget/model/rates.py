"""The learning rate, read from the optimizer the loop steps with (``LiveLossMonitor(optimizer=...)``).

Read once per epoch, never per step: a torch optimizer's ``param_groups`` (each group's ``lr``; a
scheduler writes there), a fastai optimizer's ``hypers``, a Keras optimizer's ``learning_rate``.
Recorded as ``lr`` (the first parameter group) and ``lr/1``, ``lr/2``... for the other groups when
there are several, in the history, the log and every output, like any value.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from losswidget.core.validate import user_stacklevel


def _torch_groups(optimizer: Any) -> list[float]:
    return [float(group["lr"]) for group in optimizer.param_groups]


def _fastai_groups(optimizer: Any) -> list[float]:
    return [float(hyper["lr"]) for hyper in optimizer.hypers]


def _keras_rate(optimizer: Any) -> list[float]:
    rate = optimizer.learning_rate
    value = rate.numpy() if hasattr(rate, "numpy") else rate  # a Keras variable (any backend)
    return [float(value)]


def _reader(optimizer: Any) -> Any:
    """The function that reads ``optimizer``'s rates, or None when it has none we know of."""
    groups = getattr(optimizer, "param_groups", None)
    if isinstance(groups, list) and groups and all(isinstance(g, dict) and "lr" in g for g in groups):
        return _torch_groups
    hypers = getattr(optimizer, "hypers", None)
    if isinstance(hypers, list) and hypers and all(isinstance(h, dict) and "lr" in h for h in hypers):
        return _fastai_groups
    if not isinstance(optimizer, type) and hasattr(type(optimizer), "learning_rate"):
        return _keras_rate
    return None


class LearningRates:
    """The rates of one optimizer, by name."""

    def __init__(self, optimizer: Any) -> None:
        reader = _reader(optimizer)
        if reader is None:
            raise TypeError(
                "'optimizer' must be the optimizer the loop steps with (a torch.optim optimizer, whose "
                "param_groups hold each group's 'lr'; a fastai or Keras optimizer): got "
                f"{type(optimizer).__name__} {optimizer!r:.80}"
            )
        self.optimizer, self._read = optimizer, reader
        self.read()  # fails now, by name, rather than at the first epoch's end

    def read(self) -> dict[str, float]:
        try:
            rates = self._read(self.optimizer)
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            raise TypeError(
                f"the learning rate of 'optimizer' ({type(self.optimizer).__name__}) cannot be read as a number: "
                f"{error}"
            ) from None
        named = {"lr" if index == 0 else f"lr/{index}": rate for index, rate in enumerate(rates)}
        return {name: rate for name, rate in named.items() if not math.isnan(rate)}


def steps_another_model(optimizer: Any, model: Any) -> bool:
    """True when ``optimizer`` is a torch optimizer that steps none of ``model``'s parameters (the
    previous run's optimizer, after ``new_run(model=...)``); False when it does, or cannot be told."""
    groups = getattr(optimizer, "param_groups", None)
    parameters = getattr(model, "parameters", None)
    if not isinstance(groups, list) or not callable(parameters):
        return False
    stepped = {id(p) for group in groups if isinstance(group, dict) for p in group.get("params", ())}
    return bool(stepped) and not any(id(p) in stepped for p in parameters())


class RatesOfAnotherModel:
    """In place of the rates of an optimizer that no longer steps the monitor's model: records no rate
    (the old one would be a wrong fact), and says so once, at the first epoch that would have had one.
    ``monitor.optimizer = ...`` (fit() does it) replaces it with the new optimizer's rates."""

    optimizer = None

    def __init__(self, old: Any) -> None:
        self._old_name = type(old).__name__
        self._said = False

    def read(self) -> dict[str, float]:
        if not self._said:
            self._said = True
            warnings.warn(
                f"losswidget: no learning rate is recorded in this run: new_run(model=...) gave a new model, and "
                f"the previous run's optimizer ({self._old_name}) does not train it; pass the new one, "
                "monitor.new_run(name, model=model, optimizer=optimizer) (fit() passes its own)",
                stacklevel=user_stacklevel(),
            )
        return {}
