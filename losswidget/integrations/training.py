"""PyTorch glue: ``evaluate`` and ``fit`` (torch is imported when these are first called).

Loss tracking that is correct by construction: validation in ``eval()`` mode under
``no_grad``, sample-weighted means (a short last batch is not over-weighted),
per-step logging without device synchronisation, and best weights restored.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable
from typing import Any

from losswidget.core.history import RESERVED_NAMES
from losswidget.core.validate import check_int

__all__ = ["evaluate", "fit"]

Metric = Callable[[Any, Any], Any]


def _torch():
    import torch

    return torch


def _describe(batch: Any) -> str:
    if isinstance(batch, dict):
        return f"a dict with keys {sorted(batch)!r}"
    if isinstance(batch, (tuple, list)):
        return f"a {type(batch).__name__} of {len(batch)} items"
    return f"a {type(batch).__module__}.{type(batch).__qualname__}"


def _unpack(batch: Any, unpack: Callable[[Any], tuple] | None) -> tuple[Any, Any]:
    if unpack is not None:
        batch = unpack(batch)
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    raise TypeError(
        f"the loader yielded {_describe(batch)}; fit() and evaluate() expect (inputs, targets) batches. "
        "Pass unpack=lambda batch: (batch['x'], batch['y']) (or your own function) to say how to split it"
    )


def _model_device(model: Any) -> Any:
    first = next(itertools.chain(model.parameters(), model.buffers()), None)
    return first.device if first is not None else _torch().device("cpu")


def _to(value: Any, device: Any) -> Any:
    if hasattr(value, "to"):
        return value.to(device, non_blocking=True)
    if isinstance(value, (tuple, list)):
        return type(value)(_to(v, device) for v in value)
    if isinstance(value, dict):
        return {k: _to(v, device) for k, v in value.items()}
    return value


def _batch_size(targets: Any) -> int:
    if hasattr(targets, "shape") and len(targets.shape):
        return int(targets.shape[0])
    if isinstance(targets, (tuple, list)):
        return len(targets)
    return 1


def _scalar(value: Any, what: str, needs_grad: bool = False) -> Any:
    torch = _torch()
    if not isinstance(value, torch.Tensor):
        if needs_grad:
            raise TypeError(
                f"{what} returned a {type(value).__name__} ({_short(value)}), not a tensor: training needs the "
                "loss as a tensor to backpropagate; return torch's loss (no .item() or float())"
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{what} must return a number or a one-element tensor: got a {type(value).__name__}")
        return torch.as_tensor(float(value))
    if needs_grad and not value.requires_grad:
        raise ValueError(
            f"{what} returned a tensor that does not require grad: the loss must come from the model's outputs "
            "with gradients on (not under torch.no_grad(), not .detach()ed)"
        )
    if value.numel() != 1:
        raise ValueError(
            f"{what} returned a tensor of shape {tuple(value.shape)}: it must return the batch mean "
            "(a scalar), e.g. use reduction='mean' (the default) or call .mean()"
        )
    return value.reshape(())


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _known_empty(loader: Any) -> bool:
    try:
        return len(loader) == 0
    except TypeError:  # no length (an iterable dataset): find out while iterating
        return False


def _check_model(model: Any, function: str) -> None:
    if not isinstance(model, _torch().nn.Module):
        raise TypeError(f"{function}(): 'model' must be a torch.nn.Module: got {type(model).__name__}")


def _check_device(model: Any, device: Any) -> Any:
    torch = _torch()
    model_device = _model_device(model)
    if device is None:
        return model_device
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"'device' must name a torch device such as 'cpu' or 'cuda:0': got {device!r}") from None
    if device.type != model_device.type or (device.index is not None and device != model_device):
        raise ValueError(
            f"the model is on {model_device} but device={str(device)!r}: move it first with model.to({str(device)!r})"
        )
    return device


def _check_metrics(metrics: dict[str, Metric] | None, taken: tuple[str, ...]) -> dict[str, Metric]:
    """Metric names that would overwrite a recorded value (or a file field) are refused up front."""
    if metrics is None:
        return {}
    if not isinstance(metrics, dict) or not all(isinstance(k, str) and k and callable(v) for k, v in metrics.items()):
        raise TypeError("'metrics' must map names to functions metric(outputs, targets) -> batch mean")
    for name in metrics:
        if name in taken or name in RESERVED_NAMES:
            raise ValueError(
                f"'metrics' cannot use the name {name!r}: it is taken ({', '.join(sorted({*taken, *RESERVED_NAMES}))} "
                "are); name the metric for what it measures, e.g. 'acc'"
            )
    return metrics


def evaluate(
    model: Any,
    loader: Any,
    loss_fn: Callable[[Any, Any], Any],
    *,
    device: Any = None,
    metrics: dict[str, Metric] | None = None,
    unpack: Callable[[Any], tuple] | None = None,
) -> float | dict[str, float]:
    """Mean loss of ``model`` over ``loader``, weighted by batch size.

    Runs in ``eval()`` mode under ``torch.no_grad()`` and puts the model back in the
    mode it was in. ``loss_fn`` (and each metric) must return a batch mean. With
    ``metrics={"acc": accuracy}`` returns ``{"loss": ..., "acc": ...}``, each
    weighted the same way; otherwise a float. One device synchronisation, at the end.
    """
    torch = _torch()
    _check_model(model, "evaluate")
    if not callable(loss_fn):
        raise TypeError(f"evaluate(): 'loss_fn' must be callable: got {type(loss_fn).__name__}")
    metrics = _check_metrics(metrics, ("loss",))  # evaluate() returns the loss under "loss"
    device = _check_device(model, device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            total = torch.zeros((), dtype=torch.float64, device=device)
            metric_totals = {name: torch.zeros((), dtype=torch.float64, device=device) for name in metrics}
            count = 0
            for batch in loader:
                inputs, targets = _unpack(batch, unpack)
                inputs, targets = _to(inputs, device), _to(targets, device)
                outputs = model(inputs)
                size = _batch_size(targets)
                total += _scalar(loss_fn(outputs, targets), "loss_fn").to(torch.float64) * size
                for name, metric in metrics.items():
                    metric_totals[name] += (
                        _scalar(metric(outputs, targets), f"metric {name!r}").to(torch.float64) * size
                    )
                count += size
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("the loader yielded no batches: an empty loader has no mean loss (check its dataset)")
    if not metrics:
        return float(total / count)
    values = torch.stack([total, *metric_totals.values()]).div(count).tolist()
    return dict(zip(["loss", *metrics], values))


def _warn_if_overlapping(train_loader: Any, val_loader: Any) -> None:
    """Teaching guard: validating on the training data makes the curves lie."""
    torch = _torch()
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
    validation through :func:`evaluate`, the learning rate, ``scheduler.step()``
    (``step(val)`` for ReduceLROnPlateau), and early stopping with best weights
    restored. Creates and displays a :class:`LiveLossMonitor` when none is given;
    pass one to continue an earlier run (epoch numbers continue).
    """
    torch = _torch()
    from losswidget.run.monitor import LiveLossMonitor

    _check_model(model, "fit")
    epochs = check_int("epochs", epochs, minimum=0)
    log_every = check_int("log_every", log_every, minimum=1)
    metrics = _check_metrics(metrics, ("loss", "train", "val", "lr"))  # fit() records these itself
    if not callable(loss_fn):
        raise TypeError(f"fit(): 'loss_fn' must be callable: got {type(loss_fn).__name__}")
    for name, loader in (("train_loader", train_loader), ("val_loader", val_loader)):
        if loader is not None and _known_empty(loader):  # say so now, not after an epoch of training
            raise ValueError(f"'{name}' yields no batches (its dataset is empty or smaller than a dropped batch)")
    if not hasattr(optimizer, "param_groups"):
        raise TypeError(f"'optimizer' must be a torch.optim optimizer: got {type(optimizer).__name__}")
    device = _check_device(model, device)
    if val_loader is not None:
        _warn_if_overlapping(train_loader, val_loader)
    if monitor is None:
        monitor = LiveLossMonitor(model=model)
        monitor.show()
    elif not isinstance(monitor, LiveLossMonitor):
        raise TypeError(f"'monitor' must be a LiveLossMonitor: got {type(monitor).__name__}")
    if monitor.model is None:
        monitor.model = model
    plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)

    for _epoch in monitor.epochs(epochs):
        model.train()
        total = torch.zeros((), dtype=torch.float64, device=device)
        count = 0
        for step, batch in enumerate(train_loader):
            inputs, targets = _unpack(batch, unpack)
            inputs, targets = _to(inputs, device), _to(targets, device)
            optimizer.zero_grad(set_to_none=True)
            outputs = model(inputs)
            loss = _scalar(loss_fn(outputs, targets), "loss_fn", needs_grad=True)
            loss.backward()
            optimizer.step()
            size = _batch_size(targets)
            total += loss.detach().to(torch.float64) * size
            count += size
            if step % log_every == 0 and monitor.log_step(train=loss):
                break  # Stop pressed: end this epoch now
        values: dict[str, Any] = {"lr": float(optimizer.param_groups[0]["lr"])}
        if count:
            values["train"] = float(total / count)
        if val_loader is not None:
            result = evaluate(model, val_loader, loss_fn, device=device, metrics=metrics, unpack=unpack)
            if isinstance(result, dict):
                values["val"] = result.pop("loss")
                values.update(result)
            else:
                values["val"] = result
        monitor.log(**values)
        if scheduler is not None and not monitor.should_stop:
            if plateau:
                if "val" in values and math.isfinite(values["val"]):
                    scheduler.step(values["val"])
            else:
                scheduler.step()
    return monitor.history


def accuracy(outputs: Any, targets: Any) -> Any:
    """Share of correct class predictions in a batch (a metric for :func:`fit`/:func:`evaluate`)."""
    return (outputs.argmax(dim=-1) == targets).float().mean()
