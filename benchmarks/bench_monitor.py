"""LiveLossMonitor costs: log_step per call, one frame at 1e3 and 1e6 logged steps, and one frame at
1e3, 1e4 and 1e5 epochs with and without a learning rate that changes every epoch.

Run: .venv/bin/python benchmarks/bench_monitor.py [--epochs-only]   (results: benchmarks/RESULTS.md)
A micro-benchmark: the widget is attached to a comm that serialises every message and drops it (no
kernel; benchmarks/bench_frame_cost_kernel.py --epochs measures frames in a real one).
"""

from __future__ import annotations

import contextlib
import io
import statistics
import sys
import time

import numpy as np
import torch
from _dummy_comm import install

import losswidget as lw


def per_call(function, calls: int = 200_000) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls


def epoch_frames(counting, epochs: int, rate: bool) -> None:
    """Frames drawn in a loop (as the loop draws them) after each of 30 more epochs, on a run of
    ``epochs`` epochs: thread CPU time (this shared machine's wall clock mostly measures its load) and
    wall time. The diagnosis, which frames read at most once a second and within a time budget, is
    timed on its own."""
    from losswidget.core.diagnosis import diagnose
    from losswidget.core.evidence import read_evidence

    monitor = lw.LiveLossMonitor(patience=None, smoothing=5, display="widget")
    monitor._display.ensure_view(monitor._controls)
    rng = np.random.default_rng(0)

    def values(epoch: int) -> dict:
        loss = 1.0 / (1 + epoch / 100) + rng.normal(0, 0.01)
        extra = {"lr": 0.1 * 0.9999**epoch} if rate else {}
        return {"train": loss, "val": loss * 1.1 + rng.normal(0, 0.01), **extra}

    cpu, wall, sizes = [], [], []
    with contextlib.redirect_stdout(io.StringIO()):  # a widget without a notebook prints its repr
        for epoch in monitor.epochs(epochs):  # the run so far
            monitor.log(**values(epoch))
        for epoch in monitor.epochs(32):
            monitor.log(**values(epochs + epoch))
            counting.bytes = 0
            started, started_cpu = time.perf_counter(), time.thread_time()
            monitor._draw()
            if epoch >= 2:  # the first frames fold the whole run in and read the diagnosis
                cpu.append(time.thread_time() - started_cpu)
                wall.append(time.perf_counter() - started)
                sizes.append(counting.bytes)
    history = monitor.history
    started = time.thread_time()
    diagnose(history, evidence=read_evidence(history, None))
    reading = time.thread_time() - started
    print(
        f"frame at {epochs:>7,} epochs{' + lr' if rate else '     '}: CPU {statistics.median(cpu) * 1e3:.2f} ms "
        f"(p90 {np.percentile(cpu, 90) * 1e3:.2f}), wall {statistics.median(wall) * 1e3:.2f} ms, "
        f"{statistics.median(sizes) / 1024:.1f} KiB; a diagnosis reading: CPU {reading * 1e3:.1f} ms"
    )


def main() -> None:
    counting = install()
    if "--epochs-only" in sys.argv:
        for epochs in (1_000, 10_000, 100_000):
            for rate in (False, True):
                epoch_frames(counting, epochs, rate)
        return
    monitor = lw.LiveLossMonitor(patience=None, display="none", frame_rate=1e-2)  # no frames: the call alone
    loss = torch.tensor(0.5)
    print(f"log_step(float):       {per_call(lambda: monitor.log_step(train=0.5)) * 1e6:.2f} µs per call")
    print(f"log_step(CPU tensor):  {per_call(lambda: monitor.log_step(train=loss)) * 1e6:.2f} µs per call")
    with_grad = torch.tensor(0.5, requires_grad=True) * 2
    print(f"log_step(grad tensor): {per_call(lambda: monitor.log_step(train=with_grad)) * 1e6:.2f} µs per call")

    for n_steps in (1_000, 1_000_000):
        monitor = lw.LiveLossMonitor(patience=None, smoothing=5, display="widget")
        monitor._display.ensure_view(monitor._controls)  # built, not displayed: no notebook here
        rng = np.random.default_rng(0)
        monitor.history.log_steps(np.exp(-np.arange(n_steps) / n_steps * 3) + rng.normal(0, 0.05, n_steps), 0)
        for epoch in range(50):
            monitor.log(train=1.0 / (epoch + 1), val=1.2 / (epoch + 1))
        costs, sizes, counts = [], [], []
        for _ in range(30):
            monitor.log_step(train=float(rng.random()))
            counting.messages = counting.bytes = 0
            start = time.perf_counter()
            monitor._draw()
            costs.append(time.perf_counter() - start)
            sizes.append(counting.bytes)
            counts.append(counting.messages)
        print(
            f"frame at {n_steps:>9,} steps: {statistics.median(costs) * 1e3:.2f} ms median "
            f"(p90 {np.percentile(costs, 90) * 1e3:.2f} ms), {statistics.median(sizes) / 1024:.1f} KiB in "
            f"{statistics.median(counts):.0f} messages"
        )
    for epochs in (1_000, 10_000, 100_000):
        for rate in (False, True):
            epoch_frames(counting, epochs, rate)


if __name__ == "__main__":
    main()
