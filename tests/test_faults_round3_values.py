"""Issue #35, third round: per-example validation values, the model and the scheduler.

Masked losses agree with the loss's own mean; a non-finite example, bfloat16, the meta device and
odd shapes are taken or refused in words; best weights that no longer fit the model leave the run
whole; per-batch schedules are stepped per batch; a new model's run records no stale learning rate;
per-example values are told from batch losses. Real torch on small data throughout.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import losswidget as lw

torch = pytest.importorskip("torch")
nn = torch.nn


def _padded_sequences(seed: int, n: int = 48, length: int = 9, classes: int = 5):
    """Token classification on sequences of random lengths, padded with -100 (ignored by the loss)."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, length, 4, generator=generator)
    targets = torch.randint(0, classes, (n, length), generator=generator)
    lengths = torch.randint(1, length + 1, (n,), generator=generator)
    targets[torch.arange(length)[None, :] >= lengths[:, None]] = -100
    return torch.utils.data.TensorDataset(inputs, targets)


class Tagger(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(4, 5)

    def forward(self, x):
        return self.layer(x).transpose(1, 2)  # (N, classes, length), as CrossEntropyLoss wants


def _whole_set_loss(model, data, loss_fn) -> float:
    with torch.no_grad():
        return float(loss_fn(model(data.tensors[0]), data.tensors[1]))


@pytest.mark.parametrize("weighted", [False, True])
def test_a_masked_loss_per_example_agrees_with_the_losss_own_mean_over_the_whole_set(weighted):
    torch.manual_seed(0)
    model, data = Tagger(), _padded_sequences(1)
    loss_fn = nn.CrossEntropyLoss(ignore_index=-100, weight=torch.rand(5) + 0.5 if weighted else None)
    loader = torch.utils.data.DataLoader(data, batch_size=10)
    truth = _whole_set_loss(model, data, loss_fn)
    losses = lw.evaluate(model, loader, loss_fn, per_example=True)
    assert losses.shape == (48,)
    assert float(losses.mean()) == pytest.approx(truth, rel=1e-6)  # was the mean of padded means: far off
    assert lw.evaluate(model, loader, loss_fn) == pytest.approx(truth, rel=1e-6)  # not a mean of batch means
    monitor = lw.LiveLossMonitor(display="none")
    monitor.log(val=losses)
    assert monitor.history.val[-1] == pytest.approx(truth, rel=1e-6)
    # Their standard error is the whole-set loss's own: sequences resampled with their lengths.
    with torch.no_grad():
        each = nn.CrossEntropyLoss(ignore_index=-100, weight=loss_fn.weight, reduction="none")
        sums = each(model(data.tensors[0]), data.tensors[1]).double().sum(dim=1).numpy()
    kept = (data.tensors[1] != -100).double()
    counts = (kept * (loss_fn.weight.double()[data.tensors[1].clamp(min=0)] if weighted else 1.0)).sum(dim=1).numpy()
    rows = np.random.default_rng(0).integers(0, 48, (4000, 48))
    bootstrap = sums[rows].sum(axis=1) / counts[rows].sum(axis=1)
    assert monitor.history["val_se"][-1] == pytest.approx(bootstrap.std(), rel=0.1)


def test_fit_records_the_validation_loss_evaluate_gives_for_padded_sequences():
    torch.manual_seed(0)
    model, train, val = Tagger(), _padded_sequences(2, n=64), _padded_sequences(3)
    loss_fn = nn.CrossEntropyLoss()  # ignore_index=-100 by default
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    history = lw.fit(
        model,
        torch.utils.data.DataLoader(train, batch_size=16),
        torch.utils.data.DataLoader(val, batch_size=16),
        loss_fn,
        torch.optim.SGD(model.parameters(), lr=0.1),
        epochs=3,
        monitor=monitor,
    )
    val_loader = torch.utils.data.DataLoader(val, batch_size=16)
    assert history.val[-1] == pytest.approx(lw.evaluate(model, val_loader, loss_fn), rel=1e-6)
    assert history.val[-1] == pytest.approx(_whole_set_loss(model, val, loss_fn), rel=1e-6)
    assert "val_se" in history.metric_names


def test_a_function_that_averages_over_a_mask_is_refused_per_example_with_the_size_of_the_gap():
    torch.manual_seed(0)
    model, data = Tagger(), _padded_sequences(4)

    def masked(outputs, targets):
        return nn.functional.cross_entropy(outputs, targets, ignore_index=-100)

    loader = torch.utils.data.DataLoader(data, batch_size=12)
    with pytest.raises(ValueError, match=r"do not reproduce loss_fn's own batch mean \(off by"):
        lw.evaluate(model, loader, masked, per_example=True)
    inputs, targets = data.tensors
    targets = targets.clone()
    targets[0] = -100  # an example with every position padding: alone, its masked mean is 0/0
    padded = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(inputs, targets), batch_size=12)
    with pytest.raises(
        ValueError, match=r"\(one is not finite where the other is: .* every position masked, gives 0/0\)"
    ):
        lw.evaluate(model, padded, masked, per_example=True)


