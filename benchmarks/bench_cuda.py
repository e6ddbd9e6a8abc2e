"""What the monitor does to a CUDA training loop: device synchronisations, device memory, time.

Run (on a machine with a CUDA device): python benchmarks/bench_cuda.py [--steps 300000] [--epochs 300]
(results: benchmarks/RESULTS.md)

Two measurements, ``display="none"`` (no widget: the device path alone; frames only ever add
one bulk conversion each, which the pending bound already covers):

1. **Synchronisations and memory over one long epoch.** ``--steps`` calls of ``log_step`` with a
   fresh CUDA scalar each (a ``sum()`` of a small device tensor, with a graph as a loss has, then
   without one), all in one epoch and with frames that never come (``frame_rate=0.01``): the
   worst case for pending values. Counted with
   ``torch.cuda.set_sync_debug_mode("warn")``: every synchronising call in the epoch. Read from
   the caching allocator: device memory allocated at its peak and at the end, over the start.
   The most values ever pending is sampled every step.
2. **Time on a launch-bound step.** The MLP of ``bench_step_path.py`` (64-128-1, batch 32, SGD) on
   the device; variants alternating *per epoch* of 128 steps (bare; ``log_step(train=loss)`` every
   step, kept as it is; ``log_step(train=loss.detach())``, which has no graph and so is copied on
   the device, one kernel launch per step; the whole path: ``log_step``, ``log()`` and
   ``epochs()``), every epoch ending with ``torch.cuda.synchronize()`` in all of them so that each
   epoch's time is its device work.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

import losswidget as lw
from losswidget.run.redraw import MAX_STEPS_PER_CLOCK
from losswidget.run.step_path import PENDING_LIMIT

STEPS = 128
WARM_UP = 20  # epochs per variant before the timed ones


def long_epoch(steps: int, graph: bool) -> None:
    device = torch.device("cuda")
    source = torch.rand(64, device=device, requires_grad=graph)
    monitor = lw.LiveLossMonitor(patience=None, display="none", frame_rate=0.01)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    start_bytes = torch.cuda.memory_allocated()
    largest = 0
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in monitor.epochs(1):
            torch.cuda.set_sync_debug_mode("warn")
            try:
                for _step in range(steps):
                    monitor.log_step(train=source.sum())
                    pending = len(monitor._recorder.steps.values)
                    if pending > largest:
                        largest = pending
            finally:
                torch.cuda.set_sync_debug_mode("default")
    elapsed = time.perf_counter() - started
    torch.cuda.synchronize()
    syncs = sum("synchroniz" in str(w.message) for w in caught)
    peak = torch.cuda.max_memory_allocated() - start_bytes
    end = torch.cuda.memory_allocated() - start_bytes
    expected = source.sum().item()
    said = [str(w.message) for w in caught if "losswidget" in str(w.message)]
    recorded = monitor.history.step_train
    kind = "fresh graph results, kept as they are" if graph else "made without a graph, copied"
    print(f"## one epoch of {steps:,} log_step calls with fresh CUDA scalars, {kind} ({elapsed:.1f} s)")
    every = PENDING_LIMIT - MAX_STEPS_PER_CLOCK  # the flush's threshold (LiveLossMonitor._read_clock)
    print(f"- device synchronisations: {syncs} (a bulk conversion every ~{every} steps; the epoch's end)")
    print(f"- most values pending: {largest:,} (limit {PENDING_LIMIT:,})")
    print(f"- device memory over the start: peak {peak / 1e6:.2f} MB, at the end {end / 1e6:.2f} MB")
    same = bool((recorded == expected).all())
    print(f"- steps recorded: {monitor.history.n_steps:,}, all equal to the logged value: {same}; warnings: {said}")


def timed_loop(epochs: int) -> None:
    device = torch.device("cuda")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 1)).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    data = [(torch.randn(32, 64, device=device), torch.randn(32, 1, device=device)) for _ in range(64)]
    loss_fn = torch.nn.functional.mse_loss
    steps_only = lw.LiveLossMonitor(patience=None, display="none")
    whole = lw.LiveLossMonitor(patience=None, display="none")
    steps_loop = iter(steps_only.epochs(1))
    whole_loop = iter(whole.epochs(epochs + WARM_UP + 1))
    next(steps_loop), next(whole_loop)

    def epoch(variant: str) -> float:
        torch.cuda.synchronize()
        started = time.perf_counter()
        for step in range(STEPS):
            x, y = data[step % 64]
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            if variant == "log_step":
                steps_only.log_step(train=loss)
            elif variant == "copied":
                steps_only.log_step(train=loss.detach())
            elif variant == "whole":
                whole.log_step(train=loss)
        if variant == "whole":
            value = loss.item()
            whole.log(train=value, val=value)
            next(whole_loop)
        torch.cuda.synchronize()
        return time.perf_counter() - started

    labels = {
        "bare": "bare loop",
        "log_step": "log_step(train=loss) every step (kept as it is)",
        "copied": "log_step(train=loss.detach()) every step (copied on the device)",
        "whole": "log_step + log() + epochs()",
    }
    for _ in range(WARM_UP):  # kernels loaded, allocator primed
        for variant in labels:
            epoch(variant)
    times: dict[str, list[float]] = {variant: [] for variant in labels}
    order = list(labels)
    for round_ in range(epochs):
        for variant in order if round_ % 2 else reversed(order):
            times[variant].append(epoch(variant))
    steps_loop.close()
    whole_loop.close()
    bare = statistics.median(times["bare"])
    print(f"## {epochs} epochs of {STEPS} steps per variant on {torch.cuda.get_device_name()}, alternating")
    print(f"bare step {bare / STEPS * 1e6:.0f} µs (torch {torch.__version__})")
    print("| variant | ratio to bare | extra per step |")
    print("|---|---|---|")
    for variant, label in labels.items():
        median = statistics.median(times[variant])
        print(f"| {label} | {median / bare:.4f} | {(median - bare) / STEPS * 1e6:.2f} µs |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=300_000, help="log_step calls in the long epoch")
    parser.add_argument("--epochs", type=int, default=300, help="epochs per variant in the timed loop")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("bench_cuda.py needs a CUDA device")
    long_epoch(args.steps, graph=True)
    long_epoch(args.steps, graph=False)
    timed_loop(args.epochs)


if __name__ == "__main__":
    main()
