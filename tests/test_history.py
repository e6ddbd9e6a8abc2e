import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import losswidget as lw
from losswidget.core.history_files import HistoryFileError


def make_history():
    history = lw.History(name="small")
    history.log_epoch(0, {"train": 1.0, "val": 1.2})
    history.log_epoch(0, {"acc": 0.4})
    history.log_epoch(1, {"train": 0.8, "val": math.inf, "acc": 0.5})
    history.log_epoch(3, {"train": math.nan, "val": 0.9})
    history.log_steps([1.5, 1.1, 0.9, 0.85], [0, 0, 1, 1])
    return history


def test_columns_and_merge():
    history = make_history()
    assert len(history) == 3 and history.n_steps == 4
    assert history.epochs.tolist() == [0, 1, 3]
    np.testing.assert_array_equal(history["acc"], [0.4, 0.5, np.nan])
    assert history.metric_names == ["acc"]
    assert history.best_epoch() == 3
    assert history.last_epoch == 3


def test_logging_twice_keeps_latest_and_reports_it():
    history = lw.History()
    assert history.log_epoch(0, {"train": 1.0}) == []
    assert history.log_epoch(0, {"train": 0.9, "val": 1.0}) == ["train"]
    assert history.train.tolist() == [0.9]


def test_rejected_calls_change_nothing():
    history = make_history()
    before = history.copy()
    with pytest.raises(ValueError, match="epochs must not go back: the last recorded epoch is 3, got 2"):
        history.log_epoch(2, {"train": 0.1})
    with pytest.raises(TypeError, match="'val' must be a number"):
        history.log_epoch(4, {"train": 0.5, "val": "high"})
    with pytest.raises(ValueError, match="'epoch' is reserved"):
        history.log_epoch(4, {"epoch": 1.0})
    with pytest.raises(ValueError, match=r"tensor of shape|array of shape"):
        history.log_epoch(4, {"train": np.ones(3)})
    assert history == before


def test_appends_are_amortised():
    history = lw.History()
    for step in range(100_000):
        history.log_step(0.5, step // 1000)
    assert history.n_steps == 100_000
    assert history._step_train._data.size < 2 * 100_000 + 64


def test_columns_are_read_only_views():
    history = make_history()
    with pytest.raises(ValueError):
        history.train[0] = 5.0


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_round_trip(tmp_path, suffix):
    history = make_history()
    path = history.save(tmp_path / f"run{suffix}")
    loaded = lw.History.load(path)
    if suffix == ".csv":  # a CSV table has no place for the run's name
        loaded.name = history.name
    assert loaded == history


def test_save_never_pickles(tmp_path):
    path = make_history().save(tmp_path / "run.jsonl")
    assert b"\x80" not in path.read_bytes()[:2]
    with pytest.raises(HistoryFileError, match="not valid JSON"):
        lw.History.load(_write(tmp_path / "pickled.jsonl", pickle.dumps([1, 2]).decode("latin1") + "\n"))


def test_to_dataframe():
    frame = make_history().to_dataframe()
    assert frame.index.name == "epoch" and list(frame.columns) == ["train", "val", "acc"]
    steps = make_history().to_dataframe(steps=True)
    assert steps["epoch"].tolist() == [0, 0, 1, 1]


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_torn_last_line_loads_everything_before_it(tmp_path):
    text = make_history().save(tmp_path / "run.jsonl").read_text()
    torn = _write(tmp_path / "torn.jsonl", text + '{"kind": "epoch", "epoch": 4, "val')
    with pytest.warns(UserWarning, match=r"losswidget: .*torn.jsonl, line 6 is incomplete .* loaded the 3 epochs"):
        loaded = lw.History.load(torn)
    assert loaded == make_history()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"line 1: empty file"),
        ("hello\n", r"line 1: not valid JSON"),
        ('{"some": "json"}\n', r"line 1: not a losswidget history"),
        (
            '{"format": "losswidget-history", "version": 9}\n',
            r"line 1: written by a newer losswidget \(format version 9\)",
        ),
        (
            '{"format": "losswidget-history", "version": 1}\n{"kind": "epoch", "epoch": 0, "values": {"train": "x"}}\n',
            r"line 2: not a losswidget history record: not a number: 'x'",
        ),
        (
            '{"format": "losswidget-history", "version": 1}\nnot json\n{"kind": "steps", "epoch": [], "train": []}\n',
            r"line 2: not valid JSON",
        ),
        (
            '{"format": "losswidget-history", "version": 1}\n{"kind": 3}\n',
            r"line 2: .*unknown record kind 3",
        ),
    ],
)
def test_bad_jsonl(tmp_path, text, message):
    path = _write(tmp_path / "bad.jsonl", text)
    with pytest.raises(HistoryFileError, match=message) as error:
        lw.History.load(path)
    assert "bad.jsonl" in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b,c\n1,2,3\n", r"line 1: not a losswidget history \(expected a header starting kind,epoch,step,train,val"),
        ("kind,epoch,step,train,val\nepoch,zero,,1,2\n", r"line 2: not a losswidget history row"),
        ("kind,epoch,step,train,val\nepoch,0,,1\n", r"line 2: expected 5 fields, got 4"),
    ],
)
def test_bad_csv(tmp_path, text, message):
    with pytest.raises(HistoryFileError, match=message):
        lw.History.load(_write(tmp_path / "bad.csv", text))


