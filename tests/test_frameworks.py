"""The framework callbacks, each with a real tiny fit on CPU: Hugging Face Trainer, Keras 3 (torch
backend), fastai. For each: the history is the framework's own record, early stopping stops where
the framework's own rule does, Stop mid-run ends the fit with the best weights back."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest

import losswidget as lw

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # Keras' own


def noisy_regression(n, seed, features=8):
    """Targets that are pure noise: the model memorises the training set, validation turns up."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, features, generator=generator), torch.randn(n, 1, generator=generator)


# -- Hugging Face Trainer ------------------------------------------------------------------------

transformers = pytest.importorskip("transformers")


class Tokens(torch.utils.data.Dataset):
    def __init__(self, n, seed):
        generator = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(3, 60, (n, 12), generator=generator)
        self.labels = torch.randint(0, 2, (n,), generator=generator)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": torch.ones(12, dtype=torch.long), "labels": self.labels[i]}


def tiny_bert():
    transformers.set_seed(0)
    config = transformers.BertConfig(
        vocab_size=64, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=16, num_labels=2,
    )  # fmt: skip
    return transformers.BertForSequenceClassification(config)


class Snapshots(transformers.TrainerCallback):
    """The weights at each evaluation; optionally calls monitor.stop() at one (the Stop button's call)."""

    def __init__(self, ours, stop_at=None):
        self.weights, self.stop_at, self.ours, self.evaluations = [], stop_at, ours, 0

    def on_evaluate(self, args, state, control, model=None, **kwargs):
        self.weights.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        if self.evaluations == self.stop_at:
            self.ours.monitor.stop("the Stop button was pressed")
        self.evaluations += 1


def train_bert(tmp_path, callbacks, epochs=30, **arguments):
    model = tiny_bert()
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"), num_train_epochs=epochs, per_device_train_batch_size=8,
        learning_rate=3e-3, logging_steps=1, eval_strategy=arguments.pop("eval_strategy", "epoch"),
        save_strategy=arguments.pop("save_strategy", "no"), report_to=[], use_cpu=True, disable_tqdm=True,
        seed=0, data_seed=0, **arguments,
    )  # fmt: skip
    trainer = transformers.Trainer(
        model=model, args=args, train_dataset=Tokens(32, 1), eval_dataset=Tokens(32, 2), callbacks=callbacks
    )
    trainer.remove_callback(transformers.trainer_callback.PrinterCallback)  # disable_tqdm's printed logs
    trainer.train()
    return trainer, model


def test_trainer_history_is_the_trainers_own_record(tmp_path):
    callback = lw.TrainerCallback(patience=None, display="none")
    trainer, _ = train_bert(tmp_path, [callback], epochs=4)
    log = trainer.state.log_history
    history = callback.monitor.history
    evaluations = [entry["eval_loss"] for entry in log if "eval_loss" in entry]
    steps = [entry["loss"] for entry in log if "loss" in entry and "eval_loss" not in entry]
    assert history.epochs.tolist() == [0, 1, 2, 3] and callback.monitor.x_label == "epoch"
    np.testing.assert_allclose(history.val, evaluations, rtol=1e-6)
    np.testing.assert_allclose(history.step_train, steps, rtol=1e-6)
    np.testing.assert_allclose(history.train, np.array(steps).reshape(4, 4).mean(axis=1), rtol=1e-6)
    # The learning rate at each evaluation: what the Trainer logged at that epoch's last step.
    rates = [entry["learning_rate"] for entry in log if "learning_rate" in entry]
    np.testing.assert_allclose(history["lr"], np.array(rates).reshape(4, 4)[:, -1], rtol=1e-6)
    assert callback.monitor.stopped_reason is None and "Finished 4 epochs" in callback.monitor.status_lines[0]