def test_a_batchmean_loss_per_example_agrees_with_its_own_value_and_a_sum_is_refused_in_its_words():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.LogSoftmax(dim=1))
    targets = torch.softmax(torch.randn(40, 4), dim=1)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(40, 3), targets), batch_size=16)
    divergence = nn.KLDivLoss(reduction="batchmean")  # distillation: each example's sum, their mean
    losses = lw.evaluate(model, loader, divergence, per_example=True)
    assert losses.shape == (40,) and float(losses.mean()) == pytest.approx(lw.evaluate(model, loader, divergence))
    monitor = lw.LiveLossMonitor(min_delta_se=2.0, display="none")  # fit gives it per-example losses too
    train = torch.utils.data.TensorDataset(torch.randn(40, 3), torch.softmax(torch.randn(40, 4), dim=1))
    train_loader = torch.utils.data.DataLoader(train, batch_size=16)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    history = lw.fit(model, train_loader, loader, divergence, optimizer, 2, monitor=monitor)
    assert history.val[-1] == pytest.approx(lw.evaluate(model, loader, divergence)) and history["val_se"][-1] > 0
    with pytest.raises(ValueError, match=r"sums over each batch \(reduction='sum'\).*use reduction='mean'"):
        lw.evaluate(model, loader, nn.KLDivLoss(reduction="sum"), per_example=True)


def test_a_non_finite_example_with_check_finite_off_and_min_delta_se_is_recorded_without_an_error():
    rng = np.random.default_rng(0)
    monitor = lw.LiveLossMonitor(patience=5, min_delta_se=2.0, check_finite=False, display="none")
    base = rng.gamma(2.0, 0.2, 200)
    monitor.log(train=1.0, val=torch.tensor(base + 0.2))
    broken = base + 0.1
    broken[17] = math.inf
    monitor.log(train=0.9, val=torch.tensor(broken))  # was: ValueError after the epoch was recorded
    monitor.log(train=0.8, val=torch.tensor(base))
    assert len(monitor.history) == 3 and math.isinf(monitor.history.val[1])
    assert monitor.best_epoch == 2 and not monitor.should_stop
    assert monitor._build_frame() is not None and monitor.status_lines  # the "what if" replay reads it too


def test_bfloat16_per_example_losses_are_taken():
    losses = torch.linspace(0.5, 1.5, 64).to(torch.bfloat16)
    monitor = lw.LiveLossMonitor(display="none")
    monitor.log(val=losses)  # was: TypeError from numpy (no bfloat16)
    assert monitor.history.val[-1] == pytest.approx(float(losses.double().mean()))


@pytest.mark.parametrize(
    ("val", "error", "words"),
    [
        (torch.ones(40, 1), ValueError, r"shape \(40, 1\).*losses.reshape\(-1\)"),
        (np.ones((40, 1)), ValueError, r"got an array of shape \(40, 1\).*losses.reshape\(-1\)"),
        (torch.ones(0), ValueError, r"'val' is empty .*shape \(0,\)"),
        ([0.5, 0.4, 0.3], TypeError, r"got a list of length 3.*torch.tensor\(losses\).*batch losses"),
        (torch.ones(40, device="meta"), ValueError, r"'val' is a tensor on the 'meta' device"),
    ],
)
def test_per_example_values_of_the_wrong_form_are_refused_in_words_and_leave_the_history_alone(val, error, words):
    monitor = lw.LiveLossMonitor(display="none")
    monitor.log(train=1.0, val=0.5)
    before = monitor.history.copy()
    with pytest.raises(error, match=words):
        monitor.log(train=0.9, val=val)
    assert monitor.history == before


