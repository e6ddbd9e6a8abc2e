"""fit() and evaluate() on real tiny models (CPU, synthetic data and scikit-learn's bundled digits)."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import pytest

import losswidget as lw

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader, Subset, TensorDataset, random_split  # noqa: E402


@pytest.fixture
def digits():
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_digits()
    x = torch.tensor(data.data, dtype=torch.float32) / 16.0
    y = torch.tensor(data.target)
    return TensorDataset(x[:600], y[:600]), TensorDataset(x[600:900], y[600:900])


def mlp(dropout=0.0, inputs=64, classes=10):
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(inputs, 32), torch.nn.ReLU(), torch.nn.Dropout(dropout), torch.nn.Linear(32, classes)
    )


def test_evaluate_is_the_loss_over_the_whole_dataset(digits):
    _, val = digits
    model = mlp()
    loss_fn = torch.nn.CrossEntropyLoss()
    loader = DataLoader(val, batch_size=64)  # 300 = 4 * 64 + 44: a short last batch
    x, y = val.tensors
    with torch.no_grad():
        expected = loss_fn(model(x), y).item()
        expected_acc = (model(x).argmax(-1) == y).float().mean().item()
    assert lw.evaluate(model, loader, loss_fn) == pytest.approx(expected, rel=1e-6)
    result = lw.evaluate(model, loader, loss_fn, metrics={"acc": lw.accuracy})
    assert result["loss"] == pytest.approx(expected, rel=1e-6) and result["acc"] == pytest.approx(expected_acc)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("grad", [True, False])
def test_evaluate_leaves_modes_as_it_found_them(digits, training, grad):
    model = mlp(dropout=0.5)
    model.train(training)
    seen_modes = []
    model.register_forward_pre_hook(lambda module, args: seen_modes.append((module.training, torch.is_grad_enabled())))
    with torch.set_grad_enabled(grad):
        lw.evaluate(model, DataLoader(digits[1], batch_size=100), torch.nn.CrossEntropyLoss())
        assert torch.is_grad_enabled() == grad
    assert model.training == training
    assert set(seen_modes) == {(False, False)}  # evaluated in eval() mode without gradients


def test_fit_learns_stops_early_and_restores_best_weights(digits):
    train, val = digits
    model = mlp()
    monitor = lw.LiveLossMonitor(patience=3, display="none")
    history = lw.fit(
        model,
        DataLoader(train, batch_size=32, shuffle=True),
        DataLoader(val, batch_size=128),
        torch.nn.CrossEntropyLoss(),
        torch.optim.Adam(model.parameters(), lr=0.05),
        200,
        monitor=monitor,
        metrics={"acc": lw.accuracy},
    )
    assert 4 <= len(history) < 200 and monitor.stop_code is lw.StopReason.PATIENCE
    # per example: its standard error, and the paired one against the best epoch
    assert history.n_steps > 0 and set(history.metric_names) == {"lr", "acc", "val_se", "val_diff_se"}
    assert (history["val_se"] > 0).all()
    best = monitor.best_epoch
    # the model now holds the best epoch's weights: evaluating it gives the best validation loss
    restored = lw.evaluate(model, DataLoader(val, batch_size=128), torch.nn.CrossEntropyLoss())
    assert restored == pytest.approx(history.val[list(history.epochs).index(best)], rel=1e-6)
    assert history["acc"][list(history.epochs).index(best)] > 0.8


def test_fit_continues_numbering_and_steps_the_scheduler(digits):
    train, val = digits
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    loaders = DataLoader(train, batch_size=64), DataLoader(val, batch_size=64)
    lw.fit(model, *loaders, torch.nn.CrossEntropyLoss(), optimizer, 2, monitor=monitor, scheduler=scheduler)
    history = lw.fit(model, *loaders, torch.nn.CrossEntropyLoss(), optimizer, 2, monitor=monitor, scheduler=scheduler)
    assert history.epochs.tolist() == [0, 1, 2, 3]
    assert history["lr"].tolist() == [0.1, 0.05, 0.025, 0.0125]


def test_train_loss_is_sample_weighted(digits):
    train, _ = digits
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # no learning: every batch sees the same model
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    lw.fit(model, DataLoader(train, batch_size=256), None, torch.nn.CrossEntropyLoss(), optimizer, 1, monitor=monitor)
    with torch.no_grad():
        model.eval()  # no dropout in this model: the same numbers
        expected = torch.nn.CrossEntropyLoss()(model(train.tensors[0]), train.tensors[1]).item()
    assert monitor.history.train[0] == pytest.approx(expected, rel=1e-6)


# -- teaching guards: each fires on the mistake and stays silent on correct code ----------------


def test_same_dataset_for_train_and_val_warns(digits):
    train, _ = digits
    model = mlp()
    loader = DataLoader(train, batch_size=128)
    with pytest.warns(UserWarning, match="losswidget: the train and validation loaders read the same dataset"):
        lw.fit(model, loader, loader, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), 0.1), 1,
               monitor=lw.LiveLossMonitor(display="none"))  # fmt: skip


def test_overlapping_subsets_warn_and_disjoint_ones_do_not(digits):
    train, _ = digits
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), 0.1)
    overlapping = Subset(train, range(0, 300)), Subset(train, range(250, 400))
    with pytest.warns(UserWarning, match="losswidget: 50 samples are in both"):
        lw.fit(model, *(DataLoader(s, batch_size=128) for s in overlapping), torch.nn.CrossEntropyLoss(), optimizer,
               1, monitor=lw.LiveLossMonitor(display="none"))  # fmt: skip
    disjoint = random_split(train, [400, 200], generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lw.fit(model, *(DataLoader(s, batch_size=128) for s in disjoint), torch.nn.CrossEntropyLoss(), optimizer,
               1, monitor=lw.LiveLossMonitor(display="none"))  # fmt: skip


def test_validation_with_gradients_warns():
    model = mlp(inputs=3).eval()
    monitor = lw.LiveLossMonitor(model=model, display="none")
    x, y = torch.randn(8, 3), torch.randint(0, 10, (8,))
    with pytest.warns(UserWarning, match=r"computed with gradients enabled: wrap evaluation in torch.no_grad\(\)"):
        monitor.log(val=torch.nn.functional.cross_entropy(model(x), y))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with torch.no_grad():
            monitor.log(val=torch.nn.functional.cross_entropy(model(x), y))


def test_wrong_mode_guards(digits):
    model = mlp(dropout=0.5)
    monitor = lw.LiveLossMonitor(model=model, display="none")
    x, y = digits[0].tensors
    model.eval()
    with pytest.warns(UserWarning, match=r"training steps are logged while the model is in eval\(\) mode"):
        monitor.log_step(train=1.0)
    model.train()
    with torch.no_grad():
        val = torch.nn.functional.cross_entropy(model(x), y)  # forgot model.eval()
    with pytest.warns(UserWarning, match=r"validation loss was logged while the model is in train\(\) mode"):
        monitor.log(val=val)
    # correct code: train() for steps, eval() for validation
    fresh = lw.LiveLossMonitor(model=model, display="none")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fresh.log_step(train=1.0)
        fresh.log(val=lw.evaluate(model, DataLoader(digits[1], 100), torch.nn.CrossEntropyLoss()))


def test_no_guard_without_dropout_or_batch_norm():
    model = torch.nn.Linear(3, 1)
    monitor = lw.LiveLossMonitor(model=model, display="none")
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        monitor.log_step(train=1.0)


# -- bad input --------------------------------------------------------------------------------


def test_loader_of_dicts_is_explained_and_unpack_fixes_it(digits):
    x, y = digits[1].tensors
    batches = [{"image": x[:50], "label": y[:50]}]
    model = mlp()
    with pytest.raises(TypeError, match=r"yielded a dict with keys \['image', 'label'\]; .* Pass unpack="):
        lw.evaluate(model, batches, torch.nn.CrossEntropyLoss())
    value = lw.evaluate(model, batches, torch.nn.CrossEntropyLoss(), unpack=lambda b: (b["image"], b["label"]))
    assert value > 0


def test_non_scalar_loss_and_empty_loader(digits):
    model = mlp()
    with pytest.raises(ValueError, match=r"loss_fn returned a tensor of shape \(300,\).*reduction='mean'"):
        lw.evaluate(model, DataLoader(digits[1], 300), torch.nn.CrossEntropyLoss(reduction="none"))
    with pytest.raises(ValueError, match="the loader yielded no batches"):
        lw.evaluate(model, [], torch.nn.CrossEntropyLoss())


def test_failed_fit_keeps_history(digits):
    model = mlp()
    monitor = lw.LiveLossMonitor(display="none")
    loader = DataLoader(digits[0], batch_size=128)
    lw.fit(
        model, loader, None, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), 0.1), 2, monitor=monitor
    )
    with pytest.raises(TypeError, match="yielded a list of 3 items"):
        lw.fit(model, [[1, 2, 3]], None, torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), 0.1), 2,
               monitor=monitor)  # fmt: skip
    assert monitor.history.epochs.tolist() == [0, 1]  # the failed epoch recorded nothing
    assert list(monitor.epochs(1)) == [2]  # and its number is used by the next epoch


def test_device_mismatch_is_explained(digits):
    with pytest.raises(ValueError, match=r"the model is on cpu but device='meta'"):
        lw.evaluate(mlp(), DataLoader(digits[1], 100), torch.nn.CrossEntropyLoss(), device="meta")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"epochs": -1}, ValueError, "'epochs' must be >= 0"),
        ({"log_every": 0}, ValueError, "'log_every' must be >= 1"),
        ({"optimizer": "adam"}, TypeError, "'optimizer' must be a torch.optim optimizer"),
        ({"monitor": object()}, TypeError, "'monitor' must be a LiveLossMonitor"),
        ({"metrics": {"acc": 3}}, TypeError, "'metrics' must map names to functions"),
    ],
)
def test_fit_arguments_are_validated(digits, kwargs, error, message):
    model = mlp()
    arguments = {
        "model": model,
        "train_loader": DataLoader(digits[0], 64),
        "val_loader": None,
        "loss_fn": torch.nn.CrossEntropyLoss(),
        "optimizer": torch.optim.SGD(model.parameters(), 0.1),
        "epochs": 1,
    }
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        lw.fit(**arguments)


def test_best_weights_file_loads_with_weights_only(tmp_path, digits):
    model = mlp()
    path = tmp_path / "best.pt"
    monitor = lw.LiveLossMonitor(patience=None, model=model, best_weights_file=path, display="none")
    lw.fit(model, DataLoader(digits[0], 64), DataLoader(digits[1], 100), torch.nn.CrossEntropyLoss(),
           torch.optim.Adam(model.parameters(), 0.01), 3, monitor=monitor)  # fmt: skip
    state = torch.load(path, weights_only=True)
    monitor.restore_best()
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_early_stopping_state_round_trips_with_a_checkpoint(tmp_path):
    stopper = lw.EarlyStopping(patience=4)
    for value in [1.0, 0.5, 0.6]:
        stopper.update(value)
    torch.save({"model": torch.nn.Linear(2, 1).state_dict(), "early_stopping": stopper.state_dict()}, tmp_path / "c.pt")
    restored = lw.EarlyStopping()
    restored.load_state_dict(torch.load(tmp_path / "c.pt", weights_only=True)["early_stopping"])
    assert restored.state_dict() == stopper.state_dict()


KILLED_RUN = """
import time, torch, losswidget as lw
monitor = lw.LiveLossMonitor(patience=None, log_file={path!r}, display="none")
for epoch in monitor.epochs(10_000):
    for step in range(20):
        monitor.log_step(train=torch.tensor(1.0 / (epoch + 1)))
    monitor.log(train=1.0 / (epoch + 1), val=1.1 / (epoch + 1))
    print(epoch, flush=True)
    time.sleep(0.02)