def test_trainer_early_stopping_stops_where_the_trainers_own_rule_does(tmp_path):
    ours = lw.TrainerCallback(patience=2, display="none")
    trainer, _ = train_bert(tmp_path / "ours", [ours])
    own = lw.TrainerCallback(patience=None, display="none")
    reference, _ = train_bert(
        tmp_path / "own", [own, transformers.EarlyStoppingCallback(early_stopping_patience=2)],
        save_strategy="epoch", load_best_model_at_end=True, metric_for_best_model="eval_loss",
    )  # fmt: skip
    assert trainer.state.global_step < 30 * 4, "the run should stop early"
    assert trainer.state.global_step == reference.state.global_step
    assert ours.monitor.history.epochs.tolist() == own.monitor.history.epochs.tolist()
    np.testing.assert_allclose(ours.monitor.history.val, own.monitor.history.val, rtol=1e-5)
    assert ours.monitor.stop_code == lw.StopReason.PATIENCE
    assert own.monitor.stop_code is None  # the Trainer's rule stopped it: its own best checkpoint was loaded


def test_trainer_stop_mid_run_ends_the_fit_with_the_best_weights_back(tmp_path):
    callback = lw.TrainerCallback(patience=None, display="none")
    snapshots = Snapshots(callback, stop_at=5)
    trainer, model = train_bert(tmp_path, [callback, snapshots])
    monitor = callback.monitor
    # Stop pressed during evaluation 5: the Trainer ends after its next step, evaluating once more
    assert len(monitor.history) == 7 and trainer.state.global_step == 6 * 4 + 1
    assert monitor.stop_code == lw.StopReason.USER
    best = snapshots.weights[monitor.best_epoch]
    assert all(torch.equal(best[name], value) for name, value in model.state_dict().items())
    assert f"Best weights (epoch {monitor.best_epoch}) restored." in monitor.status_lines[0]


def test_trainer_evaluating_every_n_steps_counts_evaluations_on_the_x_axis(tmp_path):
    callback = lw.TrainerCallback(patience=None, display="none")
    trainer, _ = train_bert(tmp_path, [callback], epochs=2, eval_strategy="steps", eval_steps=3)
    monitor = callback.monitor
    assert monitor.x_label == "evaluation (every 3 steps)"
    evaluations = [entry["eval_loss"] for entry in trainer.state.log_history if "eval_loss" in entry]
    assert len(evaluations) >= 2 and monitor.history.val.tolist() == pytest.approx(evaluations)


def test_trainer_without_evaluation_charts_train_per_epoch_and_says_so(tmp_path):
    callback = lw.TrainerCallback(display="none")
    train_bert(tmp_path, [callback], epochs=3, eval_strategy="no")
    monitor = callback.monitor
    assert len(monitor.history) == 3 and np.isnan(monitor.history.val).all()
    assert "No validation loss logged" in " ".join(monitor.status_lines)


def test_trainer_callback_added_twice_is_a_clear_error_and_loses_nothing(tmp_path):
    callback = lw.TrainerCallback(display="none")
    with pytest.raises(RuntimeError, match="added to the callbacks twice"):
        train_bert(tmp_path, [callback, callback], epochs=1)
    assert not callback.monitor.running


# -- Keras 3 -------------------------------------------------------------------------------------

keras = pytest.importorskip("keras")


class KerasSnapshots(keras.callbacks.Callback):
    def __init__(self, ours, stop_at=None):
        super().__init__()
        self.weights, self.stop_at, self.ours = [], stop_at, ours

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([w.copy() for w in self.model.get_weights()])
        if epoch == self.stop_at:
            self.ours.monitor.stop("the Stop button was pressed")


def keras_fit(callbacks, epochs=60):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    x, y = (t.numpy() for t in noisy_regression(40, 1))
    vx, vy = (t.numpy() for t in noisy_regression(40, 2))
    fitted = model.fit(x, y, batch_size=8, epochs=epochs, validation_data=(vx, vy), callbacks=callbacks, verbose=0)
    return fitted, model


