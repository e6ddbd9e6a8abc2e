"""What one frame costs the training loop in a real kernel, read from the loop's own step times.

Run: .venv/bin/python benchmarks/bench_frame_cost_kernel.py [--runs 8] [--frame-rate 2]
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


def measure(runs: int, frame_rate: float) -> dict:
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
            kernel.client.execute(CELL.format(runs=runs, frame_rate=frame_rate, windows=WINDOWS))
            deadline = time.monotonic() + 900
            while "result" not in seen and "error" not in seen and time.monotonic() < deadline:
                time.sleep(0.2)
            if "result" not in seen:
                raise RuntimeError(seen.get("error", "no result within 900 s"))
            result = json.loads(seen["result"])
            result["comm"] = seen["comm"]
            return result
        finally:
            stop.set()
            reader.join()
            kernel.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=8, help="monitored runs of 7,680 steps")
    parser.add_argument("--frame-rate", type=float, default=2.0)
    args = parser.parse_args()
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
