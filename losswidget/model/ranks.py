"""DistributedDataParallel support: every rank calls the same monitor API.

What crosses processes, and when (all through ``torch.distributed`` itself):

- each ``log()``: one all-reduce of the logged values (averaged over the ranks) and
  a checksum of their names, so a rank that logs different names fails loudly
  instead of silently mixing values;
- each ``log()`` of per-example validation losses (each rank its own shard): one all-gather of each
  rank's count, mean and spread, and of its differences from the best epoch's losses, so that every
  rank reads the whole set's mean, standard error and paired test (:mod:`losswidget.core.pooled`);
- each epoch boundary of ``epochs()``: one all-reduce of "did anyone ask to stop"
  (the Stop button and control file on rank 0, ``stop()`` or an interrupt on any rank).

Nothing per step. Early stopping then decides on identical averaged values on every
rank, so all ranks stop at the same epoch and restore the same epoch's weights: a
rank that stopped alone would leave the others waiting in their next collective.
Only rank 0 draws and writes the log file.
"""

from __future__ import annotations

import zlib
from typing import Any


def _backend_device(dist: Any, torch: Any) -> Any:
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


class Ranks:
    """The collectives the monitor needs, or None outside an initialised process group."""

    def __init__(self, dist: Any, torch: Any) -> None:
        self._dist, self._torch = dist, torch
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        self._device = _backend_device(dist, torch)

    @classmethod
    def detect(cls) -> Ranks | None:
        import sys

        if "torch" not in sys.modules:  # never import torch just to find out
            return None
        torch = sys.modules["torch"]
        dist = getattr(torch, "distributed", None)
        if dist is None or not dist.is_available() or not dist.is_initialized():
            return None
        if dist.get_world_size() < 2:
            return None
        return cls(dist, torch)

    def average(self, values: dict[str, float]) -> dict[str, float]:
        """The mean of each value over the ranks (NaN on any rank gives NaN everywhere)."""
        names = sorted(values)
        checksum = float(zlib.crc32("\0".join(names).encode()))
        data = [values[name] for name in names] + [checksum, float(len(names))]
        tensor = self._torch.tensor(data, dtype=self._torch.float64, device=self._device)
        self._dist.all_reduce(tensor)
        reduced = tensor.cpu().tolist()
        if reduced[-1] != len(names) * self.world_size or reduced[-2] != checksum * self.world_size:
            raise RuntimeError(
                f"rank {self.rank} logged {names}, but the ranks did not all log the same names in this call: "
                "every rank must call log() with the same names, in the same order of calls"
            )
        return {name: reduced[index] / self.world_size for index, name in enumerate(names)}

    def gather(self, row: list[float]) -> list[list[float]]:
        """Every rank's ``row`` (all of one length), in rank order, on every rank."""
        tensor = self._torch.tensor(row, dtype=self._torch.float64, device=self._device)
        rows = [self._torch.empty_like(tensor) for _ in range(self.world_size)]
        self._dist.all_gather(rows, tensor)
        return [part.cpu().tolist() for part in rows]

    def any(self, flag: bool) -> bool:
        """True on every rank if ``flag`` is true on any rank."""
        tensor = self._torch.tensor([1.0 if flag else 0.0], dtype=self._torch.float64, device=self._device)
        self._dist.all_reduce(tensor)
        return bool(tensor.item() > 0)
