"""The learning rate as a live control: real torch training, every scheduler of torch, real threads.

After a change the rates the next optimizer steps use must be what the control said: the factor
times what the schedule would have given (the twin run without the change), in every parameter
group, so their ratios stay.
"""

import inspect
import math
import threading

import pytest

torch = pytest.importorskip("torch")
from torch.optim import lr_scheduler as schedulers  # noqa: E402

import losswidget as lw  # noqa: E402
from losswidget.core.events import Event  # noqa: E402
from losswidget.model import lr_steer  # noqa: E402

FACTOR = 0.3
CHANGE_AT = 7  # steps before the change
STEPS = 30


def _setup(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    groups = [
        {"params": model[0].parameters(), "lr": 0.1},
        {"params": model[2].parameters(), "lr": 0.02},  # a second group: its ratio to the first must stay
    ]
    return model, torch.optim.SGD(groups, lr=0.1, momentum=0.9)


SCHEDULERS = {  # every class of torch.optim.lr_scheduler, made for one 30-step run of two groups
    "StepLR": lambda o: schedulers.StepLR(o, 3, 0.5),
    "MultiStepLR": lambda o: schedulers.MultiStepLR(o, [4, 12, 20], 0.3),
    "ExponentialLR": lambda o: schedulers.ExponentialLR(o, 0.9),
    "MultiplicativeLR": lambda o: schedulers.MultiplicativeLR(o, lambda step: 0.95),
    "ReduceLROnPlateau": lambda o: schedulers.ReduceLROnPlateau(o, patience=1, factor=0.5),
    "ConstantLR": lambda o: schedulers.ConstantLR(o, 0.5, total_iters=12),
    "LinearLR": lambda o: schedulers.LinearLR(o, 0.2, 1.0, total_iters=15),
    "PolynomialLR": lambda o: schedulers.PolynomialLR(o, 40, 2.0),
    "LambdaLR": lambda o: schedulers.LambdaLR(o, lambda step: 1 / (1 + step)),
    "OneCycleLR": lambda o: schedulers.OneCycleLR(o, max_lr=[0.5, 0.1], total_steps=STEPS + 5),
    "CyclicLR": lambda o: schedulers.CyclicLR(o, [0.01, 0.002], [0.1, 0.02], step_size_up=4),
    "CosineAnnealingLR": lambda o: schedulers.CosineAnnealingLR(o, 10, eta_min=0.001),
    "CosineAnnealingWarmRestarts": lambda o: schedulers.CosineAnnealingWarmRestarts(o, 5, eta_min=0.001),
    "SequentialLR": lambda o: schedulers.SequentialLR(
        o, [schedulers.LinearLR(o, 0.1, total_iters=5), schedulers.ExponentialLR(o, 0.9)], milestones=[5]
    ),
    "ChainedScheduler": lambda o: schedulers.ChainedScheduler(
        [schedulers.ConstantLR(o, 0.5, total_iters=4), schedulers.ExponentialLR(o, 0.9)]
    ),
}


BEYOND = {  # torch's other scheduler, outside lr_scheduler: annealing toward a target rate
    "SWALR": lambda o: torch.optim.swa_utils.SWALR(o, swa_lr=0.01, anneal_epochs=10),
}


def _torch_schedulers():
    return sorted(
        name
        for name, kind in inspect.getmembers(schedulers, inspect.isclass)
        if kind.__module__ == schedulers.__name__ and not name.startswith("_") and name != "LRScheduler"
    )


def test_the_table_holds_every_scheduler_class_of_torch_and_each_is_placed_on_purpose():
    names = _torch_schedulers()
    assert set(SCHEDULERS) == set(names), "a scheduler class of torch is new or gone: add it to the table"
    unplaced = set(names) - lr_steer.MULTIPLYING - lr_steer.RECOMPUTING
    assert not unplaced, f"say how losswidget.model.lr_steer handles {sorted(unplaced)}"


def _run(name, monitor=None, change=None):
    """A real training run of STEPS steps; returns each step's group rates, read after the step's
    log_step (what the next optimizer step uses)."""
    model, optimizer = _setup()
    scheduler = {**SCHEDULERS, **BEYOND}[name](optimizer)
    if monitor is not None:
        monitor.model, monitor.optimizer = model, optimizer
    x = torch.randn(64, 4, generator=torch.Generator().manual_seed(1))
    y = x.sum(dim=1, keepdim=True)
    rates = []
    loop = monitor.epochs(1) if monitor is not None else [0]
    for _ in loop:
        for step in range(STEPS):
            loss = torch.nn.functional.mse_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if isinstance(scheduler, schedulers.ReduceLROnPlateau):
                scheduler.step(1.0)  # a flat metric: a cut every patience + 1 steps
            else:
                scheduler.step()
            if monitor is not None:
                if step == CHANGE_AT:
                    change(monitor)
                monitor.log_step(train=loss)
            rates.append([group["lr"] for group in optimizer.param_groups])
    return rates


@pytest.mark.parametrize("name", sorted(SCHEDULERS) + sorted(BEYOND))
def test_after_a_change_every_next_rate_is_the_factor_times_the_schedules(name):
    planned = _run(name)
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    steered = _run(name, monitor, lambda m: m.set_learning_rate(factor=FACTOR))
    assert steered[:CHANGE_AT] == planned[:CHANGE_AT]  # nothing changes before the request
    for step in range(CHANGE_AT, STEPS):
        for group, (want, got) in enumerate(zip(planned[step], steered[step], strict=True)):
            assert math.isclose(got, FACTOR * want, rel_tol=1e-9), (name, step, group, got, want)
    (event,) = monitor.history.events
    assert (event.kind, event.source, event.epoch, event.step) == ("lr", "api", 0, CHANGE_AT + 1)
    assert math.isclose(event.new, FACTOR * event.old, rel_tol=1e-12)
    assert math.isclose(monitor.learning_rate, steered[-1][0], rel_tol=0)


def test_a_value_sets_the_first_group_and_the_others_keep_their_ratio():
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    steered = _run("ExponentialLR", monitor, lambda m: m.set_learning_rate(0.004))
    planned = _run("ExponentialLR")
    assert math.isclose(steered[CHANGE_AT][0], 0.004, rel_tol=1e-12)
    assert math.isclose(steered[CHANGE_AT][1] / steered[CHANGE_AT][0], 0.2, rel_tol=1e-12)  # 0.02 / 0.1
    assert math.isclose(steered[-1][0] / planned[-1][0], 0.004 / planned[CHANGE_AT][0], rel_tol=1e-9)


def test_without_a_loop_the_change_is_applied_at_once_and_recorded():
    _, optimizer = _setup()
    monitor = lw.LiveLossMonitor(patience=None, display="none", optimizer=optimizer)
    monitor.set_learning_rate(factor=2)
    assert [g["lr"] for g in optimizer.param_groups] == [0.2, 0.04]
    assert monitor.history.events == [Event("lr", 0, 0, 0.1, 0.2, "api")]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((), {}, TypeError, r"exactly one of 'value' or 'factor': got value=None, factor=None"),
        ((0.1,), {"factor": 2}, TypeError, r"exactly one of 'value' or 'factor'"),
        ((-0.1,), {}, ValueError, r"'value' must be a positive finite number: -0.1"),
        ((0,), {}, ValueError, r"'value' must be a positive finite number: 0"),
        ((math.nan,), {}, ValueError, r"'value' must be a positive finite number: nan"),
        ((math.inf,), {}, ValueError, r"'value' must be a positive finite number: inf"),
        ((True,), {}, ValueError, r"'value' must be a positive finite number: True"),
        (("0.1",), {}, ValueError, r"'value' must be a positive finite number: '0.1'"),
        ((), {"factor": 0.0}, ValueError, r"'factor' must be a positive finite number: 0.0"),
    ],
)
def test_bad_arguments_are_refused_by_name_and_change_nothing(args, kwargs, error, message):
    _, optimizer = _setup()
    monitor = lw.LiveLossMonitor(patience=None, display="none", optimizer=optimizer)
    with pytest.raises(error, match=message):
        monitor.set_learning_rate(*args, **kwargs)
    assert [g["lr"] for g in optimizer.param_groups] == [0.1, 0.02]
    assert monitor.history.events == [] and len(monitor.history) == 0


