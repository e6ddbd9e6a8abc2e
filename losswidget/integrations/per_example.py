"""One validation loss per example from a batch-mean ``loss_fn``, agreeing with the loss's own mean.

A torch loss module is asked with ``reduction="none"`` (on a copy: the user's is untouched); any
other ``loss_fn`` is called once per example. A loss that averages over something other than
examples is followed, not averaged over examples: ``nn.CrossEntropyLoss(ignore_index=...)`` (padded
sequences) and ``NLLLoss`` divide by the positions they keep (weighted by class, with ``weight``),
so a batch's loss is ``sum(s_i) / sum(c_i)`` over its examples' summed losses ``s_i`` and kept
positions ``c_i``. The value of example i is then its linearised share of the whole set's loss
``R = sum(s) / sum(c)``: ``R + (s_i - R c_i) / mean(c)``. Their plain mean is exactly ``R``, the
loss over the whole set; their standard error is the ratio estimator's (the delta method), and
with equal counts each is simply the example's own mean loss. ``reduction="batchmean"``
(``nn.KLDivLoss``) is the mean over examples of each one's sum; ``reduction="sum"`` is refused (a
batch's sum is no mean of its examples, and grows with the batch size).

Every batch's per-example values are checked against the loss's own reduction of that batch; a
loss whose reduction they do not reproduce (a custom function averaging over a mask) is refused
with the size of the disagreement, rather than recorded as another quantity.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from losswidget.integrations.batches import import_torch, positions_counted, scalar
from losswidget.run.validation import MARK  # the monitor reads it: per-example losses, not batch losses


class PerExampleLosses:
    """Collects one loss per example, batch by batch, on the device; :meth:`result` once at the end."""

    def __init__(self, loss_fn: Any, device: Any) -> None:
        torch = import_torch()
        self._loss_fn = loss_fn
        self._unreduced = None
        reduction = getattr(loss_fn, "reduction", None)
        if reduction == "sum":
            raise ValueError(
                f"evaluate(per_example=True): loss_fn ({type(loss_fn).__name__}) sums over each batch "
                "(reduction='sum'), so its value is no mean of its examples' losses and grows with the batch "
                "size: use reduction='mean' (the default), or per_example=False"
            )
        self._per_example_sum = reduction == "batchmean"  # nn.KLDivLoss: each example's sum, their mean
        if isinstance(reduction, str):
            self._unreduced = copy.copy(loss_fn)
            self._unreduced.reduction = "none"
        self._sums: list[Any] = []
        self._counts: list[Any] = []
        self._gap = torch.zeros((), dtype=torch.float64, device=device)  # the largest relative disagreement
        self._tolerance = 1e-4

    def add(self, outputs: Any, targets: Any, size: int) -> None:
        torch = import_torch()
        batch = scalar(self._loss_fn(outputs, targets), "loss_fn")  # the loss's own reduction
        self._tolerance = max(self._tolerance, 16 * torch.finfo(batch.dtype).eps if batch.is_floating_point() else 0)
        counts = positions_counted(self._loss_fn, targets, size) if self._unreduced is not None else None
        if self._unreduced is not None:
            values = self._unreduced(outputs, targets).to(torch.float64).reshape(size, -1)
            sums = values.sum(dim=1) if counts is not None or self._per_example_sum else values.mean(dim=1)
        else:
            sums = torch.stack(
                [scalar(self._loss_fn(outputs[i : i + 1], targets[i : i + 1]), "loss_fn") for i in range(size)]
            ).to(torch.float64)
        mine = sums.sum() / counts.sum() if counts is not None else sums.mean()
        batch = batch.detach().to(torch.float64)
        finite, finite_mine = torch.isfinite(batch), torch.isfinite(mine)
        relative = (batch - mine).abs() / batch.abs().clamp(min=1.0)
        inf = torch.full_like(relative, torch.inf)
        gap = torch.where(
            finite & finite_mine, relative, torch.where(finite == finite_mine, torch.zeros_like(inf), inf)
        )
        self._gap = torch.maximum(self._gap, gap)
        self._sums.append(sums)
        if counts is not None:
            self._counts.append(counts)

    def result(self) -> Any:
        """The per-example losses: a 1-D float64 CPU tensor in the loader's order, marked as such."""
        torch = import_torch()
        gap = float(self._gap)  # the one synchronisation
        if gap > self._tolerance:
            off = (
                f"off by {gap:.3g} of it"
                if math.isfinite(gap)
                else "one is not finite where the other is: an example with nothing to average over, every "
                "position masked, gives 0/0"
            )
            raise ValueError(
                f"evaluate(per_example=True): the per-example losses do not reproduce loss_fn's own batch mean "
                f"({off}): loss_fn averages over something other than examples (a mask, "
                "weights). Use a torch loss module (e.g. nn.CrossEntropyLoss(ignore_index=...), which is "
                "followed exactly), or per_example=False"
            )
        sums = torch.cat(self._sums)
        if self._counts:
            counts = torch.cat(self._counts)
            ratio = sums.sum() / counts.sum()  # the loss over the whole set
            sums = ratio + (sums - ratio * counts) / counts.mean()
        losses = sums.cpu()
        setattr(losses, MARK, True)
        return losses
