"""PyTorch glue: ``evaluate`` and ``fit`` (torch is imported when these are first called).

Loss tracking that is correct by construction: validation in ``eval()`` mode under
``no_grad``, sample-weighted means (a short last batch is not over-weighted),
per-step logging without device synchronisation, and best weights restored.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

from losswidget.core.validate import check_bool, check_int
from losswidget.integrations.batches import (
    Metric,
    batch_size,
    batch_weight,
    check_device,
    check_loader,
    check_metrics,
    check_model,
    import_torch,
    inputs_and_targets,
    known_empty,
    loss_name_of,
    scalar,
    stepped_per_batch,
    to_device,
    weighted,
)
from losswidget.integrations.per_example import PerExampleLosses

__all__ = ["accuracy", "evaluate", "fit"]

# The closing sentence's way back to the best weights, for the monitor fit makes (the user has none).
FIT_RESTORE_HINT = (
    "the model keeps the last epoch's weights; to load the best epoch's, pass "
    "monitor=lw.LiveLossMonitor(model=model) to fit and call monitor.restore_best() after it"
)


def check_loss_fn(loss_fn: Any, caller: str) -> None:
    """A loss is a function or a module instance: the class itself (``nn.MSELoss``) would be called
    with (outputs, targets) as its constructor's arguments and fail deep in torch."""
    if isinstance(loss_fn, type):
        module = loss_fn.__module__
        name = loss_fn.__qualname__
        if module.startswith("torch.nn.") and getattr(import_torch().nn, name, None) is loss_fn:
            name = f"torch.nn.{name}"  # as it is written: torch.nn.MSELoss, not torch.nn.modules.loss.MSELoss
        elif module not in ("__main__", "builtins"):
            name = f"{module}.{name}"
        raise TypeError(f"{caller}(): 'loss_fn' is the class {name}: pass an instance, {name}()")
    if not callable(loss_fn):
        raise TypeError(f"{caller}(): 'loss_fn' must be callable: got {type(loss_fn).__name__}")