def test_without_a_torch_optimizer_the_control_says_why():
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    assert monitor.learning_rate is None
    with pytest.raises(RuntimeError, match=r"does not know the optimizer: pass LiveLossMonitor\(optimizer="):
        monitor.set_learning_rate(factor=0.5)
    assert monitor.history.events == []


def test_a_button_click_on_another_thread_takes_effect_at_the_next_step_on_the_training_thread(quiet_comms):
    pytest.importorskip("bqplot")
    model, optimizer = _setup()
    monitor = lw.LiveLossMonitor(patience=None, display="widget", optimizer=optimizer)
    monitor._display.ensure_view(monitor._controls)  # the view a notebook would show, without a frontend
    buttons = monitor._display.view.steer_buttons
    x = torch.randn(32, 4)
    y = x.sum(dim=1, keepdim=True)
    seen = []
    for _ in monitor.epochs(1):
        for step in range(6):
            loss = torch.nn.functional.mse_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step == 2:
                clicker = threading.Thread(target=buttons.rate_buttons[0].click)  # lr ×½, as a subshell would
                clicker.start()
                clicker.join(timeout=30)
                assert not clicker.is_alive()
                seen.append(optimizer.param_groups[0]["lr"])  # the handler only asked
            monitor.log_step(train=loss)
            seen.append(optimizer.param_groups[0]["lr"])
    # steps 0 and 1; step 2 after the click (asked, not applied), then applied in its log_step; 3 to 5
    assert seen == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05]
    assert monitor.history.events == [Event("lr", 0, 3, 0.1, 0.05, "control")]
    assert "Learning rate 0.1 → 0.05 at epoch 0, step 3, by the control." in monitor.status_lines


