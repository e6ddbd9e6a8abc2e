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


def fit(tmp_path, callbacks, max_epochs=30):
    torch.manual_seed(0)
    trainer = pl.Trainer(
        max_epochs=max_epochs, callbacks=callbacks, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path, accelerator="cpu",
    )  # fmt: skip
    model = Tiny()
    trainer.fit(model, loader(), loader())
    return trainer, model


def test_callback_logs_stops_early_and_restores(tmp_path):
    monitor = lw.LiveLossMonitor(patience=2, display="none")
    trainer, model = fit(tmp_path, [lw.LightningCallback(monitor)])
    history = monitor.history
    assert trainer.current_epoch == 8  # epochs 0..7 ran: minimum at 5, patience 2
    assert history.epochs.tolist() == list(range(8))
    assert history.n_steps == 8 * 4
    assert monitor.best_epoch == 5 and monitor.stopped_reason.startswith("early stopping at epoch 7")
    assert not any(name.endswith("_step") for name in history.column_names)
    best = model.seen[5]  # epoch 5's weights, loaded back at the end of the fit
    assert not torch.equal(model.seen[7]["layer.weight"], best["layer.weight"])
    assert all(torch.equal(best[name], value) for name, value in model.state_dict().items())
    assert "Best weights (epoch 5) restored." in monitor.status_lines[0]


def test_callback_rejects_a_wrong_monitor():
    with pytest.raises(TypeError, match="'monitor' must be a LiveLossMonitor"):
        lw.LightningCallback(monitor="yes")


class Snapshot(pl.Callback):
    """Calls monitor.stop() (what the Stop button calls) at the end of one epoch's validation."""

    def __init__(self, ours, stop_at):
        self.ours, self.stop_at = ours, stop_at

    def on_validation_epoch_end(self, trainer, pl_module):
        if trainer.current_epoch == self.stop_at and not trainer.sanity_checking:
            self.ours.monitor.stop("the Stop button was pressed")


def test_early_stopping_stops_where_lightnings_own_rule_does(tmp_path):
    ours = lw.LightningCallback(patience=2, display="none")
    trainer, _ = fit(tmp_path / "ours", [ours])
    own = lw.LightningCallback(patience=None, display="none")
    reference, _ = fit(tmp_path / "own", [own, pl.callbacks.EarlyStopping(monitor="val_loss", patience=2)])
    assert trainer.current_epoch == reference.current_epoch < 30
    assert ours.monitor.history.val.tolist() == pytest.approx(own.monitor.history.val.tolist())
    assert own.monitor.stop_code is None  # Lightning's rule stopped it: the monitor restores nothing
    assert "restored" not in own.monitor.status_lines[0]


def test_stop_mid_run_ends_the_fit_with_the_best_weights_back_and_the_log_file_kept(tmp_path):
    callback = lw.LightningCallback(patience=None, display="none", log_file=tmp_path / "run.jsonl")
    trainer, model = fit(tmp_path, [callback, Snapshot(callback, stop_at=7)])
    monitor = callback.monitor
    assert monitor.stop_code == lw.StopReason.USER and trainer.current_epoch <= 9
    assert monitor.best_epoch == 5
    assert all(torch.equal(model.seen[5][k], v) for k, v in model.state_dict().items())
    logged = lw.History.load(tmp_path / "run.jsonl")
    assert logged.epochs.tolist() == monitor.history.epochs.tolist()
    assert logged.val.tolist() == pytest.approx(monitor.history.val.tolist())


class Scheduled(Tiny):
    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
        return [optimizer], [torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)]


def test_the_learning_rate_is_each_epochs_own_under_an_epoch_schedule(tmp_path):
    """Lightning steps an epoch scheduler before on_train_epoch_end: the rate is read as the epoch starts."""
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    torch.manual_seed(0)
    trainer = pl.Trainer(
        max_epochs=5, callbacks=[lw.LightningCallback(monitor)], logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path, accelerator="cpu",
    )  # fmt: skip
    trainer.fit(Scheduled(), loader(), loader())
    assert monitor.optimizer is trainer.optimizers[0]
    assert monitor.history["lr"].tolist() == [0.1, 0.1, 0.05, 0.05, 0.025]
