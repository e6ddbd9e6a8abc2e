"""Training overhead of the live widget in a real kernel: the chart's messages really sent.

Run: .venv/bin/python benchmarks/bench_kernel_overhead.py [--rounds 21] [--slow] [--browser] [--only TEXT]
(results: benchmarks/RESULTS.md)

A real ipykernel is started with jupyter_client and driven as a frontend drives it: this
process reads every iopub message (the widget's comm traffic included) while the kernel runs
one cell that alternates a bare loop and monitored loops. The loop: an MLP 64-128-1, batch
32, SGD, one torch thread, ``log_step(train=loss)`` every step and ``log(train=, val=)`` every
128 steps. The runs go bare, monitored, bare, monitored, ..., bare: a round's ratio is a
monitored run's time over the mean of the bare runs on either side of it, so that the machine's
drift (this VM moves by several % over seconds) cancels to first order. The median and the
spread over the rounds are printed,
with where the monitored time went: inside
``log_step``/``log``, building frames, rendering them (serialising and queueing the comm
messages), starting and ending the loop, and what is left unaccounted. That last figure is the
difference of one bare and one monitored run, so it carries a whole round's noise (±5 % of a
run on this VM): read it over many instrumented runs, or measure per-step costs with
``bench_step_path.py``.

``--slow`` uses a 10x slower step (a 64-1280-1280-1 MLP); ``--length 5`` runs five times longer
(~9 s instead of ~1.8 s here), as a classroom loop does: the loop's start and end, a few ms each,
weigh less. ``--browser`` runs the same cell in
JupyterLab in Chromium on this machine (the browser draws every frame, competing for the same
cores, as on a 2-core classroom laptop); the result is read from the cell's output in the page.
"""

from __future__ import annotations

import argparse
import json
import math
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

CELL = r"""
import json, time, statistics, torch, losswidget as lw
from IPython.display import display
torch.set_num_threads(1)
torch.manual_seed(0)
SLOW = {slow}
STEPS, EPOCH = {steps}, 128
hidden = [1280, 1280] if SLOW else [128]
sizes = [64, *hidden, 1]
layers = []
for a, b in zip(sizes, sizes[1:]):
    layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
model = torch.nn.Sequential(*layers[:-1])
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
data = [(torch.randn(32, 64), torch.randn(32, 1)) for _ in range(64)]
loss_fn = torch.nn.functional.mse_loss

timings = {{}}
sink, MANUAL = [], {per_step!r} == "manual"
def timed(owner, name, key):
    original = getattr(owner, name)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            timings[key] = timings.get(key, 0.0) + time.perf_counter() - started
    setattr(owner, name, wrapper)
    return original

def train(monitor=None):
    started = time.perf_counter()
    epochs = monitor.epochs(STEPS // EPOCH) if monitor is not None and not MANUAL else range(STEPS // EPOCH)
    for epoch in epochs:
        total = 0.0
        for step in range(EPOCH):
            x, y = data[step % 64]
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            if MANUAL:
                sink.append(loss.item())  # what a hand-written loop does to keep its losses
            elif monitor is not None and {per_step} and step % {every} == 0:
                monitor.log_step(train=loss)
        if monitor is not None and not MANUAL:
            monitor.log(train=float(loss), val=float(loss))
    return time.perf_counter() - started

train(); train(lw.LiveLossMonitor(display="none"))  # warm up

def monitored():
    monitor = lw.LiveLossMonitor(patience=None, frame_rate={frame_rate}, display={display!r})
    if {display!r} != "none":
        display(monitor)
        time.sleep({settle})  # the frontend draws the new widget before the run starts (not timed)
    return monitor

rounds, spent = [], []
bare_before = train()
for r in range({rounds}):  # the ratio, from uninstrumented runs: each monitored run between two bare ones
    seen = train(monitored())
    bare_after = train()
    rounds.append(((bare_before + bare_after) / 2, seen))  # the machine's drift cancels to first order
    bare_before = bare_after

from losswidget.run import monitor as monitor_module
from losswidget.run.loop import Loop
from losswidget.views.widget import WidgetView
timed(monitor_module.LiveLossMonitor, "log_step", "log_step")
timed(monitor_module.LiveLossMonitor, "log", "log")
timed(monitor_module.LiveLossMonitor, "_build_frame", "build")
timed(WidgetView, "render", "render")
from jupyter_client.session import Session
timed(Session, "send", "send")  # inside render: the comm messages' JSON, signature and hand-over to iopub
timed(WidgetView, "finish", "finish (static image)")
timed(Loop, "begin", "loop start")
timed(Loop, "end", "loop end")
for r in range(3):  # where the time goes, from instrumented runs (each timed call costs ~1 us more)
    bare = train()
    monitor = monitored()
    timings.clear()
    seen = train(monitor)
    spent.append(dict(timings, frames=monitor._display.clock.frames_drawn, lost=seen - bare))
print("RESULT " + json.dumps({{"rounds": rounds, "spent": spent}}))
"""


