"""Stop click → end of a blocking training loop, per frontend and kernel stack.

Run: .venv/bin/python benchmarks/bench_stop_latency.py   (results: benchmarks/RESULTS.md)
Needs /usr/bin/chromium for the browser rows; the Colab and ipykernel 7.0.1 rows run when
scripts/test.sh has built .venv-colab and .venv-ipykernel70.

- Kernel rows: a real kernel driven by jupyter_client as a frontend drives it; the click is a
  comm message on the main shell (VS Code, Voilà, Notebook 7, JupyterLab without subshells) or
  on a subshell of the client's own (JupyterLab >= 4.4). Latency: click sent → the loop's
  "ENDED" line received on iopub.
- Browser rows: JupyterLab (subshells on and off), Notebook 7 and Voilà in Chromium. Latency:
  the page's click on Stop → "ENDED" in the cell's output in the DOM (a MutationObserver).
Epochs take 20 ms, so about 10 ms of every figure is the rest of the epoch the click lands in.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from test_kernel_regimes import Kernel  # noqa: E402

from tests.e2e.lab import CHROMIUM, CHROMIUM_ARGS, Lab, wait_for_kernel  # noqa: E402

SAMPLES = 7


def show_cell(name: str) -> str:
    return f"import time, losswidget as lw\n{name} = lw.LiveLossMonitor(patience=None)\ndisplay({name})"


def loop_cell(name: str) -> str:
    return f"""
for epoch in {name}.epochs(100_000):
    time.sleep(0.02)
    {name}.log(train=1.0 / (epoch + 1), val=1.0 / (epoch + 1))
print("ENDED", epoch, {name}.stop_code, {name}.regime)
"""


def kernel_latencies(python: str, own_subshell: bool) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        kernel = Kernel(python, Path(folder))
        try:
            theirs = kernel.control("create_subshell_request")["subshell_id"] if own_subshell else None
            latencies = []
            previous = None
            for n in range(1, SAMPLES + 1):
                kernel.execute(show_cell(f"monitor{n}") + loop_cell(f"monitor{n}"))
                stop = kernel.find_widget("ButtonModel", "Stop", after=previous)
                previous = stop
                time.sleep(0.5)
                clicked = time.perf_counter()
                kernel.click(stop, theirs)
                kernel.ended(nth=n)
                latencies.append(time.perf_counter() - clicked)
            return latencies
        finally:
            kernel.close()


CLICK_AND_WAIT = """
async ([index, ended]) => {
  const area = () => [...document.querySelectorAll('.jp-OutputArea-output')]
      .filter(o => o.textContent.trim().startsWith('ENDED')).length;
  const stops = [...document.querySelectorAll('.losswidget')].map(w =>
      [...w.querySelectorAll('button')].find(b => b.textContent.includes('Stop')));
  const started = performance.now();
  stops[index].click();
  await new Promise((resolve, reject) => {
    const check = () => { if (area() > ended) { observer.disconnect(); resolve(); } };
    setTimeout(() => { observer.disconnect(); reject(new Error('no ENDED 20 s after the click')); }, 20000);
    const observer = new MutationObserver(check);
    observer.observe(document.body, {subtree: true, childList: true, characterData: true});
    check();
  });
  return (performance.now() - started) / 1000;
}
"""


def browser_latencies(browser, app: str, comms: str | None) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "notebooks").mkdir()
        server = Lab(root / "home", root / "notebooks", app, comms).start()
        try:
            # Two cells per monitor: Voilà shows a cell's outputs only when the cell has finished.
            cells = [
                nbformat.v4.new_code_cell(cell(f"m{n}")) for n in range(SAMPLES) for cell in (show_cell, loop_cell)
            ]
            notebook = nbformat.v4.new_notebook(cells=cells)
            notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
            nbformat.write(notebook, server.notebook_dir / "latency.ipynb")
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            page.goto(server.notebook_url("latency.ipynb"))
            if app != "voila":
                wait_for_kernel(page)
                page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
            latencies = []
            for index in range(SAMPLES):
                page.wait_for_function(
                    "i => { const s = document.querySelectorAll('.losswidget-status')[i];"
                    " return s && /Epoch ([5-9]|\\d\\d+)/.test(s.textContent); }",
                    arg=index,
                    timeout=90_000,
                )
                latencies.append(page.evaluate(CLICK_AND_WAIT, [index, index]))
            page.close()
            return latencies
        finally:
            server.stop()


def summary(name: str, latencies: list[float]) -> str:
    ms = sorted(1000 * x for x in latencies)
    return f"| {name} | {statistics.median(ms):.0f} ms | {ms[0]:.0f}–{ms[-1]:.0f} ms | {len(ms)} |"


def main(only: list[str]) -> None:
    """``only``: words that pick rows by their label (e.g. ``Voilà``); all rows when empty."""
    rows = ["| frontend / stack | median | range | clicks |", "|---|---|---|---|"]
    if only:
        return browser_rows(rows, only)
    main_shell = kernel_latencies(sys.executable, False)
    rows.append(summary("ipykernel 7.4, click on the main shell (VS Code, Voilà kind)", main_shell))
    subshell = kernel_latencies(sys.executable, True)
    rows.append(summary("ipykernel 7.4, click on the client's subshell (JupyterLab kind)", subshell))
    for env, venv, label in (
        ("LOSSWIDGET_IPYKERNEL70_PYTHON", ".venv-ipykernel70", "ipykernel 7.0.1 (Binder's), click on the main shell"),
        ("LOSSWIDGET_COLAB_PYTHON", ".venv-colab", "Colab's stack (ipykernel 6.17.1, ipywidgets 7.7.1), main shell"),
    ):
        python = os.environ.get(env) or str(ROOT / venv / "bin" / "python")
        if Path(python).exists():
            rows.append(summary(label, kernel_latencies(python, False)))
    print("\n".join(rows), flush=True)
    browser_rows(rows, only)


def browser_rows(rows: list[str], only: list[str]) -> None:
    if Path(CHROMIUM).exists():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for app, comms, label in (
                ("lab", None, "JupyterLab 4.6 in Chromium (comms over subshells, default)"),
                ("lab", "disabled", "JupyterLab 4.6 in Chromium, commsOverSubshells disabled"),
                ("notebook", None, "Notebook 7.6 in Chromium"),
                ("voila", None, "Voilà 0.5 in Chromium (progressive rendering)"),
            ):
                if only and not any(word in label for word in only):
                    continue
                rows.append(summary(label, browser_latencies(browser, app, comms)))
                print(rows[-1], flush=True)
            browser.close()
    print("\n".join(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
