"""The chart model: incremental pieces agree with their from-scratch definitions."""

import itertools
import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import losswidget as lw
from losswidget.chart.axes import value_range
from losswidget.chart.frame import StepCache, build_frame
from losswidget.core.replay import best_of


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


# -- long runs: the per-epoch series folded in as they come ----------------------------------------


def grow(seed, epochs, max_points):
    """A run logged epoch by epoch (a value logged again within its epoch now and then, a learning
    rate cut now and then, a metric and standard errors), a frame after each epoch with one cache
    kept throughout; yields (history, that frame, a frame from a fresh cache)."""
    rng = np.random.default_rng(seed)
    history, kept = lw.History(), StepCache(max_points)
    rate, smoothing = 0.1, 3
    for epoch in range(epochs):
        values = {"train": float(rng.lognormal(-epoch / 50, 0.3)), "acc": float(rng.random())}
        if rng.random() < 0.7:
            values["val"] = float(rng.lognormal(-epoch / 60, 0.3)) if rng.random() < 0.97 else math.inf
            values["val_se"] = float(rng.random() / 10)
        if rng.random() < 0.05:
            rate *= 0.5
        values["lr"] = rate if rng.random() < 0.95 else 0.0
        history.log_epoch(epoch, values)
        if rng.random() < 0.1:  # logged again: the last row changes
            history.log_epoch(epoch, {"val": float(rng.random()), "lr": rate * 2})
        if rng.random() < 0.05:
            smoothing = int(rng.integers(1, 9))
        arguments = dict(smoothing=smoothing, best=best_of(history.val, history.epochs), log_y=bool(epoch % 2))
        frame = build_frame(history, kept, what_if=lw.EarlyStopping(4), **arguments)
        yield history, frame, build_frame(history, StepCache(max_points), what_if=lw.EarlyStopping(4), **arguments)


@pytest.mark.parametrize("seed", range(4))
def test_the_drawn_epochs_follow_their_definitions_and_the_kept_state_equals_a_fresh_one(seed):
    from losswidget.chart.rates import MAX_MARKS
    from losswidget.core.schedule import history_changes, rate_changes

    for history, frame, fresh in grow(seed, 300, max_points=40):
        for name in ("epochs", "train", "val", "val_low", "val_high"):
            np.testing.assert_array_equal(getattr(frame, name), getattr(fresh, name), err_msg=name)
        for name in ("train_smooth", "val_smooth"):
            np.testing.assert_allclose(getattr(frame, name), getattr(fresh, name), rtol=1e-6, err_msg=name)
        assert frame.metrics.keys() == fresh.metrics.keys() and frame.rates.keys() == fresh.rates.keys()
        for drawn, again in [
            *zip(frame.metrics.values(), fresh.metrics.values()),
            *zip(frame.rates.values(), fresh.rates.values()),
        ]:
            np.testing.assert_array_equal(drawn[0], again[0])
            np.testing.assert_array_equal(drawn[1], again[1])
        assert frame.rate_changes == fresh.rate_changes and frame.rate_range == fresh.rate_range
        assert frame.what_if == fresh.what_if and frame.band_available == fresh.band_available
        rows = np.searchsorted(history.epochs, frame.epochs.astype(np.int64))
        assert rows.size <= 42 and rows[-1] == len(history) - 1  # ≤ max_points, the last and the best
        if frame.best is not None:
            assert frame.best[0] in frame.epochs
        smoothed = lw.smooth(history.val, frame.smoothing)[rows]
        smoothed[~np.isfinite(smoothed) | ((smoothed <= 0) & frame.log_y)] = np.nan  # drawn as gaps
        np.testing.assert_allclose(frame.val_smooth, smoothed.astype(np.float32), rtol=1e-6)
        for name in ("train", "val"):  # both curves' extremes, whichever decided the bins
            values = history[name][np.isfinite(history[name])]
            if not values.size:
                continue
            shown = getattr(frame, name)[np.isfinite(getattr(frame, name))]
            assert shown.max() == np.float32(values.max()) and shown.min() == np.float32(values.min())
        changes = rate_changes(history.epochs, history["lr"])
        assert frame.rate_changes == (changes if len(changes) <= MAX_MARKS else [])
        assert history_changes(history) == changes[-1:]  # the diagnosis reads the last one
        positive = history["lr"][history["lr"] > 0]
        assert bool(frame.rates) == (positive.min() != positive.max())  # a rate that never changed: no panel
        if frame.rates:
            assert frame.rate_range == pytest.approx((positive.min() / 1.4, positive.max() * 1.4))
        acc_x, acc = frame.metrics["acc"]
        assert acc.max() == np.float32(history["acc"].max()) and acc_x[-1] == history.epochs[-1]


