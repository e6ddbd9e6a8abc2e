"""What the monitor costs the training thread, per step, in a real torch loop (no kernel, no widget).

Run: .venv/bin/python benchmarks/bench_step_path.py [--epochs 800]   (results: benchmarks/RESULTS.md)

Between two training steps every line runs with cold caches: torch's forward, backward and
optimizer step evict the monitor's objects and code, so a call that takes 0.3 µs in a tight loop
takes several µs here. A micro-benchmark cannot see that; this one runs the real loop (the MLP
64-128-1 of ``bench_kernel_overhead.py``, batch 32, SGD, one torch thread) and alternates the
variants *per epoch* of 128 steps, so that the machine's drift (a shared VM moves by ±5 % from one
second to the next) falls on all of them alike. Variants:

- bare: nothing done with the loss;
- ``loss.item()`` appended to a list: what a hand-written loop that keeps its losses does (the floor);
- a minimal logger method, ``log_step(self, train)``: ``self.values.append(train.item())`` and
  return a flag (the least any Python logging API that reads each step's loss can cost);
- ``monitor.log_step(train=loss)`` (``display="none"``);
- the whole path: ``log_step`` every step, ``log(train=, val=)`` and ``epochs()`` at every epoch;
- the whole path with outputs: the same monitor given ``optimizer=`` (the learning rate, read once an
  epoch), ``log_file=`` and ``tensorboard=`` (every step written to both files at the flushes).

Prints each variant's median epoch time, its ratio to bare, and its extra cost per step; and what
one epoch end (``log()`` and the next epoch) costs in the whole path, timed where it runs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

import losswidget as lw

STEPS = 128


class MinimalLogger:
    """The least a Python logging method can do: read the loss, keep it, answer "stop?"."""

    __slots__ = ("stop", "values")

    def __init__(self) -> None:
        self.values: list[float] = []
        self.stop = False

    def log_step(self, train: torch.Tensor) -> bool:
        self.values.append(train.item())
        return self.stop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=800, help="epochs per variant")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    data = [(torch.randn(32, 64), torch.randn(32, 1)) for _ in range(64)]
    loss_fn = torch.nn.functional.mse_loss
    steps_only = lw.LiveLossMonitor(patience=None, display="none")
    whole = lw.LiveLossMonitor(patience=None, display="none")
    folder = Path(tempfile.mkdtemp(prefix="bench-outputs-"))
    outputs = lw.LiveLossMonitor(
        patience=None, display="none", optimizer=optimizer, log_file=folder / "run.jsonl", tensorboard=folder / "tb"
    )
    steps_loop = iter(steps_only.epochs(1))  # one long epoch: log_step alone
    whole_loop = iter(whole.epochs(args.epochs + 1))
    outputs_loop = iter(outputs.epochs(args.epochs + 1))
    next(steps_loop), next(whole_loop), next(outputs_loop)
    kept: list[float] = []
    minimal = MinimalLogger()
    epoch_ends: dict[str, list[float]] = {"whole": [], "outputs": []}  # log() + the next epoch, timed where it runs

    def epoch(variant: str) -> float:
        started = time.perf_counter()
        for step in range(STEPS):
            x, y = data[step % 64]
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            if variant == "item":
                kept.append(loss.item())
            elif variant == "minimal":
                minimal.log_step(train=loss)
            elif variant == "log_step":
                steps_only.log_step(train=loss)
            elif variant == "whole":
                whole.log_step(train=loss)
            elif variant == "outputs":
                outputs.log_step(train=loss)
        if variant in ("whole", "outputs"):
            monitor, loop = (whole, whole_loop) if variant == "whole" else (outputs, outputs_loop)
            train, val = loss.item(), loss.item()
            ended = time.perf_counter()
            monitor.log(train=train, val=val)
            next(loop)
            epoch_ends[variant].append(time.perf_counter() - ended)
        return time.perf_counter() - started

    labels = {
        "bare": "bare loop",
        "item": "list.append(loss.item()) (the floor)",
        "minimal": "a minimal logger method: values.append(train.item()), return a flag",
        "log_step": "monitor.log_step(train=loss)",
        "whole": "log_step + log() + epochs() (the whole path)",
        "outputs": "the whole path with optimizer=, log_file= and tensorboard=",
    }
    times: dict[str, list[float]] = {variant: [] for variant in labels}
    order = list(labels)
    for round_ in range(args.epochs):
        for variant in order if round_ % 2 else reversed(order):
            times[variant].append(epoch(variant))
        kept.clear()
        minimal.values.clear()
    steps_loop.close()  # end the loops now, not at interpreter shutdown
    whole_loop.close()
    outputs_loop.close()
    shutil.rmtree(folder, ignore_errors=True)
    bare = statistics.median(times["bare"])
    print(f"{args.epochs} epochs of {STEPS} steps per variant, alternating; bare step {bare / STEPS * 1e6:.0f} µs")
    print("| variant | ratio to bare | extra per step |")
    print("|---|---|---|")
    for variant, label in labels.items():
        median = statistics.median(times[variant])
        print(f"| {label} | {median / bare:.4f} | {(median - bare) / STEPS * 1e6:.2f} µs |")
    for variant, ends in epoch_ends.items():
        print(f"one epoch end (log() + the next epoch), {variant}, median: {statistics.median(ends) * 1e6:.0f} µs")


if __name__ == "__main__":
    main()
