"""Pure-core speed: smooth and decimate on 1e6 points, History appends per second.

Run: .venv/bin/python benchmarks/bench_core.py   (results: benchmarks/RESULTS.md)
"""

from __future__ import annotations

import time

import numpy as np

import losswidget as lw


def best_of(function, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(0)
    values = np.exp(-np.arange(1_000_000) / 2e5) + rng.normal(0, 0.05, 1_000_000)
    values[rng.random(values.size) < 0.001] = np.nan
    steps = np.arange(values.size)
    for window in (1, 25, 1000):
        seconds = best_of(lambda window=window: lw.smooth(values, window))
        print(f"smooth(1e6 points, window={window}): {seconds * 1e3:.1f} ms")
    seconds = best_of(lambda: lw.decimate(steps, values, 2000))
    print(f"decimate(1e6 points -> 2000): {seconds * 1e3:.1f} ms")

    history = lw.History()
    n = 200_000
    start = time.perf_counter()
    for _ in range(n):
        history.log_step(0.5, 0)
    rate = n / (time.perf_counter() - start)
    print(f"History.log_step: {rate:,.0f} appends/s ({1e6 / rate:.2f} µs each)")
    n = 50_000
    start = time.perf_counter()
    for epoch in range(n):
        history.log_epoch(epoch, {"train": 0.5, "val": 0.6, "acc": 0.9})
    rate = n / (time.perf_counter() - start)
    print(f"History.log_epoch (3 values): {rate:,.0f} appends/s ({1e6 / rate:.2f} µs each)")


if __name__ == "__main__":
    main()
