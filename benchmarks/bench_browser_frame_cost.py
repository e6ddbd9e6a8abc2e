"""What one frame costs the browser: Chromium's main-thread time per frame while a loop trains.

Run: .venv/bin/python benchmarks/bench_browser_frame_cost.py [--epochs 400] [--runs 2]
(needs /usr/bin/chromium; results: benchmarks/RESULTS.md)

On a 2-core machine the browser draws on the cores the training uses, so its work per frame is
part of what the chart costs training (``bench_kernel_overhead.py --browser`` measures the total).
JupyterLab in Chromium runs the issue-12 loop (MLP 64-128-1, batch 32, ``log_step`` every step,
an epoch every 128 steps) with the widget displayed; Chrome DevTools' ``Performance.getMetrics``
is read when the loop starts and ends. The same loop with frames off (``frame_rate=0.01``: only
the first and last frames) gives the page's own background work, which is subtracted.
Prints, per frame: main-thread task time, of which script, layout and style recalculation.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.lab import CHROMIUM, CHROMIUM_ARGS, Lab, wait_for_kernel

CELL = """
import time, torch, losswidget as lw
torch.set_num_threads(1)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
data = [(torch.randn(32, 64), torch.randn(32, 1)) for _ in range(64)]
monitor = lw.LiveLossMonitor(patience=None, frame_rate={frame_rate})
display(monitor)
time.sleep(3)  # the widget is drawn before the loop starts
print("GO", flush=True)
time.sleep(1)
for epoch in monitor.epochs({epochs}):
    for step in range(128):
        x, y = data[step % 64]
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        monitor.log_step(train=loss)
    monitor.log(train=loss.item(), val=loss.item())
print("DONE", monitor._display.clock.frames_drawn, flush=True)
time.sleep(1)
"""
METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")
SEEN = (
    "() => new RegExp({!r}).test([...document.querySelectorAll('.jp-OutputArea-output')]"
    ".map(o => o.textContent).join(''))"
)


def one_run(playwright, frame_rate: float, epochs: int) -> tuple[dict[str, float], int]:
    """Chromium's main-thread seconds while the loop ran, and the frames drawn."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "nb").mkdir()
        code = CELL.format(frame_rate=frame_rate, epochs=epochs)
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, root / "nb" / "cost.ipynb")
        server = Lab(root / "home", root / "nb").start()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            devtools = page.context.new_cdp_session(page)
            devtools.send("Performance.enable")
            page.goto(server.notebook_url("cost.ipynb"))
            wait_for_kernel(page)
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
            page.wait_for_function(SEEN.format("GO"), timeout=120_000, polling=500)
            before = {m["name"]: m["value"] for m in devtools.send("Performance.getMetrics")["metrics"]}
            page.wait_for_function(SEEN.format("DONE"), timeout=600_000, polling=2000)
            after = {m["name"]: m["value"] for m in devtools.send("Performance.getMetrics")["metrics"]}
            text = "".join(page.locator(".jp-OutputArea-output").all_inner_texts())
            frames = int(text.split("DONE", 1)[1].split()[0])
        finally:
            browser.close()
            server.stop()
    return {name: after[name] - before[name] for name in METRICS}, frames


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    per_frame: dict[str, list[float]] = {name: [] for name in METRICS}
    with sync_playwright() as playwright:
        for _ in range(args.runs):
            quiet, quiet_frames = one_run(playwright, 0.01, args.epochs)
            busy, frames = one_run(playwright, 2.0, args.epochs)
            for name in METRICS:
                per_frame[name].append((busy[name] - quiet[name]) / max(frames - quiet_frames, 1))
            print(f"run: {frames} frames (frames off: {quiet_frames})", flush=True)
    print(f"Chromium main thread per frame, median of {args.runs} runs (frames-off background subtracted):")
    for name in METRICS:
        print(f"  {name:20s} {statistics.median(per_frame[name]) * 1e3:6.1f} ms")


if __name__ == "__main__":
    main()