def evaluate(
    model: Any,
    loader: Any,
    loss_fn: Callable[[Any, Any], Any],
    *,
    device: Any = None,
    metrics: dict[str, Metric] | None = None,
    unpack: Callable[[Any], tuple] | None = None,
    per_example: bool = False,
) -> Any:
    """Mean loss of ``model`` over ``loader``, weighted by batch size.

    Runs in ``eval()`` mode under ``torch.no_grad()`` and puts the model back in the
    mode it was in. ``loss_fn`` (and each metric) must return a batch mean. With
    ``metrics={"acc": accuracy}`` returns ``{"loss": ..., "acc": ...}``, each
    weighted the same way; otherwise a float. One device synchronisation, at the end.

    A loss with ``ignore_index`` (``nn.CrossEntropyLoss``, ``NLLLoss``: padded sequences) is the
    loss's own mean over the whole set: each batch weighted by the positions it counted.

    ``per_example=True``: the loss is one value per example instead, a 1-D float64 CPU tensor in
    the loader's order, for ``monitor.log(val=...)`` (its mean, and its standard error), whose mean
    is the loss above (:mod:`losswidget.integrations.per_example`). A torch loss module is asked with
    ``reduction="none"`` (on a copy: yours is untouched); any other ``loss_fn`` is called once per
    example; values that do not reproduce the loss's own batch mean are refused.
    """
    torch = import_torch()
    check_model(model, "evaluate")
    check_loader("loader", loader, "evaluate")
    per_example = check_bool("per_example", per_example)
    check_loss_fn(loss_fn, "evaluate")
    metrics = check_metrics(metrics, ("loss",))  # evaluate() returns the loss under "loss"
    device = check_device(model, device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            total = torch.zeros((), dtype=torch.float64, device=device)
            weight = torch.zeros((), dtype=torch.float64, device=device)  # what the loss's mean divides by
            losses = PerExampleLosses(loss_fn, device) if per_example else None
            metric_totals = {name: torch.zeros((), dtype=torch.float64, device=device) for name in metrics}
            count = 0
            for batch in loader:
                inputs, targets = inputs_and_targets(batch, unpack)
                inputs, targets = to_device(inputs, device), to_device(targets, device)
                outputs = model(inputs)
                size = batch_size(targets)
                if losses is not None:
                    losses.add(outputs, targets, size)
                else:
                    counted = batch_weight(loss_fn, targets, size)
                    total += weighted(scalar(loss_fn(outputs, targets), "loss_fn"), counted)
                    weight += counted
                for name, metric in metrics.items():
                    metric_totals[name] += scalar(metric(outputs, targets), f"metric {name!r}").to(torch.float64) * size
                count += size
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("the loader yielded no batches: an empty loader has no mean loss (check its dataset)")
    loss = losses.result() if losses is not None else total / weight
    if not metrics:
        return loss if losses is not None else float(loss)
    metric_values = torch.stack(list(metric_totals.values())).div(count).tolist()
    return {"loss": loss if losses is not None else float(loss), **dict(zip(metrics, metric_values))}


def _warn_if_overlapping(train_loader: Any, val_loader: Any) -> None:
    """Teaching guard: validating on the training data makes the curves lie."""
    torch = import_torch()
    train_data = getattr(train_loader, "dataset", None)
    val_data = getattr(val_loader, "dataset", None)
    if train_data is None or val_data is None:
        return
    if train_data is val_data:
        warnings.warn(
            "losswidget: the train and validation loaders read the same dataset: the validation loss will "
            "follow the training loss and never show overfitting; hold out separate data (random_split)",
            stacklevel=3,
        )
        return
    subset = torch.utils.data.Subset
    if isinstance(train_data, subset) and isinstance(val_data, subset) and train_data.dataset is val_data.dataset:
        shared = set(map(int, train_data.indices)) & set(map(int, val_data.indices))
        if shared:
            warnings.warn(
                f"losswidget: {len(shared)} samples are in both the training and the validation subset of one "
                "dataset: the validation loss is optimistic; split the indices without overlap",
                stacklevel=3,
            )


def fit(
    model: Any,
    train_loader: Any,
    val_loader: Any,
    loss_fn: Callable[[Any, Any], Any],
    optimizer: Any,
    epochs: int,
    *,
    monitor: Any = None,
    scheduler: Any = None,
    metrics: dict[str, Metric] | None = None,
    device: Any = None,
    log_every: int = 1,
    unpack: Callable[[Any], tuple] | None = None,
) -> Any:
    """Train ``model`` for up to ``epochs`` epochs with a live monitor; return the History.

    Per epoch: training with per-step losses logged (every ``log_every`` steps,
    without device synchronisation), the sample-weighted mean training loss,
    validation through :func:`evaluate` (per example, with its standard error, for a torch loss
    module with the plain mean), the learning rate, ``scheduler.step()``
    (``step(val)`` for ReduceLROnPlateau; after every batch for the schedules made per step,
    OneCycleLR and CyclicLR), and early stopping with best weights
    restored. Creates and displays a :class:`LiveLossMonitor` when none is given;
    pass one to continue an earlier run (epoch numbers continue).
    """
    torch = import_torch()
    from losswidget.run.monitor import LiveLossMonitor

    check_model(model, "fit")
    epochs = check_int("epochs", epochs, minimum=0)
    log_every = check_int("log_every", log_every, minimum=1)
    metrics = check_metrics(metrics, ("loss", "train", "val", "lr"))  # fit() records these itself
    check_loss_fn(loss_fn, "fit")
    check_loader("train_loader", train_loader, "fit")
    if val_loader is not None:
        check_loader("val_loader", val_loader, "fit")
    for name, loader in (("train_loader", train_loader), ("val_loader", val_loader)):
        if loader is not None and known_empty(loader):  # say so now, not after an epoch of training
            raise ValueError(f"'{name}' yields no batches (its dataset is empty or smaller than a dropped batch)")
    if not hasattr(optimizer, "param_groups"):
        raise TypeError(f"'optimizer' must be a torch.optim optimizer: got {type(optimizer).__name__}")
    per_batch = stepped_per_batch(scheduler, epochs, train_loader)
    device = check_device(model, device)
    if val_loader is not None:
        _warn_if_overlapping(train_loader, val_loader)
    if monitor is None:
        monitor = LiveLossMonitor(model=model)
        monitor._loop.restore_hint = FIT_RESTORE_HINT  # the caller holds no monitor to restore from
        monitor.show()
    elif not isinstance(monitor, LiveLossMonitor):
        raise TypeError(f"'monitor' must be a LiveLossMonitor: got {type(monitor).__name__}")
    if monitor.model is None:
        monitor.model = model
    if monitor.loss_name is None:
        monitor.loss_name = loss_name_of(loss_fn)  # the loss axis says which loss it is
    if metrics and monitor.metric_source is None:
        monitor.metric_source = "validation"  # evaluate() measures them on val_loader: "val acc"
    monitor.optimizer = optimizer  # the one that steps: its learning rates (lr, lr/1...), once an epoch
    plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    # Validation per example (its mean and standard error) where that costs nothing and means the
    # same: a torch loss module with the plain mean, or KLDivLoss's mean of each example's sum (a
    # class-weighted mean is another quantity).
    plain_mean = (
        getattr(loss_fn, "reduction", None) in ("mean", "batchmean") and getattr(loss_fn, "weight", None) is None
    )
    each = {"per_example": True} if plain_mean else {}
    if val_loader is not None and monitor.early_stopping.min_delta_se and not plain_mean:
        raise ValueError(
            f"fit(): the monitor's min_delta_se={monitor.early_stopping.min_delta_se:g} needs one validation "
            "loss per example, which fit computes for a torch loss module with the plain mean (e.g. "
            f"nn.CrossEntropyLoss()); loss_fn is {type(loss_fn).__name__} with reduction="
            f"{getattr(loss_fn, 'reduction', None)!r}: use such a module, or a monitor with min_delta_se=0"
        )

    for _epoch in monitor.epochs(epochs):
        model.train()
        total = torch.zeros((), dtype=torch.float64, device=device)
        weight = torch.zeros((), dtype=torch.float64, device=device)  # as in evaluate: what the mean divides by
        count = 0
        for step, batch in enumerate(train_loader):
            inputs, targets = inputs_and_targets(batch, unpack)
            inputs, targets = to_device(inputs, device), to_device(targets, device)
            optimizer.zero_grad(set_to_none=True)
            outputs = model(inputs)
            loss = scalar(loss_fn(outputs, targets), "loss_fn", needs_grad=True)
            loss.backward()
            optimizer.step()
            if per_batch:
                scheduler.step()
            size = batch_size(targets)
            counted = batch_weight(loss_fn, targets, size)
            total += weighted(loss, counted)
            weight += counted
            count += size
            if step % log_every == 0 and monitor.log_step(train=loss):
                break  # Stop pressed: end this epoch now
        values: dict[str, Any] = {}
        if count:
            values["train"] = float(total / weight)
        if val_loader is not None:
            result = evaluate(model, val_loader, loss_fn, device=device, metrics=metrics, unpack=unpack, **each)
            if isinstance(result, dict):
                values["val"] = result.pop("loss")
                values.update(result)
            else:
                values["val"] = result
        monitor.log(**values)
        if scheduler is not None and not per_batch and not monitor.should_stop:
            if plateau:
                val_now = float(monitor.history.val[-1]) if "val" in values else math.nan
                if math.isfinite(val_now):
                    scheduler.step(val_now)
            else:
                scheduler.step()
    return monitor.history


def accuracy(outputs: Any, targets: Any) -> Any:
    """Share of correct class predictions in a batch (a metric for :func:`fit`/:func:`evaluate`):
    ``outputs`` are scores of shape (batch, classes), ``targets`` class indices of shape (batch,)."""
    if getattr(outputs, "ndim", 0) < 2 or outputs.shape[-1] < 2:
        raise ValueError(
            f"lw.accuracy needs one score per class, of shape (batch, classes): got outputs of shape "
            f"{tuple(getattr(outputs, 'shape', ()))}; for one logit per example (binary), compare "
            "(outputs.squeeze(-1) > 0) with the targets in a metric of your own"
        )
    if tuple(targets.shape) != tuple(outputs.shape[:-1]):
        raise ValueError(
            f"lw.accuracy needs one class index per example: targets of shape {tuple(targets.shape)} "
            f"for outputs of shape {tuple(outputs.shape)}"
        )
    return (outputs.argmax(dim=-1) == targets).float().mean()
