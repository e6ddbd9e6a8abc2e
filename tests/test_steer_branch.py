"""Back to the best epoch, and branch: real torch training with Adam and a scheduler; the weights, the
optimizer's state and the scheduler's come back exactly, the first validation of the new run (before
any step) equals the best epoch's, and the history records the lineage. Every wait is bounded; no
assertion is timed."""

import copy
import json
import threading
import time

import pytest

torch = pytest.importorskip("torch")

import losswidget as lw  # noqa: E402
from losswidget.core.events import Event  # noqa: E402

WAIT = 60  # seconds: a bound on a hang, never a measurement


class Adam:
    """A small regression trained with Adam and a StepLR; at the top of each epoch (before any step)
    the validation loss, the weights and the optimizer's and scheduler's states are kept, by epoch."""

    def __init__(self, **options):
        torch.manual_seed(0)
        self.model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=0.05)
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=3, gamma=0.5)
        options = {"patience": None, "display": "none", **options}
        self.monitor = lw.LiveLossMonitor(model=self.model, optimizer=self.optimizer, **options)
        self.x = torch.randn(64, 4, generator=torch.Generator().manual_seed(1))
        self.y = (self.x**2).sum(dim=1, keepdim=True)
        self.at_start = {}  # epoch -> (validation before its first step, weights, optimizer state, scheduler state)
        self.val = {}  # epoch -> the validation loss logged
        self.on_epoch = lambda epoch: None

    def validation(self):
        with torch.no_grad():
            return torch.nn.functional.mse_loss(self.model(self.x + 0.3), self.y).item()

    def train(self, epochs, steps=8):
        for epoch in self.monitor.epochs(epochs):
            self.at_start[epoch] = (
                self.validation(),
                copy.deepcopy(self.model.state_dict()),
                copy.deepcopy(self.optimizer.state_dict()),
                copy.deepcopy(self.scheduler.state_dict()),
            )
            for _ in range(steps):
                loss = torch.nn.functional.mse_loss(self.model(self.x), self.y)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                self.monitor.log_step(train=loss)
            self.val[epoch] = self.validation()
            self.monitor.log(train=loss.item(), val=self.val[epoch])
            self.scheduler.step()
            self.on_epoch(epoch)


def _states_equal(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_states_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_states_equal(x, y) for x, y in zip(a, b))
    if torch.is_tensor(a):
        return torch.equal(a, b)
    return a == b


def _optimizer_state(optimizer):
    return copy.deepcopy(optimizer.state_dict())


