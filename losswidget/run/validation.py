"""Per-example validation losses: ``monitor.log(val=losses)`` with one loss per validation example
(a 1-D tensor or array) records their mean as the epoch's ``val`` and its standard error as
``val_se``, and keeps the best epoch's losses, so that the status can say whether the rise since
the best epoch is larger than its sampling error (:func:`losswidget.core.evidence.rise_test`: paired when
the same examples come in the same order, as a validation loader without ``shuffle`` gives them).

The rise against the best epoch before this one is read as each epoch is logged, before its decision.
Its standard error is recorded as ``val_diff_se`` where the test was paired (so that
``lw.diagnose(history)`` of the saved history reads the paired test the monitor read) and, paired or
not, with ``min_delta_se`` set (so that a replay, the patience slider's "what if" or a watcher,
decides as the run did): early stopping then counts an improvement only beyond ``min_delta_se`` of them.

Paired means the same examples in the same order, and only the order says so: a loader with
``shuffle=True`` gives the same number of losses in another order each epoch. Where the two epochs'
losses hardly correlate (Pearson's r below :data:`PAIRED_R`, from :data:`FEW` examples on), they are
compared unpaired, with a warning once a run. Measured (tests/test_validation_order.py, digits, 400
validation images, 5 epochs): in order r = 0.93 to 0.999 after 30 epochs of training, 0.64 between fresh
weights' epochs 0 and 1 (but -0.01 between their epochs 0 and 3: weights that moved that far gain nothing
from pairing either); shuffled -0.02 to 0.095. Below 0.1 pairing could shrink the standard error by at most
about 5 % (the paired variance is the unpaired one less 2r times the two spreads' product), so whatever made
r that small, the unpaired test loses almost nothing; above it a shuffled set of n losses passes only where
its r lands 0.1 * sqrt(n) standard deviations above 0 (2 at n = 400: about 1 time in 40), and then its
paired error is within those 5 % of the unpaired one.

Where three validation epochs in a row came in order, the per-example second differences measure
the part of the sampling error that changes between epochs (:meth:`ValidationSamples.unshared`,
lesson 10's split): the validation curve's wobble is read on the curve, and contains it.

Under DDP each rank logs its own shard's losses: the counts, means and spreads, and the differences
from the best epoch's losses, are pooled over the ranks (:mod:`losswidget.core.pooled`), so every
rank records the whole set's ``val``, ``val_se`` and ``val_diff_se`` and decides alike; one rank whose
losses are out of order makes every rank compare unpaired (and say so).
"""

from __future__ import annotations

import math
import warnings
from bisect import bisect_left
from typing import Any

import numpy as np

from losswidget.core.evidence import RiseTest
from losswidget.core.pooled import Moments, correlation, pooled_rise
from losswidget.core.replay import DIFF_SE
from losswidget.core.stopping import EarlyStopping
from losswidget.core.values import as_series, describe_shape, to_float

_Losses = tuple[int, np.ndarray, float, float]  # (epoch, losses, standard error, mean): the whole set's
FEW = 30  # fewer per-example values than this may be batch losses: said once a run
PAIRED_R = 0.1  # two epochs' losses correlating less than this are compared unpaired (see above)
MARK = "losswidget_per_example"  # lw.evaluate(..., per_example=True) sets it on its tensor: no doubt there


def in_order(earlier: np.ndarray, later: np.ndarray) -> tuple[bool, float]:
    """(Whether two epochs' losses can be paired, Pearson's r of their finite parts): the same size,
    and, from :data:`FEW` finite pairs on, correlating at least :data:`PAIRED_R` (NaN r: no spread, pairing
    changes nothing then)."""
    if earlier.size != later.size:
        return False, math.nan
    r, count = correlation(earlier, later)
    return not (count >= FEW and r < PAIRED_R), r


def per_example(value: Any) -> bool:
    """A 1-D array or tensor of more than one loss (a scalar, or a one-element array, is one value)."""
    shape = getattr(value, "shape", None)
    return shape is not None and len(shape) == 1 and shape[0] > 1


def check_one_or_per_example(value: Any) -> None:
    """Refuse, in per-example words, what is neither one number nor a 1-D series of losses."""
    shape = getattr(value, "shape", None)
    if isinstance(value, (list, tuple)) and len(value) != 1:
        raise TypeError(
            f"'val' must be one number, or one loss per validation example as a 1-D tensor or array: got a "
            f"{type(value).__name__} of length {len(value)}. Per-example losses: torch.tensor(losses) (or "
            "lw.evaluate(..., per_example=True)); batch losses: log their mean weighted by batch size "
            "(lw.evaluate(model, loader, loss_fn) gives it)"
        )
    if shape is None or len(shape) == 0 or per_example(value) or int(np.prod(shape)) == 1:
        return
    what = f"{'a tensor' if hasattr(value, 'detach') else 'an array'} of shape {describe_shape(tuple(shape))}"
    if int(np.prod(shape)) == 0:
        raise ValueError(
            f"'val' is empty ({what}): per-example losses need one loss per validation example; did the "
            "validation loader yield no batches?"
        )
    raise ValueError(
        f"'val' must be one number, or one loss per validation example as a 1-D tensor or array: got {what}; "
        "log a scalar, e.g. losses.mean(), or per-example losses in 1-D: losses.reshape(-1) for shape (N, 1), "
        "each example's mean, losses.mean(dim=1), for a loss per position (N, T)"
    )


