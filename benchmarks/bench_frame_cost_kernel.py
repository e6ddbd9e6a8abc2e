"""What one frame costs the training loop in a real kernel, read from the loop's own step times.

Run: .venv/bin/python benchmarks/bench_frame_cost_kernel.py [--runs 8] [--frame-rate 2]
     .venv/bin/python benchmarks/bench_frame_cost_kernel.py --epochs 1000,10000,100000 [--runs 2]
(results: benchmarks/RESULTS.md)

The ratio of ``bench_kernel_overhead.py`` mixes every cost and carries a whole run's noise. This
one isolates the frames: a real ipykernel started with ``jupyter_client``, this process reading
every iopub message as a frontend does, the widget displayed, and the loop of
``bench_kernel_overhead.py`` (MLP 64-128-1, batch 32, SGD, one torch thread, ``log_step`` every
step, ``log()`` every 128 steps) timestamping every step. For each frame the loop drew, the time
of the steps from the frame's own step to ``K`` steps after it is compared with the same window
two epochs earlier (no frame in it, the same place in the epoch, so the same epoch ends): the
difference is what the frame cost the loop, its own Python time (build, serialise, send) and what
comes after it (the kernel's iopub thread sending the messages, this process reading them, caches
refilled). Medians over all frames of all runs.

``--epochs``: frames on long runs (a small full-batch run reaches 10^4 epochs). For each history
length, without and with a learning rate that changes every epoch: the run's first epochs are logged
by the loop (``monitor.epochs`` and ``log()``, made-up falling losses) before the widget is shown,
then the widget is displayed and the loop goes on with real full-batch training (4,096 examples,
MLP 64-128-1, SGD, one torch thread) for a few seconds of natural frames. Each frame's own time
(thread CPU and wall, from the start of the draw to its end) is collected, the first two frames after
the display (the whole run folded in and sent once) and the loop's last frame left out, and within it
the time of the diagnosis reading when the frame read it (over the whole history: at most once a
second, and less often where it would take more than 2 % of the time): the frame's columns are
without it. The last column but one is all the frames' CPU time, readings included, over the run's.
"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
from test_kernel_regimes import Kernel  # noqa: E402

WINDOWS = (0, 10, 50)  # steps after the frame's own step

CELL = r"""
import json, time, torch, numpy as np, losswidget as lw
from IPython.display import display
torch.set_num_threads(1)
torch.manual_seed(0)
STEPS, EPOCH, SHIFT = 7680, 128, 256
model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
data = [(torch.randn(32, 64), torch.randn(32, 1)) for _ in range(64)]
loss_fn = torch.nn.functional.mse_loss

