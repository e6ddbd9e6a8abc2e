import math

import numpy as np
import pytest

import losswidget as lw
from losswidget.core.replay import would_stop_at
from losswidget.core.stopping import StopReason

# (losses, patience, min_delta, expected stop index or None, expected best epoch)
CASES = [
    ([1.0, 0.9, 0.8, 0.7], 2, 0.0, None, 3),
    ([1.0, 0.9, 0.95, 0.96], 2, 0.0, 3, 1),
    ([1.0, 1.0, 1.0], 2, 0.0, 2, 0),  # ties are not improvements
    ([1.0, 1.1], 0, 0.0, 1, 0),  # patience 0: first non-improvement stops
    ([1.0, 0.95, 0.9, 0.85], 2, 0.1, 2, 3),  # steps below min_delta do not count; 0.85 does
    ([1.0, 0.89, 0.78], 1, 0.1, None, 2),
    ([5.0, 4.0, 4.5, 3.0, 3.5, 3.6, 3.7], 3, 0.0, 6, 3),
    ([], 1, 0.0, None, None),
]


@pytest.mark.parametrize(("losses", "patience", "min_delta", "stop_at", "best_epoch"), CASES)
def test_stop_table(losses, patience, min_delta, stop_at, best_epoch):
    stopper = lw.EarlyStopping(patience=patience, min_delta=min_delta)
    decisions = [stopper.update(v) for v in losses]
    first = decisions.index(True) if True in decisions else None
    assert first == stop_at
    assert stopper.best_epoch == best_epoch
    assert would_stop_at(losses, patience, min_delta) == stop_at


def test_reason_is_readable():
    stopper = lw.EarlyStopping(patience=2)
    for value in [0.5, 0.4, 0.45, 0.46]:
        stopper.update(value)
    assert stopper.should_stop and stopper.reason_code is StopReason.PATIENCE
    assert "no improvement for 2 epochs" in stopper.reason
    assert "best 0.4 at epoch 1" in stopper.reason


def test_mode_max():
    stopper = lw.EarlyStopping(patience=1, mode="max", min_delta=0.01)
    assert not stopper.update(0.5)
    assert not stopper.update(0.6)
    assert stopper.update(0.605)
    assert stopper.best == 0.6 and stopper.best_epoch == 1


def test_start_from_epoch_ignores_early_values():
    stopper = lw.EarlyStopping(patience=1, start_from_epoch=3)
    for value in [0.1, 5.0, 6.0]:  # ignored: best stays unset, even for the low first value
        assert not stopper.update(value)
    assert stopper.best_epoch is None
    assert not stopper.update(2.0)
    assert stopper.best_epoch == 3
    assert stopper.update(2.5)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_stops_at_once(bad):
    stopper = lw.EarlyStopping(patience=10)
    stopper.update(1.0)
    assert stopper.update(bad)
    assert stopper.reason_code is StopReason.NON_FINITE
    assert "not a finite number" in stopper.reason and "best 1 at epoch 0" in stopper.reason


def test_non_finite_without_check_counts_as_no_improvement():
    stopper = lw.EarlyStopping(patience=2, check_finite=False)
    stopper.update(1.0)
    assert not stopper.update(math.nan)
    assert stopper.update(math.nan)
    assert stopper.reason_code is StopReason.PATIENCE


def test_patience_is_assignable_and_takes_effect_at_next_update():
    stopper = lw.EarlyStopping(patience=10)
    for value in [1.0, 1.1, 1.2]:
        stopper.update(value)
    stopper.patience = 2
    assert not stopper.should_stop  # not until the next update
    assert stopper.update(1.3)
    with pytest.raises(ValueError, match=r"'patience' must be >= 0: -3"):
        stopper.patience = -3
    assert stopper.patience == 2


def test_stop_is_sticky_until_reset():
    stopper = lw.EarlyStopping(patience=1)
    stopper.update(1.0)
    assert stopper.update(2.0)
    assert stopper.update(0.5)  # still stopped; best keeps tracking
    assert stopper.best == 0.5
    stopper.reset()
    assert not stopper.should_stop and stopper.best == math.inf and stopper.updates == 0


def test_state_dict_round_trip_and_resume():
    values = [1.0, 0.8, 0.85, 0.9, 0.7, 0.75]
    whole = lw.EarlyStopping(patience=3, min_delta=0.01)
    for value in values:
        whole.update(value)
    first = lw.EarlyStopping(patience=3, min_delta=0.01)
    for value in values[:3]:
        first.update(value)
    resumed = lw.EarlyStopping()
    resumed.load_state_dict(first.state_dict())
    for value in values[3:]:
        resumed.update(value)
    assert resumed.state_dict() == whole.state_dict()