def test_bad_paths(tmp_path):
    with pytest.raises(ValueError, match=r"must end in .jsonl or .csv: '.*run.txt'"):
        make_history().save(tmp_path / "run.txt")
    with pytest.raises(FileNotFoundError, match="no history file at"):
        lw.History.load(tmp_path / "missing.jsonl")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(HistoryFileError, match="not a UTF-8 text file"):
        lw.History.load(binary)


number = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-1000, 1000).map(float))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.dictionaries(st.sampled_from(["train", "val", "acc", "lr"]), number, max_size=4), max_size=12),
    st.lists(number, max_size=30),
)
def test_round_trip_property(tmp_path_factory, rows, steps):
    history = lw.History()
    for epoch, row in enumerate(rows):
        history.log_epoch(epoch, row)
    history.log_steps(steps, [0] * len(steps))
    folder = tmp_path_factory.mktemp("prop")
    for suffix in (".jsonl", ".csv"):
        assert lw.History.load(history.save(folder / f"h{suffix}")) == history


def test_a_history_survives_copying_and_pickling_and_grows_after():
    import copy

    history = lw.History("run")
    history.log_epoch(0, {"train": 1.0, "val": 2.0})
    history.log_epoch(1, {"train": 0.5, "acc": 0.9})
    history.log_steps([1.5, 1.25, 0.75], 1)
    for twin in (copy.deepcopy(history), pickle.loads(pickle.dumps(history)), copy.copy(history)):
        assert repr(list(twin.records())) == repr(list(history.records()))  # NaN where not logged, alike
        assert twin.step_train.tolist() == [1.5, 1.25, 0.75] and twin.step_epoch.tolist() == [1, 1, 1]
    twin = copy.deepcopy(history)
    twin.log_epoch(2, {"val": 0.25})  # the copy grows on its own; the original is untouched
    assert twin.epochs.tolist() == [0, 1, 2] and history.epochs.tolist() == [0, 1]
    assert np.isnan(twin.train[2]) and twin.val[2] == 0.25


def test_step_lists_go_in_without_numpy_and_bad_ones_are_refused_whole():
    history = lw.History()
    history.log_steps([1.5, 2, math.nan], 4)  # the recorder's flush: a list and one epoch
    history.log_steps(np.array([0.5]), 5)
    assert history.step_train.tolist()[:2] == [1.5, 2.0] and math.isnan(history.step_train[2])
    assert history.step_epoch.tolist() == [4, 4, 4, 5] and history.last_step_epoch == 5
    before = history.copy()
    with pytest.raises(TypeError, match=r"'train' must be numbers: \[0.25, 'high'\]"):
        history.log_steps([0.25, "high"], 6)
    with pytest.raises(ValueError, match="'epoch' must be <= "):
        history.log_steps([0.25], 2**63)  # beyond what an epoch can be: refused before anything is appended
    assert history == before and history.last_step_epoch == 5
    for _ in range(40):  # grows past the first buffer
        history.log_steps([0.125] * 7, 6)
    assert history.n_steps == 284 and history.step_epoch[-1] == 6 and history.step_train[-1] == 0.125
    assert lw.History().last_step_epoch is None


def test_last_value_reads_the_last_epoch_row():
    history = make_history()
    assert math.isnan(history.last_value("train")) and history.last_value("val") == 0.9
    assert math.isnan(history.last_value("acc"))
