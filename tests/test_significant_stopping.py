"""Early stopping that counts an improvement only beyond the noise (``min_delta_se``), checked on
simulated validation sets where the truth is known: the same examples every epoch (each with its own
difficulty) plus fresh noise, on a true curve that falls and then stays flat."""

from __future__ import annotations

import math

import numpy as np
import pytest

import losswidget as lw
from losswidget.chart.cache import StepCache
from losswidget.core.replay import best_of, would_stop_at
from losswidget.core.stopping import EarlyStopping

N = 400
NOISE = 0.05  # per example and epoch: the paired standard error of a difference is NOISE·√2/√N
PAIRED_SE = NOISE * math.sqrt(2.0) / math.sqrt(N)


def _run(rng, truth, min_delta_se, patience=None):
    """A monitor fed one loss per validation example for each epoch of ``truth``."""
    base = rng.gamma(2.0, 0.25, N)  # each example's own difficulty, the same every epoch
    monitor = lw.LiveLossMonitor(patience=patience, min_delta_se=min_delta_se, display="none")
    improvements = 0
    for true in truth:
        before = monitor.best_epoch
        monitor.log(train=1.0, val=base + true + rng.normal(0.0, NOISE, N))
        improvements += monitor.best_epoch != before
        if monitor.should_stop:
            break
    return monitor, improvements - 1  # the first value is always the best so far


def test_on_a_flat_curve_two_standard_errors_count_almost_no_improvement_the_plain_rule_counts_several():
    rng = np.random.default_rng(5)
    flat = np.full(60, 0.5)
    plain = [_run(rng, flat, 0.0)[1] for _ in range(30)]
    strict = [_run(rng, flat, 2.0)[1] for _ in range(30)]
    # iid means: about H(60) - 1 = 3.7 records by chance alone; beyond 2 paired SE, a few per hundred
    assert np.mean(plain) > 2.5
    assert np.mean(strict) < 0.5


def test_a_real_fall_is_followed_to_its_end_and_the_plateau_does_not_move_the_best_epoch():
    rng = np.random.default_rng(6)
    truth = np.concatenate([0.5 - 4 * PAIRED_SE * np.arange(20), np.full(40, 0.5 - 4 * PAIRED_SE * 19)])
    best = {k: [_run(rng, truth, k)[0].best_epoch for _ in range(40)] for k in (0.0, 2.0, 3.0)}
    assert all(epoch >= 17 for epoch in best[2.0] + best[3.0])  # no real improvement is given up
    assert np.median(best[2.0]) == 19  # the end of the true fall
    # 40 flat epochs are 40 chances: the plain rule moves the best onto the plateau's noise in nearly
    # every run, 2 standard errors in about one run in four, 3 in about one in twenty (100 runs each)
    drift = {k: np.mean([epoch > 21 for epoch in epochs]) for k, epochs in best.items()}
    assert drift[0.0] > 0.8 and drift[2.0] < 0.45 and drift[3.0] < 0.2


def test_with_patience_it_stops_soon_after_the_true_fall_ends_the_plain_rule_later():
    rng = np.random.default_rng(7)
    truth = np.concatenate([0.5 - 4 * PAIRED_SE * np.arange(20), np.full(60, 0.5 - 4 * PAIRED_SE * 19)])
    strict = [len(_run(rng, truth, 2.0, patience=10)[0].history) - 1 for _ in range(30)]
    plain = [len(_run(rng, truth, 0.0, patience=10)[0].history) - 1 for _ in range(30)]
    assert np.median(strict) <= 31  # the last true improvement (19) + patience 10, give or take one
    assert np.median(plain) > np.median(strict)