DDP_WORKER = """
import json, os, sys, torch, torch.distributed as dist, losswidget as lw
dist.init_process_group("gloo")
rank = dist.get_rank()
model = torch.nn.Linear(2, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
monitor = lw.LiveLossMonitor(patience=None, model=model, optimizer=optimizer, display="none")
refusals = []
try:
    monitor.pause()
except RuntimeError as error:
    refusals.append(str(error))
x = torch.randn(16, 2)
for epoch in monitor.epochs(5):
    for step in range(3):
        loss = model(x).pow(2).mean()
        optimizer.zero_grad(); loss.backward(); optimizer.step()
        monitor.log_step(train=loss)
        if epoch == 1 and step == 0 and rank == 0:
            monitor.set_learning_rate(factor=0.5)  # as rank 0's button: one rank asks mid-epoch
    if epoch == 3:
        monitor.set_learning_rate(value=0.01)  # as a script's code: every rank asks, counted once
    monitor.log(val=float(loss))
result = {
    "refusals": refusals,
    "lr": monitor.history["lr"].tolist(),
    "events": [(e.epoch, e.step, round(e.old, 6), round(e.new, 6), e.source) for e in monitor.history.events],
}
with open(os.path.join(sys.argv[2], f"rank{rank}.json"), "w") as stream:
    json.dump(result, stream)
dist.destroy_process_group()
"""


def test_under_ddp_a_rate_change_reaches_every_rank_at_the_next_epoch_and_a_pause_is_refused(tmp_path):
    from test_distributed import run_ranks

    first, second = run_ranks(tmp_path, "steer", worker=DDP_WORKER)
    assert first["refusals"] == ["cannot pause: not available under DDP (the other ranks would wait in a collective)"]
    # Rank 0 asked mid-epoch 1: every rank trains epoch 2 at 0.05; every rank asked at the end of
    # epoch 3: epoch 4 trains at 0.01 on both, one change (not two).
    assert first["lr"] == second["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.01])
    assert [event[2:4] for event in first["events"]] == [[0.1, 0.05], [0.05, 0.01]]
    assert first["events"] == second["events"]  # the same epochs, steps and sources on every rank
    assert first["events"][0][4] == "api"