def _stepwise(model, monitor, values):
    for epoch in monitor.epochs(len(values)):
        with torch.no_grad():
            model[0].weight += 1.0  # training moves the weights
        if epoch == 3:
            model.extra = nn.Linear(2, 2)  # a layer added after the best epoch (1)
        monitor.log(train=1.0, val=values[epoch])


def test_weights_that_no_longer_fit_the_model_are_not_loaded_and_the_run_ends_with_its_record(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2))
    log = tmp_path / "run.jsonl"
    monitor = lw.LiveLossMonitor(patience=3, model=model, log_file=log, display="none")
    with pytest.warns(UserWarning, match=r"losswidget: the best weights \(epoch 1\) no longer fit the model: ") as said:
        _stepwise(model, monitor, [0.5, 0.3, 0.4, 0.5, 0.6, 0.7])  # early stopping at epoch 4 restores
    at_loop = (said[0].filename, said[0].lineno) == (__file__, _stepwise.__code__.co_firstlineno + 1)
    assert at_loop  # said at the user's loop ('for epoch in monitor.epochs'), not a frame above it or 'sys:1'
    assert torch.equal(model[0].weight, monitor._best.state["0.weight"] + 3.0)  # epoch 4's, none loaded
    assert monitor.stop_code.value == "patience" and "restored" not in monitor._loop.outcome
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records[-1]["kind"] == "end" and "Stopped" in records[-1]["outcome"]
    current = {name: value.clone() for name, value in model.state_dict().items()}
    with pytest.raises(RuntimeError, match=r"no longer fit the model: the model has 'extra.weight', 'extra.bias'"):
        monitor.restore_best()
    assert all(torch.equal(current[name], value) for name, value in model.state_dict().items())  # untouched


def test_a_resized_layer_is_named_with_its_shapes():
    model = nn.Sequential(nn.Linear(2, 2))
    monitor = lw.LiveLossMonitor(model=model, display="none")
    monitor.log(val=0.5)
    model[0] = nn.Linear(2, 3)
    with pytest.raises(RuntimeError, match=r"'0.weight' is \(3, 2\) now, \(2, 2\) then"):
        monitor.restore_best()


def _regression(n=64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=generator)
    return torch.utils.data.TensorDataset(x, x.sum(dim=1, keepdim=True))


def test_fit_steps_a_one_cycle_schedule_after_every_batch():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    loader = torch.utils.data.DataLoader(_regression(), batch_size=8)  # 8 batches an epoch
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, epochs=4, steps_per_epoch=len(loader))
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    history = lw.fit(model, loader, None, nn.MSELoss(), optimizer, epochs=4, monitor=monitor, scheduler=schedule)
    assert schedule.last_epoch == 4 * len(loader)  # was 4: once an epoch, the cycle barely begun
    rates = history["lr"]
    assert rates[1] > 5 * rates[0] and rates[3] < rates[1]  # up then down within the run


def test_a_one_cycle_schedule_too_short_for_the_run_is_refused_before_training():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    weights = model.weight.detach().clone()
    loader = torch.utils.data.DataLoader(_regression(), batch_size=8)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=4)  # one per epoch
    monitor = lw.LiveLossMonitor(display="none")
    with pytest.raises(ValueError, match=r"OneCycleLR with 4 steps left .* 4 epochs of 8 batches take 32"):
        lw.fit(model, loader, None, nn.MSELoss(), optimizer, epochs=4, monitor=monitor, scheduler=schedule)
    assert len(monitor.history) == 0 and torch.equal(model.weight, weights)


