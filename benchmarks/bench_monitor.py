"""LiveLossMonitor costs: log_step per call, and one frame at 1e3 and 1e6 logged steps.

Run: .venv/bin/python benchmarks/bench_monitor.py   (results: benchmarks/RESULTS.md)
The widget is attached to a comm that serialises every message and drops it.
"""

from __future__ import annotations

import statistics
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


def main() -> None:
    counting = install()
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


if __name__ == "__main__":
    main()