def test_checkpoint_and_rewind_undo_updates():
    stopper = lw.EarlyStopping(patience=1)
    stopper.update(1.0)
    saved, before = stopper.checkpoint(), stopper.state_dict()
    stopper.update(2.0)
    stopper.update(3.0)
    assert stopper.should_stop
    stopper.rewind(saved)
    assert stopper.state_dict() == before and not stopper.should_stop
    stopper.update(0.5)  # goes on from the rewound state
    assert stopper.best == 0.5 and stopper.best_epoch == 1


def test_bad_state_dict_changes_nothing():
    stopper = lw.EarlyStopping(patience=4)
    stopper.update(1.0)
    before = stopper.state_dict()
    state = dict(before, wait=-1)
    with pytest.raises(ValueError, match="'wait' must be >= 0"):
        stopper.load_state_dict(state)
    with pytest.raises(ValueError, match="missing best"):
        stopper.load_state_dict({k: v for k, v in before.items() if k != "best"})
    assert stopper.state_dict() == before


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"patience": -1}, ValueError, r"'patience' must be >= 0: -1"),
        ({"patience": 2.5}, TypeError, r"'patience' must be an int: 2.5"),
        ({"min_delta": -0.1}, ValueError, r"'min_delta' must be >= 0.0: -0.1"),
        ({"min_delta": math.nan}, ValueError, r"'min_delta' must be finite"),
        ({"mode": "minimum"}, ValueError, r"'mode' must be one of 'min', 'max': 'minimum'"),
        ({"start_from_epoch": -2}, ValueError, r"'start_from_epoch' must be >= 0: -2"),
        ({"check_finite": "yes"}, TypeError, r"'check_finite' must be True or False"),
    ],
)
def test_bad_configuration(kwargs, error, message):
    with pytest.raises(error, match=message):
        lw.EarlyStopping(**kwargs)


def test_bad_value_leaves_state_unchanged():
    stopper = lw.EarlyStopping(patience=2)
    stopper.update(1.0)
    before = stopper.state_dict()
    with pytest.raises(TypeError, match="'value' must be a number: got the str"):
        stopper.update("0.5")
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        stopper.update(np.array([1.0, 2.0, 3.0]))
    assert stopper.state_dict() == before


# -- differential: Lightning's EarlyStopping on generated sequences -------------------


def _lightning_decisions(values, patience, min_delta, mode, check_finite):
    torch = pytest.importorskip("torch")
    callbacks = pytest.importorskip("pytorch_lightning.callbacks")
    peer = callbacks.EarlyStopping(
        monitor="val", patience=patience, min_delta=min_delta, mode=mode, check_finite=check_finite
    )
    decisions, bests = [], []
    stopped = False
    for value in values:
        should_stop, _ = peer._evaluate_stopping_criteria(torch.tensor(value, dtype=torch.float64))
        stopped = stopped or should_stop
        decisions.append(stopped)
        bests.append(float(peer.best_score))
    return decisions, bests, peer.wait_count


def _generated_cases(count, seed):
    rng = np.random.default_rng(seed)
    for index in range(count):
        length = int(rng.integers(1, 40))
        if index % 3 == 0:  # a coarse grid makes ties frequent
            values = rng.integers(0, 6, length) / 4.0
        else:
            values = np.cumsum(rng.normal(-0.02, 0.1, length)) + 2.0
        if index % 17 == 0 and length > 3:
            values[int(rng.integers(1, length))] = rng.choice([np.nan, np.inf])
        patience = int(rng.integers(0, 6))
        min_delta = float(rng.choice([0.0, 0.0, 0.25, 0.05, 0.1]))
        mode = "min" if index % 4 else "max"
        check_finite = bool(index % 5)
        yield values.tolist(), patience, min_delta, mode, check_finite


@pytest.mark.parametrize("case", list(_generated_cases(400, seed=7)))
def test_matches_lightning(case):
    values, patience, min_delta, mode, check_finite = case
    expected, bests, wait = _lightning_decisions(values, patience, min_delta, mode, check_finite)
    ours = lw.EarlyStopping(patience=patience, min_delta=min_delta, mode=mode, check_finite=check_finite)
    for value, stop, best in zip(values, expected, bests):
        assert ours.update(value) == stop, (values, patience, min_delta, mode)
        assert ours.best == best
    assert ours.wait == wait