def frame_allocation(epochs: int) -> int:
    """Bytes a frame allocates at its peak (tracemalloc sees numpy's arrays) on a run of ``epochs``
    epochs with a learning rate changing every epoch, a metric and standard errors: a measure of the
    values it touches, not of time. The least of four frames, each after one more epoch: the columns
    the cache keeps grow by doubling (amortised O(1) per epoch), at most once in four."""
    history, cache = lw.History(), StepCache()
    rng = np.random.default_rng(0)

    def log(epoch):
        loss = 1 / (epoch + 1) + float(rng.random()) / 100
        history.log_epoch(epoch, {"train": loss, "val": loss, "val_se": 0.01, "acc": 0.5, "lr": 1 / (epoch + 1)})

    def frame():
        build_frame(history, cache, smoothing=5, what_if=lw.EarlyStopping(3), best=(1, 0.5), band=True)
        cache.non_finite(history)  # what the status asks per frame

    for epoch in range(epochs):
        log(epoch)
    frame()  # the first frame folds the whole run in
    peaks = []
    for epoch in range(epochs, epochs + 4):
        log(epoch)
        tracemalloc.start()
        try:
            frame()
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    return min(peaks)


def test_a_frame_touches_as_much_at_a_hundred_thousand_epochs_as_at_ten_thousand():
    small, large = frame_allocation(10_000), frame_allocation(100_000)
    assert large < 1.5 * small, (small, large)  # O(history) would be ten times as much


def test_a_slow_diagnosis_is_read_within_the_drawing_budget(monkeypatch):
    """Frames while a loop runs read the diagnosis (over the whole history: tens of milliseconds at
    10^5 epochs) at most once a second, and no more than DRAW_BUDGET of the time: a reading that takes
    0.1 s waits 5 s for the next one, not 1 s."""
    from losswidget.run import feed as feed_module
    from losswidget.run.redraw import DRAW_BUDGET

    now, spent = [50.0], [0.0]
    monkeypatch.setattr(feed_module.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(feed_module.time, "perf_counter", lambda: spent[0])
    readings = []
    real = feed_module.diagnose

    def slow(history, **keywords):
        readings.append(len(history))
        spent[0] += 0.1  # the reading took 0.1 s
        return real(history, **keywords)

    monkeypatch.setattr(feed_module, "diagnose", slow)
    monitor = lw.LiveLossMonitor(patience=None, display="none")
    for epoch in monitor.epochs(80):
        monitor.log(train=1.0 / (epoch + 1), val=1.0 / (epoch + 1))
        if epoch == 0:
            readings.clear()
        monitor._feed.status("", fresh=False)  # what a frame asks while the loop runs
        now[0] += 0.25  # four frames a second
        if epoch == 79:
            # While it is too early to tell (a short history: cheap), at every value; then every
            # 0.1 / DRAW_BUDGET = 5 s of frames, 20 epochs here.
            early = [n for n in readings if n <= 5]
            later = readings[len(early) :]
            assert early == [1, 2, 3, 4, 5], readings
            assert len(later) == 3 and all(b - a == 20 for a, b in zip([early[-1], *later], later)), readings
    assert 0.1 / DRAW_BUDGET == 5.0


def test_an_earlier_long_run_is_drawn_from_min_max_bins_found_again_only_when_it_grows():
    from losswidget.chart.frame import PastRun

    earlier, history, cache = lw.History("earlier"), lw.History(), StepCache(100)
    for epoch in range(5_000):
        earlier.log_epoch(epoch, {"train": 1.0, "val": 30.0 if epoch == 3_210 else 1.0 / (epoch + 1)})
    history.log_epoch(0, {"train": 1.0, "val": 1.0})

    def curve():
        frame = build_frame(history, cache, smoothing=1, what_if=lw.EarlyStopping(3), runs=[PastRun.of(earlier)])
        return frame.runs[0]

    first = curve()
    assert first.epochs.size <= 100 and first.epochs[-1] == 4_999 and np.nanmax(first.values) == 30.0
    earlier.log_epoch(5_000, {"val": 0.5})  # a watched run grew: its bins are found again
    grown = curve()
    assert grown.epochs[-1] == 5_000 and grown.values[-1] == 0.5 and grown.epochs.size <= 100
