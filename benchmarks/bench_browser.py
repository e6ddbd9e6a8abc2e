"""Kernel-to-DOM latency of one frame in JupyterLab + Chromium, with 1e5 steps logged.

Run: .venv/bin/python benchmarks/bench_browser.py   (needs /usr/bin/chromium; results: benchmarks/RESULTS.md)
The kernel stamps the wall-clock time just before drawing a frame; a MutationObserver in the
page stamps when the chart's step line path changes. Same machine, same clock.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.lab import CHROMIUM, CHROMIUM_ARGS, Lab

SETUP = """
import json, time
import numpy as np
import losswidget as lw
monitor = lw.LiveLossMonitor(patience=None, smoothing=20, frame_rate=1000)
monitor.history.log_steps(np.exp(-np.arange(100_000) / 30_000) + np.random.default_rng(0).normal(0, 0.05, 100_000), 0)
for epoch in range(20):
    monitor.log(train=1.0 / (epoch + 1), val=1.2 / (epoch + 1))
monitor
"""

FRAMES = """
stamps = []
for i in range(40):
    monitor.log_step(train=float(np.random.default_rng(i).random()))
    stamps.append(time.time() * 1000)
    monitor._draw()
    time.sleep(0.3)
print("STAMPS", json.dumps(stamps))
"""

OBSERVE = """
() => {
  window.__mutations = [];
  const observer = new MutationObserver(records => {
    for (const r of records) {
      const d = r.target.getAttribute('d') || '';
      window.__mutations.push([Date.now(), (d.match(/[ML]/g) || []).length]);
    }
  });
  document.querySelectorAll('.losswidget svg path.line').forEach(p =>
    observer.observe(p, {attributes: true, attributeFilter: ['d']}));
}
"""


def main() -> None:
    from playwright.sync_api import sync_playwright

    root = Path(tempfile.mkdtemp())
    (root / "nb").mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SETUP)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "nb" / "latency.ipynb")
    lab = Lab(root / "home", root / "nb").start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(lab.notebook_url("latency.ipynb"))
            page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=90_000)
            page.click('.lm-MenuBar-item:has-text("Run")')
            page.click('.lm-Menu-item:has-text("Run All Cells")')
            page.wait_for_selector(".losswidget svg path.line", timeout=90_000)
            time.sleep(2)
            page.evaluate(OBSERVE)
            # A new cell with the timed frames, run from the UI like a user would.
            page.click(".jp-Notebook .jp-Cell")
            page.keyboard.press("Escape")
            page.keyboard.press("b")
            page.keyboard.press("Enter")
            page.keyboard.insert_text(FRAMES)
            page.keyboard.press("Shift+Enter")
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                ".some(o => o.innerText.startsWith('STAMPS'))",
                timeout=120_000,
            )
            outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
            stamps = json.loads(next(o for o in outputs if o.startswith("STAMPS"))[len("STAMPS") :].strip())
            mutations = page.evaluate("window.__mutations")
            browser.close()
    finally:
        lab.stop()
    latencies = []
    for stamp in stamps:
        after = [t for t, points in mutations if t >= stamp and points > 500]
        if after:
            latencies.append(after[0] - stamp)
    latencies.sort()
    print(f"kernel->DOM latency, 1e5 logged steps, {len(latencies)} frames of {len(stamps)}:")
    print(f"  median {statistics.median(latencies):.0f} ms, p90 {latencies[int(len(latencies) * 0.9)]:.0f} ms, "
          f"max {latencies[-1]:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