class ValidationSamples:
    def __init__(self, stopper: EarlyStopping, ranks: Any = None) -> None:
        self._stopper, self._ranks = stopper, ranks
        self._warned_few = self._marked = self._warned_order = False
        self._moments = Moments(0, 0.0, 0.0)
        self.reset()

    def reset(self) -> None:
        """A new run: no epoch's losses are kept."""
        self._latest: _Losses | None = None
        self._best: _Losses | None = None
        self._before: _Losses | None = None  # the best before the best epoch's own (a relogged val)
        self._rise: tuple[int, RiseTest] | None = None  # the latest epoch against the best before it
        self._now: tuple[np.ndarray, float, float] | None = None  # this log's losses, pooled se and mean
        self._warned_few = False
        # The last two epochs' losses (epoch, losses, in order with the one before), and this log's
        # second differences' pooled variance / 6 (NaN: not measured) and its link to the epoch before.
        self._recent: list[tuple[int, np.ndarray, bool]] = []
        self._bend: tuple[float, bool] = (math.nan, False)
        self._bend_epochs: list[int] = []  # the epochs whose unshared variance is measured, and its
        self._bend_sums: list[float] = []  # running sum: unshared() is two look-ups, not a pass

    def branched(self, epoch: int | None) -> None:
        """A branch from the best ``epoch``: a new run that starts from exactly those weights, on the
        same validation examples, so their per-example losses are kept and the new run's rises stay
        paired against them; everything else is reset."""
        best = self._best if self._best is not None and self._best[0] == epoch else None
        self.reset()
        self._best = best

    def values_of(self, val: Any, values: dict[str, float]) -> np.ndarray | None:
        """Put ``val``'s epoch values into ``values`` (``val``, and ``val_se`` for per-example losses);
        returns the losses for :meth:`against_best`, or None for a number."""
        check_one_or_per_example(val)
        if not per_example(val):
            if self._stopper.min_delta_se:
                raise ValueError(
                    f"min_delta_se={self._stopper.min_delta_se:g} counts an improvement only beyond that many "
                    f"standard errors, and one validation number has none: {val!r}. Log one loss per validation "
                    "example, monitor.log(val=losses) with a 1-D tensor or array (lw.evaluate(..., "
                    "per_example=True) gives them), or set min_delta_se=0"
                )
            values["val"] = to_float(val, "val")
            return None
        losses = as_series(val, "val")
        self._marked = getattr(val, MARK, False) is True
        self._moments = Moments.of(losses)  # this rank's, for against_best in the same log() call
        values["val"], values["val_se"] = self._moments.mean, self._moments.se
        return losses

    def against_best(self, epoch: int, losses: np.ndarray | None, values: dict[str, float]) -> None:
        """Before the epoch's decision, with every value accepted: pool the losses over the ranks
        (``val``, ``val_se``), read the rise against the best epoch before this one, and,
        where it is paired (or ``min_delta_se`` is set), put its standard error into ``values`` as ``val_diff_se``."""
        self._now = None
        if losses is None:
            return
        best = self._before if self._best is not None and self._best[0] == epoch else self._best
        paired, order_r = in_order(best[1], losses) if best is not None else (False, math.nan)
        unordered = best is not None and best[1].size == losses.size and not paired
        bend, linked = self._second_differences(epoch, losses)
        # [0:3] this rank's losses, [3:6] their differences from the best's, [6] paired, [7] the same
        # size but out of order, [8] r, [9:12] the second differences
        row = self._moments.row() + Moments.of(losses - best[1] if paired else ()).row() + [float(paired)]
        row += [float(unordered), order_r, *bend.row()]
        rows = [row] if self._ranks is None else self._ranks.gather(row)  # all ranks log together
        latest = Moments.pooled([Moments(int(r[0]), r[1], r[2]) for r in rows])
        values["val"], values["val_se"] = latest.mean, latest.se
        self._now = (losses, latest.se, latest.mean)
        bends = Moments.pooled([Moments(int(r[9]), r[10], r[11]) for r in rows])
        self._bend = (bends.se**2 / 6.0 if all(r[9] > 0 for r in rows) else math.nan, linked)
        self._rise = None
        if best is not None:
            all_paired = all(r[6] for r in rows)
            difference = Moments.pooled([Moments(int(r[3]), r[4], r[5]) for r in rows]) if all_paired else None
            rise = pooled_rise(latest, best[3], best[2], difference)
            self._rise = (best[0], rise)
            # Recorded where paired (so that lw.diagnose(history) reads the test the monitor read), and
            # always with min_delta_se (a replay decides with it, paired or not).
            if rise.paired or self._stopper.min_delta_se:
                values[DIFF_SE] = rise.se
            if not all_paired and any(r[7] for r in rows):
                self._say_unordered(best[0], epoch, min(r[8] for r in rows if r[7]))
        self._say_if_few(latest.n)

    def _second_differences(self, epoch: int, losses: np.ndarray) -> tuple[Moments, bool]:
        """This rank's per-example second differences over the two epochs before ``epoch`` and it
        (none unless all three came in order), and whether ``losses`` are in order with the epoch before."""
        before = [kept for kept in self._recent if kept[0] < epoch][-2:]
        linked = bool(before) and in_order(before[-1][1], losses)[0]
        if len(before) < 2 or not linked or not before[-1][2]:
            return Moments(0, 0.0, 0.0), linked
        with np.errstate(all="ignore"):
            bends = losses - 2.0 * before[-1][1] + before[-2][1]
        return Moments.of(bends[np.isfinite(bends)]), linked

    def unshared(self, since_epoch: int) -> tuple[float, int] | None:
        """(The part of the validation set's sampling error that changes between epochs, per epoch, as
        the curve's wobble reads it; the epochs it is measured at) over the epochs from ``since_epoch``:
        the root of the mean of the per-example second differences' squared standard error / 6 (lesson 10).
        None where fewer than 3 epochs measured it."""
        start = bisect_left(self._bend_epochs, since_epoch)
        count = len(self._bend_epochs) - start
        if count < 3:
            return None
        total = self._bend_sums[-1] - (self._bend_sums[start - 1] if start else 0.0)
        return math.sqrt(max(total, 0.0) / count), count

    def _say_unordered(self, best_epoch: int, epoch: int, r: float) -> None:
        if self._warned_order:
            return
        self._warned_order = True
        warnings.warn(
            f"losswidget: the per-example validation losses of epoch {best_epoch} and epoch {epoch} hardly "
            f"correlate (r = {r:.2f}): a validation loader with shuffle=True puts the examples in another order "
            "each epoch, and they cannot be paired; use shuffle=False for validation (lw.evaluate keeps the "
            "loader's order). Compared unpaired.",
            stacklevel=4,
        )

    def _say_if_few(self, n: int) -> None:
        if n >= FEW or self._warned_few or self._marked:
            return
        self._warned_few = True
        warnings.warn(
            f"losswidget: val= got {n} values, taken as one loss per validation example (their mean, and a "
            f"standard error from {n} values); if they are batch losses (torch.stack(batch_losses)), log their "
            "mean weighted by batch size instead: lw.evaluate(model, loader, loss_fn) gives it, and "
            "lw.evaluate(..., per_example=True) the per-example losses",
            stacklevel=4,
        )

    def logged(self, epoch: int, best_epoch: int | None, losses: np.ndarray | None) -> None:
        """After the epoch's decision: keep its losses, and the best epoch's."""
        if losses is None or self._now is None:
            return
        self._latest = (epoch, *self._now)
        self._keep_recent(epoch, self._now[0])
        if self._best is not None and self._best[0] == epoch and best_epoch != epoch:
            self._best = self._before  # a val logged again in the best epoch, now no improvement
        elif best_epoch == epoch:
            if self._best is None or self._best[0] != epoch:
                self._before = self._best
            self._best = self._latest

    def _keep_recent(self, epoch: int, losses: np.ndarray) -> None:
        """Keep the last two epochs' losses and the unshared variance (a re-logged val replaces its epoch's)."""
        variance, linked = self._bend
        if self._recent and self._recent[-1][0] == epoch:
            self._recent.pop()
        self._recent = [*self._recent[-1:], (epoch, losses, linked)]
        if self._bend_epochs and self._bend_epochs[-1] == epoch:
            self._bend_epochs.pop()
            self._bend_sums.pop()
        if math.isfinite(variance):
            self._bend_epochs.append(epoch)
            self._bend_sums.append((self._bend_sums[-1] if self._bend_sums else 0.0) + variance)

    def test(self, best_epoch: int | None) -> tuple[int, RiseTest] | None:
        """The latest epoch against the best one (both given per example), or None."""
        if self._latest is None or self._rise is None or best_epoch != self._rise[0]:
            return None
        if self._latest[0] == best_epoch or not math.isfinite(self._latest[2]):
            return None
        return self._rise

    def sentence(self, best_epoch: int | None, best: float | None = None) -> str | None:
        found = self.test(best_epoch)
        return None if found is None else found[1].sentence(found[0], best)
