"""What the best epoch's snapshots cost: memory and time, for a 10 M-parameter model trained with Adam.

Run: .venv/bin/python benchmarks/bench_snapshot_memory.py   (results: benchmarks/RESULTS.md)

Real tensors: an MLP of 10.0 M float32 parameters (1024-2048-2560-1024-1), one Adam step so that its
``exp_avg`` and ``exp_avg_sq`` exist, then a monitor told the model and the optimizer is given a
validation loss (the best moves: the weights are copied) and the next epoch begins (the optimizer's
and scheduler's states are copied). Memory is read two ways: the bytes of the tensors kept
(``model.weights.tensor_bytes``), and the process's resident memory before and after (Linux
``/proc/self/statm``), for ``snapshot_optimizer=True`` (the default) and ``False``, each in a fresh
process (memory freed by one would otherwise be reused by the other). Also timed: taking the
snapshots (the optimizer's includes finding its schedulers, ``gc.get_referrers``), and a branch (the
weights, the optimizer and the scheduler loaded back).
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

import losswidget as lw
from losswidget.model.weights import tensor_bytes

MB = 1e6


def resident() -> float:
    """The process's resident memory now, in bytes (Linux)."""
    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(snapshot_optimizer: bool) -> dict[str, float]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(1024, 2048), torch.nn.ReLU(), torch.nn.Linear(2048, 2560), torch.nn.ReLU(),
        torch.nn.Linear(2560, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 1),
    )  # fmt: skip
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)
    x, y = torch.randn(64, 1024), torch.randn(64, 1)
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    parameters = sum(p.numel() for p in model.parameters())
    monitor = lw.LiveLossMonitor(
        patience=None, display="none", model=model, optimizer=optimizer, snapshot_optimizer=snapshot_optimizer
    )
    gc.collect()
    before = resident()
    loop = iter(monitor.epochs(3))
    next(loop)
    started = time.perf_counter()
    monitor.log(train=loss.item(), val=loss.item())  # the best moves: the weights are copied
    kept_weights = time.perf_counter() - started
    started = time.perf_counter()
    next(loop)  # the next epoch begins: the optimizer's and scheduler's states are copied
    kept_optimizer = time.perf_counter() - started
    gc.collect()
    after = resident()
    best = monitor._best
    result = {
        "parameters": parameters,
        "weights bytes": tensor_bytes(best.state),
        "optimizer bytes": tensor_bytes(best.optimizer_state),
        "resident growth": after - before,
        "keep weights s": kept_weights,
        "keep optimizer s": kept_optimizer,
    }
    loop.close()
    if snapshot_optimizer:
        started = time.perf_counter()
        monitor.branch(factor=0.5)
        result["branch s"] = time.perf_counter() - started
    del scheduler
    return result


def main() -> None:
    torch.set_num_threads(1)
    if len(sys.argv) > 1:  # one variant, in a process of its own
        print(json.dumps(measure(sys.argv[1] == "on")))
        return
    print(f"torch {torch.__version__}")
    print("| snapshot_optimizer | parameters | weights kept | optimizer state kept | resident memory grew | "
          "weights copied in | optimizer copied in | branch (restore all) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for keep in (True, False):
        done = subprocess.run([sys.executable, __file__, "on" if keep else "off"], capture_output=True, text=True)
        r = json.loads(done.stdout.splitlines()[-1])
        branch = f"{r['branch s'] * 1e3:.0f} ms" if "branch s" in r else "refused (said)"
        print(
            f"| {keep} | {r['parameters'] / 1e6:.1f} M | {r['weights bytes'] / MB:.1f} MB | "
            f"{r['optimizer bytes'] / MB:.1f} MB | {r['resident growth'] / MB:.1f} MB | "
            f"{r['keep weights s'] * 1e3:.0f} ms | {r['keep optimizer s'] * 1e3:.0f} ms | {branch} |"
        )


if __name__ == "__main__":
    main()