def test_a_new_model_without_its_optimizer_records_no_stale_rate_and_says_so_once():
    first, second = nn.Linear(3, 1), nn.Linear(3, 1)
    monitor = lw.LiveLossMonitor(optimizer=torch.optim.SGD(first.parameters(), lr=0.5), display="none")
    monitor.log(train=1.0, val=1.0)
    assert monitor.history["lr"][-1] == 0.5
    monitor.new_run("second", model=second)
    assert monitor.optimizer is None
    with pytest.warns(UserWarning, match="losswidget: no learning rate is recorded in this run") as said:
        monitor.log(train=1.0, val=1.0)
    assert said[0].filename == __file__  # said at the user's line, not inside losswidget
    monitor.log(train=0.9, val=0.9)  # said once
    assert "lr" not in monitor.history.metric_names
    monitor.new_run("third", model=second, optimizer=torch.optim.SGD(second.parameters(), lr=0.2))
    monitor.log(train=1.0, val=1.0)
    assert monitor.history["lr"][-1] == 0.2


def test_the_same_model_again_keeps_its_optimizer_silently():
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    monitor = lw.LiveLossMonitor(optimizer=optimizer, display="none")
    monitor.new_run("again", model=model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        monitor.log(train=1.0, val=1.0)
    assert monitor.optimizer is optimizer and monitor.history["lr"][-1] == 0.5


def test_a_model_with_a_buffer_on_the_meta_device_is_refused_before_anything_is_recorded():
    model = nn.Linear(3, 1)
    model.register_buffer("scale", torch.ones(3, device="meta"))
    with pytest.raises(ValueError, match=r"'model' has 'scale' on the 'meta' device"):
        lw.LiveLossMonitor(model=model, display="none")
    model.scale = torch.ones(3)  # materialised: taken, and its weights kept
    monitor = lw.LiveLossMonitor(model=model, display="none")
    monitor.log(train=1.0, val=0.5)
    assert monitor._best.epoch == 0


def test_a_buffer_moved_to_the_meta_device_mid_run_costs_the_best_weights_not_the_run(tmp_path):
    model = nn.Linear(3, 1)
    log = tmp_path / "run.jsonl"
    monitor = lw.LiveLossMonitor(patience=2, model=model, log_file=log, display="none")
    with pytest.warns(
        UserWarning, match=r"losswidget: the best weights \(epoch 1\) could not be kept \('late' on"
    ) as said:
        for epoch in monitor.epochs(10):
            if epoch == 1:
                model.register_buffer("late", torch.ones(2, device="meta"))  # no value to copy from now on
            monitor.log(train=1.0, val=[0.9, 0.5, 0.6, 0.7, 0.8][epoch])
    assert len([w for w in said if "could not be kept" in str(w.message)]) == 1  # said once, at the user's loop
    assert said[0].filename == __file__ and monitor.history.val.tolist() == [0.9, 0.5, 0.6, 0.7]
    assert monitor.best_epoch == 1 and monitor._best.epoch is None  # epoch 0's weights are not passed off as 1's
    assert "restored" not in monitor._loop.outcome and json.loads(log.read_text().splitlines()[-1])["kind"] == "end"


def test_a_few_values_are_said_to_be_taken_per_example_once_and_evaluates_own_are_not():
    monitor = lw.LiveLossMonitor(display="none")
    batch_losses = [torch.tensor(0.52), torch.tensor(0.61)]
    with pytest.warns(UserWarning, match=r"losswidget: val= got 2 values, taken as one loss per validation example"):
        monitor.log(val=torch.stack(batch_losses))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        monitor.log(val=torch.stack(batch_losses))  # once a run
    torch.manual_seed(0)
    model, data = nn.Linear(3, 1), _regression(n=12)
    losses = lw.evaluate(model, torch.utils.data.DataLoader(data, batch_size=5), nn.MSELoss(), per_example=True)
    fresh = lw.LiveLossMonitor(display="none")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fresh.log(val=losses)  # 12 values, but evaluate says they are per example
    assert fresh.history["val_se"][-1] == pytest.approx(float(losses.std() / math.sqrt(12)))


def test_fit_refuses_a_model_with_a_buffer_on_the_meta_device_before_training():
    model = nn.Linear(3, 1)
    model.register_buffer("scale", torch.ones(3, device="meta"))
    loader = torch.utils.data.DataLoader(_regression(), batch_size=8)
    monitor = lw.LiveLossMonitor(display="none")
    with pytest.raises(ValueError, match=r"fit\(\): 'model' has buffers on the 'meta' device \('scale'"):
        lw.fit(model, loader, None, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.1), 1, monitor=monitor)
    assert len(monitor.history) == 0 and monitor.model is None
