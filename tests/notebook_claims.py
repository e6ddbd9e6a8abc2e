"""What each lesson's text claims, checked against that lesson's own output (tests/test_notebooks.py
runs them on every executed notebook), so that the words and the run cannot drift apart again.

Each check reads the printed output of the executed notebook and asserts the claim its markdown
makes, quoting the markdown in a comment.
"""

from __future__ import annotations

import re
from typing import Any


def printed(notebook: Any) -> str:
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    )


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found, f"the notebook no longer prints {pattern!r}"
    return float(found.group(1))


def seeing_overfitting(notebook: Any) -> None:
    text = printed(notebook)
    # "The monitor's diagnosis, in words": the diagnosis and the ◆ name the same epoch.
    since = _number(r"overfitting since epoch (\d+)", text)
    assert since == _number(r"best epoch: (\d+)", text)
    # "A small patience can stop on an early bump, long before the minimum; a large one waits past it."
    assert _number(r"patience 5: early stopping would stop at epoch (\d+)", text) < since
    assert _number(r"patience 50: early stopping would stop at epoch (\d+)", text) > since
    # Part 2, answer 3: the best epoch's weights are better on new data than the last epoch's.
    best = _number(r"best epoch \d+: validation loss ([\d.]+)", text)
    assert _number(r"last epoch \d+: validation loss ([\d.]+)", text) > best


def underfitting_and_capacity(notebook: Any) -> None:
    rows = {
        int(width): (float(best_val), float(best_acc), kind.strip())
        for width, best_val, best_acc, kind in re.findall(
            r"^\s+(\d+)\s+[\d.]+\s+([\d.]+)\s+([\d.]+)%\s+(.+)$", printed(notebook), re.MULTILINE
        )
    }
    assert set(rows) == {1, 2, 16, 128}, rows
    # "Width 1 — both losses stay near 2.3 (= guessing one of 10 digits at random): underfitting."
    assert rows[1][2] == "underfitting" and abs(rows[1][0] - 2.3) < 0.1
    # "Width 16 — best accuracy about 95 % ... starts to memorise (the table's diagnosis)."
    assert rows[16][1] >= 90 and rows[16][2] in ("overfitting", "overfitting begins")
    # "Width 128 — the lowest validation loss of the four ... memorising."
    assert rows[128][0] == min(row[0] for row in rows.values())
    assert rows[128][2] in ("overfitting", "overfitting begins")


def early_stopping_and_noise(notebook: Any) -> None:
    text = printed(notebook)
    table = {
        int(patience): (stop, int(kept), float(loss))
        for patience, stop, kept, loss in re.findall(r"^\s+(\d+)\s+(\w+)\s+(\d+)\s+([\d.]+)$", text, re.MULTILINE)
    }
    assert {0, 1, 10} <= set(table), table
    best_test = min(loss for *_, loss in table.values())
    # "With patience 0 or 1, noise triggers the stop while the model is still improving: its test loss is worse."
    for patience in (0, 1):
        assert table[patience][2] > best_test and table[patience][1] < table[10][1]
    # "A moderate patience finds (nearly) the true minimum and the best test loss."
    assert table[10][2] == best_test
    # The paired comparison's verdict is the one its numbers give.
    found = re.search(r"([+-][\d.]+) ± ([\d.]+) \(([\d.]+) standard errors\): (.+)", text)
    assert found, "the paired comparison is no longer printed"
    mean, se, units = float(found.group(1)), float(found.group(2)), float(found.group(3))
    assert abs(units - abs(mean) / se) < 0.15
    assert found.group(4).startswith("larger" if units >= 2 else "within the noise")
    # "So a larger min_delta stops earlier here, not later."
    stops = [int(epoch) for epoch in re.findall(r"min_delta=[\d.]+: patience 3 stops at epoch (\d+)", text)]
    assert len(stops) == 3 and stops == sorted(stops, reverse=True) and stops[-1] < stops[0]


CLAIMS = {
    "03_early_stopping_and_noise": early_stopping_and_noise,
    "02_seeing_overfitting": seeing_overfitting,
    "05_underfitting_and_capacity": underfitting_and_capacity,
}