def drain(kernel: Kernel, stop: threading.Event, counts: dict) -> None:
    """Read iopub as a frontend does: every message, as it comes."""
    while not stop.is_set():
        try:
            message = kernel.client.get_iopub_msg(timeout=0.1)
        except queue.Empty:
            continue
        counts["messages"] = counts.get("messages", 0) + 1
        if message["msg_type"] == "comm_msg":
            counts["comm"] = counts.get("comm", 0) + 1
        if message["msg_type"] == "stream" and "RESULT " in message["content"]["text"]:
            counts["result"] = message["content"]["text"].split("RESULT ", 1)[1]
        elif message["msg_type"] == "error":
            counts["error"] = message["content"]["evalue"]


def run(variant: dict, rounds: int, slow: bool, length: int = 1) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        kernel = Kernel(sys.executable, Path(folder))
        stop, counts = threading.Event(), {}
        reader = threading.Thread(target=drain, args=(kernel, stop, counts), daemon=True)
        reader.start()
        try:
            steps = (1280 if slow else 7680) * length
            kernel.client.execute(CELL.format(rounds=rounds, slow=slow, steps=steps, **variant))
            deadline = time.monotonic() + 1200
            while "result" not in counts and "error" not in counts and time.monotonic() < deadline:
                time.sleep(0.2)
            if "error" in counts:
                raise RuntimeError(counts["error"])
            result = json.loads(counts["result"])
            result["comm messages"] = counts.get("comm", 0)
            return result
        finally:
            stop.set()
            reader.join()  # before the sockets close under it
            kernel.close()


def run_in_browser(variant: dict, rounds: int, slow: bool, length: int = 1) -> dict:
    import nbformat
    from playwright.sync_api import sync_playwright

    from tests.e2e.lab import CHROMIUM, CHROMIUM_ARGS, Lab, wait_for_kernel

    steps = (1280 if slow else 7680) * length
    code = CELL.format(rounds=rounds, slow=slow, steps=steps, **variant)
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        root = Path(folder)
        (root / "notebooks").mkdir()
        server = Lab(root / "home", root / "notebooks", "lab", None).start()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
            notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
            nbformat.write(notebook, server.notebook_dir / "overhead.ipynb")
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            page.goto(server.notebook_url("overhead.ipynb"))
            wait_for_kernel(page)
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
            page.wait_for_function(
                "() => /RESULT |Error/.test(Array.from(document.querySelectorAll('.jp-OutputArea-output'))"
                ".map(o => o.textContent).join(''))",
                timeout=1_200_000,
                polling=1000,
            )
            text = "".join(page.locator(".jp-OutputArea-output").all_inner_texts())
            if "RESULT " not in text:
                raise RuntimeError(text[-2000:])
            result = json.loads(text.split("RESULT ", 1)[1].strip().splitlines()[0])
            result["comm messages"] = 0  # not counted in the browser
            return result
        finally:
            browser.close()
            server.stop()


