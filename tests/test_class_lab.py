"""The class lab's parts: the static image of the class chart, and the practice class's students
(real processes, real training, a real folder)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

import losswidget as lw
from losswidget.practice import WEIGHT_DECAYS, setting_for, start
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
