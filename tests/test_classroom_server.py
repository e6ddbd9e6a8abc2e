"""A class in one chart, the tracking-server way: students' processes send their runs to trackio's
self-hosted server (lw.ClassServer), the teacher's view reads it (lw.classroom(link)) as it reads a
folder. The REAL server runs here on 127.0.0.1 (a subprocess; killed and started again mid-class)."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest
from trackio_server import TrackioServer

import losswidget as lw
from losswidget.classroom.folder import TABLE_WORDS, shown
from losswidget.classroom.server_link import ServerGone, ServerRefused, call, parse_link
from losswidget.classroom.server_read import ServerReader

# -- arguments: refused by name before anything is sent ------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "options", "error", "words"),
    [
        (("/shared/lab3",), {}, ValueError, "'url' must be the class server's link"),
        (("http://h:7860/",), {"token": "t"}, ValueError, "the class is missing: give 'project='"),
        (("http://h:7860/?project=lab 3",), {"token": "t"}, ValueError, "'project' must be 1 to 64 letters"),
        (("http://h:7860/?project=lab3",), {}, ValueError, "the write token is missing"),
        (("http://h:7860/?project=lab3&write_token=t", ""), {}, TypeError, "'student' must be a non-empty string"),
        (("http://h:7860/?project=lab3&write_token=t", "ada", {"wd": [1]}), {}, TypeError, r"'settings'\['wd'\]"),
    ],
)
def test_bad_arguments_are_refused_by_name(monkeypatch, arguments, options, error, words):
    monkeypatch.delenv("TRACKIO_WRITE_TOKEN", raising=False)
    with pytest.raises(error, match=words):
        lw.ClassServer(*arguments, **options)


def test_the_token_never_reaches_a_screen():
    link = parse_link("http://h:7860/?project=lab3&write_token=s3cret")
    assert link.token == "s3cret" and "s3cret" not in repr(link) and "s3cret" not in link.shown
    send = lw.ClassServer("http://h:7860/?project=lab3&write_token=s3cret", "ada")
    assert "s3cret" not in send.failure(ServerRefused("no")) and "s3cret" not in send.failure(OSError("x"))


# -- the real server -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("trackio")
    server = TrackioServer(root / "data")
    server.start()
    try:
        lw.open_class(server.link)
        yield server
    finally:
        server.stop()


def test_a_wrong_token_or_a_class_not_opened_is_refused_in_words(server):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wrong = lw.ClassServer(server.link.replace(server.token, "guessed"), "mallory")
        typo = lw.ClassServer(server.link.replace("lab3", "lab33"), "ada")
        monitor = lw.LiveLossMonitor(display="none", outputs=[wrong, typo])
        for epoch in monitor.epochs(4):
            monitor.log(train=1.0, val=1.0 / (epoch + 1))
            if epoch == 0:  # the refusals come back (wait() is False at once then), and are said at a record
                assert not wrong.wait(60) and not typo.wait(60)
    said = [str(warning.message) for warning in caught if "losswidget:" in str(warning.message)]
    assert any("refused this run: its write token is not the one in this link" in text for text in said), said
    assert any("it has no class 'lab33' open (its classes: lab3)" in text for text in said), said
    assert len(monitor.history) == 4  # training went on
    assert all("guessed" not in text for text in said)
    room = lw.Classroom(server.view_link)
    assert all(row.student not in ("mallory",) for row in room.rows())
    with pytest.raises(ServerRefused, match="refused the write token"):
        lw.open_class(server.link.replace(server.token, "guessed"))


STUDENT = """
import json, math, sys, time
import losswidget as lw
link, student, wd, seed, epochs = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
send = lw.ClassServer(link, student=student, settings={"weight_decay": wd, "seed": seed})
monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[send])
for epoch in monitor.epochs(epochs):
    val = 0.4 + 0.5 / (epoch + 1) + wd * epoch + 0.01 * ((seed * 7 + epoch * 3) % 5)
    if student == "absurd" and epoch == 3:
        val = 1e300
    monitor.log(train=0.3 + 0.5 / (epoch + 1), val=val)
    time.sleep(0.1)  # a second or so of training: the view sees the runs grow