def train(monitor, clock):
    stamps, framed = np.empty(STEPS + 1), np.zeros(STEPS + 2, bool)
    n, stamps[0] = 0, time.perf_counter()
    for epoch in monitor.epochs(STEPS // EPOCH):
        for step in range(EPOCH):
            x, y = data[step % 64]
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            drawn = clock.frames_drawn
            monitor.log_step(train=loss)
            n += 1
            stamps[n] = time.perf_counter()
            framed[n] |= clock.frames_drawn != drawn
        drawn = clock.frames_drawn
        monitor.log(train=float(loss), val=float(loss))
        framed[n + 1] |= clock.frames_drawn != drawn  # timed in the next epoch's first step
    return np.diff(stamps), framed[1 : STEPS + 1]

warm = lw.LiveLossMonitor(patience=None, display="none")
train(warm, warm._display.clock)
costs = {{k: [] for k in {windows}}}
own, frames = [], 0
for run in range({runs}):
    monitor = lw.LiveLossMonitor(patience=None, frame_rate={frame_rate})
    display(monitor)
    clock = monitor._display.clock
    seconds = []
    original = clock.drawn
    def drawn(started, original=original):
        original(started)
        seconds.append(clock.frame_seconds)
    clock.drawn = drawn
    steps, framed = train(monitor, clock)
    own += seconds[1:-1]  # the loop's first and last frames are not between steps
    frames += len(seconds)
    for i in np.flatnonzero(framed):
        if i < SHIFT or i + max({windows}) >= STEPS or framed[i - SHIFT: i - SHIFT + max({windows}) + 1].any():
            continue
        for k in {windows}:
            costs[k].append(float(steps[i: i + k + 1].sum() - steps[i - SHIFT: i - SHIFT + k + 1].sum()))
print("RESULT " + json.dumps({{"costs": costs, "own": own, "frames": frames}}))
"""


EPOCH_CELL = r"""
import json, time, torch, numpy as np, losswidget as lw
import losswidget.run.feed as feed_module
from IPython.display import display
torch.set_num_threads(1)
torch.manual_seed(0)
x, y = torch.randn(4096, 64), torch.randn(4096, 1)  # one full batch
xv, yv = torch.randn(1024, 64), torch.randn(1024, 1)
model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
loss_fn = torch.nn.functional.mse_loss

def epoch_of_training(rate, with_rate):
    for group in optimizer.param_groups:
        group["lr"] = rate
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        val = loss_fn(model(xv), yv)
    return {{"train": loss.item(), "val": val.item(), **({{"lr": rate}} if with_rate else {{}})}}

start = time.perf_counter()
for _ in range(20):
    epoch_of_training(0.01, False)
EPOCH = (time.perf_counter() - start) / 20

def run(length, with_rate):
    monitor = lw.LiveLossMonitor(patience=None, frame_rate={frame_rate})
    rng = np.random.default_rng(0)
    for epoch in monitor.epochs(length):  # the run so far, before the widget is shown: no frames
        loss = 1 / (1 + epoch / 100) + float(rng.normal(0, 0.01))
        monitor.log(train=loss, val=loss * 1.1, **({{"lr": 0.01 * 0.9999**epoch}} if with_rate else {{}}))
    display(monitor)
    clock, feed = monitor._display.clock, monitor._display.source
    frames = []  # (wall, thread CPU, the diagnosis reading's wall and CPU, epochs in the history)
    began = [0.0, 0.0]
    flush, drawn = feed.flush, clock.drawn
    def timed_flush():
        began[:], reading[:] = (time.perf_counter(), time.thread_time()), (0.0, 0.0)  # the module's list
        flush()
    def timed_drawn(started):
        drawn(started)
        wall, cpu = time.perf_counter() - began[0], time.thread_time() - began[1]
        frames.append((wall, cpu, reading[0], reading[1], len(monitor.history)))
    feed.flush, clock.drawn = timed_flush, timed_drawn
    epochs = int({seconds} / EPOCH)
    rate = 0.01 * 0.9999**length
    start = time.perf_counter()
    for epoch in monitor.epochs(epochs):
        monitor.log(**epoch_of_training(rate, with_rate))
        rate *= 0.9999
    return {{"frames": frames[2:-1], "epoch": EPOCH, "seconds": time.perf_counter() - start}}

reading = [0.0, 0.0]  # the last diagnosis reading's wall and CPU time

def timed_reading(*arguments, original=feed_module._reading):
    wall, cpu = time.perf_counter(), time.thread_time()
    found = original(*arguments)
    reading[0], reading[1] = time.perf_counter() - wall, time.thread_time() - cpu
    return found
feed_module._reading = timed_reading

results = {{}}
for with_rate in (False, True):
    for length in {lengths}:
        for _ in range({runs}):
            found = run(length, with_rate)
            empty = {{"frames": [], "epoch": found["epoch"], "seconds": 0.0}}
            kept = results.setdefault(f"{{length}} {{with_rate}}", empty)
            for name in ("frames", "seconds"):
                kept[name] += found[name]
print("RESULT " + json.dumps(results))
"""


def measure(runs: int, frame_rate: float, cell: str = CELL, **more: object) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        kernel = Kernel(sys.executable, Path(folder))
        stop, seen = threading.Event(), {"comm": 0}

        def read() -> None:  # every iopub message, as a frontend reads them
            while not stop.is_set():
                try:
                    message = kernel.client.get_iopub_msg(timeout=0.1)
                except queue.Empty:
                    continue
                if message["msg_type"] == "comm_msg":
                    seen["comm"] += 1
                elif message["msg_type"] == "stream" and "RESULT " in message["content"]["text"]:
                    seen["result"] = message["content"]["text"].split("RESULT ", 1)[1]
                elif message["msg_type"] == "error":
                    seen["error"] = "\n".join(message["content"]["traceback"])

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            kernel.client.execute(cell.format(runs=runs, frame_rate=frame_rate, windows=WINDOWS, **more))
            deadline = time.monotonic() + 1800
            while "result" not in seen and "error" not in seen and time.monotonic() < deadline:
                time.sleep(0.2)
            if "result" not in seen:
                raise RuntimeError(seen.get("error", "no result within 1800 s"))
            result = json.loads(seen["result"])
            result["comm"] = seen["comm"]
            return result
        finally:
            stop.set()
            reader.join()
            kernel.close()


def long_runs(lengths: list[int], runs: int, frame_rate: float, seconds: float) -> None:
    result = measure(runs, frame_rate, EPOCH_CELL, lengths=lengths, seconds=seconds)
    print(f"frames on long runs, {runs} run(s) of ~{seconds:g} s each at {frame_rate:g} Hz (medians; ms)")
    columns = ["epochs", "learning rate", "frames", "epochs at the frames", "frame: CPU", "frame: wall"]
    columns += ["diagnosis readings", "a reading: CPU", "a reading: wall", "all frames: CPU / run time", "an epoch"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for key, found in result.items():
        if not isinstance(found, dict):
            continue  # the comm count
        length, with_rate = key.split()
        if not found["frames"]:
            print(
                f"| {int(length):,} | {'per epoch' if with_rate == 'True' else 'none'} | 0 (too slow: none counted) |"
            )
            continue
        wall, cpu, reading_wall, reading_cpu, seen = (np.array(c) for c in zip(*found["frames"], strict=True))
        read = reading_cpu > 0

        def ms(values: np.ndarray) -> str:
            return f"{np.median(values) * 1e3:.2f}" if values.size else "–"

        print(
            f"| {int(length):,} | {'per epoch' if with_rate == 'True' else 'none'} | {wall.size} | "
            f"{seen.min():,}–{seen.max():,} | {ms(cpu - reading_cpu)} | {ms(wall - reading_wall)} | "
            f"{read.sum()} | {ms(reading_cpu[read])} | {ms(reading_wall[read])} | "
            f"{100 * cpu.sum() / found['seconds']:.2f} % | {found['epoch'] * 1e3:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--runs", type=int, default=None, help="monitored runs (default 8 of 7,680 steps; 2 with --epochs)"
    )
    parser.add_argument("--frame-rate", type=float, default=2.0)
    parser.add_argument("--epochs", default=None, help="history lengths, e.g. 1000,10000,100000: frames on long runs")
    parser.add_argument("--seconds", type=float, default=6.0, help="with --epochs: seconds of training per run")
    args = parser.parse_args()
    if args.epochs:
        long_runs([int(n) for n in args.epochs.split(",")], args.runs or 2, args.frame_rate, args.seconds)
        return
    args.runs = args.runs or 8
    result = measure(args.runs, args.frame_rate)
    costs = {int(k): v for k, v in result["costs"].items()}
    counted = len(costs[WINDOWS[0]])
    print(f"{counted} frames between steps over {args.runs} runs at {args.frame_rate:g} Hz")
    print(f"its own Python time (build + serialise + send), median: {statistics.median(result['own']) * 1e3:.2f} ms")
    for k in WINDOWS:
        label = "the frame's step alone" if k == 0 else f"the frame's step and the {k} after it"
        print(f"cost to the loop, {label}: {statistics.median(costs[k]) * 1e3:.2f} ms")
    print(f"comm messages per frame (each run's first, full frame included): {result['comm'] / result['frames']:.1f}")


if __name__ == "__main__":
    main()
