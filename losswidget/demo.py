"""Headless demo: overfit a wide MLP on a small noisy dataset and watch early stopping decide.

Run ``python -m losswidget.demo`` in a terminal. Synthetic data, CPU only, a few seconds.
"""

from __future__ import annotations

import argparse
import sys


def make_data(n_train: int = 20, n_val: int = 200, noise: float = 0.4, seed: int = 0):
    """A noisy sine: few training points, many validation points, so overfitting shows."""
    import torch

    generator = torch.Generator().manual_seed(seed)

    def sample(n: int):
        x = torch.rand(n, 1, generator=generator) * 6 - 3
        y = torch.sin(x) + noise * torch.randn(n, 1, generator=generator)
        return x, y

    return sample(n_train), sample(n_val)


def make_model(width: int = 256, seed: int = 0):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(1, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1))


def run(epochs: int = 400, patience: int = 20, out=sys.stdout) -> int:
    import torch

    import losswidget as lw

    (x_train, y_train), (x_val, y_val) = make_data()
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = torch.nn.MSELoss()
    history = lw.History(name="demo")
    stopper = lw.EarlyStopping(patience=patience)
    for epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        loss = loss_fn(model(x_train), y_train)
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            val = loss_fn(model(x_val), y_val)
        history.log_epoch(epoch, {"train": loss, "val": val})
        if epoch % 25 == 0:
            print(f"epoch {epoch:4d}  train {loss.item():.4f}  val {val.item():.4f}", file=out)
        if stopper.update(val):
            break
    print(stopper.reason or f"ran all {epochs} epochs", file=out)
    print(f"diagnosis: {lw.diagnose(history)}", file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m losswidget.demo", description=__doc__)
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--patience", type=int, default=20)
    args = parser.parse_args(argv)
    return run(args.epochs, args.patience)


if __name__ == "__main__":
    raise SystemExit(main())
