"""The chart model: incremental pieces agree with their from-scratch definitions."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import losswidget as lw
from losswidget.chart.axes import value_range
from losswidget.chart.frame import StepCache, build_frame


def full_replay(history, patience):
    """The definition: replay every recorded validation value from the start."""
    rows = np.flatnonzero(~np.isnan(history.val))
    index = lw.would_stop_at(history.val[rows], patience)
    return None if index is None else (int(history.epochs[rows[index]]), patience)


@pytest.mark.parametrize("seed", range(30))
def test_incremental_what_if_matches_a_full_replay(seed):
    rng = np.random.default_rng(seed)
    history = lw.History()
    model = StepCache()
    patience = 3
    for epoch in range(60):
        values = {"train": 1.0}
        if rng.random() < 0.8:
            values["val"] = float(np.abs(rng.normal(1.0 - epoch / 100, 0.1)))
        history.log_epoch(epoch, values)
        if rng.random() < 0.1:  # the validation value re-logged within its epoch
            history.log_epoch(epoch, {"val": float(rng.random())})
        if rng.random() < 0.1:  # the slider moved
            patience = int(rng.integers(0, 8))
        assert model.what_if(history, lw.EarlyStopping(patience)) == full_replay(history, patience)


def test_value_range_keeps_a_high_curve_and_clips_lone_spikes():
    steps = np.full(2000, 0.1)
    val = np.linspace(0.5, 3.0, 40)  # a whole curve far above the steps: never clipped
    low, high, clipped = value_range([steps, val], log_y=False)
    assert high >= 3.0 and not clipped
    spiky = np.concatenate([[30.0, 12.0], np.linspace(1.0, 0.2, 100)])  # a fresh network's first epochs
    low, high, clipped = value_range([spiky], log_y=False)
    assert clipped and high < 12.0 and low < 0.2
    assert value_range([np.array([math.nan])], log_y=True)[:2] == (0.1, 1.0)


@given(st.lists(st.floats(-1e6, 1e6), min_size=20, max_size=300))
def test_fast_quantiles_equal_numpys_percentile(values):
    from losswidget.chart.axes import _quantiles_5_95

    array = np.array(values)
    assert np.allclose(_quantiles_5_95(array), np.percentile(array, [5, 95]), rtol=1e-12, atol=1e-9)


def test_the_epoch_axis_grows_in_a_few_round_steps_within_the_plan():
    from losswidget.chart.axes import epoch_axis_end

    ends = [epoch_axis_end(float(last), 299) for last in range(300)]
    assert all(end >= last + (1 if last < 299 else 0) for last, end in enumerate(ends))  # room ahead
    assert max(ends) == 299.0  # never past the plan
    assert len(set(ends)) <= 20  # moved about once per 20 % of growth, not at every epoch (was ~290)
    assert epoch_axis_end(3.0, None) == 3.0  # no plan: the axis ends at the data
    assert epoch_axis_end(0.0, 4) == 4.0
    history = lw.History()
    for epoch in range(25):
        history.log_epoch(epoch, {"train": 1.0 / (epoch + 1)})
    frame = build_frame(history, StepCache(100), smoothing=1, what_if=lw.EarlyStopping(5), planned_last=99)
    assert frame.x_range == (0.0, 30.0)  # 24 + 1, plus 10 %, up to the next round end


@pytest.mark.parametrize("log_y", [False, True])
def test_a_falling_loss_moves_the_loss_axis_a_few_times_not_at_every_frame(log_y):
    history, model = lw.History(), StepCache()
    ranges = []
    for epoch in range(60):  # one frame per epoch; the loss falls from 2 towards 0.05
        loss = 0.05 + 2.0 * math.exp(-epoch / 8)
        history.log_epoch(epoch, {"train": loss, "val": loss * 1.1})
        frame = build_frame(history, model, smoothing=1, what_if=lw.EarlyStopping(5), log_y=log_y)
        low, high = frame.y_range
        assert low <= min(history.train.min(), history.val.min()) and high >= history.val.max()  # all shown
        assert low > 0 if log_y else low >= 0  # a loss is never negative: neither is its axis
        ranges.append(frame.y_range)
    moves = sum(a != b for a, b in itertools.pairwise(ranges))
    assert moves <= 20, moves  # without headroom it moved at every frame (59 of 59)
