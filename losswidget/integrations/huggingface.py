"""A Hugging Face ``Trainer`` callback that feeds a LiveLossMonitor (transformers imported lazily).

>>> trainer = Trainer(model, args, train_dataset=..., eval_dataset=...,
...                   callbacks=[lw.TrainerCallback(patience=3)])          # doctest: +SKIP

- Each logging step's training loss (``logging_steps``) is one point of the step line; each
  evaluation is one point of the chart (``eval_loss`` as validation, ``eval_*`` metrics and the
  learning rate beside it). With ``eval_strategy="epoch"`` the x axis counts epochs; with
  ``"steps"`` it counts evaluations and says how many steps each is apart.
- Stop and early stopping set ``control.should_training_stop``: the Trainer ends after the
  current step and still runs its own end (saving, ``load_best_model_at_end``).
- Best weights: with ``load_best_model_at_end=True`` the Trainer's own checkpoint is the one
  loaded (it knows ``metric_for_best_model``), and the monitor keeps no copy. Otherwise the
  monitor keeps the best evaluation's weights in memory and loads them back when it stopped the
  run early, as with a hand-written loop.
- The Trainer's progress table (``NotebookProgressCallback``) stays: it lists each evaluation's
  exact numbers. ``trainer.remove_callback(NotebookProgressCallback)`` leaves the chart alone.
"""

from __future__ import annotations

import math
from typing import Any

from losswidget.integrations.frameworks import FrameworkRun, epoch_values, number, refuse_other_frameworks
from losswidget.run.monitor import LiveLossMonitor

_NOT_METRICS = ("epoch", "total_flos", "step")
_RUNTIME = ("_runtime", "_samples_per_second", "_steps_per_second")


def _base() -> type:
    try:
        from transformers import TrainerCallback as Base
    except ImportError:
        raise ImportError("TrainerCallback needs transformers: pip install transformers accelerate") from None
    return Base


def TrainerCallback(
    monitor: LiveLossMonitor | None = None, *, learning_rate: bool = True, **monitor_arguments: Any
) -> Any:
    """A ``transformers.TrainerCallback`` that drives ``monitor`` (created at train begin if None).

    ``learning_rate``: also record the learning rate at each evaluation as ``lr`` (drawn on its own
    panel): the Trainer's own logged value, the rate of the last step before it (the optimizer already
    holds the next step's).
    """
    if not isinstance(learning_rate, bool):
        raise TypeError(f"'learning_rate' must be True or False: {learning_rate!r}")
    run = FrameworkRun(monitor, monitor_arguments, "lw.TrainerCallback")

    class _Callback(_base()):
        def __init__(self) -> None:
            self.run = run
            self._losses: list[float] = []  # training losses logged since the last evaluation
            self._learning_rate: float | None = None
            self._evaluations = "epoch"

        @property
        def monitor(self) -> LiveLossMonitor | None:
            return run.monitor

        def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
            strategy = self._evaluations = str(getattr(args.eval_strategy, "value", args.eval_strategy))
            keep = None if args.load_best_model_at_end else model
            if strategy == "steps":
                every = args.eval_steps or args.logging_steps
                if every < 1:  # a fraction of the run's steps, as the Trainer reads it
                    every = math.ceil(every * state.max_steps)
                planned = (state.max_steps // every) if state.max_steps and every else 0
                run.begin(keep, planned, x_label=f"evaluation (every {every} steps)")
            else:
                run.begin(keep, math.ceil(state.num_train_epochs or args.num_train_epochs))
            self._losses, self._learning_rate = [], None

        def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
            logs = logs or {}
            if not run.active or "loss" not in logs or any(key.startswith("eval_") for key in logs):
                return
            loss = number(logs["loss"])
            if loss is not None:
                self._losses.append(float(loss))
                if run.step(loss):
                    control.should_training_stop = True
            rate = number(logs.get("learning_rate"))
            if rate is not None:
                self._learning_rate = float(rate)

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if run.active and run.step(None):
                control.should_training_stop = True

        def on_evaluate(self, args: Any, state: Any, control: Any, metrics: dict | None = None, **kwargs: Any) -> None:
            if not run.active or not metrics:
                return
            kept = {k: v for k, v in metrics.items() if k.startswith("eval_") and not k.endswith(_RUNTIME)}
            self._point(
                control,
                epoch_values({k.removeprefix("eval_"): v for k, v in kept.items()}, {"loss": "val"}, _NOT_METRICS),
            )

        def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if run.active and self._evaluations == "no" and self._losses:  # no evaluation: train per epoch
                self._point(control, {})

        def _point(self, control: Any, values: dict[str, Any]) -> None:
            """One point of the chart: ``values`` with the mean of the steps logged since the last one
            as train, and the learning rate."""
            if self._losses:
                values["train"] = sum(self._losses) / len(self._losses)
            if learning_rate and self._learning_rate is not None:
                values["lr"] = self._learning_rate
            self._losses = []
            if run.epoch(values):
                control.should_training_stop = True

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            run.end()

    return refuse_other_frameworks(_Callback, "lw.TrainerCallback", "transformers.Trainer")()