def test_keras_history_is_keras_own_record():
    callback = lw.KerasCallback(patience=None, display="none")
    fitted, _ = keras_fit([callback], epochs=5)
    history = callback.monitor.history
    np.testing.assert_allclose(history.train, fitted.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(history.val, fitted.history["val_loss"], rtol=1e-5)
    np.testing.assert_allclose(history["val_mae"], fitted.history["val_mae"], rtol=1e-5)
    assert history.n_steps == 5 * 5
    # the per-batch values recovered from Keras' running means average back to its epoch loss
    np.testing.assert_allclose(history.step_train.reshape(5, 5).mean(axis=1), fitted.history["loss"], rtol=1e-4)


def test_keras_learning_rate_is_the_optimizers_under_a_schedule():
    callback = lw.KerasCallback(patience=None, display="none")
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, rate: 0.01 * 0.5**epoch)
    fitted, model = keras_fit([schedule, callback], epochs=4)
    assert callback.monitor.optimizer is model.optimizer
    np.testing.assert_allclose(callback.monitor.history["lr"], fitted.history["learning_rate"], rtol=1e-6)
    np.testing.assert_allclose(callback.monitor.history["lr"], [0.01, 0.005, 0.0025, 0.00125], rtol=1e-6)


def test_keras_early_stopping_stops_where_keras_own_rule_does():
    ours = lw.KerasCallback(patience=3, display="none")
    fitted, _ = keras_fit([ours])
    reference, _ = keras_fit([keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)])
    assert len(fitted.history["loss"]) < 60, "the run should stop early"
    assert len(fitted.history["loss"]) == len(reference.history["loss"])
    assert ours.monitor.stop_code == lw.StopReason.PATIENCE


def test_keras_stop_mid_run_sets_back_the_best_weights_and_leaves_keras_restore_alone():
    callback = lw.KerasCallback(patience=None, display="none")
    snapshots = KerasSnapshots(callback, stop_at=6)
    fitted, model = keras_fit([callback, snapshots])
    monitor = callback.monitor
    # Stop pressed at the end of epoch 6: Keras ends epoch 7 after its first batch (and validates it)
    assert len(fitted.history["loss"]) == 8 and monitor.stop_code == lw.StopReason.USER
    best = snapshots.weights[monitor.best_epoch]
    assert all(np.array_equal(a, b) for a, b in zip(best, model.get_weights()))
    # beside Keras' own EarlyStopping(restore_best_weights=True): when Keras stops, Keras restores
    beside = lw.KerasCallback(patience=None, display="none")
    keras_fit([beside, keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)])
    assert beside.monitor.stop_code is None and "restored" not in beside.monitor.status_lines[0]


# -- fastai ---------------------------------------------------------------------------------------

fastai_learner = pytest.importorskip("fastai.learner")
from fastai.callback.core import Callback as FastaiBase  # noqa: E402
from fastai.callback.tracker import EarlyStoppingCallback  # noqa: E402
from fastai.data.core import DataLoaders  # noqa: E402
from fastai.torch_core import set_seed  # noqa: E402


class FastaiSnapshots(FastaiBase):
    order = 60

    def __init__(self, ours, stop_at=None):
        self.weights, self.stop_at, self.ours = [], stop_at, ours

    def after_epoch(self):
        self.weights.append({k: v.detach().clone() for k, v in self.learn.model.state_dict().items()})
        if self.epoch == self.stop_at:
            self.ours.monitor.stop("the Stop button was pressed")


