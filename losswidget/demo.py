"""Headless demo: overfit a wide network on a small noisy dataset; early stopping decides.

Run ``python -m losswidget.demo`` in a terminal. Synthetic data, CPU only, a few seconds.
The same LiveLossMonitor that draws the chart in a notebook prints text progress here.
"""

from __future__ import annotations

import argparse
import time


def make_model(width: int = 256, seed: int = 0):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(1, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1))


def run(epochs: int = 400, patience: int | None = 20, log_file: str | None = None, pause: float = 0.0) -> int:
    train(epochs, patience, log_file, pause, display="text")
    return 0


def train(
    epochs: int = 400,
    patience: int | None = 20,
    log_file: str | None = None,
    pause: float = 0.0,
    display: str = "text",
):
    """The demo's run; returns its monitor (the diagnosis table in tests/ reads its history)."""
    import torch

    import losswidget as lw
    from losswidget.datasets import noisy_sine

    (x_train, y_train), (x_val, y_val) = noisy_sine()
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = torch.nn.MSELoss()
    monitor = lw.LiveLossMonitor(patience=patience, model=model, display=display, name="demo", log_file=log_file)
    for _epoch in monitor.epochs(epochs):
        model.train()
        optimizer.zero_grad()
        loss = loss_fn(model(x_train), y_train)
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            val = loss_fn(model(x_val), y_val)
        monitor.log(train=loss, val=val)
        if pause:
            time.sleep(pause)  # slow enough to watch from a notebook
    return monitor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m losswidget.demo", description=__doc__)
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--patience", type=int, default=20, help="early-stopping patience; -1 turns it off")
    parser.add_argument("--log-file", help="append the run to this .jsonl file (lw.watch follows it)")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds to sleep after each epoch")
    args = parser.parse_args(argv)
    return run(args.epochs, None if args.patience < 0 else args.patience, args.log_file, args.pause)


if __name__ == "__main__":
    raise SystemExit(main())