def test_every_replay_decides_as_the_run_did(tmp_path):
    rng = np.random.default_rng(8)
    truth = np.concatenate([0.5 - 3 * PAIRED_SE * np.arange(15), np.full(30, 0.5 - 3 * PAIRED_SE * 14)])
    base = rng.gamma(2.0, 0.25, N)
    monitor = lw.LiveLossMonitor(patience=8, min_delta_se=2.0, log_file=tmp_path / "run.jsonl", display="none")
    for epoch in monitor.epochs(len(truth)):
        monitor.log(train=1.0, val=base + truth[epoch] + rng.normal(0.0, NOISE, N))
    history = monitor.history
    assert monitor.should_stop and "val_diff_se" in history.metric_names
    assert "no improvement beyond 2 standard errors for 8 epochs" in monitor.stopped_reason
    stopped = int(history.epochs[-1])
    assert StepCache().what_if(history, monitor.early_stopping.fresh()) == (stopped, 8)  # the slider's replay
    assert StepCache().what_if(history, monitor.early_stopping.fresh(3)) == (
        would_stop_at(history.val, 3, min_delta_se=2.0, ses=history["val_diff_se"]),
        3,
    )
    assert "val_diff_se" not in monitor._build_frame().metrics
    ses = history["val_diff_se"]
    assert would_stop_at(history.val, 8, min_delta_se=2.0, ses=ses) == stopped
    assert best_of(history.val, history.epochs, min_delta_se=2.0, ses=ses)[0] == monitor.best_epoch
    assert history.best_epoch(min_delta_se=2.0) == monitor.best_epoch
    read_back = lw.History.load(tmp_path / "run.jsonl")
    assert read_back.best_epoch(min_delta_se=2.0) == monitor.best_epoch
    watcher = lw.watch(tmp_path / "run.jsonl", interval=0.05, display="none")
    try:
        watcher.poll()
        assert watcher.followers[0].rule == {"min_delta": 0.0, "min_delta_se": 2.0}  # from the log's header
        assert watcher.best_epoch == monitor.best_epoch
    finally:
        watcher.close()


def test_a_val_logged_again_in_the_best_epoch_is_sized_against_the_best_before_it():
    rng = np.random.default_rng(9)
    base = rng.gamma(2.0, 0.25, N)
    monitor = lw.LiveLossMonitor(min_delta_se=2.0, display="none")
    for epoch in monitor.epochs(2):
        monitor.log(val=base + (0.5 if epoch == 0 else 0.4) + rng.normal(0.0, NOISE, N))
        if epoch == 1:
            assert monitor.best_epoch == 1
            with pytest.warns(UserWarning, match="losswidget:"):
                monitor.log(val=base + 0.5 + rng.normal(0.0, NOISE, N))  # no better than epoch 0 after all
    assert monitor.best_epoch == 0
    assert monitor.history["val_diff_se"][1] == pytest.approx(PAIRED_SE, rel=0.15)  # against epoch 0


def test_one_number_per_epoch_is_refused_with_nothing_recorded():
    monitor = lw.LiveLossMonitor(min_delta_se=2.0, display="none")
    monitor.log(train=1.0, val=np.full(N, 0.5) + np.random.default_rng(0).normal(0, NOISE, N))
    before = monitor.history.copy()
    with pytest.raises(ValueError, match=r"min_delta_se=2 .*one loss per validation example"):
        monitor.log(train=0.9, val=0.4)
    assert monitor.history == before


def test_fit_refuses_a_loss_it_cannot_give_per_example_before_training():
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(3, 2)
    loader, held_out = (
        torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(16, 3), torch.randint(0, 2, (16,))), 8)
        for _ in range(2)
    )
    weight = model.weight.detach().clone()
    monitor = lw.LiveLossMonitor(min_delta_se=2.0, display="none")
    weighted = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="min_delta_se=2 needs one validation loss per example"):
        lw.fit(model, loader, held_out, weighted, torch.optim.SGD(model.parameters(), lr=0.1), 3, monitor=monitor)
    assert torch.equal(model.weight, weight) and len(monitor.history) == 0
    history = lw.fit(
        model,
        loader,
        held_out,
        torch.nn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), 0.1),
        3,
        monitor=monitor,
    )
    assert len(history) == 3 and "val_diff_se" in history.metric_names


def test_the_decision_names_what_it_needs_and_keeps_its_setting_through_a_saved_state():
    stopper = EarlyStopping(patience=3, min_delta_se=2.0)
    stopper.update(1.0)
    with pytest.raises(ValueError, match=r"min_delta_se=2\) needs each value's standard error"):
        stopper.update(0.9)
    assert stopper.updates == 1 and stopper.best == 1.0  # refused before anything changed
    assert stopper.update(0.99, se=0.01) is False and stopper.wait == 1  # 0.01 < 2 × 0.01: not counted
    assert stopper.update(0.9, se=0.01) is False and stopper.best == 0.9
    restored = EarlyStopping()
    restored.load_state_dict(stopper.state_dict())
    assert restored.min_delta_se == 2.0 and restored.fresh().min_delta_se == 2.0
    old = {key: value for key, value in stopper.state_dict().items() if key != "min_delta_se"}
    restored.load_state_dict(old)  # a state saved before the option existed: the plain rule
    assert restored.min_delta_se == 0.0
    with pytest.raises(ValueError, match="'min_delta_se' must be"):
        EarlyStopping(min_delta_se=-1)