def fastai_fit(callbacks, epochs=60):
    set_seed(0)
    train = torch.utils.data.TensorDataset(*noisy_regression(40, 1))
    valid = torch.utils.data.TensorDataset(*noisy_regression(40, 2))
    dls = DataLoaders(
        torch.utils.data.DataLoader(train, batch_size=8), torch.utils.data.DataLoader(valid, batch_size=8)
    )
    model = torch.nn.Sequential(torch.nn.Linear(8, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
    learn = fastai_learner.Learner(dls, model, loss_func=torch.nn.functional.mse_loss, cbs=callbacks)
    with learn.no_logging(), learn.no_bar():
        learn.fit(epochs, lr=0.01)
    return learn


def test_fastai_history_is_the_recorders_own_record():
    class Raw(FastaiBase):
        def __init__(self):
            self.losses = []

        def after_batch(self):
            if self.training:
                self.losses.append(float(self.learn.loss))

    callback, raw = lw.FastaiCallback(patience=None, display="none"), Raw()
    learn = fastai_fit([callback, raw], epochs=4)
    history = callback.monitor.history
    values = np.array([list(v) for v in learn.recorder.values])
    # the epoch mean of the batch losses (8 batches of 5 an epoch), not fastai's smoothed train_loss
    epoch_means = np.array(raw.losses).reshape(4, -1).mean(axis=1)
    np.testing.assert_allclose(history.train, epoch_means, rtol=1e-6)
    assert not np.allclose(history.train, values[:, 0], rtol=1e-3)  # fastai's EMA lags the true mean
    np.testing.assert_allclose(history.val, values[:, 1], rtol=1e-6)
    np.testing.assert_allclose(history.step_train, raw.losses, rtol=1e-6)  # each batch's own loss
    learn.validate()  # sends before_fit/after_epoch/after_fit as well: not a run, nothing logged
    assert len(history) == 4 and not callback.monitor.running


def test_fastai_learning_rate_follows_a_one_cycle_schedule():
    from fastai.callback.schedule import fit_one_cycle  # noqa: F401 - adds Learner.fit_one_cycle

    callback = lw.FastaiCallback(patience=None, display="none")
    learn = fastai_fit([callback], epochs=0)
    with learn.no_logging(), learn.no_bar():
        learn.fit_one_cycle(3, 0.01)
    batches = len(learn.dls.train)
    rates = callback.monitor.history["lr"]
    # read as each epoch ends: the rate of its last batch, as fastai's recorder kept it
    np.testing.assert_allclose(rates, learn.recorder.hps["lr"][batches - 1 :: batches], rtol=1e-9)
    assert rates.max() <= 0.01 and len(set(rates.tolist())) == 3


def test_fastai_early_stopping_stops_where_fastais_own_rule_does():
    ours = lw.FastaiCallback(patience=3, display="none")
    learn = fastai_fit([ours])
    reference = fastai_fit([EarlyStoppingCallback(monitor="valid_loss", patience=3)])
    assert len(learn.recorder.values) < 60, "the run should stop early"
    assert len(learn.recorder.values) == len(reference.recorder.values)
    assert ours.monitor.stop_code == lw.StopReason.PATIENCE


def test_fastai_stop_mid_run_cancels_the_fit_with_the_best_weights_back():
    callback = lw.FastaiCallback(patience=None, display="none")
    snapshots = FastaiSnapshots(callback, stop_at=5)
    learn = fastai_fit([callback, snapshots])
    monitor = callback.monitor
    assert monitor.stop_code == lw.StopReason.USER and len(monitor.history) == 6
    best = snapshots.weights[monitor.best_epoch]
    assert all(torch.equal(best[k], v) for k, v in learn.model.state_dict().items())


# -- all of them ----------------------------------------------------------------------------------


@pytest.mark.parametrize("factory", [lw.TrainerCallback, lw.KerasCallback, lw.FastaiCallback, lw.LightningCallback])
def test_a_callback_refuses_a_wrong_monitor_and_bad_arguments_up_front(factory):
    with pytest.raises(TypeError, match="'monitor' must be a LiveLossMonitor"):
        factory("yes")
    with pytest.raises(ValueError, match="patience"):
        factory(patience=-1)


def test_a_callback_given_to_another_framework_says_so(tmp_path):
    with pytest.raises(TypeError, match=r"lw.KerasCallback was given to transformers.Trainer"):
        train_bert(tmp_path, [lw.KerasCallback(display="none")], epochs=1)
    with pytest.raises(TypeError, match=r"lw.TrainerCallback was given to Keras' model.fit"):
        keras_fit([lw.TrainerCallback(display="none")], epochs=1)
