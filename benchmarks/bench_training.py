"""Does monitoring slow training? A small MLP on CPU, with and without the monitor, alternating.

Run: .venv/bin/python benchmarks/bench_training.py   (results: benchmarks/RESULTS.md)
Variants, run in rotation so that machine noise hits all alike:
  bare        the loop with no monitoring at all
  losswidget  LiveLossMonitor with the widget attached (a comm that serialises and drops
              messages), log_step every step, log every epoch
  terminal    LiveLossMonitor's text view as a terminal gets it (one line redrawn in place), its
              output thrown away by a stream that says it is a TTY
  livelossplot  livelossplot's PlotLosses (matplotlib, Agg backend) updated every epoch, as
              its documentation shows (an extra, benchmark-only dependency)

``--kinds bare,losswidget,terminal`` runs some of them (livelossplot needs ``pip install livelossplot``).
"""

from __future__ import annotations

import argparse
import gc
import io
import statistics
import time

import numpy as np
import torch
from _dummy_comm import install

import losswidget as lw

EPOCHS, STEPS, BATCH, ROUNDS = 10, 300, 64, 15


def make():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)
    )
    return model, torch.optim.SGD(model.parameters(), lr=0.01), torch.nn.CrossEntropyLoss()


class DiscardedTerminal(io.StringIO):
    """A terminal that shows nothing: the text view takes its TTY path (redraws in place)."""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


DATA = [(torch.randn(BATCH, 64), torch.randint(0, 10, (BATCH,))) for _ in range(STEPS)]


def run(kind: str) -> float:
    gc.collect()  # start each run from the same heap: livelossplot leaves figures behind
    model, optimizer, loss_fn = make()
    monitor = plot = None
    if kind == "losswidget":
        monitor = lw.LiveLossMonitor(patience=None, model=model, display="widget")
        monitor._display.ensure_view(monitor._controls)
        monitor._display.view.shown = True  # no notebook to display it in: skip display()
    elif kind == "terminal":
        monitor = lw.LiveLossMonitor(patience=None, model=model, display="text")
        monitor._display.ensure_view(monitor._controls)
        monitor._display.view._stream = DiscardedTerminal()
    elif kind == "livelossplot":
        from livelossplot import PlotLosses
        from livelossplot.outputs import MatplotlibPlot

        plot = PlotLosses(outputs=[MatplotlibPlot()])
    start = time.perf_counter()
    epochs = monitor.epochs(EPOCHS) if monitor else range(EPOCHS)
    for _ in epochs:
        for x, y in DATA:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            if monitor:
                monitor.log_step(train=loss)
        if monitor:
            monitor.log(val=loss.detach())
        elif plot:
            plot.update({"loss": loss.item(), "val_loss": loss.item()})
            plot.send()
    seconds = time.perf_counter() - start
    if monitor:
        import ipywidgets

        ipywidgets.Widget.close_all()  # one monitor per notebook: don't let 20 runs' widgets pile up
    if plot:
        import matplotlib.pyplot as plt

        plt.close("all")
    return seconds


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default="bare,losswidget,terminal,livelossplot")
    kinds = parser.parse_args().kinds.split(",")
    if kinds[0] != "bare":
        raise SystemExit("--kinds must start with bare: every ratio is to the bare run of its round")
    install()
    torch.set_num_threads(1)
    times = {kind: [] for kind in kinds}
    run("bare")  # warm-up
    for _ in range(ROUNDS):
        for kind in kinds:
            times[kind].append(run(kind))
    print(f"{EPOCHS * STEPS} steps of a 64-256-256-10 MLP, batch {BATCH}, 1 CPU thread, {ROUNDS} rounds")
    print("ratio = the run's time / the bare run's time in the same round (paired: machine drift cancels)")
    for kind in kinds:
        ratios = [t / b for t, b in zip(times[kind], times["bare"])]
        low, high = np.percentile(ratios, [25, 75])
        median = statistics.median(times[kind])
        print(
            f"  {kind:<13} {median:6.3f} s median, {median / (EPOCHS * STEPS) * 1e3:.3f} ms/step, "
            f"ratio median {statistics.median(ratios):.3f} (IQR {low:.3f}-{high:.3f})"
        )


if __name__ == "__main__":
    main()