"""


def test_a_run_killed_mid_training_leaves_a_loadable_log(tmp_path):
    path = tmp_path / "killed.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILLED_RUN.format(path=str(path)))], stdout=subprocess.PIPE, text=True
    )
    completed = -1
    deadline = time.monotonic() + 60
    while completed < 15 and time.monotonic() < deadline:
        completed = int(process.stdout.readline())
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a torn last line is allowed, and says so
        history = lw.History.load(path)
    assert len(history) >= completed + 1
    assert history.epochs[: completed + 1].tolist() == list(range(completed + 1))
    assert history.val[completed] == pytest.approx(1.1 / (completed + 1))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_no_per_step_device_synchronisation_on_cuda():
    model = mlp().cuda()
    optimizer = torch.optim.SGD(model.parameters(), 0.1)
    monitor = lw.LiveLossMonitor(patience=None, display="none", frame_rate=0.01)
    x, y = torch.randn(64, 64, device="cuda"), torch.randint(0, 10, (64,), device="cuda")
    for _ in monitor.epochs(1):
        torch.cuda.set_sync_debug_mode("error")  # any synchronising call raises from here on
        try:
            for _ in range(50):
                optimizer.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(x), y)
                loss.backward()
                optimizer.step()
                monitor.log_step(train=loss)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    assert monitor.history.n_steps == 50  # converted in bulk when the epoch closed


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("graph", [True, False], ids=["fresh losses, kept as they are", "no graph, copied"])
def test_pending_device_values_stay_bounded_on_cuda(graph):
    from losswidget.run.step_path import PENDING_LIMIT

    source = torch.rand(16, device="cuda", requires_grad=graph)
    steps = 3 * PENDING_LIMIT
    monitor = lw.LiveLossMonitor(patience=None, display="none", frame_rate=0.01)  # no frame will flush them
    torch.cuda.synchronize()
    start_bytes = torch.cuda.memory_allocated()
    largest, grown = 0, 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in monitor.epochs(1):
            torch.cuda.set_sync_debug_mode("warn")
            try:
                for _step in range(steps):
                    monitor.log_step(train=source.sum())
                    largest = max(largest, len(monitor._recorder.steps.values))
                    grown = max(grown, torch.cuda.memory_allocated() - start_bytes)
            finally:
                torch.cuda.set_sync_debug_mode("default")
    syncs = sum("synchroniz" in str(w.message) for w in caught)
    assert not [w for w in caught if "losswidget" in str(w.message)]
    assert largest < PENDING_LIMIT
    assert grown <= PENDING_LIMIT * 1024  # one small block per pending value, at most
    assert 0 < syncs <= steps // (PENDING_LIMIT // 2) + 2  # bulk conversions only, never one per step
    assert monitor.history.n_steps == steps
    assert (monitor.history.step_train == source.sum().item()).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_cuda_loss_changed_in_place_after_logging_is_said():
    weights = torch.rand(8, device="cuda", requires_grad=True)
    monitor = lw.LiveLossMonitor(patience=None, display="none", frame_rate=0.01)
    with pytest.warns(UserWarning, match="changed in place after they were logged"):
        for _ in monitor.epochs(1):
            for step in range(6):
                loss = weights.sum() * (step + 1)
                monitor.log_step(train=loss)
                if step == 1:
                    loss /= 2  # after log_step: the alias sees it, the flush says so
    expected = weights.sum().item() * torch.tensor([1, 1, 3, 4, 5, 6], dtype=torch.float64)
    assert torch.allclose(torch.from_numpy(monitor.history.step_train), expected)