def test_after_the_loop_branch_restores_weights_adam_state_and_scheduler_and_goes_on_as_run_2():
    run = Adam()
    run.train(12)
    monitor, best = run.monitor, run.monitor.best_epoch
    assert best is not None
    expected_val = run.val[best]
    history_before = monitor.history.copy()
    # What run 1 held as the epoch after the best began: the optimizer and scheduler after best's epoch end.
    # (at_start[best + 1] when best < 11; for the last epoch, the states now.)
    if best + 1 in run.at_start:
        _, weights_then, optimizer_then, scheduler_then = run.at_start[best + 1]
    else:
        weights_then, optimizer_then = copy.deepcopy(run.model.state_dict()), _optimizer_state(run.optimizer)
        scheduler_then = copy.deepcopy(run.scheduler.state_dict())
    rate_then = optimizer_then["param_groups"][0]["lr"]
    for _ in range(3):  # train on in run 1 a little outside the monitor: the branch must undo it all
        loss = torch.nn.functional.mse_loss(run.model(run.x), run.y)
        run.optimizer.zero_grad()
        loss.backward()
        run.optimizer.step()
    monitor.branch(factor=0.5)
    assert _states_equal(run.model.state_dict(), weights_then)  # the best epoch's weights, exactly
    # The first validation of run 2, before any step, is the best epoch's.
    assert run.validation() == expected_val
    # Adam's exp_avg, exp_avg_sq and step are the snapshot's; only the rate moved, by the factor.
    state = _optimizer_state(run.optimizer)
    assert state["param_groups"][0]["lr"] == pytest.approx(rate_then * 0.5)
    for group in optimizer_then["param_groups"]:
        group["lr"] *= 0.5
        group["initial_lr"] *= 0.5
    assert _states_equal(state, optimizer_then)
    assert run.scheduler.state_dict()["last_epoch"] == scheduler_then["last_epoch"]
    assert run.scheduler.base_lrs == [rate * 0.5 for rate in scheduler_then["base_lrs"]]
    # Run 1 kept whole (faded beside run 2); run 2 begins at the best epoch's row, with its lineage.
    (run1,) = monitor.runs
    assert run1.name == "run 1" and list(run1.epochs) == list(history_before.epochs)
    assert run1.val.tolist() == history_before.val.tolist()
    assert list(monitor.history.epochs) == [best] and monitor.history.val.tolist() == [expected_val]
    assert monitor.history.lineage == ("run 1", best)
    (event,) = monitor.history.events
    assert event == Event("branch", best, 0, rate_then, rate_then * 0.5, "api", parent="run 1")
    assert event.sentence.startswith(f"Back to epoch {best} of run 1, lr ")
    assert event.sentence in monitor.status_lines  # the status says where the run came from
    assert monitor.best_epoch == best
    # The next loop trains on from the branch: epochs numbered on from it.
    run.train(3)
    assert list(monitor.history.epochs) == [best, best + 1, best + 2, best + 3]
    assert run.at_start[best + 1][0] == expected_val  # measured by the loop itself, before its first step


def test_a_branch_asked_for_during_the_loop_happens_at_the_next_epoch_boundary_and_the_loop_goes_on_in_run_2():
    run = Adam()
    asked = []

    def ask(epoch):
        if epoch == 8 and not asked:  # from another thread, as a widget's handler would
            asker = threading.Thread(target=run.monitor.branch, kwargs={"learning_rate": 0.001, "name": "slower"})
            asker.start()
            asker.join(timeout=WAIT)
            asked.append(run.monitor.best_epoch)

    run.on_epoch = ask
    run.train(12)
    monitor = run.monitor
    (best,) = asked
    (run1,) = monitor.runs
    assert list(run1.epochs) == list(range(9))  # run 1 ended with the epoch in which the branch was asked
    assert monitor.history.name == "slower" and monitor.history.lineage == ("run 1", best)
    # 12 epochs in all: 9 in run 1, 3 in run 2, numbered on from the best epoch.
    assert list(monitor.history.epochs) == [best, best + 1, best + 2, best + 3]
    assert run.at_start[best + 1][0] == run1.val[best]  # the weights of the best epoch, before any step
    (event,) = monitor.history.events
    assert (event.kind, event.new, event.source) == ("branch", 0.001, "api")
    assert monitor.history["lr"][1] == 0.001  # the first epoch of run 2 trained at the new rate


def test_the_new_run_s_log_file_keeps_the_branch_and_reads_it_back(tmp_path):
    log = tmp_path / "run.jsonl"
    run = Adam(log_file=log)
    run.train(6)
    best = run.monitor.best_epoch
    run.monitor.branch(learning_rate=0.002)
    run.train(2)
    second = tmp_path / "run.run2.jsonl"
    records = [json.loads(line) for line in second.read_text().splitlines()]
    (branch,) = [r for r in records if r.get("kind") == "event"]
    assert branch["event"] == "branch" and branch["parent"] == "run 1" and branch["epoch"] == best
    loaded = lw.History.load(second)
    assert loaded.lineage == ("run 1", best) and loaded.events == run.monitor.history.events
    assert list(loaded.epochs) == [best, best + 1, best + 2]
    assert lw.History.load(log).lineage is None  # run 1's own file is whole and has no parent
    saved = lw.History.load(run.monitor.history.save(tmp_path / "saved.jsonl"))
    assert saved == run.monitor.history


