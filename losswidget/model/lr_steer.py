"""Changing the learning rate of a running torch optimizer, and the schedule of its schedulers with it.

A change is one factor for every parameter group (their ratios stay), applied by the training
thread between two optimizer steps. What a scheduler does next depends on how it computes a rate,
and every class of ``torch.optim.lr_scheduler`` is handled on purpose (tests/test_steer_lr.py
enumerates them, so a new one fails until it is placed here):

- **multiplying** (:data:`MULTIPLYING`): the next rate is the current one times a factor, so the
  change holds and the schedule continues from it;
- **recomputing from its base** (:data:`RECOMPUTING`): the next rate is computed from the base rates
  (``base_lrs``; OneCycleLR's ``initial_lr``/``max_lr``/``min_lr`` in the param groups; CyclicLR's
  ``max_lrs``; the cosine schedules' ``eta_min``), so those are scaled by the same factor: the
  schedule goes on, scaled.

Either way each later rate is the factor times what the schedule would have given. One exception
is said on the control: ReduceLROnPlateau's floor ``min_lr`` is a floor, and stays.

The schedulers are found as the objects that hold the optimizer (``gc.get_referrers``, once per
change, never per step): a user never has to tell the monitor about them, and one left out would
silently undo the change at its next step.
"""

from __future__ import annotations

import gc
import math
from typing import Any

MULTIPLYING = frozenset(
    {"StepLR", "MultiStepLR", "ExponentialLR", "MultiplicativeLR", "ReduceLROnPlateau", "ConstantLR", "LinearLR",
     "PolynomialLR"}
)  # fmt: skip
RECOMPUTING = frozenset(
    {"LambdaLR", "OneCycleLR", "CyclicLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "SequentialLR",
     "ChainedScheduler"}
)  # fmt: skip
# A param group's rates: OneCycleLR keeps its schedule there, SWALR (torch.optim.swa_utils) its target.
GROUP_KEYS = ("lr", "initial_lr", "max_lr", "min_lr", "swa_lr")
SCHEDULER_LISTS = ("base_lrs", "_last_lr", "max_lrs")  # a scheduler's rates, one per group
SCHEDULER_FLOATS = ("eta_min",)  # the cosine schedules' lowest rate: part of the schedule

CONTROL_TEXT = (
    "Changes every parameter group's learning rate by one factor at the next step (their ratios stay); "
    "a running scheduler goes on from the new rate, its schedule scaled with it (ReduceLROnPlateau's "
    "floor min_lr stays)."
)


def unavailable_reason(optimizer: Any) -> str | None:
    """Why the learning rate of ``optimizer`` cannot be changed from the monitor, or None when it can."""
    if optimizer is None:
        return "the monitor does not know the optimizer: pass LiveLossMonitor(optimizer=optimizer)"
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not groups or not all(isinstance(g, dict) and "lr" in g for g in groups):
        return (
            f"the learning-rate control changes torch optimizers' param_groups; {type(optimizer).__name__} "
            "sets its own rates (fastai, Keras): change them through its framework"
        )
    rate = groups[0]["lr"]
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate <= 0:
        return f"the optimizer's learning rate is not a positive number ({rate!r}), so it has no scale to change"
    return None


def current_rate(optimizer: Any) -> float | None:
    """The first parameter group's learning rate; None without a torch optimizer's param groups."""
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not groups or not isinstance(groups[0], dict) or "lr" not in groups[0]:
        return None
    return float(groups[0]["lr"])


def schedulers_of(optimizer: Any) -> list[Any]:
    """The torch schedulers alive that step ``optimizer`` (a SequentialLR and the ones inside it
    each hold it: each is found once)."""
    found: dict[int, Any] = {}
    for holder in gc.get_referrers(optimizer):
        # An object whose attributes live in a dict of their own (once ``__dict__`` was used, e.g. by a
        # scheduler's load_state_dict) is referred to through that dict: the dict's owner is the holder.
        owners = [holder]
        if isinstance(holder, dict) and holder.get("optimizer") is optimizer:
            owners = [each for each in gc.get_referrers(holder) if getattr(each, "__dict__", None) is holder]
        for owner in owners:
            if getattr(owner, "optimizer", None) is optimizer and _is_scheduler(owner):
                found[id(owner)] = owner
    return list(found.values())


def _is_scheduler(candidate: Any) -> bool:
    return any(
        kind.__name__ in ("LRScheduler", "ReduceLROnPlateau") and kind.__module__.startswith("torch.optim")
        for kind in type(candidate).__mro__
    )


def scale(optimizer: Any, factor: float) -> None:
    """Every parameter group's rates and every scheduler's base rates times ``factor`` (training thread)."""
    for holder in schedulers_of(optimizer):
        for name in SCHEDULER_LISTS:
            rates = getattr(holder, name, None)
            if isinstance(rates, list):
                setattr(holder, name, [_scaled(rate, factor) for rate in rates])
        for name in SCHEDULER_FLOATS:
            rate = getattr(holder, name, None)
            if isinstance(rate, (int, float)) and not isinstance(rate, bool):
                setattr(holder, name, rate * factor)
    for group in optimizer.param_groups:
        for key in GROUP_KEYS:
            if key in group:
                group[key] = _scaled(group[key], factor)


def _scaled(rate: Any, factor: float) -> Any:
    """A rate times ``factor``; a tensor rate (torch's capturable optimizers) in place, keeping its type."""
    if hasattr(rate, "mul_"):
        return rate.mul_(factor)
    return rate * factor
