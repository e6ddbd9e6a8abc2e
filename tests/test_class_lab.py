"""The class lab's parts: the static image of the class chart, and the practice class's students
(real processes, real training, a real folder)."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import numpy as np
import pytest

import losswidget as lw
from losswidget.practice import WEIGHT_DECAYS, seed_for, setting_for, start
from losswidget.views.layout import text_width
from losswidget.views.svg_panel import FONT, WIDTH


def _room(groups: dict[str, float], runs: int = 3, epochs: int = 20) -> lw.Classroom:
    rng = np.random.default_rng(0)
    histories, settings = {}, {}
    for label, slope in groups.items():
        for seed in range(runs):
            history = lw.History()
            for epoch in range(epochs):
                history.log_epoch(epoch, {"train": 1 / (epoch + 1), "val": 0.5 + slope * epoch + rng.normal(0, 0.01)})
            name = f"{label} seed {seed}"
            histories[name], settings[name] = history, {"knob": label}
    return lw.Classroom.from_histories(histories, settings, group_by="knob")


def _texts(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [element for element in root.iter() if element.tag.endswith("text")]


def test_the_class_image_names_every_group_and_says_the_sentence_inside_its_width():
    long = "a setting with a very long name that a teacher typed " * 3
    room = _room({"none": 0.004, "0.1": 0.001, long: -0.001})
    svg = room.svg()
    words = " ".join(element.text or "" for element in _texts(svg))
    assert "none: mean of 3 runs" in words and "0.1: mean of 3 runs" in words
    assert "standard errors" in words and "run-to-run spread" in words
    for element in _texts(svg):
        if element.get("text-anchor", "start") == "start" and element.get("transform") is None:
            right = float(element.get("x")) + text_width(element.text or "", FONT)
            assert right <= WIDTH, f"{element.text!r} runs past the image's right edge"
    # One mean curve and one band per group, and every student's run drawn thin.
    assert svg.count('class="band"') == 3 and svg.count('stroke-width="3.0"') == 3
    assert svg.count('stroke-width="1.0"') == 9


def test_an_empty_class_is_an_image_that_says_so():
    room = lw.Classroom.from_histories({}, group_by="knob")
    svg = room.svg()
    ET.fromstring(svg)
    assert "No runs yet." in svg


def test_a_students_name_always_picks_the_same_setting_and_names_spread_over_all():
    assert setting_for("ada") == setting_for("ada")
    picked = {setting_for(f"student {n}") for n in range(30)}
    assert picked == set(WEIGHT_DECAYS)
    with pytest.raises(TypeError, match="'student' must be a non-empty str"):
        setting_for("")
    with pytest.raises(ValueError, match="'options' must hold at least one"):
        setting_for("ada", [])


def test_practice_students_are_processes_that_send_every_epoch_to_the_folder(tmp_path):
    processes = start(tmp_path / "class", students=2, weight_decays=(0.0, 0.5), epochs=3, pause=0.0)
    assert all(process.wait(timeout=120) == 0 for process in processes)
    room = lw.Classroom(tmp_path / "class", group_by="weight_decay")
    rows = {row.student: row for row in room.rows()}
    assert set(rows) == {"student 1", "student 2"}
    assert rows["student 1"].settings == {"weight_decay": 0.0, "seed": 1}
    assert rows["student 2"].settings == {"weight_decay": 0.5, "seed": 2}
    assert all(len(row.val) == 3 and np.isfinite(row.val).all() and row.state == "finished" for row in rows.values())


def test_practice_refuses_bad_arguments_before_starting_anyone(tmp_path):
    with pytest.raises(ValueError, match="'students' must be >= 1"):
        start(tmp_path, students=0)
    with pytest.raises(ValueError, match="'weight_decays' must hold at least one value"):
        start(tmp_path, weight_decays=())
    assert not any(tmp_path.iterdir())


def test_the_legend_says_what_the_bands_are_and_the_thin_lines_swatch_has_the_groups_colours():
    room = _room({"none": 0.004, "0.1": 0.001})
    svg = room.svg()
    words = " ".join(element.text or "" for element in _texts(svg))
    assert "band ± 2 SE across runs" in words
    colors = {band.color for band in room.frame().bands}
    thin = [
        element.get("stroke")
        for element in ET.fromstring(svg).iter()
        if element.tag.endswith("line") and element.get("stroke-width") == "1.5" and element.get("stroke-opacity")
    ]
    assert set(thin) == colors  # the students' lines are drawn in their groups' colours: so is the swatch


def _name_in_a_fresh_process(login: str, typed: str | None, student: str = "") -> subprocess.CompletedProcess:
    """lesson 16's first cell in a process of its own: a login (getpass reads LOGNAME first), maybe
    LOSSWIDGET_STUDENT, and what the student types (None: no stdin at all, as in an unattended run)."""
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, LOGNAME=login, USER=login, PYTHONPATH=root, LOSSWIDGET_STUDENT=student)
    code = "from losswidget.practice import student_name; print(repr(student_name()))"
    return subprocess.run(
        [sys.executable, "-c", code],
        input=typed,
        stdin=subprocess.DEVNULL if typed is None else None,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_shared_login_is_never_a_name_the_student_is_asked_or_told_what_to_set():
    # Binder and JupyterHub images log every student in as jovyan: one name for all would give the whole
    # class one seed, one weight decay and one file.
    assert _name_in_a_fresh_process("jovyan", "ada\n").stdout.strip().endswith("'ada'")
    assert _name_in_a_fresh_process("root", "  grace hopper \n").stdout.strip().endswith("'grace hopper'")
    assert _name_in_a_fresh_process("jovyan", None, student="alan").stdout.strip() == "'alan'"
    assert _name_in_a_fresh_process("ada", None).stdout.strip() == "'ada'"  # a person's own login
    for typed in (None, "\n"):  # nobody can type (an unattended run), or typed nothing
        failed = _name_in_a_fresh_process("jovyan", typed)
        assert failed.returncode != 0 and "RuntimeError" in failed.stderr
        assert "'jovyan' is shared" in failed.stderr and "set LOSSWIDGET_STUDENT to your name" in failed.stderr


def test_distinct_names_get_distinct_seeds_where_crc_mod_1000_collided():
    names = [f"student {number}" for number in range(1, 200)]
    old = [zlib.crc32(name.encode()) % 1000 for name in names]
    assert len(set(old)) < len(names)  # the old seeds collide in this class
    assert len({seed_for(name) for name in names}) == len(names)
    assert seed_for("ada") == seed_for("ada") == zlib.crc32(b"ada")
    with pytest.raises(TypeError, match="'student' must be a non-empty str"):
        seed_for("")