def test_a_branch_that_cannot_work_is_refused_in_words_and_changes_nothing():
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    no_optimizer = lw.LiveLossMonitor(display="none", model=model)
    no_optimizer.log(train=1.0, val=1.0)
    with pytest.raises(RuntimeError, match=r"does not know the optimizer.*LiveLossMonitor\(optimizer=optimizer\)"):
        no_optimizer.branch()
    off = lw.LiveLossMonitor(display="none", model=model, optimizer=optimizer, snapshot_optimizer=False)
    off.log(train=1.0, val=1.0)
    assert off._best.optimizer_state is None  # nothing kept: no memory spent
    with pytest.raises(RuntimeError, match=r"snapshot_optimizer=False"):
        off.branch()
    fresh = lw.LiveLossMonitor(display="none", model=model, optimizer=optimizer)
    with pytest.raises(RuntimeError, match="no best epoch yet"):
        fresh.branch()
    fresh.log(train=1.0, val=1.0)
    before = fresh.history.copy()
    with pytest.raises(TypeError, match="'learning_rate' or 'factor', not both"):
        fresh.branch(0.1, factor=0.5)
    with pytest.raises(ValueError, match="'factor' must be a positive finite number: -1"):
        fresh.branch(factor=-1)
    with pytest.raises(TypeError, match="'snapshot_optimizer' must be"):
        lw.LiveLossMonitor(display="none", snapshot_optimizer="no")
    assert fresh.history == before and fresh.runs == []


def test_a_branch_after_early_stopping_or_divergence_goes_on_in_the_new_run():
    """Run 1's own stop (patience ran out) ends with run 1: the branch asked for continues in run 2."""
    run = Adam(patience=1)
    run.monitor.min_delta = 100.0  # nothing improves after epoch 0: patience 1 stops after epoch 1
    asked = []

    def ask(epoch):
        if epoch == 1 and not asked:
            asked.append(True)
            run.monitor.branch(factor=0.1)

    run.on_epoch = ask
    run.train(5)
    assert [h.name for h in run.monitor.runs] == ["run 1"] and run.monitor.history.lineage == ("run 1", 0)
    # Run 2's early stopping goes on from the best epoch's state (wait 0): one epoch without improvement
    # and patience 1 stops it again.
    assert list(run.monitor.history.epochs) == [0, 1] and run.monitor.stopped_reason.startswith(
        "early stopping at epoch 1"
    )
    assert [(e.kind, e.old, e.new) for e in run.monitor.runs[0].events] == [("min_delta", 0.0, 100.0)]


def test_a_stop_asked_for_wins_over_a_branch_which_waits_for_the_next_loop():
    run = Adam()

    def ask(epoch):
        if epoch == 3:
            run.monitor.branch(factor=0.5)
            run.monitor.stop()

    run.on_epoch = ask
    run.train(8)
    assert run.monitor.runs == [] and run.monitor.should_stop and len(run.monitor.history) == 4
    run.on_epoch = lambda epoch: None
    deadline = time.monotonic() + WAIT
    run.train(2)
    assert time.monotonic() < deadline
    assert run.monitor.history.lineage is not None and len(run.monitor.runs) == 1


def test_a_scheduler_loaded_from_a_checkpoint_is_still_found_and_scaled_by_a_rate_change():
    """A scheduler's load_state_dict gives it a __dict__ of its own, through which it then holds the
    optimizer: the rate change found no scheduler there, and its next step undid the change."""
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 0.5**epoch)  # from its base rate
    scheduler.load_state_dict(scheduler.state_dict())  # as resuming from a checkpoint does
    monitor = lw.LiveLossMonitor(display="none", optimizer=optimizer)
    monitor.set_learning_rate(0.01)
    optimizer.step()
    scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.005)  # 0.05 without the scheduler scaled


