import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import losswidget as lw


def test_short_series_is_returned_whole():
    x, y = np.arange(5), np.array([3.0, 1, 4, 1, 5])
    dx, dy = lw.decimate(x, y, 10)
    np.testing.assert_array_equal(dx, x)
    np.testing.assert_array_equal(dy, y)


def test_spike_survives():
    y = np.ones(1_000_000)
    y[123_457] = 50.0
    y[876_543] = -7.0
    x, d = lw.decimate(np.arange(y.size), y, 2000)
    assert len(d) <= 2000
    assert d.max() == 50.0 and d.min() == -7.0
    assert 123_457 in x and 876_543 in x


def test_all_nan_bin_becomes_a_gap():
    y = np.linspace(1, 2, 1000)
    y[400:600] = np.inf
    _, d = lw.decimate(np.arange(1000), y, 50)
    assert np.isnan(d).any() and not np.isinf(d).any()


def test_two_points_keeps_the_ends():
    x, _ = lw.decimate(np.arange(10), np.arange(10.0), 2)
    assert x.tolist() == [0, 9]


@pytest.mark.parametrize(("bad", "error"), [(1, ValueError), (0, ValueError), (10.0, TypeError)])
def test_bad_max_points(bad, error):
    with pytest.raises(error, match="'max_points'"):
        lw.decimate([1, 2, 3], [1, 2, 3], bad)


def test_mismatched_lengths():
    with pytest.raises(ValueError, match=r"same length: got shapes \(3,\) and \(2,\)"):
        lw.decimate([1, 2, 3], [1, 2], 10)


values = st.one_of(st.floats(-1e9, 1e9), st.just(math.nan), st.just(math.inf))


@settings(max_examples=400, deadline=None)
@given(st.lists(values, min_size=1, max_size=500), st.integers(2, 60))
def test_decimation_invariants(ys, max_points):
    y = np.array(ys)
    x = np.arange(y.size) * 10
    dx, dy = lw.decimate(x, y, max_points)
    assert len(dx) == len(dy) <= max_points
    # first and last kept; x strictly increasing; every point is an input point (or a gap)
    assert dx[0] == x[0] and dx[-1] == x[-1]
    assert np.all(np.diff(dx) > 0)
    index = dx // 10
    same = (dy == y[index]) | (np.isnan(dy) & ~np.isfinite(y[index]))
    assert same.all()
    # the envelope of the finite values survives when there are bins to carry it
    finite = y[np.isfinite(y)]
    if finite.size and (max_points >= 4 or y.size <= max_points):
        kept = dy[np.isfinite(dy)]
        assert kept.max() == finite.max() and kept.min() == finite.min()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(values, min_size=1, max_size=3000),
    st.lists(st.integers(1, 400), min_size=1, max_size=30),
    st.integers(8, 80),
)
def test_incremental_decimator_invariants(ys, chunks, max_points):
    from losswidget.core.decimate import Decimator

    y = np.array(ys)
    decimator = Decimator(max_points)
    stop = 0
    for chunk in [*chunks, y.size]:
        stop = min(y.size, stop + chunk)
        decimator.update(y[:stop])
        index = decimator.indices()
        assert len(index) <= max_points
        assert index[0] == 0 and index[-1] == stop - 1
        assert np.all(np.diff(index) > 0)
        finite = y[:stop][np.isfinite(y[:stop])]
        if finite.size:
            shown = y[index][np.isfinite(y[index])]
            assert shown.max() == finite.max() and shown.min() == finite.min()


def test_decimator_rejects_shrinking():
    from losswidget.core.decimate import Decimator

    decimator = Decimator(10)
    decimator.update(np.arange(5.0))
    with pytest.raises(ValueError, match="may only grow: had 5 points, got 3"):
        decimator.update(np.arange(3.0))


# -- a long run's epochs, as a frame draws them ---------------------------------------------------


def long_run(n, seed=0):
    """``n`` epochs whose train and val spike in different epochs, and whose best epoch (by a
    min_delta of 0.05) is not the lowest validation value nor an extreme of its bin."""
    rng = np.random.default_rng(seed)
    history = lw.History()
    train = 1.0 + rng.normal(0, 0.01, n)
    val = 1.2 + rng.normal(0, 0.01, n)
    train[n // 3], train[n // 2] = 40.0, -3.0  # training spikes: val is ordinary there
    val[2 * n // 3] = 25.0
    best_row = n // 4
    val[best_row] = 0.6  # beats every earlier value by far
    val[best_row + 1 :: 97] = 0.58  # lower, but not by min_delta: never the best
    for row in range(n):
        history.log_epoch(row + 1, {"train": float(train[row]), "val": float(val[row])})
    return history, best_row


def test_a_long_runs_drawn_epochs_keep_both_curves_spikes_the_best_and_the_last_epoch():
    from losswidget.chart.frame import StepCache, build_frame
    from losswidget.core.stopping import NEVER

    history, best_row = long_run(30_000)
    stopper = lw.EarlyStopping(NEVER, min_delta=0.05)
    for value in history.val:
        stopper.update(value)
    assert stopper.best_epoch == best_row  # (index) the epoch the marker shows: history epoch best_row + 1
    best = (int(history.epochs[best_row]), float(history.val[best_row]))
    frame = build_frame(history, StepCache(), smoothing=5, what_if=lw.EarlyStopping(5), best=best)
    assert frame.epochs.size <= 2002  # ≤ max_points, and the last and best epochs
    assert frame.train.max() == 40.0 and frame.train.min() == -3.0  # train's spikes, not only val's
    assert frame.val.max() == 25.0 and float(frame.val.min()) == pytest.approx(0.58)
    drawn = dict(zip(frame.epochs.tolist(), frame.val.tolist(), strict=True))
    assert drawn[best[0]] == pytest.approx(best[1])  # the best-epoch marker sits on the line
    assert frame.epochs[-1] == history.epochs[-1] and frame.val[-1] == np.float32(history.val[-1])
    assert np.all(np.diff(frame.epochs) > 0)
    rows = np.searchsorted(history.epochs, frame.epochs.astype(np.int64))
    np.testing.assert_allclose(frame.val_smooth, lw.smooth(history.val, 5)[rows].astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(frame.train_smooth, lw.smooth(history.train, 5)[rows].astype(np.float32), rtol=1e-6)
