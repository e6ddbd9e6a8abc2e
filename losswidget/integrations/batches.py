"""What ``fit`` and ``evaluate`` check and convert batch by batch: a batch's inputs and targets, the
model's device, a loss or metric as a scalar, and the arguments (torch imported on first use)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from losswidget.core.history import RESERVED_NAMES

Metric = Callable[[Any, Any], Any]


def import_torch():
    import torch

    return torch


def describe(batch: Any) -> str:
    if isinstance(batch, dict):
        return f"a dict with keys {sorted(batch)!r}"
    if isinstance(batch, (tuple, list)):
        return f"a {type(batch).__name__} of {len(batch)} items"
    return f"a {type(batch).__module__}.{type(batch).__qualname__}"


def inputs_and_targets(batch: Any, unpack: Callable[[Any], tuple] | None) -> tuple[Any, Any]:
    if unpack is not None:
        batch = unpack(batch)
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    raise TypeError(
        f"the loader yielded {describe(batch)}; fit() and evaluate() expect (inputs, targets) batches. "
        "Pass unpack=lambda batch: (batch['x'], batch['y']) (or your own function) to say how to split it"
    )


def device_of(model: Any) -> Any:
    first = next(itertools.chain(model.parameters(), model.buffers()), None)
    return first.device if first is not None else import_torch().device("cpu")


def to_device(value: Any, device: Any) -> Any:
    if hasattr(value, "to"):
        return value.to(device, non_blocking=True)
    if isinstance(value, (tuple, list)):
        return type(value)(to_device(v, device) for v in value)
    if isinstance(value, dict):
        return {k: to_device(v, device) for k, v in value.items()}
    return value


def batch_size(targets: Any) -> int:
    if hasattr(targets, "shape") and len(targets.shape):
        return int(targets.shape[0])
    if isinstance(targets, (tuple, list)):
        return len(targets)
    return 1


def scalar(value: Any, what: str, needs_grad: bool = False) -> Any:
    torch = import_torch()
    if not isinstance(value, torch.Tensor):
        if needs_grad:
            raise TypeError(
                f"{what} returned a {type(value).__name__} ({short(value)}), not a tensor: training needs the "
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


def positions_counted(loss_fn: Any, targets: Any, size: int) -> Any:
    """Per example, what a loss with ``ignore_index`` (``nn.CrossEntropyLoss``, ``NLLLoss``) divides by
    for class-index targets: its positions not ignored, each weighted by its class with ``weight``, as a
    float64 tensor of ``size``; None for a loss that averages over every position alike."""
    torch = import_torch()
    ignore = getattr(loss_fn, "ignore_index", None)
    if type(ignore) is not int or not isinstance(targets, torch.Tensor) or targets.is_floating_point():
        return None
    if targets.dtype == torch.bool or targets.is_complex():
        return None
    kept = targets != ignore
    weight = getattr(loss_fn, "weight", None)
    if isinstance(weight, torch.Tensor):
        counted = weight.to(targets.device, torch.float64)[torch.where(kept, targets, 0)] * kept
    else:
        counted = kept.to(torch.float64)
    return counted.reshape(size, -1).sum(dim=1)


def batch_weight(loss_fn: Any, targets: Any, size: int) -> Any:
    """What a batch's mean loss stands for in an epoch's mean: its examples, or for a loss with
    ``ignore_index`` the positions it counted (:func:`positions_counted`), so that the epoch's loss is
    the loss's own mean over the whole set, not a mean of batch means."""
    counted = positions_counted(loss_fn, targets, size)
    return size if counted is None else counted.sum()


def weighted(loss: Any, weight: Any) -> Any:
    """``loss * weight`` in float64; a batch whose every position was ignored (a NaN mean) adds 0."""
    torch = import_torch()
    loss = loss.detach().to(torch.float64)
    if isinstance(weight, int):
        return loss * weight
    return torch.where(weight > 0, loss * weight, torch.zeros_like(loss))


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def known_empty(loader: Any) -> bool:
    try:
        return len(loader) == 0
    except TypeError:  # no length (an iterable dataset): find out while iterating
        return False