def test_a_validation_value_logged_again_rolls_the_optimizer_snapshot_back_with_the_weights():
    """Epoch 1's first value moved the best; logged again worse, the best is epoch 0 again: so are the
    weights and the optimizer's state a branch gives back (taken when epoch 1 began)."""
    run = Adam()
    run.train(1)
    optimizer_at_1 = _optimizer_state(run.optimizer)  # epoch 0 ended; epoch 1 begins with this state
    weights_at_1 = copy.deepcopy(run.model.state_dict())
    monitor = run.monitor
    for _epoch in monitor.epochs(1):
        loss = torch.nn.functional.mse_loss(run.model(run.x), run.y)
        run.optimizer.zero_grad()
        loss.backward()
        run.optimizer.step()
        monitor.log(val=0.0)  # a new best...
        with pytest.warns(UserWarning, match="'val' was logged twice for epoch 1"):
            monitor.log(val=1e9)  # ...replaced in the same epoch: not a best after all
    assert monitor.best_epoch == 0
    monitor.branch()
    assert _states_equal(run.model.state_dict(), weights_at_1)
    assert _states_equal(_optimizer_state(run.optimizer), optimizer_at_1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_a_gpu_the_snapshots_are_kept_on_the_cpu_and_come_back_onto_the_gpu():
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 1).cuda()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    monitor = lw.LiveLossMonitor(patience=None, display="none", model=model, optimizer=optimizer)
    x, y = torch.randn(32, 8, device="cuda"), torch.randn(32, 1, device="cuda")
    kept = {}
    for epoch in monitor.epochs(4):
        kept[epoch] = (copy.deepcopy(model.state_dict()), _optimizer_state(optimizer))
        loss = torch.nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        monitor.log(val=1.0 if epoch == 1 else 2.0)  # the best epoch is 1
    best = monitor._best
    assert all(t.device.type == "cpu" for t in best.state.values())
    assert all(t.device.type == "cpu" for s in best.optimizer_state["state"].values() for t in s.values())
    monitor.branch()
    weights, state = kept[2]  # as epoch 2 began: the best epoch's weights and the optimizer after it
    assert _states_equal(model.state_dict(), weights)
    restored = optimizer.state_dict()
    assert all(v.device.type == "cuda" for s in restored["state"].values() for k, v in s.items() if k != "step")
    assert _states_equal(restored, state)


class PerExample(Adam):
    """The same run, validated with one loss per example (the same 64 examples, in order)."""

    def validation_losses(self):
        with torch.no_grad():
            return torch.nn.functional.mse_loss(self.model(self.x + 0.3), self.y, reduction="none").reshape(-1)

    def train(self, epochs, steps=8):
        for epoch in self.monitor.epochs(epochs):
            for _ in range(steps):
                loss = torch.nn.functional.mse_loss(self.model(self.x), self.y)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
            self.val[epoch] = self.validation_losses()
            self.monitor.log(train=loss.item(), val=self.val[epoch])
            self.scheduler.step()


def test_after_a_branch_the_new_run_s_tests_stay_paired_against_the_best_epoch_s_own_losses():
    # Run 2 starts from exactly the best epoch's weights, on the same validation examples: its rise
    # against the best epoch is the paired test (lesson 18 read "unpaired" before the losses were kept).
    run = PerExample()
    run.train(8)
    monitor, best = run.monitor, run.monitor.best_epoch
    best_losses = run.val[best].numpy()
    monitor.branch(factor=4.0)
    run.train(3)
    first = best + 1  # run 2's first trained epoch: tested against the best epoch it came from
    rows = {row["epoch"]: row for row in monitor.history.records()}
    difference = run.val[first].numpy() - best_losses
    expected = difference.std(ddof=1) / len(difference) ** 0.5
    assert rows[first]["val_diff_se"] == pytest.approx(expected, rel=1e-6)
