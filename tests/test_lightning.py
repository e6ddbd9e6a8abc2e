"""The Lightning callback, with a real (tiny) Trainer on CPU."""

import pytest

import losswidget as lw

torch = pytest.importorskip("torch")
pl = pytest.importorskip("pytorch_lightning")


class Tiny(pl.LightningModule):
    """Real training steps; a validation loss shaped like overfitting (minimum at epoch 5)."""

    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)
        self.seen = {}

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("train_loss", loss, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", torch.tensor(0.1 + 0.05 * abs(self.current_epoch - 5)))

    def on_validation_epoch_end(self):  # the weights each epoch ended with, to check the restored ones
        self.seen[self.current_epoch] = {k: v.detach().clone() for k, v in self.state_dict().items()}

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def loader():
    torch.manual_seed(0)
    x = torch.randn(64, 4)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True)), batch_size=16)


def test_callback_logs_stops_early_and_restores(tmp_path):
    monitor = lw.LiveLossMonitor(patience=2, display="none")
    callback = lw.LightningCallback(monitor)
    trainer = pl.Trainer(
        max_epochs=30, callbacks=[callback], logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path, accelerator="cpu",
    )  # fmt: skip
    model = Tiny()
    trainer.fit(model, loader(), loader())
    history = monitor.history
    assert trainer.current_epoch == 8  # epochs 0..7 ran: minimum at 5, patience 2
    assert history.epochs.tolist() == list(range(8))
    assert history.n_steps == 8 * 4
    assert monitor.best_epoch == 5 and monitor.stopped_reason.startswith("early stopping at epoch 7")
    assert not any(name.endswith("_step") for name in history.column_names)
    best = model.seen[5]  # epoch 5's weights, loaded back at the end of the fit
    assert not torch.equal(model.seen[7]["layer.weight"], best["layer.weight"])
    assert all(torch.equal(best[name], value) for name, value in model.state_dict().items())
    assert "Best weights (epoch 5) restored." in monitor.status_lines[-1]


def test_callback_rejects_a_wrong_monitor():
    with pytest.raises(TypeError, match="'monitor' must be a LiveLossMonitor"):
        lw.LightningCallback(monitor="yes")