def check_model(model: Any, function: str) -> None:
    torch = import_torch()
    if isinstance(model, type):
        raise TypeError(f"{function}(): 'model' must be a model instance, not the class {model.__name__}")
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"{function}(): 'model' must be a torch.nn.Module: got {type(model).__name__}")
    meta = [
        [name for name, tensor in named() if tensor.is_meta] for named in (model.named_parameters, model.named_buffers)
    ]
    if meta[0] or meta[1]:
        kind, names = ("parameters", meta[0]) if meta[0] else ("buffers", meta[1])
        shown = ", ".join(map(repr, names[:3])) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        raise ValueError(
            f"{function}(): 'model' has {kind} on the 'meta' device ({shown}: shapes without values): materialise "
            "it first, e.g. model.to_empty(device='cpu') and then load or initialise its weights"
        )


def check_loader(name: str, loader: Any, function: str) -> None:
    """A loader is an iterable of batches; None or a number is named before any training."""
    kind = type(loader)
    if not (hasattr(kind, "__iter__") or hasattr(kind, "__getitem__")) or isinstance(loader, (str, bytes)):
        # not iter(loader): a DataLoader with workers would start them
        raise TypeError(
            f"{function}(): {name!r} must be an iterable of batches (a torch DataLoader): got {type(loader).__name__}"
        )


def check_device(model: Any, device: Any) -> Any:
    torch = import_torch()
    model_device = device_of(model)
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


def stepped_per_batch(scheduler: Any, epochs: int, train_loader: Any) -> bool:
    """True for a schedule made per optimisation step (OneCycleLR, CyclicLR): fit steps it after every
    batch, not once an epoch. A OneCycleLR too short for the steps fit will take is refused now, by
    its numbers, rather than by torch in the middle of a run."""
    torch = import_torch()
    schedules = torch.optim.lr_scheduler
    if not isinstance(scheduler, (schedules.OneCycleLR, schedules.CyclicLR)):
        return False
    batches = _length(train_loader)
    if isinstance(scheduler, schedules.OneCycleLR) and batches is not None:
        left = scheduler.total_steps - scheduler.last_epoch
        if left < epochs * batches:
            raise ValueError(
                f"fit(): 'scheduler' is a OneCycleLR with {left} steps left (total_steps={scheduler.total_steps}), "
                f"and fit steps it after every batch: {epochs} epochs of {batches} batches take {epochs * batches}. "
                f"Build it with epochs={epochs}, steps_per_epoch=len(train_loader)"
            )
    return True


def _length(loader: Any) -> int | None:
    try:
        return len(loader)
    except TypeError:
        return None


def check_metrics(metrics: dict[str, Metric] | None, taken: tuple[str, ...]) -> dict[str, Metric]:
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


# torch's loss modules and functions as a student meets them in a lesson's text.
LOSS_NAMES = {
    "MSELoss": "MSE",
    "mse_loss": "MSE",
    "CrossEntropyLoss": "cross-entropy",
    "cross_entropy": "cross-entropy",
    "NLLLoss": "negative log-likelihood",
    "nll_loss": "negative log-likelihood",
    "BCELoss": "binary cross-entropy",
    "binary_cross_entropy": "binary cross-entropy",
    "BCEWithLogitsLoss": "binary cross-entropy",
    "binary_cross_entropy_with_logits": "binary cross-entropy",
    "L1Loss": "L1",
    "l1_loss": "L1",
    "SmoothL1Loss": "smooth L1",
    "smooth_l1_loss": "smooth L1",
    "HuberLoss": "Huber",
    "huber_loss": "Huber",
    "KLDivLoss": "KL divergence",
    "kl_div": "KL divergence",
}


def loss_name_of(loss_fn: Any) -> str | None:
    """The name of ``loss_fn`` for the loss axis: torch's losses by their usual name, a function of
    the user's by its own (``my_loss``); None for a lambda or a nameless callable."""
    name = getattr(loss_fn, "__name__", None) or type(loss_fn).__name__
    if name in LOSS_NAMES:
        return LOSS_NAMES[name]
    if name in ("<lambda>", "function", "partial") or not name.isidentifier() or len(name) > 40:
        return None
    return name