ok = send.wait(60)
print(json.dumps({"run_id": send.run_id, "val": [None if math.isnan(v) else v for v in monitor.history.val],
                  "ok": ok, "best_epoch": monitor.best_epoch, "diagnosis": lw.diagnose(monitor.history).kind}), flush=True)
"""

CLASS = [  # (student, weight decay, seed, epochs): a duplicate name, markup, 10 000 characters, 1e300
    ("ada", 0.01, 1, 12),
    ("ada", 0.0, 2, 12),
    ("<script>alert(1)</script>", 0.01, 3, 12),
    ("x" * 10_000, 0.0, 4, 12),
    ("absurd", 0.0, 5, 12),
]


def test_students_in_separate_processes_each_keep_every_epoch_in_the_view(server, tmp_path):
    script = tmp_path / "student.py"
    script.write_text(textwrap.dedent(STUDENT))
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), server.link, name, str(wd), str(seed), str(epochs)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, wd, seed, epochs in CLASS
    ]
    room = lw.Classroom(server.view_link, group_by="weight_decay")
    seen_running = False
    sent = []
    try:
        while any(process.poll() is None for process in processes):
            room.poll()
            seen_running |= any(row.state == "running" and 0 < len(row.val) < 12 for row in room.rows())
            time.sleep(0.1)
        for process in processes:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            sent.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for process in processes:
            process.kill()
            process.communicate()
    assert seen_running  # the view followed the runs as they grew
    room.poll()
    rows = {row.source: row for row in room.rows()}
    for (name, wd, seed, _epochs), result in zip(CLASS, sent):
        assert result["ok"]
        row = rows[f"server run {result['run_id'][:12]}"]
        expected = [math.nan if value is None else value for value in result["val"]]
        np.testing.assert_array_equal(row.val, expected)  # every epoch, as sent (1e300 included)
        assert row.student == shown(name if len(name) <= 200 else name[:199] + "…")
        assert row.settings == {"weight_decay": wd, "seed": seed} and row.state == "finished"
        assert row.stop == "all epochs" and row.best == np.nanmin(expected)
        assert row.best_epoch == result["best_epoch"]  # the student's own chart names the same epoch
        assert row.diagnosis == TABLE_WORDS.get(result["diagnosis"], result["diagnosis"])  # in a teacher's words
    assert sum(row.student == "ada" for row in rows.values()) == 2  # one name, two runs
    assert "&lt;script&gt;" in room.html() and "<script>" not in room.html()
    assert "over 3 runs" in room.sentence() and "over 2 runs" in room.sentence()


def test_what_a_rogue_client_writes_becomes_words_never_an_error_of_the_view(server):
    link = parse_link(server.link)
    rogue = {"project": link.project, "run": "y" * 10_000, "run_id": "rogue-1"}
    logs = [
        {**rogue, "metrics": {"val": 0.5, "train": "inf"}, "step": 0, "config": {"student": ["not", "a", "name"]}},
        {**rogue, "metrics": {"val": "hello"}, "step": 1},
        {**rogue, "metrics": {"val": float("nan")}, "step": 2},
        {**rogue, "metrics": {"val": 0.4}, "step": 5},
    ]
    call(link, "bulk_log", {"logs": logs, "hf_token": None}, write=True)
    room = lw.Classroom(server.view_link)
    row = next(row for row in room.rows() if row.source == "server run rogue-1")
    assert row.val.tolist()[0] == 0.5 and row.val.tolist()[-1] == 0.4 and len(row.val) == 3
    assert row.problems and "1 records not read (epoch 1: not a number: 'hello')" in row.problems[0]
    assert len(row.student) <= 40
    text = repr(room)
    assert "records not read" in text


def test_the_server_restarted_mid_class_loses_nothing_and_says_so_once(server):
    send = lw.ClassServer(server.link, student="rita", settings={"weight_decay": 0.001})
    restart = threading.Thread(target=server.start)
    statuses = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[send])
        for epoch in monitor.epochs(60):
            if epoch == 5:
                server.stop()
            if epoch == 15:
                statuses.append(" ".join(monitor.status_lines) + " " + str(monitor.explain()))
                restart.start()
            if epoch == 30:
                restart.join(timeout=120)
            monitor.log(train=1.0 / (epoch + 1), val=0.5 + 1.0 / (epoch + 1))
            time.sleep(0.02)
    assert send.wait(60)
    gone = [w for w in caught if "cannot be reached" in str(w.message)]
    assert len(gone) == 1 and str(gone[0].message).startswith("losswidget: The class server")
    assert "cannot be reached" in statuses[0]  # the status said it while it was gone
    assert send.notice is None  # and says nothing once it is back
    room = lw.Classroom(server.view_link)
    row = next(row for row in room.rows() if row.source == f"server run {send.run_id[:12]}")
    assert row.val.tolist() == monitor.history.val.tolist() and len(row.val) == 60
    assert row.train.tolist() == monitor.history.train.tolist()  # the training curve a click shows
    assert row.state == "finished"


def test_the_view_keeps_what_it_read_when_the_server_is_gone_or_a_run_is_deleted(server):
    send = lw.ClassServer(server.link, student="del")
    monitor = lw.LiveLossMonitor(display="none", outputs=[send])
    for epoch in monitor.epochs(3):
        monitor.log(train=1.0, val=1.0 / (epoch + 1))
    assert send.wait(30)
    room = lw.Classroom(server.view_link)
    source = f"server run {send.run_id[:12]}"
    assert any(row.source == source for row in room.rows())
    call(parse_link(server.link), "delete_run", {"project": "lab3", "run": "del", "run_id": send.run_id}, write=True)
    room.poll()
    row = next(row for row in room.rows() if row.source == source)
    assert row.state == "removed from the server (shown as last read)" and len(row.val) == 3
    server.stop()
    try:
        assert room.poll()  # the server's state changed: said
        assert any("cannot be reached" in note for note in room.problems())
        assert len(room.rows()) >= 1 and any(row.source == source for row in room.rows())
        with pytest.raises(ServerGone):
            call(parse_link(server.view_link), "get_all_projects", {}, timeout=2)
    finally:
        server.start()
    room.poll()
    assert not any("cannot be reached" in note for note in room.problems())


def test_a_class_not_opened_is_said_by_the_view(server):
    reader = ServerReader(parse_link(server.view_link.replace("lab3", "lab4")))
    reader.poll()
    assert reader.problem and "the class 'lab4' is not open" in reader.problem


def test_a_server_that_never_answers_never_slows_or_stops_training():
    with socket.socket() as hung:  # accepts connections (the kernel's backlog) and never answers
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        port = hung.getsockname()[1]
        send = lw.ClassServer(f"http://127.0.0.1:{port}/?project=lab3&write_token=t", "hana")
        send.timeout = 0.5
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[send])
            for epoch in monitor.epochs(30):
                monitor.log(train=1.0, val=1.0 / (epoch + 1))
                if epoch == 0:
                    deadline = time.monotonic() + 60
                    while send.notice is None and time.monotonic() < deadline:
                        time.sleep(0.05)  # the first try's timeout; training goes on after it
        assert len(monitor.history) == 30  # every epoch trained and logged
        assert send.notice and "cannot be reached (no answer within 0.5 s)" in send.notice
        assert len([w for w in caught if "cannot be reached" in str(w.message)]) == 1
        assert not any("turned off" in str(w.message) or "refused" in str(w.message) for w in caught)
        assert not send.wait(0.2)  # nothing arrived, and it is still waiting to go


def test_a_student_killed_mid_run_keeps_what_it_sent_and_is_called_silent(server, tmp_path):
    script = tmp_path / "student.py"
    script.write_text(textwrap.dedent(STUDENT))
    process = subprocess.Popen(
        [sys.executable, str(script), server.link, "kim", "0.0", "9", "1000000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    room = lw.Classroom(server.view_link, silent_after=1.0)
    try:
        deadline = time.monotonic() + 120
        while not any(row.student == "kim" and len(row.val) >= 3 for row in room.rows()):
            assert time.monotonic() < deadline and process.poll() is None, "kim never sent 3 epochs"
            time.sleep(0.1)
            room.poll()
    finally:
        process.kill()  # as a student's kernel restart would
        process.communicate(timeout=60)
    room.poll()
    sent = len(next(row for row in room.rows() if row.student == "kim").val)
    time.sleep(1.5)
    room.poll()
    row = next(row for row in room.rows() if row.student == "kim")
    assert row.state.startswith("silent for") and len(row.val) >= sent >= 3 and row.stop == "-"


def test_a_new_run_of_one_monitor_is_a_run_of_its_own(server):
    send = lw.ClassServer(server.link, student="nina", settings={"weight_decay": 0.0})
    monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[send])
    for epoch in monitor.epochs(3):
        monitor.log(train=1.0, val=1.0 / (epoch + 1))
    first = send.run_id
    monitor.new_run("wider")
    for epoch in monitor.epochs(4):
        monitor.log(train=1.0, val=0.5 / (epoch + 1))
    assert send.wait(30) and send.run_id != first
    rows = {row.source: row for row in lw.Classroom(server.view_link).rows()}
    assert len(rows[f"server run {first[:12]}"].val) == 3 and len(rows[f"server run {send.run_id[:12]}"].val) == 4
    assert rows[f"server run {first[:12]}"].state == rows[f"server run {send.run_id[:12]}"].state == "finished"


class Flaky(lw.Output):
    """An output whose destination goes away at epoch 2 and comes back at epoch 5."""

    name = "flaky"

    def epoch(self, epoch, values, steps):
        self.notice = "The flaky destination is away; its records wait." if 2 <= epoch < 5 else None


def test_an_outputs_notice_is_in_the_status_while_it_holds_and_warned_once():
    flaky = Flaky()
    shown_at = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        monitor = lw.LiveLossMonitor(display="none", patience=None, outputs=[flaky])
        for epoch in monitor.epochs(8):
            monitor.log(train=1.0, val=1.0 / (epoch + 1))
            deadline = time.monotonic() + 30
            while (flaky.notice is not None) != (2 <= epoch < 5) and time.monotonic() < deadline:
                time.sleep(0.01)  # the output's own thread took the record
            shown_at[epoch] = "flaky destination is away" in " ".join(monitor.status_lines)
    said = [str(w.message) for w in caught if "flaky destination" in str(w.message)]
    assert said == ["losswidget: The flaky destination is away; its records wait."]
    assert [epoch for epoch, shown in shown_at.items() if shown] == [2, 3, 4]


def test_a_class_split_between_a_folder_and_the_server_is_one_table_and_one_sentence(server, tmp_path):
    sent = lw.ClassServer(server.link, student="on the server", settings={"split": "yes"})
    monitor = lw.LiveLossMonitor(display="none", outputs=[sent])
    for epoch in monitor.epochs(3):
        monitor.log(train=1.0, val=0.6 - 0.1 * epoch)
    assert sent.wait(30)
    monitor = lw.LiveLossMonitor(display="none", outputs=[lw.ClassFolder(tmp_path, "in the folder", {"split": "yes"})])
    for epoch in monitor.epochs(3):
        monitor.log(train=1.0, val=0.7 - 0.1 * epoch)
    room = lw.Classroom([tmp_path, server.view_link], group_by="split")
    split = {row.student: row for row in room.rows() if row.settings.get("split") == "yes"}
    assert split["in the folder"].source == "in_the_folder.jsonl"
    assert split["on the server"].source == f"server run {sent.run_id[:12]}"
    assert room.summary().startswith(f"A class of {len(room.rows())} runs ({tmp_path} and {server.view_link}):")
    server.stop()
    try:
        room.poll()
        notes = room.problems()
        assert any(note.startswith(f"the class server {server.view_link} cannot be reached") for note in notes), notes
        assert {"in the folder", "on the server"} <= {row.student for row in room.rows()}  # both kept
    finally:
        server.start()
    room.poll()
    assert not any("cannot be reached" in note for note in room.problems())
