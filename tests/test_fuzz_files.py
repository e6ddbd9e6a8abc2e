"""Any bytes whatsoever in a history file, a control file or a followed log: a history, the one
documented error (HistoryFileError, naming the file and the line), or for a control file no
request. Never another exception, never a dead watcher."""

from __future__ import annotations

import csv
import json
import time
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import losswidget as lw
from losswidget.core.history_files import HistoryFileError
from losswidget.files.control import ControlFile, read_request, write_request
from losswidget.files.follower import FileFollower

HEADER = json.dumps({"format": "losswidget-history", "version": 1, "name": "r"})
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)
records = st.fixed_dictionaries(
    {"kind": st.sampled_from(["epoch", "steps", "end", "other"]), "epoch": json_values},
    optional={"values": json_values, "train": json_values},
)


def load_quietly(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a torn last line loads with a warning
        return lw.History.load(path)


def loads_or_says_why(path) -> None:
    try:
        history = load_quietly(path)
    except HistoryFileError as error:
        assert str(path) in str(error)
        assert "line" in str(error) or "UTF-8" in str(error) or "step rows" in str(error)
    else:
        assert isinstance(history, lw.History)


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".jsonl", ".csv"]))
def test_any_bytes(tmp_path, data, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    loads_or_says_why(path)


@FUZZ
@given(lines=st.lists(records.map(json.dumps) | st.text(max_size=30), max_size=6), torn=st.booleans())
def test_jsonl_with_a_valid_header_and_any_records(tmp_path, lines, torn):
    path = tmp_path / "fuzz.jsonl"
    path.write_text("\n".join([HEADER, *lines]) + ("" if torn else "\n"))
    loads_or_says_why(path)


@FUZZ
@given(rows=st.lists(st.lists(st.text(max_size=10), min_size=1, max_size=6), max_size=6))
def test_csv_with_a_valid_header_and_any_rows(tmp_path, rows):
    path = tmp_path / "fuzz.csv"
    path.write_text("kind,epoch,step,train,val\n" + "\n".join(",".join(row) for row in rows) + "\n")
    loads_or_says_why(path)


CSV_HEADER = "kind,epoch,step,train,val\n"


@pytest.mark.parametrize(
    ("suffix", "content", "message"),
    [
        (
            ".jsonl",
            HEADER + "\n" + "[" * 100_000 + "]" * 100_000 + "\n{}\n",
            r"line 2: not valid JSON \(nested too deeply\)",
        ),
        (".jsonl", HEADER + "\n" + '{"kind": "epoch", "epoch": 0, "values": {"val": 1' + "0" * 400 + "}}\n", "line 2"),
        (".jsonl", HEADER + "\n" + '{"kind": "epoch", "epoch": 1e400, "values": {}}\n', "line 2"),
        (".jsonl", HEADER + "\n" + '{"kind": "steps", "epoch": [0], "train": ["x" ]}\n', "line 2"),
        (".jsonl", '{"format": "losswidget-history", "version": 99}\n', "newer losswidget"),
        (".csv", CSV_HEADER + "epoch,0,,1.0\x00,2.0\n", "line 2: not a losswidget history row"),
        (".csv", CSV_HEADER + 'epoch,0,,"' + "9" * 200_000 + '",1\n', "line 2: not valid CSV"),
        (".csv", CSV_HEADER + "epoch," + "9" * 5000 + ",,1,1\n", "line 2"),
        (".csv", CSV_HEADER + "step,-3,0,1,\n", "step rows"),
    ],
)
def test_odd_contents_name_the_file_and_line(tmp_path, suffix, content, message):
    path = tmp_path / f"odd{suffix}"
    path.write_text(content)
    with pytest.raises(HistoryFileError, match=message):
        load_quietly(path)


@FUZZ
@given(data=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_control_file_is_no_request_or_a_request(tmp_path, data):
    path = tmp_path / "job.control.json"
    path.write_bytes(data)
    request = read_request(path)
    assert isinstance(request, dict)


def test_hostile_control_files_never_reach_the_training_loop(tmp_path):
    log = tmp_path / "job.jsonl"
    monitor = lw.LiveLossMonitor(patience=5, log_file=log, display="none")
    control = ControlFile(log).path
    hostile = [
        b"[" * 200_000,
        json.dumps({"version": 1, "patience": 10**100, "stop": {"reason": ["x"]}}).encode(),
        json.dumps({"version": 1, "patience": -3, "stop": "yes"}).encode(),
        json.dumps({"version": 1, "patience": True, "stop": {"reason": "x" * 100_000}}).encode(),
        b"x" * 200_000,
    ]
    for epoch, content in zip(monitor.epochs(len(hostile)), hostile):
        control.write_bytes(content)
        time.sleep(0.06)
        monitor.log_step(train=1.0)
        monitor.log(val=1.0 / (epoch + 1))
    assert monitor.patience == 5
    assert monitor.stop_code is lw.StopReason.USER  # the fourth asked to stop, with a long reason
    assert len(monitor.stopped_reason) <= 500
    write_request(control, patience=2)  # a real request still works afterwards
    assert read_request(control)["patience"] == 2


def test_the_watcher_follows_a_live_file_through_garbage(tmp_path):
    path = tmp_path / "live.jsonl"
    watcher = lw.watch(path, interval=0.05, display="none")
    try:
        epoch = lambda e: json.dumps({"kind": "epoch", "epoch": e, "values": {"val": 1.0 / (e + 1)}})  # noqa: E731
        with open(path, "w") as stream:
            stream.write(HEADER + "\n" + epoch(0) + "\n")
            stream.flush()
            for garbage in (
                "[" * 100_000,
                '{"kind": "epoch", "epoch": 1e999}',
                "\x00\xff",
                '{"kind": "steps"}',
                epoch(1),
            ):
                stream.write(garbage + "\n")
                stream.flush()
                time.sleep(0.12)
        deadline = time.monotonic() + 10
        while len(watcher.history) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert watcher.history.epochs.tolist() == [0, 1]  # later records still followed
        assert watcher._thread.is_alive()
        assert "could not be read" in watcher.status_lines[0]
    finally:
        watcher.close()


def test_a_follower_reads_a_file_of_random_bytes_without_dying(tmp_path):
    path = tmp_path / "noise.jsonl"
    path.write_bytes(bytes(range(256)) * 40)
    follower = FileFollower(path)
    follower.poll()
    assert follower.problem


metric_names = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf", "Co", "Cn")), min_size=1, max_size=200
).filter(lambda name: name.isprintable() and name not in ("train", "val", "epoch", "step", "kind"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(metric_names, min_size=1, max_size=5, unique=True), suffix=st.sampled_from([".csv", ".jsonl"]))
def test_every_name_a_history_accepts_comes_back_from_its_own_files(tmp_path, names, suffix):
    history = lw.History()
    try:
        history.log_epoch(0, {name: float(i) for i, name in enumerate(names)})
    except ValueError:  # a reserved name: refused by name, nothing recorded
        assert len(history) == 0
        return
    path = history.save(tmp_path / f"run{suffix}")
    if suffix == ".csv":  # no header cell a spreadsheet would run as a formula
        with open(path, encoding="utf-8", newline="") as stream:
            header = next(csv.reader(stream))
        assert not any(cell[:1] in ("=", "+", "-", "@") for cell in header if cell)
    assert lw.History.load(path) == history
