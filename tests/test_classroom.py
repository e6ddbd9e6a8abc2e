"""A class in one chart, the shared-folder way: students' processes send their runs to one folder
(lw.ClassFolder), the teacher's view (lw.Classroom) follows it and says the groups' run-to-run
spread. The statistics are table-tested; the folder is written by real training processes."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import losswidget as lw
from losswidget.classroom.chart import CURVE_POINTS, caption, y_range
from losswidget.classroom.folder import TABLE_WORDS, compared
from losswidget.classroom.send import FILE_STEM, file_stem
from losswidget.core.groups import (
    MEANING,
    Group,
    Spread,
    class_groups,
    compare,
    format_pm,
    group_label,
    mean_curve,
    sentence,
    shared_epoch,
    spread,
    t_cutoff,
    welch_df,
)

# -- the statistics: mean and standard error across runs, the difference in standard errors --------


@pytest.mark.parametrize(
    ("values", "n", "mean", "se"),
    [
        ([0.4, 0.42, 0.44], 3, 0.42, 0.02 / math.sqrt(3)),  # sd 0.02
        ([1.0, 3.0], 2, 2.0, 1.0),  # sd sqrt(2), / sqrt(2)
        ([0.5], 1, 0.5, math.nan),  # one run: the spread is unknown
        ([0.5, math.nan, math.inf, 0.7], 2, 0.6, 0.1),  # NaN and inf left out
        ([], 0, math.nan, math.nan),
    ],
)
def test_spread_is_the_mean_and_its_standard_error_across_runs(values, n, mean, se):
    got = spread(values)
    assert got.n == n
    np.testing.assert_allclose([got.mean, got.se], [mean, se], rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize(
    ("a", "b", "difference", "units"),
    [
        (Spread(9, 0.41, 0.02), Spread(10, 0.47, 0.03), 0.06, 0.06 / math.hypot(0.02, 0.03)),  # 1.66
        (Spread(5, 0.50, 0.01), Spread(5, 0.40, 0.01), 0.10, 0.10 / math.hypot(0.01, 0.01)),  # order
        (Spread(1, 0.40, math.nan), Spread(4, 0.5, 0.01), 0.10, math.nan),  # one run: unknown
        (Spread(3, 0.40, 0.0), Spread(3, 0.5, 0.0), 0.10, math.inf),  # runs that did not vary
    ],
)
def test_the_difference_is_counted_in_standard_errors_of_the_difference(a, b, difference, units):
    comparison = compare(Group("a", a), Group("b", b))
    assert comparison.better.best.mean == min(a.mean, b.mean)
    np.testing.assert_allclose([comparison.difference, comparison.units], [difference, units], equal_nan=True)
    assert comparison.clear == (units >= t_cutoff(welch_df(a, b)))


@pytest.mark.parametrize(
    ("df", "quantile"),
    [(1, 12.706), (2, 4.303), (4, 2.776), (10, 2.228), (30, 2.042), (math.inf, 1.960), (2.5, 3.575), (7.3, 2.347)],
)
def test_the_cutoff_is_students_t_at_0975_for_any_degrees_of_freedom(df, quantile):
    # known values (tables; scipy.stats.t.ppf(0.975, df) for 2.5 and 7.3): within 0.4 %
    assert t_cutoff(df) == pytest.approx(quantile, rel=4e-3)


def test_welch_degrees_of_freedom_for_three_runs_a_group_give_a_cutoff_near_28():
    equal = welch_df(Spread(3, 0.4, 0.01), Spread(3, 0.5, 0.01))
    assert equal == pytest.approx(4.0)  # equal spreads: n_a + n_b - 2
    unequal = welch_df(Spread(3, 0.4, 0.01), Spread(3, 0.5, 0.03))
    assert 2.0 < unequal < 4.0  # one group's spread dominates: fewer degrees of freedom
    assert 2.78 <= t_cutoff(unequal) <= 4.3
    assert math.isnan(welch_df(Spread(1, 0.4, math.nan), Spread(3, 0.5, 0.01)))


def test_three_runs_a_group_at_25_standard_errors_are_not_clear_yet():
    # 2.5 standard errors passes the large-sample 2 but not t(4 df) = 2.78
    groups = [Group("a", Spread(3, 0.40, 0.02)), Group("b", Spread(3, 0.40 + 2.5 * math.hypot(0.02, 0.02), 0.02))]
    comparison = compare(*groups)
    assert comparison.units == pytest.approx(2.5) and not comparison.clear
    assert sentence(groups).endswith(
        "2.5 standard errors, below the 2.8 that these two groups of 3 runs need with their spreads: not clear yet."
    )


@pytest.mark.parametrize(
    ("mean", "se", "text"),
    [
        (0.4123, 0.0213, ("0.412", "0.021")),  # the mean's third digit: differences between means can be checked
        (0.4123, 0.0153, ("0.412", "0.015")),  # a leading 1 keeps two digits
        (0.6780, 0.0497, ("0.678", "0.050")),  # lesson 17: 0.678 - 0.615 is the +0.063 the sentence quotes
        (0.41234, 0.00021, ("0.4123", "0.0002")),  # the standard error finer than the mean's third digit
        (1e-5, 1.0, ("0.000", "1.000")),  # at most 2 places finer than the standard error's
        (12.345, 0.6, ("12.3", "0.6")),
        (123.4, 30.0, ("123", "30")),
        (0.5, math.nan, ("0.5", "?")),
        (1e300, 1e299, ("1e+300", "1e+299")),
    ],
)
def test_mean_and_standard_error_are_written_to_the_same_place(mean, se, text):
    assert format_pm(mean, se) == text


def test_the_sentence_says_each_group_and_the_difference_with_the_numbers_computed():
    wd = [0.40, 0.43, 0.41, 0.39, 0.42]
    none = [0.47, 0.44, 0.49, 0.46]
    groups = [Group("none", spread(none)), Group("weight decay 0.001", spread(wd))]
    said = sentence(groups)
    a, b = spread(wd), spread(none)
    units = (b.mean - a.mean) / math.hypot(a.se, b.se)
    wd_mean, wd_se = format_pm(a.mean, a.se)
    none_mean, none_se = format_pm(b.mean, b.se)
    assert said == (
        f"weight decay 0.001: best {wd_mean} ± {wd_se} over 5 runs; none: best {none_mean} ± {none_se} over 4 runs; "
        f"the difference is {b.mean - a.mean:.2g}, {units:.1f} standard errors, above the "
        f"{t_cutoff(welch_df(a, b)):.1f} that groups of 4 and 5 runs need with their spreads: clear."
    )
    close = [Group("a", Spread(9, 0.41, 0.02)), Group("b", Spread(10, 0.47, 0.03))]
    assert sentence(close).endswith(
        "the difference is 0.06, 1.7 standard errors, below the 2.1 that groups of 9 and 10 runs need with their spreads: not clear yet."
    )
    assert sentence([Group("a", Spread(1, 0.4, math.nan)), Group("b", Spread(3, 0.5, 0.01))]).endswith(
        "how clear it is needs 2 runs in each group."
    )
    assert sentence([]) == "No runs yet."


def test_with_three_groups_every_group_is_tested_against_the_lowest_each_with_its_own_verdict():
    # Lesson 17's pair the students predicted (a large weight decay vs none) is the lowest against the
    # highest: the sentence must test it, not only the lowest two.
    low, near, far = Spread(3, 0.300, 0.010), Spread(3, 0.305, 0.012), Spread(3, 0.412, 0.008)
    groups = [Group("weight decay 0", far), Group("weight decay 0.1", near), Group("weight decay 0.5", low)]
    said = sentence(groups)
    first, second = compare(groups[2], groups[1]), compare(groups[2], groups[0])
    assert said.endswith(
        ". Each against weight decay 0.5 (the lowest): "
        f"weight decay 0.1 +0.005, {first.units:.1f} standard errors, below the {first.cutoff:.1f} that these "
        "two groups of 3 runs need with their spreads: not clear yet; "
        f"weight decay 0 +0.11, {second.units:.1f} standard errors, above the {second.cutoff:.1f} that these "
        "two groups of 3 runs need with their spreads: clear."
    ), said
    assert not first.clear and second.clear and "lowest two" not in said
    # A group whose spread is unknown says so in its own clause; the others keep their verdicts.
    single = sentence([*groups, Group("weight decay 1", Spread(1, 0.5, math.nan))])
    assert "weight decay 1 +0.2: how clear it is needs 2 runs in each group." in single
    assert single.count("that these two groups of 3 runs need") == 2


def test_the_class_is_compared_at_the_last_epoch_every_run_reached_and_the_lowest_points_come_second():
    # Lesson 17's class: no weight decay has the lowest lowest-points but rises most after them; the
    # sentence must name the winner at the one shared epoch, not the flattering lowest points.
    rise = {"weight decay 0": (0.57, 0.73), "weight decay 0.5": (0.59, 0.61)}
    runs = []
    for label, (low, end) in rise.items():
        for shift in (-0.006, 0.0, 0.008):
            val = np.r_[np.linspace(1.0, low + shift, 15), np.linspace(low + shift, end + shift, 15)]
            runs.append((label, np.arange(30), val, low + shift))
    runs.append(("weight decay 0.5", np.arange(31), np.r_[runs[-1][2], 0.5], 0.5 - 0.09))  # one epoch more
    runs[0] = ("weight decay 0", np.arange(30), np.r_[runs[0][2][:29], np.nan], runs[0][3])  # the last is NaN
    groups, epoch = class_groups(runs)
    assert epoch == 28 == shared_epoch((epochs, val) for _, epochs, val, _ in runs)
    at = {label: spread([val[28] for name, _, val, _ in runs if name == label]) for label in rise}
    best = {label: spread([low for name, _, _, low in runs if name == label]) for label in rise}
    assert {g.label: (g.last, g.best) for g in groups} == {label: (at[label], best[label]) for label in rise}
    said = sentence(groups, epoch)
    c = compare(Group("weight decay 0.5", at["weight decay 0.5"]), Group("weight decay 0", at["weight decay 0"]))
    mean, se = format_pm(at["weight decay 0.5"].mean, at["weight decay 0.5"].se)
    assert said.startswith(
        f"At epoch 28, the last epoch every run reached: weight decay 0.5: {mean} ± {se} over 4 runs; weight decay 0: "
    ), said
    assert f"the difference is {c.difference:.2g}, {c.units:.1f} standard errors, above the {c.cutoff:.1f}" in said
    assert said.endswith(
        "Each run's lowest point, averaged (it flatters): "
        f"weight decay 0.5 {best['weight decay 0.5'].mean:.3g}, weight decay 0 {best['weight decay 0'].mean:.3g}."
    ), said
    assert sentence(groups) == sentence([Group(g.label, g.best) for g in groups])  # no epoch: the lowest points
    assert class_groups([("a", [0, 1], [math.nan, math.nan], math.nan)]) == ([Group("a", spread([math.nan]))], None)
    assert "one standard error of the group's mean (from the run-to-run spread)" in MEANING
    # The averaged lowest points are written without ±, and the footnote says so rather than give them one.
    assert "± " not in said.split("Each run's lowest point")[1] and "averaged lowest points" in MEANING
    assert "carry no ±" in MEANING


def test_the_mean_curve_averages_the_runs_that_reached_each_epoch():
    curves = [([0, 1, 2], [1.0, 0.8, 0.6]), ([0, 1], [3.0, np.nan]), ([0, 1, 2, 3], [2.0, 1.2, 1.0, 0.9])]
    epochs, mean, se, count = mean_curve(curves)
    assert epochs.tolist() == [0, 1, 2, 3]
    assert count.tolist() == [3, 2, 2, 1]
    np.testing.assert_allclose(mean, [2.0, 1.0, 0.8, 0.9])
    np.testing.assert_allclose(se[:3], [np.std([1, 3, 2], ddof=1) / math.sqrt(3), 0.2, 0.2])
    assert math.isnan(se[3])


@pytest.mark.parametrize(
    ("settings", "label"),
    [
        ({"weight_decay": 0.001}, "weight decay 0.001"),
        ({"weight_decay": None}, "none"),
        ({}, "weight decay not set"),
        ({"weight_decay": "x" * 100}, "weight decay " + "x" * 39 + "…"),
    ],
)
def test_a_group_is_named_by_its_setting(settings, label):
    assert group_label("weight_decay", settings) == label


# -- the student's side: names, arguments ------------------------------------------------------


@pytest.mark.parametrize(
    ("student", "stem"),
    [
        ("ada", "ada"),
        ("<script>alert(1)</script>", "script_alert_1_script"),
        ("../../etc/passwd", "etc_passwd"),
        ("Zoë Lovelace", "Zoe_Lovelace"),
        ("...", "student"),
        ("x" * 10_000, "x" * FILE_STEM),
    ],
)
def test_a_student_name_becomes_a_safe_file_name(student, stem):
    assert file_stem(student) == stem


@pytest.mark.parametrize(
    ("arguments", "error", "words"),
    [
        ({"folder": 3}, TypeError, "'folder' must be a file path"),
        ({"folder": "f", "student": ""}, TypeError, "'student' must be a non-empty string or None: ''"),
        ({"folder": "f", "settings": [1]}, TypeError, "'settings' must be a dict"),
        ({"folder": "f", "settings": {"wd": [1, 2]}}, TypeError, "'settings'['wd'] must be a number"),
        ({"folder": "f", "settings": {"wd": math.nan}}, ValueError, "'settings'['wd'] must be finite: nan"),
    ],
)
def test_bad_arguments_are_refused_by_name(arguments, error, words):
    with pytest.raises(error, match=re.escape(words)):
        lw.ClassFolder(**arguments)


@pytest.mark.parametrize(
    ("arguments", "error", "words"),
    [
        ({"group_by": 3}, TypeError, "'group_by' must be a setting's name"),
        ({"max_runs": 0}, ValueError, "'max_runs' must be >= 1"),
        ({"select": "ada"}, TypeError, "'select' must be a list of student names"),
    ],
)
def test_the_view_refuses_bad_arguments_by_name(tmp_path, arguments, error, words):
    with pytest.raises(error, match=re.escape(words)):
        lw.Classroom(tmp_path, **arguments)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(NotADirectoryError, match="'folder' must be a folder"):
        lw.Classroom(tmp_path / "file.txt")


@pytest.mark.parametrize(
    ("where", "error", "words"),
    [
        ([], ValueError, "'folder' must name at least one class folder or class server's link: got an empty list"),
        (3, TypeError, "'folder' must be a folder, a class server's link, or a list of them: 3 (int)"),
        ({"a": 1}, TypeError, "'folder' must be a folder, a class server's link, or a list of them"),
        (["x"] * 17, ValueError, "'folder' may list up to 16 folders and links: got 17"),
        (["a", 3], TypeError, "'folder' must be a file path"),
        (["a", "./a"], ValueError, "'folder' lists './a' twice: every run would be shown twice"),
        (["a", "http://localhost:1/?project=lab3", "http://localhost:1/?project=lab3"], ValueError, "twice"),
    ],
)
def test_a_list_of_sources_is_checked_before_anything_is_read(tmp_path, monkeypatch, where, error, words):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=re.escape(words)):
        lw.Classroom(where)


def send(folder: Path, student: str, vals, settings=None) -> lw.LiveLossMonitor:
    monitor = lw.LiveLossMonitor(display="none", outputs=[lw.ClassFolder(folder, student, settings)])
    for epoch in monitor.epochs(len(vals)):
        monitor.log(train=vals[epoch] * 0.9, val=vals[epoch])
    return monitor


def test_two_students_of_one_name_get_two_files(tmp_path):
    send(tmp_path, "ada", [0.5, 0.4])
    send(tmp_path, "ada", [0.9, 0.8, 0.7])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ada.2.jsonl", "ada.jsonl"]
    assert len(lw.History.load(tmp_path / "ada.jsonl")) == 2  # the first kept what it sent
    assert len(lw.History.load(tmp_path / "ada.2.jsonl")) == 3
    header = json.loads((tmp_path / "ada.2.jsonl").read_text().splitlines()[0])
    assert header["student"] == "ada" and header["settings"] == {}


def test_a_class_folder_that_cannot_be_written_never_stops_training(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the class folder should be")
    # The class folder is written on its output's own thread: its failure is said at the next record.
    with pytest.warns(UserWarning, match="losswidget: The class folder .* could not be written"):
        monitor = lw.LiveLossMonitor(display="none", outputs=[lw.ClassFolder(blocker / "lab", "ada")])
        for epoch in monitor.epochs(3):
            monitor.log(train=1.0 / (epoch + 1), val=1.0 / (epoch + 1))
    assert len(monitor.history) == 3 and not blocker.is_dir()


# -- the teacher's side: faults and bad input are words, never an error ------------------------


def test_bad_input_in_the_folder_becomes_words_and_never_breaks_the_view(tmp_path):
    send(tmp_path, "ada", [0.5, 0.4, 0.45], {"weight_decay": 0.001})
    (tmp_path / "notes.jsonl").write_text("these are my notes, not a run\n")
    hostile = {
        "format": "losswidget-history",
        "version": 1,
        "name": "<img src=x onerror=alert(1)>" + "y" * 10_000,
        "student": "<img src=x onerror=alert(1)>" + "y" * 10_000,
        "settings": {"weight_decay": [[1, 2], {"x": 3}]},
    }
    lines = [json.dumps(hostile)]
    lines += [json.dumps({"kind": "epoch", "epoch": e, "values": {"val": v}}) for e, v in [(0, 1e300), (1, None)]]
    lines += [json.dumps({"kind": "epoch", "epoch": 1_000_000, "values": {"val": 0.3}}), "{not json}"]
    lines += [json.dumps({"kind": "epoch", "epoch": 1_000_001, "values": {"val": 0.2}}), '{"kind": "epo']
    (tmp_path / "mallory.jsonl").write_text("\n".join(lines))
    room = lw.Classroom(tmp_path, group_by="weight_decay")
    rows = {row.source: row for row in room.rows()}
    assert set(rows) == {"ada.jsonl", "mallory.jsonl"}
    mallory = rows["mallory.jsonl"]
    assert len(mallory.student) <= 40 and mallory.student.startswith("<img")
    assert (mallory.best_epoch, mallory.best) == (1_000_001, 0.2)  # every good record kept
    assert any("mallory.jsonl" in p and "could not be read" in p for p in room.problems())
    assert any(p.startswith("notes.jsonl: not a run") for p in room.problems())
    page = room.html()
    assert "<img" not in page and "&lt;img src=x" in page
    text = repr(room)
    assert "Note: notes.jsonl: not a run" in text
    assert "weight decay [[1, 2], {'x': 3}]" in room.sentence()  # an odd setting's value, as text
    frame = room.frame()
    assert len(frame.students) == 2 and all(c.x.size <= CURVE_POINTS for c in frame.students)
    assert frame.y_range is not None and frame.y_range[1] < 1.0  # mallory's 1e300 squashes no one's curve
    room.widget()
    assert room._chart.y_scale.max == frame.y_range[1]


def test_two_folders_are_one_class_each_run_once_and_a_folders_problem_names_it(tmp_path):
    lab, other = tmp_path / "lab", tmp_path / "other"
    send(lab, "ada", [0.5, 0.4], {"weight_decay": 0.1})
    send(other, "bob", [0.6, 0.45, 0.42], {"weight_decay": 0.1})
    send(other, "cy", [0.9, 0.8], {"weight_decay": 0.0})
    room = lw.Classroom([lab, str(other)], group_by="weight_decay")
    assert [(row.student, row.source) for row in room.rows()] == [
        ("ada", "ada.jsonl"),
        ("bob", "bob.jsonl"),
        ("cy", "cy.jsonl"),
    ]
    assert "weight decay 0.1: 0.425 ± 0.025 over 2 runs" in room.sentence()  # ada and bob, at epoch 1
    assert room.summary().startswith(f"A class of 3 runs ({lab} and {other}):")
    assert room.folder == lab and room.link is None
    send(lab, "dee", [0.7], {"weight_decay": 0.0})  # a student arriving later, in the first folder
    assert room.poll() and len(room.rows()) == 4
    missing = tmp_path / "gone"
    room = lw.Classroom([lab, missing])
    missing.mkdir()
    missing.chmod(0)
    try:
        room.poll()
        said = room.problems()
    finally:
        missing.chmod(0o755)
    if os.geteuid() != 0:  # root reads a folder without permissions
        assert any(note.startswith(f"{missing}: the folder cannot be read") for note in said), said
    assert len(room.rows()) == 2


def test_a_replaced_file_is_read_as_a_new_run_never_mixed(tmp_path):
    send(tmp_path, "ada", [0.5, 0.4, 0.3, 0.2])
    room = lw.Classroom(tmp_path)
    assert len(room.rows()[0].epochs) == 4
    other = tmp_path / "other"
    send(other, "ada", [0.9, 0.8])
    os.replace(other / "ada.jsonl", tmp_path / "ada.jsonl")
    room.poll()
    (row,) = room.rows()
    assert row.val.tolist() == [0.9, 0.8]


def test_a_quiet_student_is_called_silent_and_a_group_keeps_its_colour(tmp_path):
    monitor = lw.LiveLossMonitor(display="none", outputs=[lw.ClassFolder(tmp_path, "zed", {"wd": 1})])
    monitor.log(train=0.5, val=0.5)  # no end record: the loop never ended
    monitor._recorder.outputs.wait()  # the class folder is written on its output's own thread
    past = time.time() - 3 * 3600
    os.utime(tmp_path / "zed.jsonl", (past, past))
    room = lw.Classroom(tmp_path, group_by="wd", silent_after=60)
    assert room.rows()[0].state == "silent for 3 hours"
    before = {band.label: band.color for band in room.frame().bands}
    send(tmp_path, "amy", [0.4], {"wd": 0})  # a group whose label sorts first
    room.poll()
    after = {band.label: band.color for band in room.frame().bands}
    assert after["wd 1"] == before["wd 1"] and after["wd 0"] != after["wd 1"]


@pytest.mark.parametrize(
    ("curves", "shown", "left_out"),
    [
        ([[2.3, 1.0, 0.5, 0.4, 0.35, 0.3], [2.1, 0.9, 0.45, 0.4, 0.38]], [2.3, 0.3], []),  # high starts kept
        ([[0.5, 0.4, 0.45], [1e300, 0.3, 0.2]], [0.5, 0.2], [1e300]),  # one absurd value left out
        ([[-3.0, -3.5, -3.4]], [-3.0, -3.5], []),  # negative losses (a log-likelihood)
        ([[0.5]], [0.5], []),
    ],
)
def test_the_loss_axis_shows_the_curves_and_leaves_out_absurd_values(curves, shown, left_out):
    bottom, top = y_range([np.array(curve) for curve in curves])
    assert all(bottom < value < top for value in shown)
    assert all(not bottom < value < top for value in left_out)
    assert y_range([np.array([np.nan])]) is None


def test_the_loss_axis_zooms_onto_where_the_curves_are_read():
    # 30 epochs: a steep start from 2.3, the lowest point near 0.55, a rise to 0.7 (lesson 17's shape)
    epochs = np.arange(30)
    curves = [0.55 + 1.75 * np.exp(-epochs / 1.5) + 0.005 * np.maximum(epochs - 12, 0) + shift for shift in (0, 0.02)]
    bottom, top = y_range(curves)
    assert bottom < 0.55 and top > 0.72  # the lowest points and the last epochs are inside
    assert top < 1.2  # the first epochs' 2.3 and 1.4 run off the top instead of squashing the rest


def test_the_frame_stays_bounded_past_max_runs(tmp_path):
    rng = np.random.default_rng(0)
    histories = {}
    for index in range(80):
        history = lw.History(f"s{index}")
        for epoch, value in enumerate(0.5 + rng.normal(0, 0.05, 500)):
            history.log_epoch(epoch, {"val": value})
        histories[f"s{index}"] = history
    settings = {name: {"wd": index % 2} for index, name in enumerate(histories)}
    room = lw.Classroom.from_histories(histories, settings, group_by="wd", max_runs=60, select=["s3"])
    frame = room.frame()
    assert [curve.label for curve in frame.students] == ["s3"] and frame.hidden == 79
    assert [band.runs for band in frame.bands] == [40, 40]
    assert all(band.x.size <= 400 for band in frame.bands)
    assert room.widget() is room.widget()
    assert room._chart.means.y.shape[0] == 2


def test_watch_reads_new_students_on_its_thread_and_redraws(tmp_path):
    send(tmp_path, "ada", [0.5, 0.4], {"wd": 0})
    room = lw.Classroom(tmp_path, group_by="wd")
    room.widget()
    room.watch(interval=0.05)
    try:
        send(tmp_path, "bob", [0.6, 0.3, 0.35], {"wd": 1})
        deadline = time.monotonic() + 60
        while "bob" not in room._html.value:
            assert time.monotonic() < deadline, "the watch thread never drew bob"
            time.sleep(0.05)
    finally:
        room.stop()
    assert room._thread is None and [row.student for row in room.rows()] == ["bob", "ada"]
    assert len(room._chart.bands) == 2 and room._chart.students.y.shape[0] == 2


# -- a selected student: their line on top, their training curve beside it ----------------------


def test_a_selected_students_frame_carries_their_training_curve_the_chart_the_caption_and_the_image(tmp_path):
    send(tmp_path, "ana", [0.8, 0.5, 0.4, 0.45], {"weight_decay": 0.1})
    send(tmp_path, "bob", [0.9, 0.6, 0.5], {"weight_decay": 0.0})
    room = lw.Classroom(tmp_path, group_by="weight_decay")
    room.widget()
    assert room.frame().chosen == () and "Hover a student's line" in room._caption.value
    assert room.select("ana") is room and room.selected == ("ana",)
    (chosen,) = room.frame().chosen
    np.testing.assert_allclose(chosen.train, 0.9 * np.array([0.8, 0.5, 0.4, 0.45]))  # what ana logged as train
    assert chosen.train_x.tolist() == [0, 1, 2, 3] and chosen.tip == "ana (weight decay 0.1)"
    np.testing.assert_allclose(room._chart.training.y, chosen.train)  # drawn at once: no watch thread
    assert room._chart.training.line_style == "dashed" and room._chart.chosen.opacities == [1.0]
    assert room._chart.students.labels == ["ana (weight decay 0.1)", "bob (weight decay 0)"]  # what hovering says
    assert "Selected: ana (weight decay 0.1) — validation solid, training dashed; click again" in room._caption.value
    assert "<tr class='losswidget-selected'" in room.html() and room.html().count("losswidget-selected") == 1
    image = room.svg()
    assert f'stroke="{chosen.color}" stroke-width="2.0" stroke-opacity="1.0" stroke-dasharray="6,4"' in image
    assert "Selected: ana (weight decay 0.1) — validation solid, training dashed." in image
    assert room.select() is room and room.frame().chosen == () and room._chart.training.y.size == 0
    assert "stroke-dasharray" not in room.svg()


def test_selecting_an_unknown_student_names_them_and_the_class_and_changes_nothing(tmp_path):
    send(tmp_path, "ana", [0.5, 0.4])
    send(tmp_path, "bob", [0.6, 0.3])
    room = lw.Classroom(tmp_path).select("bob")
    with pytest.raises(
        ValueError, match=re.escape("'select' must name a student of this class: 'zed' (students: 'ana', 'bob')")
    ):
        room.select("ana", "zed")
    with pytest.raises(TypeError, match=re.escape("'select' must be given student names (str): 3")):
        room.select(3)
    assert room.selected == ("bob",)
    with pytest.raises(ValueError, match=re.escape("'zed' (no students yet)")):
        lw.Classroom(tmp_path / "empty").select("zed")


def test_the_selection_survives_a_poll_and_follows_the_students_new_epochs(tmp_path):
    send(tmp_path, "ana", [0.8, 0.5])
    room = lw.Classroom(tmp_path).select("ana")
    other = tmp_path / "later"
    send(other, "ana", [0.9, 0.7, 0.6])  # ana's run replaced by a longer one, and a new student
    os.replace(other / "ana.jsonl", tmp_path / "ana.jsonl")
    send(tmp_path, "cy", [0.4, 0.3])
    assert room.poll()
    assert room.selected == ("ana",) and [c.label for c in room.frame().chosen] == ["ana"]
    np.testing.assert_allclose(room.frame().chosen[0].train, [0.81, 0.63, 0.54])


def test_a_click_on_a_line_selects_its_student_a_second_click_or_the_background_clears(tmp_path):
    send(tmp_path, "ana", [0.5, 0.4], {"wd": 1})
    send(tmp_path, "bob", [0.6, 0.3], {"wd": 0})
    room = lw.Classroom(tmp_path, group_by="wd", select=["bob"])
    room.widget()
    chart = room._chart

    def click(mark, name):  # what the browser sends when a line is clicked (bqplot's element_click)
        mark._handle_custom_msgs(None, {"event": "element_click", "data": {"name": name, "index": 0}})

    click(chart.students, "ana (wd 1)")
    assert room.selected == ("ana",) and [c.label for c in room.frame().chosen] == ["ana"]
    assert chart.chosen.labels == ["ana (wd 1)"] and "Selected: ana (wd 1)" in room._caption.value
    click(chart.chosen, "ana (wd 1)")  # the selected line, drawn on top, clicked again
    assert room.selected == () and chart.training.y.size == 0 and "Hover" in room._caption.value
    click(chart.training, "bob (wd 0)")
    assert room.selected == ("bob",)
    chart.students._handle_custom_msgs(None, {"event": "background_click", "data": None})
    assert room.selected == ()
    click(chart.students, "a line drawn before the last frame")  # unknown: nothing changes
    assert room.selected == ()


def test_a_click_while_watching_is_drawn_by_the_watch_thread(tmp_path):
    send(tmp_path, "ana", [0.5, 0.4])
    room = lw.Classroom(tmp_path)
    room.widget()
    room.watch(interval=30.0)  # no poll would redraw in this test's time: the click's wake does
    try:
        room._clicked("ana")
        deadline = time.monotonic() + 60
        while room._chart.training.y.size == 0:
            assert time.monotonic() < deadline, "the watch thread never drew the click"
            time.sleep(0.05)
    finally:
        room.stop()
    np.testing.assert_allclose(room._chart.training.y, [0.45, 0.36])


def test_one_student_after_one_epoch_is_drawn(tmp_path):
    # bqplot squeezes a 1 x 1 array to a scalar and refuses it: the lines are padded to 2 points
    send(tmp_path, "ana", [0.5])
    room = lw.Classroom(tmp_path).select("ana")
    room.widget()
    assert room._chart.students.y.tolist()[0] == 0.5 and room._chart.training.y.tolist()[0] == 0.45  # not a 1 x 1


# -- real students: training processes writing one folder --------------------------------------

torch = pytest.importorskip("torch")

STUDENT = """
import sys, torch, losswidget as lw
folder, student, wd, seed, epochs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
patience = None if epochs > 1000 else 8  # the student killed mid-run trains until killed
wd = None if wd == "none" else float(wd)
torch.manual_seed(seed)
x = torch.randn(160, 8)
y = x @ torch.randn(8, 1) + 0.5 * torch.randn(160, 1)
data = torch.utils.data.TensorDataset
train = torch.utils.data.DataLoader(data(x[:96], y[:96]), batch_size=16, shuffle=True)
val = torch.utils.data.DataLoader(data(x[96:], y[96:]), batch_size=64)
model = torch.nn.Sequential(torch.nn.Linear(8, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, weight_decay=wd or 0.0)
send = lw.ClassFolder(folder, student=student, settings={"weight_decay": wd, "seed": seed})
monitor = lw.LiveLossMonitor(display="none", patience=patience, outputs=[send])
lw.fit(model, train, val, torch.nn.MSELoss(), optimizer, epochs, monitor=monitor)
print("DONE", len(monitor.history), flush=True)
"""

# (student, weight decay, seed, epochs): ada twice (a duplicate name), a name with markup, eve killed
CLASS = [
    ("ada", "0.05", 1, 25),
    ("<b>bob</b>", "0.05", 2, 25),
    ("carl", "0.05", 3, 25),
    ("ada", "none", 4, 25),
    ("dina", "none", 5, 25),
    ("eve", "none", 6, 1_000_000),
]


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    folder = root / "lab"
    script = root / "student.py"
    script.write_text(textwrap.dedent(STUDENT))
    processes = []
    for student, wd, seed, epochs in CLASS:
        command = [sys.executable, str(script), str(folder), student, wd, str(seed), str(epochs)]
        processes.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    eve, eve_file = processes[5], folder / "eve.jsonl"
    try:
        for process in processes[:5]:
            _out, err = process.communicate(timeout=300)
            assert process.returncode == 0, err
        deadline = time.monotonic() + 300
        while not (eve_file.exists() and eve_file.read_text().count('"kind": "epoch"') >= 3):
            assert time.monotonic() < deadline and eve.poll() is None, "eve never sent 3 epochs"
            time.sleep(0.05)
    finally:
        eve.send_signal(signal.SIGKILL)  # killed mid-run, as a student's kernel restart would
        eve.wait(timeout=60)
        for process in processes:
            process.kill()
            process.communicate()
    with open(eve_file, "a") as stream:  # and as if mid-write: a half-written last line
        stream.write('{"kind": "epoch", "epoch": 99999')
    return folder


def test_a_class_of_six_processes_in_two_groups(class_folder):
    files = sorted(path.name for path in class_folder.iterdir())
    assert files == ["ada.2.jsonl", "ada.jsonl", "b_bob_b.jsonl", "carl.jsonl", "dina.jsonl", "eve.jsonl"]
    room = lw.Classroom(class_folder, group_by="weight_decay")
    rows = room.rows()
    assert len(rows) == 6
    assert [row.best for row in rows] == sorted(row.best for row in rows)  # sorted by best validation loss
    loaded = {}
    for path in class_folder.iterdir():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # eve's torn last line is said; its epochs are kept
            loaded[path.name] = lw.History.load(path)
    for row in rows:
        history = loaded[row.source]
        assert row.val.tolist() == history.val.tolist()  # each run keeps what it sent
        assert row.train.tolist() == history.train.tolist() and np.isfinite(row.train).all()
        assert row.best == np.nanmin(history.val) and row.best_epoch == history.best_epoch()
        kind = lw.diagnose(history).kind
        assert row.diagnosis == TABLE_WORDS.get(kind, kind)  # the kind in a teacher's words
    by_file = {row.source: row for row in rows}
    assert by_file["b_bob_b.jsonl"].student == "<b>bob</b>"
    assert by_file["eve.jsonl"].state == "stopped without finishing (its process is gone, its last line half-written)"
    assert by_file["eve.jsonl"].stop == "-" and len(by_file["eve.jsonl"].val) >= 3
    assert all(by_file[name].state == "finished" for name in files if name != "eve.jsonl")
    # the sentence's numbers are the ones computed from the files (read here, not through the rows)
    runs = []
    for name, history in loaded.items():
        settings = json.loads((class_folder / name).read_text().splitlines()[0])["settings"]
        label = "none" if settings["weight_decay"] is None else f"weight decay {settings['weight_decay']}"
        runs.append((label, history.epochs, history.val, float(np.nanmin(history.val))))
    said = room.sentence()
    assert said.startswith(sentence(*class_groups(runs))), said
    assert said.startswith("At epoch ") and "over 3 runs" in said
    assert "&lt;b&gt;bob&lt;/b&gt;" in room.html() and "<b>bob" not in room.html()
    text = repr(room)
    assert said in text and "stopped without finishing" in text
    table = room.table()
    assert table[0] == ["student", "settings", "best epoch", "best val", "stop", "diagnosis", "state"]
    assert [line[3] for line in table[1:]] == [f"{row.best:.4g}" for row in rows]
    assert {line[4] for line in table[1:]} <= {"early stop", "all epochs", "-"}


def test_a_saved_class_reads_the_same_after_class_and_from_histories(class_folder):
    live = lw.Classroom(class_folder, group_by="weight_decay")
    again = lw.Classroom(class_folder, group_by="weight_decay")
    assert again.table() == live.table() and again.sentence() == live.sentence()
    histories, settings = {}, {}
    for path in sorted(class_folder.iterdir()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            histories[path.name] = lw.History.load(path)
        settings[path.name] = json.loads(path.read_text().splitlines()[0])["settings"]
    study = lw.Classroom.from_histories(histories, settings, group_by="weight_decay")
    assert study.sentence() == live.sentence()
    frame = study.frame()
    assert sorted(band.label for band in frame.bands) == ["none", "weight decay 0.05"]


def test_a_real_class_folder_is_compared_at_the_last_epoch_its_runs_share(class_folder):
    # eve's process died mid-run: the shared epoch is her last, and every run's value there is its own
    room = lw.Classroom(class_folder, group_by="weight_decay")
    groups, epoch = class_groups((room.label(row), row.epochs, row.val, row.best) for row in room.rows())
    histories = {}
    for path in class_folder.iterdir():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            histories[path.name] = lw.History.load(path)
    assert epoch == min(int(h.epochs[np.isfinite(h.val)].max()) for h in histories.values())
    for group in groups:
        values = [
            float(h.val[list(h.epochs).index(epoch)])
            for name, h in histories.items()
            if room.label(next(r for r in room.rows() if r.source == name)) == group.label
        ]
        assert group.last == spread(values)
    assert sentence(groups, epoch).startswith(f"At epoch {epoch}, the last epoch every run reached")


KILLED_AFTER_TWO = """
import os, signal, sys, time
from pathlib import Path
import losswidget as lw
monitor = lw.LiveLossMonitor(display="none", outputs=[lw.ClassFolder(sys.argv[1], "eve", {"weight_decay": 0.1})])
for epoch in monitor.epochs(10):
    monitor.log(train=1.0, val=2.0 - 0.1 * epoch)
    if epoch == 1:
        written = Path(sys.argv[1], "eve.jsonl")
        while not written.exists() or written.read_text().count('"kind": "epoch"') < 2:
            time.sleep(0.01)  # the file is written on its own thread
        os.kill(os.getpid(), signal.SIGKILL)  # a kernel killed mid-run
"""


def test_a_run_that_stopped_short_without_finishing_is_named_and_left_out_of_the_comparison(tmp_path):
    # compared at eve's last epoch, the class's sentence would be about its first epochs: it compares the
    # others at the last epoch they share and names her
    for student, decay, level in (("ada", 0.1, 0.5), ("bob", 0.1, 0.52), ("cy", 0.0, 0.6), ("dee", 0.0, 0.62)):
        send(tmp_path, student, [level + 1 / (epoch + 1) for epoch in range(8)], {"weight_decay": decay})
    killed = subprocess.run([sys.executable, "-c", KILLED_AFTER_TWO, str(tmp_path)], timeout=120)
    assert killed.returncode == -signal.SIGKILL
    room = lw.Classroom(tmp_path, group_by="weight_decay")
    eve = next(row for row in room.rows() if row.student == "eve")
    assert eve.state.startswith("stopped without finishing") and list(eve.epochs) == [0, 1]
    said = room.sentence()
    assert said.startswith(
        "At epoch 7, the last epoch every run compared reached: weight decay 0.1: 0.635 ± 0.010 over 2 runs"
    ), said
    assert said.endswith(" Not compared: 1 run that stopped short without finishing (eve)."), said
    # a run that stopped after the others' shared epoch is compared (it reached it)
    rows = [replace(row, state="stopped without finishing") if row.student == "ada" else row for row in room.rows()]
    assert [row.student for row in compared(rows)[1]] == ["eve"]


def test_losses_above_the_zoomed_axis_are_said_with_how_high_they_go(tmp_path):
    # the first epochs' steep fall runs off the top of the axis (zoomed onto where the curves are read)
    for student, start in (("ada", 3.0), ("bob", 2.5), ("cy", 2.8)):
        send(tmp_path, student, [0.5 + start / (epoch + 1) ** 2 for epoch in range(30)])
    room = lw.Classroom(tmp_path)
    frame = room.frame()
    assert frame.y_range is not None and frame.peak == 3.5 > frame.y_range[1]
    said = caption(frame)
    assert said.endswith(f" Losses above {frame.y_range[1]:.3g} run off the top (up to 3.5)."), said
    assert caption(frame, live=False) == said[said.index("Losses") :]
    room.select("ada")
    assert room.frame().peak == 3.5 and caption(room.frame()).startswith("Selected: ada")
    send(tmp_path / "flat", "dee", [0.5, 0.5, 0.49])
    assert lw.Classroom(tmp_path / "flat").frame().peak is None  # nothing runs off: nothing said