def median_interval(ordered: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """A distribution-free interval for the median of sorted values: the order statistics that
    cover it with at least ``confidence`` (the sign test's bounds; 21 rounds: the 6th and 16th
    values, 97 %; under 6 values, the extremes). Whether a target such as 1.02 is met is read from
    this, not from the median alone."""
    n = len(ordered)
    k, tail = 0, 0.0  # [ordered[k], ordered[n-1-k]] misses the median with probability 2 P(B <= k)
    for below in range(n // 2):  # tail: P(B <= below), B ~ Binomial(n, 1/2)
        tail += math.comb(n, below) / 2**n
        if tail > (1 - confidence) / 2:
            break
        k = below
    return ordered[k], ordered[n - 1 - k]


def report(label: str, result: dict) -> str:
    ratios = sorted(seen / bare for bare, seen in result["rounds"])
    low, high = median_interval(ratios)
    bare = statistics.median(b for b, _ in result["rounds"])
    spent = {key: statistics.median(s.get(key, 0.0) for s in result["spent"]) for key in result["spent"][0]}
    lost = spent.pop("lost")
    nested = ("frames", "build", "render", "send", "finish (static image)")  # drawn inside log_step/log/end
    inside = sum(v for k, v in spent.items() if k not in nested)
    parts = ", ".join(f"{k} {v * 1e3:.1f}" for k, v in spent.items() if k != "frames")
    messages = result["comm messages"] / (len(result["rounds"]) + len(result["spent"]))
    frames = max(spent.get("frames", 0), 1)
    outside = max(lost - inside, 0)
    parts += (
        f"; {spent.get('frames', 0):.0f} frames, {messages:.0f} comm messages. Per frame: build "
        f"{spent.get('build', 0) / frames * 1e3:.2f}, "
        f"serialise {(spent.get('render', 0) - spent.get('send', 0)) / frames * 1e3:.2f}"
        f", send {spent.get('send', 0) / frames * 1e3:.2f}"
    )
    q1, q3 = ratios[len(ratios) // 4], ratios[(3 * len(ratios)) // 4]
    return (
        f"| {label} | {bare * 1e3:.0f} | **{statistics.median(ratios):.3f}** (95 % interval of the median "
        f"{low:.3f}–{high:.3f}; IQR {q1:.3f}–{q3:.3f}, min {ratios[0]:.3f}, max {ratios[-1]:.3f}) | "
        f"{lost * 1e3:.1f} ms lost per instrumented run: "
        f"{parts} ms; unaccounted {outside * 1e3:.1f} ms (lost minus the timed calls: one bare/monitored "
        "pair per instrumented run, as noisy as a round's ratio) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--slow", action="store_true", help="a 10x slower step")
    parser.add_argument(
        "--length", type=int, default=1, help="runs this many times longer (the loop's start and end amortised)"
    )
    parser.add_argument("--only", default="", help="run only variants whose label contains this")
    parser.add_argument("--browser", action="store_true", help="in JupyterLab + Chromium instead of a bare kernel")
    args = parser.parse_args()
    widget = {"frame_rate": 2.0, "display": "widget", "per_step": True, "every": 1, "settle": 0.0}
    variants = [
        ("widget displayed, log_step every step, defaults (2 Hz)", widget),
        ("the same, widget shown 1.5 s before the run (steady state)", {**widget, "settle": 1.5}),
        ("widget displayed, frame_rate=5 (the default before 0.3)", {**widget, "frame_rate": 5.0}),
        ("widget displayed, log_step every 10th step", {**widget, "every": 10}),
        ("widget displayed, no per-step logging", {**widget, "per_step": False}),
        ('display="none", log_step every step', {**widget, "display": "none"}),
        (
            "no monitor: list.append(loss.item()) every step (the floor)",
            {**widget, "display": "none", "per_step": "manual"},
        ),
    ]
    print("| variant | bare run (ms) | ratio: median (95 % interval, IQR, min, max) | where the monitored time went |")
    print("|---|---|---|---|")
    for label, variant in variants:
        if args.only and args.only not in label:
            continue
        measure = run_in_browser if args.browser else run
        print(report(label, measure(variant, args.rounds, args.slow, args.length)), flush=True)


if __name__ == "__main__":
    main()
