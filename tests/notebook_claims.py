"""What each lesson's text claims, checked against that lesson's own output (tests/test_notebooks.py
runs them on every executed notebook), so that the words and the run cannot drift apart again.

Each check reads the printed output of the executed notebook and asserts the claim its markdown
makes, quoting the markdown in a comment.
"""

from __future__ import annotations

import math
import re
from typing import Any


def printed(notebook: Any) -> str:
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    )


def charts(notebook: Any) -> list[str]:
    """The static charts' SVG text, one per image, in order."""
    return [
        "".join(output["data"]["image/svg+xml"])
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "image/svg+xml" in output.get("data", {})
    ]


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found, f"the notebook no longer prints {pattern!r}"
    return float(found.group(1))


def seeing_overfitting(notebook: Any) -> None:
    text = printed(notebook)
    # "its advantage is flattered ... by an amount this comparison does not measure": not "nominal", which students read as negligible.
    words = " ".join("".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown").split())
    assert "nominal" not in words and "its advantage is flattered" in words
    # "the best epoch is the bottom of one of those swings ... part of the rise measured from the ◆ is the curve
    # leaving the trough it was chosen in ... The slow climb of overfitting shows underneath, in the lowest values later
    # on"; "even the best, 0.198, sits above this data's noise floor, 0.176 on these 200 points (...): at its best the
    # network is within about 0.02 of the floor".
    swing = re.search(
        r"validation loss: ([\d.]+) at the best epoch (\d+), up to ([\d.]+) at epoch \d+, back down to ([\d.]+) within",
        text,
    )
    assert swing, "Part 1's swing around the best epoch is no longer printed"
    low, best_epoch, top, back = float(swing[1]), int(swing[2]), float(swing[3]), float(swing[4])
    assert best_epoch == _number(r"best epoch: (\d+)", text) and top - low > 0.02 and top - back > 0.02
    assert _number(r"from epoch 100 on: lowest ([\d.]+)", text) > back >= low
    floor = _number(r"noise floor on the validation points \(the true sin\(x\)\): ([\d.]+)", text)
    assert abs(floor - 0.16) < 0.03 and abs(low - floor - 0.02) < 0.01
    assert f"best, {low:.3f}, sits above this data's noise floor, {floor:.3f} on these 200 points" in words
    assert floor > 0.16  # "these 200 points happen to carry a little more"
    # "why the diagnosis above can say the curve barely wobbles while the chart swings: it reads the wobble over the
    # last half of the run ... Near the ◆ the curve swung by about 0.04 (0.198 up to 0.239 ...), so much of the 0.0426
    # the diagnosis measures from the best epoch to the last is the ◆ having been picked at the bottom of a swing ...
    # from the calm late level, 0.223 at its lowest since epoch 100, to 0.240 at the last epoch".
    diagnosis = re.search(r"^looks like overfitting: .*$", text, re.MULTILINE)
    assert diagnosis and "the curve barely wobbles over its last half" in diagnosis[0], (
        "Part 1's diagnosis reads another wobble"
    )
    rise = _number(r"best[^.]*?\bby ([\d.]+)", diagnosis[0])
    late_low, last = (
        _number(r"from epoch 100 on: lowest ([\d.]+)", text),
        _number(r"from epoch 100 on: .*last ([\d.]+)", text),
    )
    assert round(top - low, 2) == 0.04 and top - low > rise / 2 and last - late_low < rise / 2
    assert f"swung by about 0.04 ({low:.3f} up to {top:.3f}, the first line), so much of the {rise:g} the" in words
    assert f"from the calm late level, {late_low:.3f} at its lowest since epoch 100, to {last:.3f} at the last" in words
    # "The monitor's diagnosis, in words": the diagnosis and the ◆ name the same epoch.
    since = _number(r"its kind: 'overfitting', from epoch (\d+) \(the sentence below says how sure\)", text)
    assert since == _number(r"best epoch: (\d+)", text)
    # "A small patience can stop on an early bump, long before the minimum; a large one waits past it."
    assert _number(r"patience 5: early stopping would stop at epoch (\d+)", text) < since
    assert _number(r"patience 50: early stopping would stop at epoch (\d+)", text) > since
    # Part 2, answer 3: the best epoch's weights are better on new data than the last epoch's.
    best = _number(r"best epoch \d+: validation loss ([\d.]+)", text)
    assert _number(r"last epoch \d+: validation loss ([\d.]+)", text) > best
    # "The same thing on real images": the accuracy falls too, the training loss towards zero.
    assert _number(r"last epoch \d+: .*accuracy ([\d.]+)%", text) < _number(
        r"best epoch \d+: .*accuracy ([\d.]+)%", text
    )
    assert _number(r"training loss fell from [\d.]+ to ([\d.]+)", text) < 0.1
    # "The diagnosis says the run looks like overfitting ... Part 2 ... says how many standard errors of
    # sampling error the rise is": one validation number per epoch in Part 1, per-example losses in Part 2.
    assert "looks like overfitting" in text and "per_example=True" in text
    assert re.search(r"\d standard errors \(sampling error, paired: the same examples at both epochs\)", text)
    # Answer 1: "the training loss rose at some epochs, several in a row at times"
    assert _number(r"the training loss rose at (\d+) of", text) > 0
    assert _number(r"at most (\d+) epochs in a row", text) >= 2
    # "the ±2 standard-error bands of the best and the last epoch overlap ..., yet the paired comparison puts
    # the last epoch more than 2 paired standard errors above the best"
    best_low, best_high = _bands(r"best epoch band \(±2 standard errors\): ([\d.]+) to ([\d.]+)", text)
    last_low, last_high = _bands(r"last epoch band \(±2 standard errors\): ([\d.]+) to ([\d.]+)", text)
    assert last_low < best_high and best_low < last_high
    assert _number(r"last minus best: \+[\d.]+, ([\d.]+) paired standard errors", text) > 2


def _bands(pattern: str, text: str) -> tuple[float, float]:
    found = re.search(pattern, text)
    assert found, f"the notebook no longer prints {pattern!r}"
    return float(found.group(1)), float(found.group(2))


def underfitting_and_capacity(notebook: Any) -> None:
    text = printed(notebook)
    rows = {
        int(width): tuple(map(float, numbers))
        for width, *numbers in re.findall(
            r"^\s*(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+(-?[\d.]+)\s+([\d.]+)%\s+([+-][\d.]+)\s+([+-][\d.]+)\s+"
            r"(-?[\d.]+)\s+(-?[\d.]+)$",
            text,
            re.MULTILINE,
        )
    }
    assert sorted(rows) == [1, 2, 4, 16, 128], rows
    _best, train, val, gap, acc, train_moved, val_moved, rise, units = (
        {width: row[column] for width, row in rows.items()} for column in range(9)
    )
    # "the gap between them (both from the same epoch)"
    assert all(abs(gap[w] - (val[w] - train[w])) <= 0.0015 for w in rows), rows
    # "But its training loss still fell 0.105 from epoch 19 to 29, before the first cut (the line under the table)"
    fell = _number(r"before the first cut: width 1 \+([\d.]+)", text)
    words = " ".join("".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown").split())
    assert fell > 0.01 and f"still fell {fell:.3f} from epoch 19 to 29, before the first cut" in words
    # "so each run ends flat (partly by construction ...)"; "both curves are flat at the end" (widths 1 and 2): the last 10 epochs' columns.
    assert all(abs(train_moved[w]) <= 0.01 and abs(val_moved[w]) <= 0.01 for w in rows), rows
    # The numbers the bullets and answers quote, each the one printed: training loss, validation loss, gap, accuracy.
    quoted = {
        1: (1.536, 1.615, 0.079, 27.3),
        2: (1.012, 1.135, 0.123, 57.5),
        4: (0.184, 0.408, 0.224, 87.7),
        16: (0.019, 0.152, 0.133, None),
        128: (0.002, 0.116, 0.114, None),
    }
    for w, (t, v, g, a) in quoted.items():
        assert (train[w], val[w], gap[w]) == (t, v, g) and a in (None, acc[w]), (w, rows[w])
    # "Too small: width 1. Both losses are high ... and close together": underfitting.
    assert train[1] > 1 and val[1] > 1 and gap[1] < 0.1
    # "Width 2 is still high on both, ... but the gap has grown"
    assert train[2] > 0.5 and gap[2] > gap[1]
    # "Width 4 fits the training images well ... the largest gap of the five ... the gap, not the training loss, is
    # now the larger part of its validation loss"
    assert train[4] < 0.2 and gap[4] == max(gap.values()) and gap[4] > train[4]
    # "Widths 16 and 128: the training loss near zero, the best validation loss lowest, the gap smaller than at
    # width 4"; "The best validation loss falls with the width"; answer 3: "it opens, then narrows".
    assert train[16] < 0.02 and train[128] < 0.02 and gap[4] > gap[16] > gap[128]
    widths = sorted(rows)
    assert [val[w] for w in widths] == sorted((val[w] for w in widths), reverse=True)
    # "accuracy about ACCW" for the wide networks; width 1 "to about ACC1 accuracy (guessing gives 10 %)"
    assert acc[1] > 20 and all(93 <= acc[w] <= 98 for w in (16, 128))
    # "After the best epoch the wide networks' validation loss rose a little (0.001 and 0.008). Width 16's rise is
    # within its sampling error (1.5 paired standard errors) ... Width 128's passes 2 (2.4) ... less than a hundredth"
    assert (rise[16], units[16], rise[128], units[128]) == (0.001, 1.5, 0.008, 2.4), rows
    # The ReLU run: "Its one hidden unit died: ... the loss sits at ln 10 ≈ 2.30 and the accuracy at about 10 %"
    found = re.search(
        r"width 1 with ReLU: (\d+) of its 1 hidden unit dead; at its best epoch \d+: training loss ([\d.]+), "
        r"validation loss ([\d.]+), accuracy ([\d.]+)%",
        text,
    )
    assert found, "the ReLU run is no longer printed"
    dead, relu_train, relu_val, relu_acc = int(found.group(1)), *map(float, found.groups()[1:])
    assert dead == 1 and abs(relu_train - 2.303) < 0.02 and abs(relu_val - 2.303) < 0.02 and abs(relu_acc - 10) < 3
    # "The diagnosis under the chart reads the training loss as barely moved (2.53 → 2.3): it fell to ln 10 in the
    # first few epochs and has stayed there since"; "Width 128's is 2.4 paired standard errors, beyond the borderline
    # (lessons 03 and 10: 1.7–2.3) ... Real or not, it is under a hundredth".
    words = " ".join("".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown").split())
    under_chart = " ".join(re.sub(r"<[^>]+>", " ", " ".join(charts(notebook))).split())
    moved = re.search(r"training loss has barely moved \(([\d.]+) → ([\d.]+)\)", under_chart)
    assert moved, "the ReLU run's diagnosis no longer says its training loss barely moved"
    assert float(moved[1]) > float(moved[2]) and abs(float(moved[2]) - math.log(10)) < 0.01
    assert f"reads the training loss as barely moved ({moved[1]} → {moved[2]}): it fell to ln 10" in words
    assert 2.3 < units[128] < 2.3 + 0.5 and rise[128] < 0.01
    assert f"Width 128's is {units[128]:.1f} paired standard errors, beyond the borderline" in words


def early_stopping_and_noise(notebook: Any) -> None:
    text = printed(notebook)
    table = {
        int(patience): (stop, int(kept), float(loss))
        for patience, stop, kept, loss in re.findall(r"^\s+(\d+)\s+(\w+)\s+(\d+)\s+([\d.]+)$", text, re.MULTILINE)
    }
    assert {0, 1, 2, 5, 10, 20} <= set(table), table
    final = _number(r"\(none\)\s+-\s+\d+\s+([\d.]+)  <- the final weights", text)
    # "With patience 0, 1 or 2, the first jumps trigger the stop while the model is still improving: all three keep the
    # same early epoch, whose weights have a higher test loss". The prediction's answer: patience 0 stops before the
    # minimum, a few epochs in.
    for patience in (0, 1, 2):
        assert table[patience][2] > table[10][2] + 0.05 and table[patience][1] == table[0][1] < table[10][1]
    assert table[5][1] > table[0][1]  # patience 5 no longer stops on the first bumps
    # "... a higher test loss, by more than 4 paired standard errors on the same test images (the last line of the
    # next code cell)"; "patience 0's weights are worse on the test images than patience 10's, well beyond the
    # sampling error": the paired line compares the table's two kept epochs, by the table's difference.
    found = re.search(
        r"test, patience 0 against patience 10: epoch (\d+) minus epoch (\d+): ([+-][\d.]+) ± ([\d.]+) "
        r"\((-?[\d.]+) standard errors\): beyond its sampling error",
        text,
    )
    assert found, "the paired comparison of patience 0 and patience 10 is no longer printed, or not beyond"
    assert (int(found.group(1)), int(found.group(2))) == (table[0][1], table[10][1])
    assert abs(float(found.group(3)) - (table[0][2] - table[10][2])) <= 0.0015 and float(found.group(5)) > 4
    assert int(table[0][0]) <= 10
    # "Patience 5, 10 and 20 keep later epochs whose test losses are close to one another, and lower than the final weights'."
    moderate = [table[patience][2] for patience in (5, 10, 20)]
    assert max(moderate) - min(moderate) < 0.02 and max(moderate) < final
    # "How large was the rise, really?": both sets find the final weights worse; the 80 validation images chose the
    # kept epoch (their line says so: flattered by that choice), and their rise is too imprecise to size.
    rises = {
        name: (int(n), float(percent), float(mean), float(se), float(units), verdict)
        for name, n, percent, mean, se, units, verdict in re.findall(
            r"(validation|test), (\d+) images: epoch \d+ [\d.]+, final [\d.]+: ([+-]\d+) %, ([+-][\d.]+) ± ([\d.]+) "
            r"\(([\d.]+) standard errors\): (.+)",
            text,
        )
    }
    assert set(rises) == {"validation", "test"}, rises
    for _n, _percent, mean, se, units, verdict in rises.values():
        assert abs(units - abs(mean) / se) < 0.15 and mean > 0
        # A general borderline wording: within 0.3 of the threshold, neither clearly beyond nor clearly within.
        assert verdict.startswith("borderline" if abs(units - 2) < 0.3 else "beyond" if units > 2 else "within")
    validation, test = rises["validation"], rises["test"]
    assert validation[5].endswith(f"(on the images that chose epoch {table[10][1]}: flattered by that choice)")
    assert validation[0] == 80 and test[0] == 397 and 40 <= validation[1] <= 70
    # The prose quotes the printed rises: "The 397 test images ... find a rise of +0.066 ± 0.033: 2.0 standard errors,
    # borderline"; "The 80 validation images find +0.208 ± 0.088, 2.4 standard errors"; "its standard error, 0.088,
    # is close to half the rise itself".
    prose = "".join("".join(cell.source) for cell in notebook.cells if cell.cell_type == "markdown")
    prose = " ".join(prose.split())
    assert f"find a rise of {test[2]:+.3f} ± {test[3]:.3f}: {test[4]:.1f} standard errors, borderline" in prose
    assert test[5].startswith("borderline")
    assert f"images find {validation[2]:+.3f} ± {validation[3]:.3f}, {validation[4]:.1f} standard errors" in prose
    assert f"its standard error, {validation[3]:.3f}, is close to half the rise" in prose
    assert 0.35 < validation[3] / validation[2] < 0.55
    # "Do the two estimates disagree? Their difference, +0.142 ± 0.094, is 1.5 standard errors: within its sampling
    # error." Two separate sets of images: the standard errors add in squares.
    found = re.search(
        r"validation rise minus test rise: ([+-][\d.]+) ± ([\d.]+) \(([\d.]+) standard errors\): within its sampling error",
        text,
    )
    assert found, "the two rises' difference is no longer printed, or no longer within its sampling error"
    gap, gap_se, gap_units = map(float, found.groups())
    assert abs(gap - (validation[2] - test[2])) <= 0.0015 and abs(gap_se - math.hypot(validation[3], test[3])) <= 0.0015
    assert (
        gap_units < 1.7 and f"Their difference, {gap:+.3f} ± {gap_se:.3f}, is {gap_units:.1f} standard errors" in prose
    )
    # "Patience 5, 10 and 20 keep ... lower than the final weights'; but for epoch 18, the one patience 10 and 20
    # keep, the paired comparison ... puts that difference at only 2.0 standard errors: borderline"
    assert table[10][1] == table[20][1] and f"for epoch {table[10][1]}, the one patience 10 and 20 keep" in prose
    assert f"at only {test[4]:.1f} standard errors: borderline" in prose
    # "the dashed line for patience 5 stands at epoch 17, just left of the ◆ at epoch 18: patience 5 stops there,
    # before epoch 18 is seen, and keeps epoch 12"; the ◆ is the chart's best epoch.
    assert _number(r"best: epoch (\d+)", charts(notebook)[0]) == table[10][1] == int(table[5][0]) + 1
    assert f"patience 5 stands at epoch {table[5][0]}, just left of the ◆ at epoch {table[10][1]}" in prose
    assert f"keeps epoch {table[5][1]}, the best up to then" in prose
    # "So on such a descent a larger min_delta stops earlier, not later": and keeps weights worse on the test set.
    # "The first line measures the curve's wiggle, epoch to epoch: on 80 images it holds the wobble of training plus
    # the part of the sampling error that is not shared ...": the printed number is named the wiggle, not the wobble.
    # "A min_delta of 0.05, a little more than this wiggle"
    assert "wobble of this validation curve" not in text
    assert 0.02 < _number(r"the curve's wiggle, epoch to epoch, on these 80 validation images: ([\d.]+)", text) < 0.05
    replay = [
        (int(stop), float(loss))
        for stop, loss in re.findall(
            r"min_delta=[\d.]+: patience 3 stops at epoch (\d+), keeps epoch \d+, test loss ([\d.]+)", text
        )
    ]
    assert len(replay) == 3 and [stop for stop, _ in replay] == sorted((stop for stop, _ in replay), reverse=True)
    assert replay[-1][0] < replay[0][0] and replay[-1][1] > replay[0][1]
    # "it stops sooner and keeps epoch 4 instead of epoch 8, whose test loss is higher by +0.066 ± 0.010, 6.6 paired
    # standard errors on the same test images (the last line): beyond its sampling error."
    kept_epochs = re.findall(r"min_delta=([\d.]+): patience 3 stops at epoch \d+, keeps epoch (\d+)", text)
    found = re.search(
        r"test, min_delta=0.05 against 0.0: epoch (\d+) minus epoch (\d+): ([+-][\d.]+) ± ([\d.]+) "
        r"\(([\d.]+) standard errors\): beyond its sampling error",
        text,
    )
    assert found, "the paired comparison of min_delta 0.05 and 0 is no longer printed, or no longer beyond"
    later, earlier, mean, se, units = found.groups()
    assert (later, earlier) == (kept_epochs[-1][1], kept_epochs[0][1]) and float(units) > 2
    assert abs(float(mean) - (replay[-1][1] - replay[0][1])) <= 0.0015
    # "keeps epoch 4 instead of epoch 8. Epoch 4's test loss (0.459) is higher than epoch 8's (0.393) by +0.066 ±
    # 0.010": the epoch kept by min_delta=0.05 is the worse one on the test set, by the paired difference printed.
    assert float(mean) > 0
    assert (
        f"keeps epoch {later} instead of epoch {earlier}. Epoch {later}'s test loss ({replay[-1][1]:.3f}) is higher "
        f"than epoch {earlier}'s ({replay[0][1]:.3f}) by {mean} ± {se}, {units} paired" in prose
    )
    # "(This +0.066 ± 0.010 compares epochs 4 and 8; the rise of +0.066 ± 0.033 further up compares epoch 18 with the
    # final weights.)": two results that may print alike, told apart by their epochs and standard errors.
    assert (
        f"(This {mean} ± {se} compares epochs {later} and {earlier}; the rise of {test[2]:+.3f} ± {test[3]:.3f} "
        f"further up compares epoch {table[10][1]} with the final weights.)" in prose
    )
    # The prediction's answer no longer leans on an "800" images this lesson never uses.
    assert "800" not in prose


def is_it_real(notebook: Any) -> None:
    text = printed(notebook)
    best = _number(r"best epoch (\d+): validation loss", text)
    last = _number(r"last epoch (\d+): validation loss", text)
    se_best = _number(r"best epoch \d+: validation loss [\d.]+, standard error ([\d.]+)", text)
    se_last = _number(r"last epoch \d+: validation loss [\d.]+, standard error ([\d.]+)", text)
    # The prediction's answer: the band grows as the model overfits.
    assert se_last > se_best
    # "Wider, many times wider": the band against the curve's wiggles (from second differences).
    wiggles = _number(r"the curve's wiggles around its trend: ([\d.]+)", text)
    assert _number(r"the band \(±2 standard errors\) is (\d+) to \d+ times the wiggles", text) >= 4
    # The aside: "the curve's wiggles are the epoch-to-epoch wobble plus this unshared part of the sampling error
    # ... of the same order as the wiggles. Its last line splits the wiggles ... (the two add in squares)"
    split = re.search(
        r"the wiggles ([\d.]+) = the unshared sampling error ([\d.]+) and the epoch-to-epoch wobble ([\d.]+), added",
        text,
    )
    assert split and float(split.group(1)) == wiggles, split
    unshared, wobble = float(split.group(2)), float(split.group(3))
    assert 0 < unshared < wiggles and 0 < wobble <= wiggles
    assert abs(math.hypot(unshared, wobble) - wiggles) <= 0.0002
    # The aside: "The cell prints its size for one epoch's change (the paired standard error of each step): far
    # smaller than an epoch's standard error. It grows as the weights drift apart (between the best and the last
    # epoch it is the paired standard error printed further down)"
    step_low, step_high = _bands(r"standard error of one epoch's change, image by image: ([\d.]+) to ([\d.]+)", text)
    assert step_low <= step_high
    assert step_low / 3 < wiggles < 3 * step_high  # "of the same order as the wiggles"
    assert _number(r"(?m)^paired standard error +([\d.]+):", text) > 5 * step_high
    # "most of the sampling error is a shared offset": the epoch's standard error far above one step's.
    assert _number(r"standard error of an epoch's mean: ([\d.]+) to", text) > 5 * step_high
    # "one sits above the other by a nearly constant gap, far larger than the gap's changes"
    gap = re.search(r"first half minus second half, epochs 20-\d+: ([+-][\d.]+) on average, varying by ([\d.]+)", text)
    assert gap and abs(float(gap.group(1))) > 5 * float(gap.group(2)), gap
    # "The standard error is the spread of other samples' means": each within 10 % of spread/√n, and 1/√n.
    for drawn, formula in re.findall(
        r"the 2,000 means spread by ([\d.]+); spread of single losses / √n = ([\d.]+)", text
    ):
        assert abs(float(drawn) / float(formula) - 1) < 0.1
    assert 1.8 < _number(r"the spread is ([\d.]+) times smaller", text) < 2.2
    # "meant to hold the true mean loss ... 95 times in 100. Here it held it 93 times in 100: 3.3 standard errors of a
    # count of 2,000 short ... The per-image losses are skewed ... (the mean far above the median, the last line)"
    covered = _number(r"band holds the population's mean (\d+) times in 100", text)
    assert covered == 93
    short = re.search(
        r"(\d+) in 100 is ([\d.]+) standard errors of a count of 2,000 below 95; the 800 losses are skewed: "
        r"mean ([\d.]+), median ([\d.]+)",
        text,
    )
    assert short and int(short.group(1)) == covered and float(short.group(2)) == 3.3, short
    assert float(short.group(3)) > 3 * float(short.group(4)), short
    # "That share is smaller than the standard error of one epoch's change ... a change holds two epochs' wiggles (a
    # factor √2), and an image whose loss moves one way tends to keep moving that way": smaller even after the √2
    assert _number(r"not of one epoch's whole change, which is ([\d.]+) on average", text) > math.sqrt(2) * unshared
    # "another sample's mean ... only about 83 times in 100"
    assert 82 <= _number(r"another 200-image sample's mean (\d+) times in 100", text) <= 84
    # "The paired test is sharper than comparing the two bands, by the factor printed above."
    assert _number(r"the paired test is ([\d.]+) times sharper", text) > 1.2
    # "From the best to the last epoch ...: beyond 2 paired standard errors"
    assert re.search(r"(?m)^paired standard error +[\d.]+: [\d.]+ standard errors: beyond its sampling error$", text)
    # The search: "It found one, but only borderline (within 0.3 of the threshold: lesson 03's rule)"; "the paired
    # standard error of that change (the ± in the last line) is a small fraction of either band's half-width".
    found = re.search(
        r"epoch (\d+): band ([\d.]+) to [\d.]+ overlaps the best epoch's ([\d.]+) to ([\d.]+); "
        r"paired: ([+-][\d.]+) ± ([\d.]+), ([\d.]+) paired standard errors: (.+)",
        text,
    )
    assert found, "the search no longer finds an epoch whose band overlaps the best's, 2+ paired standard errors above"
    assert float(found.group(2)) < float(found.group(4)) and float(found.group(7)) >= 2
    assert abs(float(found.group(7)) - 2) < 0.3 and found.group(8) == "borderline", found.group(0)
    assert 5 * float(found.group(6)) < (float(found.group(4)) - float(found.group(3))) / 2
    # "a small fraction of the loss ... and only borderline: ... too small to matter"
    assert _number(rf"epoch {found.group(1)}: [+-][\d.]+, ([\d.]+) % above the best", text) < 5
    # "the loss rose by about a third and accuracy fell by a few points"
    assert 20 <= _number(r"the loss rose (\d+) %", text) <= 50
    assert -8 <= _number(r"accuracy changed by ([+-][\d.]+) points", text) <= -2
    # "paired on the same images: 4.1 ± 1.2 points, more than 3 standard errors; 67 images went right to wrong, 34
    # wrong to right"
    accuracy = re.search(
        r"the accuracy change, paired on the same images: ([+-][\d.]+) ± ([\d.]+) points \(one standard error\); "
        r"(\d+) images went right -> wrong, (\d+) wrong -> right",
        text,
    )
    assert accuracy and accuracy.groups() == ("-4.1", "1.2", "67", "34"), accuracy
    assert float(accuracy.group(1)) == _number(r"accuracy changed by ([+-][\d.]+) points", text)
    assert round(100 * (34 - 67) / 800, 1) == -4.1 and 4.1 / 1.2 > 3
    # The exercise: n >= (2 x spread / 0.02)^2, smaller for two nearby epochs than for the best and the last.
    needed = {
        (int(a), int(b)): (float(spread), int(n))
        for a, b, spread, n in re.findall(
            r"epochs (\d+) and (\d+): spread of the per-image differences ([\d.]+) .* n >= (\d+) images", text
        )
    }
    assert len(needed) == 2, needed
    for spread, n in needed.values():
        assert abs(n - (2 * spread / 0.02) ** 2) <= 0.01 * n + 1
    # "To see it about 80 times in 100 ... n >= ((2 + 0.84) x spread / 0.02)^2, about twice as many images"
    powered = re.findall(r"n >= (\d+) images; seen 80 times in 100 with n >= (\d+)", text)
    assert len(powered) == 2, powered
    for (spread, n), (at_two, at_eighty) in zip(needed.values(), powered):
        assert int(at_two) == n and abs(int(at_eighty) - (2.84 * spread / 0.02) ** 2) <= 0.01 * int(at_eighty) + 1
        assert 1.8 < int(at_eighty) / n < 2.2
    near, far = needed[(best, best + 2)], needed[(best, last)]
    assert near[1] < far[1]
    assert _number(r"unpaired, you would need n >= (\d+)", text) > far[1]
    # "Where they agree, as here": the plain and the min_delta_se=2 best epochs, and the chart's ◆.
    plain = _number(r"plain rule: best epoch (\d+)", text)
    assert plain == _number(r"min_delta_se=2: best epoch (\d+)", text) == best
    # "the lowest value beat the best before it by 2 paired standard errors or more (the last line prints by how many)"
    beat = re.search(
        rf"epoch {int(best)} below the lowest before it \(epoch \d+\) by [\d.]+: ([\d.]+) paired standard", text
    )
    assert beat and float(beat.group(1)) >= 2, beat


def remedies(notebook: Any) -> None:
    text = printed(notebook)
    assert "the same validation images: True" in text
    names = "baseline|weight decay|dropout|more data|smaller model"
    rows = {
        name.strip(): (int(best), float(best_val), float(last_val), float(rise), float(train), kind, float(right))
        for name, best, best_val, last_val, rise, train, right, kind in re.findall(
            rf"^({names}) +(\d+) +([\d.]+) +([\d.]+) +(-?[\d.]+) +([\d.]+) +([\d.]+)  (.+)$", text, re.MULTILINE
        )
    }
    assert len(rows) == 5, rows
    best = {name: row[1] for name, row in rows.items()}
    rise = {name: row[3] for name, row in rows.items()}
    train = {name: row[4] for name, row in rows.items()}
    kind = {name: row[5] for name, row in rows.items()}
    # "The baseline ... its training loss falls towards zero and its validation loss rises long after its best epoch."
    assert kind["baseline"] == "overfitting" and rows["baseline"][0] < 30 and train["baseline"] < 0.05
    # "Both make memorising harder: their training losses stay above the baseline's, and the rise after the best
    # epoch is smaller. Dropout's rise is far smaller ... Its last validation loss sits above that best again: not
    # 'learning' any more, the diagnosis reads 'plateau'."
    right = {name: row[6] for name, row in rows.items()}
    for name in ("weight decay", "dropout"):
        assert train[name] > train["baseline"] and right[name] > right["baseline"]
    assert rise["weight decay"] < rise["baseline"] and rise["dropout"] < rise["baseline"] / 5
    assert rows["dropout"][0] > 40 and rise["dropout"] > 0 and kind["dropout"] == "plateau"
    # "More data makes memorising slower, not impossible: the lowest validation loss of all, and its validation loss
    # still rises after its best epoch, by a fraction of the baseline's rise (the diagnosis reads 'overfitting')"
    assert best["more data"] == min(best.values()) and 0 < rise["more data"] < rise["baseline"] / 3
    # "a high training loss can also mean not memorising them (more data's is high too); on the training images whose
    # labels are right the smaller model's is still the highest of the five"
    assert train["more data"] > 0.5 and right["smaller model"] == max(right.values())
    assert right["smaller model"] > right["more data"] > right["dropout"]
    # "A smaller model has the highest training loss at the end and the highest best validation loss, and it is
    # still improving: its best epoch is its last, and the diagnosis reads 'learning'."
    assert best["smaller model"] == max(best.values())
    assert train["smaller model"] == max(train.values())
    assert rows["smaller model"][0] == 59 and kind["smaller model"] == "learning"
    # "What the remedies cut": each run minus the baseline, paired on the same 400 images.
    paired = {
        name.strip(): tuple(map(float, numbers))
        for name, *numbers in re.findall(
            rf"^  ({names}) +best epochs: ([+-][\d.]+) ± ([\d.]+) \(([+-][\d.]+) SE\); "
            r"epoch \d+: ([+-][\d.]+) ± ([\d.]+) \(([+-][\d.]+) SE\)$",
            text,
            re.MULTILINE,
        )
    }
    assert len(paired) == 4, paired
    for name, (diff, error, units, *_) in paired.items():
        assert abs(diff - (best[name] - best["baseline"])) <= 0.0016 and abs(diff / error - units) < 0.1 + 0.1 * abs(
            units
        )
    # "dropout's is within its sampling error of it (-0.1 standard errors), and weight decay's is a little *higher*
    # (+0.013, +4.3 standard errors) ... More data lowered the best loss by 0.182, 6.6 paired standard errors"
    assert paired["dropout"][2] == -0.1 and paired["weight decay"][0] == 0.013 and paired["weight decay"][2] == 4.3
    assert paired["more data"][0] == -0.182 and paired["more data"][2] == -6.6
    # "at epoch 30 weight decay, dropout and more data are all below the baseline ... each by more than 4 paired
    # standard errors"
    assert all(paired[name][5] < -4 for name in ("weight decay", "dropout", "more data"))
    # "every run at one epoch fixed in advance instead: there weight decay and dropout are below the baseline ...
    # and more data is still the lowest"
    found = re.search(r"validation loss at epoch \d+, every run: (.+)", text)
    assert found, "the runs at a fixed epoch are no longer printed"
    fixed = {name: float(value) for name, value in re.findall(rf"({names}) ([\d.]+)", found.group(1))}
    assert len(fixed) == 5 and min(fixed, key=fixed.get) == "more data", fixed
    assert fixed["weight decay"] < fixed["baseline"] and fixed["dropout"] < fixed["baseline"]
    # "The diagnosis still reads 'overfitting' for weight decay and for more data"
    assert kind["weight decay"] == kind["more data"] == "overfitting"
    # "the accuracy fell 11 points, and the error rate rose about as much as the loss did (the third line):
    # nearly in step"
    loss_rise = _number(r"the loss rose (\d+) %", text)
    error_rise = _number(r"the error rate rose (\d+) %", text)
    assert abs(loss_rise - error_rise) < 0.2 * loss_rise
    assert round(_number(r"the accuracy fell ([\d.]+) points", text)) == 11
    # "The 47 images wrong at both epochs grew more confidently wrong: their mean loss rose from 1.931 to 5.042, more
    # than double ... The 52 images ... went from 0.521 to 2.518 ... (the 293 images right at both epochs: from 0.249
    # to 0.070)"; answer 2 says the same. The groups are the same images at both epochs.
    groups = {
        name: (int(count), float(before), float(after))
        for count, name, before, after in re.findall(
            r"^ *(\d+) images (.+?): mean loss ([\d.]+) at the best epoch, ([\d.]+) at the last$", text, re.MULTILINE
        )
    }
    assert groups == {
        "wrong at both epochs": (47, 1.931, 5.042),
        "right at the best epoch, wrong at the last": (52, 0.521, 2.518),
        "wrong at the best epoch, right at the last": (8, 1.598, 0.098),
        "right at both epochs": (293, 0.249, 0.070),
    }, groups
    # "only 8 went the other way ... the fall of 11 points is (52 - 8) / 400, and its paired standard error (the last
    # line) is a small fraction of it"
    fall = re.search(r"the accuracy changed by ([+-][\d.]+) points, paired standard error ([\d.]+) points", text)
    assert fall and float(fall.group(1)) == round(100 * (8 - 52) / 400, 1) == -11.0, fall
    assert float(fall.group(2)) < 11.0 / 4, fall
    assert "wrong answers: 55 at the best epoch, 99 at the last" in text
    # "compare it with guessing": far below ln 10, far above 0.10; "still falling at the end"
    assert _number(r"smaller model, last epoch: validation loss ([\d.]+)", text) < 2.303 / 2
    assert _number(r"smaller model, last epoch: .*accuracy ([\d.]+)", text) > 0.5
    falling = re.search(r"over the last 10 epochs: ([\d.]+) -> ([\d.]+)", text)
    assert falling and float(falling.group(2)) < float(falling.group(1))


def moving_to_production(notebook: Any) -> None:
    text = printed(notebook)
    found = re.findall(
        r"cut at epoch (\d+): .*?\(decided on epoch (\d+)'s validation loss, (\d+) epochs after the best before "
        r"it, epoch (\d+)\); training loss fell ([\d.]+) in the two epochs before it, ([\d.]+) in the two after",
        text,
    )
    cuts = [(int(cut), int(earlier), float(before), float(after)) for cut, _, earlier, _, before, after in found]
    assert len(cuts) >= 3, text
    # "cut at epoch 27 means epoch 27 is the first at the new rate: the scheduler decided it at the end of
    # epoch 26"; "Each cut is decided at least 4 epochs after the best validation loss before it"
    assert all(int(decided) == int(cut) - 1 and int(cut) - 1 - int(best) == int(earlier)
               for cut, decided, earlier, best, *_ in found)  # fmt: skip
    assert all(earlier >= 4 for _, earlier, _, _ in cuts)
    assert "cut at epoch 27:" in text  # the prose's example
    # "the validation loss drops at the first epoch at the new rate, and that epoch, 27, is the run's best"
    first = re.search(r"cut at epoch 27: .*; validation loss ([\d.]+) at epoch 26, ([\d.]+) at epoch 27", text)
    assert first and float(first.group(2)) < float(first.group(1)), first
    assert "the lowest validation loss at epoch 27;" in text
    # "two drops whose difference is about one standard error of the training curve's wiggle: they do not show
    # whether the training loss fell faster or slower"
    faster = re.search(
        r"fell (-?[\d.]+) more in the two epochs after it than before; from the training curve's wiggle before the "
        r"cut, that has a standard error of ([\d.]+)",
        text,
    )
    assert faster and 0.5 < abs(float(faster.group(1))) / float(faster.group(2)) < 1.5, faster
    # "The validation loss's drop is less than one standard error of one epoch's change ... so one epoch's drop does
    # not show that the cut caused it"
    drop = re.search(
        r"the validation loss fell ([\d.]+) at the first cut; .* one epoch's change has a standard error of ([\d.]+): "
        r"([\d.]+) standard errors",
        text,
    )
    assert drop and abs(float(drop.group(1)) - (float(first.group(1)) - float(first.group(2)))) <= 0.0011, drop
    assert float(drop.group(1)) < float(drop.group(2)) and float(drop.group(3)) < 1, drop
    # "the validation curve stopped wiggling, its wiggle many times smaller after the cut than before"
    wiggle = re.search(r"wiggle \(one epoch's\): ([\d.]+) before the first cut, ([\d.]+) after it", text)
    assert wiggle and float(wiggle.group(1)) > 5 * float(wiggle.group(2)), wiggle
    # "from the second cut on, the training loss falls less than 0.01 in the two epochs on either side of each cut,
    # the validation loss moves by less than 0.003 across it"
    assert all(before < 0.01 and after < 0.01 for _, _, before, after in cuts[1:])
    across = re.findall(r"validation loss ([\d.]+) at epoch \d+, ([\d.]+) at epoch \d+$", text, re.MULTILINE)
    assert len(across) == len(cuts) and all(abs(float(a) - float(b)) < 0.003 for a, b in across[1:]), across
    assert re.search(r"the run ended: early stopping at epoch \d+", text)
    # The prediction's answer: "every cut above is at least 4 epochs after the best epoch before it" (above).
    # The TensorBoard files hold the chart's run: same epochs and steps, float32 rounding only.
    board = re.search(r"TensorBoard run: (\d+) epochs, (\d+) steps", text).groups()
    chart = re.search(r"the chart: +(\d+) epochs, (\d+) steps", text).groups()
    assert board == chart
    assert _number(r"largest difference in validation loss: ([\d.e+-]+)", text) < 1e-6
    # trackio's store: every epoch, every step, the same validation losses.
    assert re.search(rf"trackio: {chart[0]} epochs with a validation loss, {chart[1]} steps", text)
    assert "the same validation losses: True" in text


def quickstart(notebook: Any) -> None:
    text = printed(notebook)
    # The prediction's answer: "They stay close ... both end near 0.10, just above the noise floor of this data,
    # 0.3² = 0.09".
    found = re.search(r"last epoch \d+: training loss ([\d.]+), validation loss ([\d.]+)", text)
    assert found, "the last epoch's losses are no longer printed"
    train, val = float(found.group(1)), float(found.group(2))
    assert abs(train - val) < 0.15 * min(train, val) and 0.09 < min(train, val) and max(train, val) < 0.12
    assert "0.3 * torch.randn(512, 1)" in notebook.cells[1].source
    # "Both charts now carry the same kind of evidence": a band on each, from one validation loss per point; "both
    # read the same": the diagnoses under the two charts are of one kind.
    first, second = charts(notebook)[:2]
    # "epoch 0's training loss ... is huge (...: the last line under the chart, on losses that run off the top,
    # gives the highest step loss)": the note is under the first loop's chart, its peak far above the losses' 0.10.
    clipped = re.search(r"run off the top \(up to ([\d.]+)\)", " ".join(re.sub(r"<[^>]+>", " ", first).split()))
    assert clipped and float(clipped[1]) > 1, "the first chart no longer says how high the losses off the top go"
    assert "the last line under the chart, on losses that run off the top, gives the highest step loss" in " ".join(
        "".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown").split()
    )
    assert "±2 standard errors" in first and "±2 standard errors" in second
    kinds = [re.search(r"Diagnosis: ([^:<]+):", chart) for chart in (first, second)]
    assert all(kinds) and kinds[0].group(1) == kinds[1].group(1), [kind and kind.group(1) for kind in kinds]
    # "Its best epoch came early, epoch 18 against the first loop's 44, but the two best losses, 0.0949 and 0.0980,
    # differ by much less than one standard error (0.0122 and 0.0126 ...)"; "with 10, like the first loop, it would
    # have stopped at epoch 28"; "both read the same: the validation loss has levelled off at about 0.10".
    runs = {
        name: (int(epoch), float(loss), float(se))
        for name, epoch, loss, se in re.findall(
            r"(the first loop|lw\.fit): best epoch (\d+), validation loss ([\d.]+), standard error ([\d.]+)", text
        )
    }
    assert set(runs) == {"the first loop", "lw.fit"}, runs
    prose = " ".join("".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown").split())
    (loop_epoch, loop_loss, loop_se), (fit_epoch, fit_loss, fit_se) = runs["the first loop"], runs["lw.fit"]
    assert fit_epoch < loop_epoch and f"epoch {fit_epoch} against the first loop's {loop_epoch}" in prose
    assert all(0.09 < loss < 0.11 for loss in (fit_loss, loop_loss))
    assert f"the two best losses, {fit_loss:.4f} and {loop_loss:.4f}," in prose
    assert f"({fit_se:.4f} and {loop_se:.4f}, printed above)" in prose
    # "differ by -0.0031. Both kept models are scored on the same 128 points, so the question ... takes a paired
    # standard error ...: 0.0026, much smaller than each loss's own standard error ... The difference is 1.2 paired
    # standard errors: within its sampling error. What it holds is the run-to-run spread ... plus that sampling error".
    found = re.search(
        r"lw\.fit minus the first loop, on the same 128 points: ([+-][\d.]+), paired standard error ([\d.]+)", text
    )
    assert found, "the two kept models' paired comparison is no longer printed"
    gap, paired_se = float(found.group(1)), float(found.group(2))
    assert abs(gap - (fit_loss - loop_loss)) <= 0.00015  # the kept models are the best epochs' weights
    assert paired_se < 0.5 * min(fit_se, loop_se) and abs(gap) / paired_se < 1.7
    assert (
        f"differ by {found.group(1)} (lw.fit's minus the first loop's)." in prose
        and f"(the line before last): {found.group(2)}, much smaller" in prose
    )
    assert f"The difference is {abs(gap) / paired_se:.1f} paired standard errors: within its sampling error" in prose
    assert "run-to-run spread (another seed, another batch order) plus that sampling error" in prose
    # "with a patience of 20, a generous one ... what the difference bought", said in the prose, not left to the
    # text under the chart: "On a curve this flat patience barely matters"; the prediction's answer names the
    # epoch mean's lag a systematic bias (lesson 00), not chance.
    assert "the text under the chart says why" not in prose and "with a patience of 20, a generous one" in prose
    assert "On a curve this flat patience barely matters" in prose and "insurance" not in prose
    assert "a systematic bias" in prose
    stop_at_10 = int(_number(r"with patience 10, the lw.fit run would have stopped at epoch (\d+)", text))
    assert stop_at_10 < int(_number(r"early stopping at epoch (\d+): no improvement for 20 epochs", text))
    # "Here a patience of 10 ... would have stopped at epoch 28 (the last line above), ten epochs after the early low,
    # and kept the same weights, epoch 18's: no later epoch came lower" (epoch 18 is the best of the whole run).
    assert stop_at_10 == fit_epoch + 10
    assert (
        f"would have stopped at epoch {stop_at_10} (the last line above), ten epochs after the early low, and kept "
        f"the same weights, epoch {fit_epoch}'s: no later epoch came lower" in prose
    )
    assert "for the diagnosis to read through" not in prose  # not why 20: here 10 keeps the same weights
    # "Keep the history": the columns the text explains where they first appear.
    shown = "".join(
        output.get("data", {}).get("text/plain", "") for cell in notebook.cells for output in cell.get("outputs", [])
    )
    assert all(column in shown for column in ("val_se", "val_diff_se", "lr"))
    # "the mean over these 128 points": 512 points, the first 384 for training.
    assert "torch.rand(512, 1)" in notebook.cells[1].source and "x[384:]" in notebook.cells[1].source


def common_pitfalls(notebook: Any) -> None:
    text = printed(notebook)
    # Pitfall 1: "The loss is the same; the graph holds the figure above"; answer 1: only the cost.
    on = re.search(r"gradients on : loss ([\d.]+), graph kept: True, holding ([\d.]+) MB", text)
    off = re.search(r"gradients off: loss ([\d.]+), graph kept: False, holding ([\d.]+) MB", text)
    assert on and off, text
    assert on.group(1) == off.group(1) and float(on.group(2)) > 0.1 and float(off.group(2)) == 0
    # Each pitfall losswidget sees is shown with its warning (printed without Python's file and line).
    assert len(re.findall(r"^warning: losswidget: ", text, re.MULTILINE)) == 4
    # Pitfall 3: "the second from the monitor, which finds that the 'validation' images come in another
    # order each epoch: this loader shuffles"
    assert re.search(r"^warning: losswidget: the per-example validation losses .* hardly correlate", text, re.M)
    # Pitfall 2: "With patience 5 the model trains on past the little bumps, to a clearly lower validation loss."
    stops = {
        int(p): (int(epoch), float(best))
        for p, epoch, best in re.findall(r"patience (\d+): ran (\d+) of 40 epochs, best validation loss ([\d.]+)", text)
    }
    assert stops[0][0] < stops[5][0] and stops[5][1] < stops[0][1] - 0.05, stops
    assert stops[0][0] < 40 == stops[5][0]  # patience 0 stops early; patience 5 ran all 40 epochs
    # "the last line compares the weights each run keeps on the same 300 images, and patience 0's are worse by
    # +0.149 ± 0.021 (6.9 paired standard errors)": the kept weights' losses are the printed best ones.
    found = re.search(
        r"patience 0's kept weights minus patience 5's, image by image: ([+-][\d.]+) ± ([\d.]+) "
        r"\(([\d.]+) paired standard errors\)",
        text,
    )
    assert found, "pitfall 2's paired comparison is no longer printed"
    mean, se, units = found.groups()
    assert abs(float(mean) - (stops[0][1] - stops[5][1])) <= 0.0015 and float(units) > 3
    prose = " ".join("".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown").split())
    assert f"patience 0's are worse by {mean} ± {se} ({units} paired standard errors)" in prose
    # Pitfall 3: "Here it even sits a little below the training curve (the last line above)"; the status cannot
    # know the data are the same: only the warning from lw.fit says so.
    leak = re.search(r"last epoch: training loss ([\d.]+), 'validation' loss ([\d.]+)", text)
    assert leak and float(leak.group(2)) < float(leak.group(1)), text
    assert "train and validation loaders read the same dataset" not in charts(notebook)[2]
    assert "patience longer than the wobble's bumps last" in prose
    # "The shape gives a hint only ... Two checks settle it. A score on data held out from training: the second line
    # above, below the 'validation' accuracy. And indices that are disjoint ... Count them yourself": one split shares
    # no index; two splits with two seeds share many.
    assert "The shape gives a **hint** only" in "".join(cell.source for cell in notebook.cells)
    assert _number(r"real accuracy on held-out data: ([\d.]+)", text) < _number(
        r"'validation' accuracy: ([\d.]+)", text
    )
    assert _number(r"one split: training and validation share (\d+) indices", text) == 0
    assert _number(r"two splits, seeds 0 and 1: training and validation share (\d+) indices of 300", text) > 50
    # Pitfall 3: the "validation" accuracy promises more than the held-out data give.
    assert _number(r"'validation' accuracy: ([\d.]+)", text) > _number(
        r"real accuracy on held-out data: ([\d.]+)", text
    )
    # Pitfall 4: "With dropout on ... the loss is higher"; batch norm "changes the model".
    # "the loss is higher (the line above), and it changes from pass to pass"
    modes = re.search(r"validation loss in train\(\) mode ([\d.]+), again ([\d.]+); in eval\(\) mode ([\d.]+)", text)
    assert modes, text
    first, again, evaluated = (float(group) for group in modes.groups())
    assert first > evaluated and again > evaluated and first != again
    assert _number(r"running mean moved by ([\d.]+)", text) > 0
    assert "/tmp/" not in text and "Warning" not in text


def huggingface_trainer(notebook: Any) -> None:
    text = printed(notebook)
    # "the chart's best epoch is the evaluation the Trainer's log labels one higher: the same evaluation"
    best = _number(r"best epoch: (\d+) · evaluation loss there: ([\d.]+)", text)
    there = _number(r"best epoch: \d+ · evaluation loss there: ([\d.]+)", text)
    assert _number(r"lowest eval_loss [\d.]+ at its epoch (\d+)", text) == best + 1
    assert abs(_number(r"lowest eval_loss ([\d.]+)", text) - there) < 1e-4
    # "The run ends with its training loss below that floor: it has begun to memorise."
    floor = _number(r"the loss floor of a model that knows the rule: ([\d.]+)", text)
    assert 10 <= _number(r"flipped: ([\d.]+) %", text) <= 30
    # "25.0 % (64 of 256), not the 20 % ...: 51 on average, give or take 6 ..., so 64 is about 2 of those above"
    flipped = _number(r"flipped: ([\d.]+) %", text)
    assert flipped == 25.0 and round(flipped / 100 * 256) == 64
    assert round(256 * 0.2) == 51 and round((256 * 0.2 * 0.8) ** 0.5) == 6 and round((64 - 51.2) / 6.4) == 2
    assert _number(r"training loss, mean of the last epoch's steps: ([\d.]+)", text) < floor
    # "At the floor is necessary for knowing the rule, not sufficient: ... this one peaks at 0.8164";
    # "moved up for 4 evaluations, by 0.0658 at the last (16 % of the best)": the Trainer's own log.
    evaluations = [
        (float(loss), float(accuracy))
        for loss, accuracy in re.findall(r"'eval_loss': '([\d.]+)', 'eval_accuracy': '([\d.]+)'", text)
    ][:-1]  # the last is the check after training, at the best weights
    assert max(accuracy for _, accuracy in evaluations) == 0.8164, evaluations
    losses = [loss for loss, _ in evaluations]
    lowest = losses.index(min(losses))
    assert len(losses) - 1 - lowest == 4 and round(losses[-1] - losses[lowest], 4) == 0.0658
    assert round(100 * (losses[-1] - losses[lowest]) / losses[lowest]) == 16


def keras(notebook: Any) -> None:
    text = printed(notebook)
    # "after it, it bounced up and down ... while the training loss went on falling towards zero"
    found = re.search(
        r"val_loss after the best epoch: from ([\d.]+) to ([\d.]+); training loss at the end: ([\d.]+)", text
    )
    assert found, text
    low, high, train = (float(group) for group in found.groups())
    best = _number(r"best epoch: \d+ · val_loss there: ([\d.]+)", text)
    assert best < low and high - low > 0.1 and train < 0.05


def fastai(notebook: Any) -> None:
    text = printed(notebook)
    # "then moved up and down ... while the training loss kept falling"
    found = re.search(
        r"valid_loss after the best epoch: from ([\d.]+) to ([\d.]+); "
        r"training loss \(epoch mean\): ([\d.]+) at the best epoch, ([\d.]+)",
        text,
    )
    assert found, text
    low, high, at_best, at_end = (float(group) for group in found.groups())
    assert _number(r"valid_loss there: ([\d.]+)", text) < low < high and at_end < at_best


CLAIMS = {
    "12_moving_to_production": moving_to_production,
    "10_is_it_real": is_it_real,
    "11_remedies": remedies,
    "03_early_stopping_and_noise": early_stopping_and_noise,
    "02_seeing_overfitting": seeing_overfitting,
    "05_underfitting_and_capacity": underfitting_and_capacity,
    "01_quickstart": quickstart,
    "04_common_pitfalls": common_pitfalls,
    "07_huggingface_trainer": huggingface_trainer,
    "08_keras": keras,
    "09_fastai": fastai,
}


# -- the lessons of issue #34, section 4 (00, 13, 14, 15) ---------------------------------------------

LN_10 = 2.302585092994046  # the loss of guessing evenly among 10 classes


def what_a_loss_means(notebook: Any) -> None:
    text = printed(notebook)
    # "its advantage is slightly flattered": not "nominal", which students read as negligible.
    words = " ".join("".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown").split())
    assert "nominal" not in words and "its advantage is slightly flattered" in words
    # "An untrained network is close to guessing, and its loss is close to ln 10."
    assert abs(_number(r"untrained network on the digits: validation loss ([\d.]+)", text) - LN_10) < 0.1
    # "The training loss ends below the floor ... The validation loss stays above its floor";
    # "no model can expect an MSE below 0.3² = 0.09"; "0.10 is excellent here".
    floor = _number(r"noise floor on the validation points \(the true sin\(x\)\): ([\d.]+)", text)
    best_val = _number(r"lowest validation loss: ([\d.]+)", text)
    assert abs(floor - 0.09) < 0.015
    train = _number(r"training loss at the last epoch: ([\d.]+)", text)
    assert train < floor < best_val < 1.25 * floor
    # "on the 30 training points the true sin(x) itself scores less ..., and the training loss ends below even
    # that ... it has started to fit it (only started: a network that had memorised the points would score near 0)"
    train_floor = _number(r"the true sin\(x\) on the 30 training points: ([\d.]+)", text)
    assert train_floor < floor and train_floor / 4 < train < train_floor
    # "The mark 'patience 5 stops here' is a what-if ... the diagnosis under the chart says the run only
    # looks like overfitting"; the next run logs per-example losses, and its chart says how sure.
    first, second = charts(notebook)[:2]
    # "Here the bands of the best and the last epoch do not even overlap (the cell above prints both), and the
    # paired comparison of the same images puts the last epoch far above the best."
    best_band = re.search(r"best epoch \d+: band \(±2 standard errors\) ([\d.]+) to ([\d.]+)", text)
    last_band = re.search(r"last epoch \d+: band \(±2 standard errors\) ([\d.]+) to ([\d.]+)", text)
    assert best_band and last_band and float(best_band.group(2)) < float(last_band.group(1))
    assert _number(r"last minus best, image by image: \+[\d.]+, ([\d.]+) paired standard errors", text) > 4
    assert "patience 5" in first and "Looks like overfitting" in first, first[-3000:]
    # "The status under the chart writes the lowest validation loss as 0.1 ... the cell prints four decimals, 0.1000."
    assert f"{best_val:.4f}" == "0.1000" and re.search(rf"\b0\.1 at epoch {history_best(text)}\b", first), first[-3000:]
    # "The words under the chart also weigh the rise against the **epoch-to-epoch wobble**": defined where a chart
    # first shows it (the second chart), before lesson 03.
    prose = "".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert (
        "wobble" not in first
        and "wobble" in second
        and "also weigh the rise against the **epoch-to-epoch wobble**" in prose
    )
    assert "Looks like overfitting" not in second and re.search(r"[\d.]+ standard errors?\b", second)
    # The chosen epoch's validation loss sits clearly below its test loss with 30 images, less so with
    # 100; the last epoch's gap is near zero.
    # Each gap comes with the simulation's standard error: "At the last epoch, chosen by nobody, the gap is near
    # zero, within two standard errors of it"; a mean that rounds to zero prints +0.0000, never -0.0000.
    rows = re.findall(r"^ +(\d+) +([+-][\d.]+) ± ([\d.]+) +([+-][\d.]+) ± ([\d.]+)$", text, re.M)
    gaps = {int(n): (float(c), float(f)) for n, c, _, f, _ in rows}
    assert all(abs(float(f)) <= 2 * float(se) for *_, f, se in rows) and "-0.0000" not in text
    # "the chosen epoch's validation loss sits clearly below its test loss on average": beyond the simulation's chance.
    assert all(abs(float(c)) > 3 * float(se) for _, c, se, *_ in rows)
    assert "this monitor was made without `model=`, so it kept none" in " ".join(prose.split())
    code = "".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    creation = re.search(r"sine_monitor = lw\.LiveLossMonitor\((.*)\)", code)
    assert creation and "model=" not in creation[1], "the first chart's monitor now keeps weights: fix the prose"
    assert set(gaps) == {30, 100}, gaps
    # The table comes in one output block, its header with its rows.
    assert any(
        "validation images" in output.get("text", "") and re.search(r"^ +100 ", output.get("text", ""), re.M)
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    ), "the optimism table is split across output blocks"
    assert gaps[30][0] < 0 and gaps[30][0] < gaps[100][0]
    assert abs(gaps[30][1]) < abs(gaps[30][0]) / 3 and abs(gaps[100][1]) < abs(gaps[30][0]) / 3
    # Dropout: the logged training loss is above validation; the training images in eval mode below it.
    found = re.search(
        r"1\. dropout.*logged training loss ([\d.]+).*training images ([\d.]+), validation ([\d.]+)", text
    )
    assert found, "lesson 00 no longer prints the dropout run"
    logged, in_eval, val = map(float, found.groups())
    assert logged > val > in_eval
    # "This run also takes one step per epoch (batches of 300: all the training images at once)"; "Full batches again".
    code = "".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "n_train=300" in code and 'data["train"], 20, 300,' in code and "noisy_train, 30, 300," in code
    # Moving weights: in the first epochs the mean of the batch losses is above the epoch's end (and above
    # validation); the gap shrinks as learning slows.
    rows = [
        tuple(map(float, row))
        for row in re.findall(
            r"2\. batches of 10, epoch \d+: mean of the batch losses ([\d.]+).*?images ([\d.]+), "
            r"validation ([\d.]+)",
            text,
        )
    ]
    assert len(rows) == 4, rows
    assert all(mean > end and mean > val for mean, end, val in rows[:3])
    assert rows[-1][0] - rows[-1][1] < rows[0][0] - rows[0][1]
    # Label noise: training above validation; the wrong labels' loss far above the right ones'; "The correctly
    # labelled training images score a little below the validation images (0.858 against 0.983)".
    train = _number(r"3\. 20 % wrong labels, epoch \d+: training loss ([\d.]+)", text)
    val = _number(r"3\. 20 % wrong labels, epoch \d+: training loss [\d.]+, validation ([\d.]+)", text)
    right = _number(r"with the right label ([\d.]+)", text)
    assert train > val and _number(r"with a wrong label ([\d.]+)", text) > 2 * right and 0 < val - right < 0.25
    assert (right, val) == (0.858, 0.983)


def history_best(text: str) -> int:
    """Lesson 00's first run: the epoch of its lowest validation loss, as printed."""
    return int(_number(r"lowest validation loss: [\d.]+ at epoch (\d+)", text))


CLAIMS["00_what_a_loss_means"] = what_a_loss_means


def run_to_run_spread(notebook: Any) -> None:
    text = printed(notebook)
    rows = {
        setting: ([float(v) for v in values.split()], float(mean), float(se), float(sd))
        for setting, values, mean, se, sd in re.findall(
            r"^(baseline|weight decay) +((?:[\d.]+ +){5})([\d.]+) ± ([\d.]+) +([\d.]+)$", text, re.M
        )
    }
    assert set(rows) == {"baseline", "weight decay"}, rows
    # "The five baseline runs do not end at the same loss"; the SE of the mean of five runs is the SD over √5.
    values, mean, se, sd = rows["baseline"]
    assert len(set(values)) > 1 and abs(mean - sum(values) / 5) <= 0.001 and abs(se - sd / 5**0.5) <= 0.0015
    # "A difference of several standard errors across runs: weight decay lowers ... validation loss"
    gain = _number(r"weight decay minus baseline: ([+-][\d.]+)", text)
    gain_se = _number(r"weight decay minus baseline: [+-][\d.]+ ± ([\d.]+)", text)
    assert gain < 0 and abs(gain) / gain_se >= 3
    assert abs(gain_se - (rows["baseline"][2] ** 2 + rows["weight decay"][2] ** 2) ** 0.5) <= 0.0015
    # "Several pairs of baseline runs differ by more than 2 paired standard errors"
    units = [float(u) for u in re.findall(r"baseline seed \d minus seed \d: .*\(paired, ([+-][\d.]+) standard", text)]
    assert len(units) == 10 and sum(abs(u) > 2 for u in units) >= 3
    # "the seed moves the difference between two runs by several times as much": √2 × SD against the paired SE
    sd = _number(r"spread from seed to seed \(SD\): ([\d.]+);", text)
    assert abs(_number(r"√2 × SD = ([\d.]+)", text) - 2**0.5 * sd) <= 0.0015
    assert _number(r"√2 × SD = [\d.]+, ([\d.]+) times the typical paired standard error", text) >= 2
    # "mostly an offset shared by all of them": one run's ordinary SE "is more than twice the paired one"
    ordinary = _number(r"ordinary standard error of its mean validation loss \(seed 0\): ([\d.]+)", text)
    typical = _number(r"typical paired standard error: ([\d.]+)", text)
    assert ordinary >= 2 * typical
    assert _number(r"\(seed 0\): [\d.]+, ([\d.]+) times the typical paired", text) >= 2
    # The wiggle: "this gain is several times larger"
    assert _number(r"the gain of weight decay, [\d.]+, is ([\d.]+) times the baseline's wiggle", text) >= 2.5
    # "the baseline runs' SD from seed to seed is 0.040 ..., the gain 0.109, not quite three times as large"
    assert abs(rows["baseline"][3] - 0.040) <= 0.0015 and abs(gain + 0.109) <= 0.0015
    assert 2 < abs(gain) / rows["baseline"][3] < 3
    # "the cutoff is Student's t for the difference's degrees of freedom (the second line: about 2.4 here;
    # for a single setting's mean of five runs, 4 degrees of freedom, it is 2.78). The gain is ... well
    # beyond that cutoff"; answer 4: 1.2 is far below it (2.31 ... up to 2.78).
    found = re.search(r"t cutoff for ([\d.]+) degrees of freedom: ([\d.]+) \(.*4 degrees of freedom: ([\d.]+)\)", text)
    assert found, text
    dof, cutoff, one_setting = (float(group) for group in found.groups())
    assert 4 <= dof <= 8 and 2.31 <= cutoff <= 2.78 and abs(cutoff - 2.4) < 0.06 and one_setting == 2.78
    assert abs(gain) / gain_se > 1.5 * cutoff
    # "its best epoch beats its last on these validation images by 3.8 paired standard errors, while the
    # rise since then is not yet clear against the epoch-to-epoch wobble (1.2 × the wobble)": the status
    # printed under the table, the one the chart shows.
    assert "overfitting may be beginning, not clear yet" in text
    assert (
        "3.8 standard errors (sampling error, paired" in text and "the rise since is 1.2 × the epoch-to-epoch" in text
    )
    # "weight decay slows the rise after the lowest point, perhaps removes it: ... a baseline run ends 0.174
    # above its own lowest point, a weight-decay run 0.043"
    rise = {
        setting: _number(rf"{setting}: last minus lowest validation loss, mean of 5 runs: ([\d.]+)", text)
        for setting in ("baseline", "weight decay")
    }
    assert rise == {"baseline": 0.174, "weight decay": 0.043}, rise
    # "0.043 is about what picking the lowest of ~30 wiggling epochs gives with no rise at all (the last line
    # of question 2 computes it)": a flat curve with the weight-decay runs' wiggle, as printed above it.
    flat = re.search(
        r"a flat curve wiggling by the weight-decay runs' ([\d.]+) for 30 epochs ends on average ([\d.]+) above", text
    )
    assert flat, text
    assert float(flat[1]) == _number(r"weight decay +epoch-to-epoch wiggle of the validation loss: ([\d.]+)", text)
    assert abs(float(flat[2]) / rise["weight decay"] - 1) < 0.25, flat.groups()
    # "(the line that begins 'one baseline run's spread': √2 × SD ...)" and "The final line shows it: one
    # run's ordinary standard error": the cell's last two lines, in that order.
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("one baseline run's spread"))
    assert "√2 × SD" in lines[at] and lines[at + 1].startswith("one run's ordinary standard error")
    assert "epoch-to-epoch wiggle" in lines[at + 2]


CLAIMS["14_run_to_run_spread"] = run_to_run_spread


def learning_rate_and_batch_size(notebook: Any) -> None:
    text = printed(notebook)
    floor = 0.09  # the noise's variance, 0.3²: "every curve below has a floor to aim at"
    rates = {
        float(lr): (int(run), float(lowest), float(last), int(rose), float(wiggle))
        for lr, run, _, lowest, last, wiggle, rose in re.findall(
            r"^ +([\d.]+) +(\d+) +([\d.]+) +([\d.]+) +([\d.]+) +([\d.]+) +(\d+)$", text, re.M
        )
    }
    assert set(rates) == {0.0003, 0.003, 0.03}, rates
    # Both tables name what they print the wiggle (lesson 10: training's wobble plus the unshared sampling error).
    assert re.search(r"^ +lr +epochs run +first val +lowest val +last val +wiggle ", text, re.M), text
    assert re.search(r"^batch +steps +last val +wiggle ", text, re.M), text
    # "0.0003, too low: ... after 30 epochs it is still far above the floor of 0.09"
    assert rates[0.0003][0] == 30 and rates[0.0003][2] > 1.4 * floor
    # "0.003, good: ... after 30 epochs it is close to it and still creeping down (its lowest value is its last)."
    assert rates[0.003][2] < 1.2 * floor and rates[0.003][2] == rates[0.003][1]
    # "0.03, too high: it gets near the floor quickly, then bounces: its two largest rises ... are several
    # times its median rise, and its wiggle is the largest of the three; its last value is not its lowest."
    assert rates[0.03][1] < 1.2 * floor and rates[0.03][4] > max(rates[0.0003][4], rates[0.003][4])
    assert rates[0.03][2] > rates[0.03][1]
    spikes = re.search(
        r"lr 0\.03, its two largest rises: epoch \d+ \+([\d.]+), epoch \d+ \+([\d.]+) \(its median rise: ([\d.]+)\)",
        text,
    )
    assert spikes, text
    assert min(float(spikes[1]), float(spikes[2])) >= 3 * float(spikes[3])
    # "0.003 ends lower by 0.0080 ± 0.0021, 3.8 paired standard errors"; the difference is the table's
    paired = re.search(
        r"last epoch, lr 0\.03 minus lr 0\.003: ([+-][\d.]+) ± ([\d.]+) \(paired\), ([\d.]+) standard", text
    )
    assert paired and (paired[1], paired[2], paired[3]) == ("+0.0080", "0.0021", "3.8"), text
    # "But lr 0.03's own wiggle, 0.0107 in the table, is larger than that 0.0080 gap"
    assert rates[0.03][4] == 0.0107 > float(paired[1])
    assert abs(float(paired[1]) - (rates[0.03][2] - rates[0.003][2])) < 2e-4
    # "0.1, far too high: ... the loss grows without bound, faster and faster. Within a few epochs it is
    # infinite, and the monitor ends the run"
    found = re.search(r"lr 0\.1: (\d+) of (\d+) epochs run; validation loss by epoch: (.+)", text)
    assert found, "lesson 13 no longer prints the diverging run"
    run, planned = int(found.group(1)), int(found.group(2))
    values = [float(v) for v in found.group(3).split(", ")]
    assert run < 6 < planned and values[-1] == float("inf")
    finite = values[:-1]
    assert len(finite) >= 3 and all(finite[i + 1] > finite[i] for i in range(len(finite) - 1))
    assert finite[2] / finite[1] > finite[1] / finite[0]
    # "its losses span over thirty powers of ten (printed below)": the first step loss to the largest finite one
    first, largest = (
        float(v) for v in re.search(r"step losses: first ([\d.e+-]+), largest finite ([\d.e+-]+)", text).groups()
    )
    assert math.log10(largest / first) > 30
    batches = {
        int(batch): tuple(map(float, rest))
        for batch, *rest in re.findall(
            r"^ +(\d+) +\d+ +([\d.]+) +([\d.]+) +([\d.]+) +(\d+) +([\d.]+) +([\d.]+)$", text, re.M
        )
    }
    assert set(batches) == {4, 16, 64}, batches
    # "the largest batches take only 120 steps in 30 epochs (the table's steps column)"
    assert re.search(r"^ +64 +120 +", text, re.M), text
    last, wiggle, scatter, used, expected, ratio = ([batches[b][i] for b in (4, 16, 64)] for i in range(6))
    # Answer 3: "from 20 steps, batches of 64, by about ±16 %, 1/√(2·19)"; the ratio column is scatter / expected.
    assert used[2] == 20 and round(100 / (2 * 19) ** 0.5) == 16
    assert all(abs(r - s / e) < 0.02 for r, s, e in zip(ratio, scatter, expected))
    # "Step scatter ... shrinks as the batch grows, roughly as the last column expects from 1/√b"
    assert scatter[0] > scatter[1] > scatter[2]
    assert all(0.6 < s / e < 1.6 for s, e in zip(scatter, expected))
    # Answer 3: "The table's ratio column is near 1 but not exactly 1"
    assert all(0.7 < r < 1.35 for r in ratio) and any(abs(r - 1) > 0.05 for r in ratio)
    # "it differs more than six-fold between the runs, their last validation losses by under 5 %. On the
    # same points (the last two lines) batches of 4 end 0.0048 ± 0.0015 below batches of 64, 3.1 paired
    # standard errors, and batches of 16 0.0037 ± 0.0015 below, 2.4"
    assert scatter[0] / scatter[2] > 6 and max(last) - min(last) < 0.05 * min(last)
    pairs = dict(
        (int(b), (d, se, u))
        for b, d, se, u in re.findall(
            r"last epoch, batch (\d+) minus batch 64: ([+-][\d.]+) ± ([\d.]+) \(paired\), ([+-][\d.]+) standard", text
        )
    )
    assert pairs == {4: ("-0.0048", "0.0015", "-3.1"), 16: ("-0.0037", "0.0015", "-2.4")}, pairs
    # "batches of 4 clearly apart from 64 ..., batches of 16 just past the 1.7 to 2.3 that lessons 03 and 10 call
    # borderline"
    assert 2.3 < abs(float(pairs[16][2])) < 3 < abs(float(pairs[4][2]))
    # "batches of 4's own wiggle, 0.0120 in the table, is 2.5 times that 0.0048 gap, and the status under the
    # chart, printed last, says "Too early to tell""
    assert wiggle[0] == 0.0120 and round(wiggle[0] / abs(float(pairs[4][0])), 1) == 2.5
    status = text[text.index("The status under the chart (the last run, batches of 4):") :]
    assert "Diagnosis: Too early to tell" in status, status
    # "at 0.01: between the good 0.003 and the bouncing 0.03, 3.3 times the good rate (and a third of the
    # bouncing one)"
    assert round(0.01 / 0.003, 1) == 3.3 and round(0.03 / 0.01, 1) == 3.0
    assert (
        abs(float(pairs[4][0]) - (last[0] - last[2])) < 2e-4 and abs(float(pairs[16][0]) - (last[1] - last[2])) < 2e-4
    )
    # Answer 3: "In the table it halves from batches of 4 to 16 (0.1008 to 0.0483) and falls to a third from
    # 16 to 64 (0.0483 to 0.0157)"
    assert (
        scatter == [0.1008, 0.0483, 0.0157]
        and 1.9 < scatter[0] / scatter[1] < 2.2 < 2.8 < scatter[1] / scatter[2] < 3.3
    )
    # "Wiggle: the smaller the batch ... the more the curve wobbles"; "the largest batch's curve is the smoothest"
    assert wiggle[0] > wiggle[1] > wiggle[2]
    # "Even the true curve sin(x) does not score exactly 0.09 on these points (... with its standard
    # error)": within a few standard errors of it; b = 64 of 256: "0.87".
    truth, truth_se = (
        float(v)
        for v in re.search(r"the true sin\(x\) on the 1000 validation points: ([\d.]+) ± ([\d.]+)", text).groups()
    )
    assert truth != floor and abs(truth - floor) < 3 * truth_se and 0.002 < truth_se < 0.006
    # "the paired standard error ... is smaller than this one: 0.0015 to 0.0021 in this lesson against 0.0040, a
    # third to a half"
    paired_ses = sorted([float(paired[2])] + [float(se) for _, se, _ in pairs.values()])
    assert (paired_ses[0], paired_ses[-1], f"{truth_se:.4f}") == (0.0015, 0.0021, "0.0040"), paired_ses
    assert 0.33 < paired_ses[0] / truth_se < paired_ses[-1] / truth_se < 0.55
    assert round(((256 - 64) / 255) ** 0.5, 2) == 0.87


CLAIMS["13_learning_rate_and_batch_size"] = learning_rate_and_batch_size


def worksheet(notebook: Any) -> None:
    text = printed(notebook)
    tables = {}
    for knob, body in re.findall(r"^(\w+): \S+ \(default\) against \S+\n((?:  .+\n){5})", text, re.M):
        tables[knob] = {
            measure.strip(): (float(default), float(changed))
            for measure, default, changed in re.findall(r"^  ([a-z ]+?) +([\d.]+) +([\d.]+)$", body, re.M)
        }
    assert set(tables) == {"lr", "batch_size", "n_val", "width", "seed"}, tables
    lr, batch, n_val, width = tables["lr"], tables["batch_size"], tables["n_val"], tables["width"]
    # 1. "Higher, and still falling: its lowest value is its last"; "the smoother one (a smaller wiggle)"
    assert lr["last val"][1] > lr["last val"][0] and lr["lowest val"][1] == lr["last val"][1]
    assert lr["wiggle"][1] < lr["wiggle"][0]
    # 2. Smaller batches: the steps scatter more, the curve wiggles more; it learns and memorises faster.
    assert batch["step scatter"][1] > 1.5 * batch["step scatter"][0] and batch["wiggle"][1] > batch["wiggle"][0]
    assert batch["lowest val"][1] < batch["lowest val"][0]
    assert batch["last val"][1] - batch["lowest val"][1] > batch["last val"][0] - batch["lowest val"][0]
    # 3. "The standard error grows: 2.4-fold here (the printed ratio), where 1/√n predicts √8 ≈ 2.8"; "the
    # validation loss is not the same"; "the chart's wiggle changes far less than the level".
    assert abs(_number(r"standard error with 50 images / with 400: ([\d.]+)", text) - 2.4) < 0.05
    level = abs(n_val["last val"][1] - n_val["last val"][0])
    assert level > 0.01
    # "the last line: the level moved. The wiggle changed too": the printed shares are the table's
    found = re.search(r"with 50 images instead of 400: last validation loss ([+-]\d+)%, wiggle ([+-]\d+)%", text)
    assert found, text
    for (default, changed), share in ((n_val["last val"], found[1]), (n_val["wiggle"], found[2])):
        assert abs(100 * (changed / default - 1) - int(share)) <= 1.5 and int(share) != 0
    # "these 50 images' losses happen to spread less than the 400's" (a ratio below √8)
    assert _number(r"standard error with 50 images / with 400: ([\d.]+)", text) < 8**0.5
    # The takeaway: "every knob that changes the model moves it too (here all four did: the learning rate,
    # the batch size, the width and the seed)": by more than 5 % each.
    for table in (lr, batch, width, tables["seed"]):
        default, changed = table["standard error"]
        assert abs(changed - default) > 0.05 * default, table
    # 2. "1/√b says √10 ≈ 3.2 times at the same loss; the printed ratio is smaller"
    scatter = _number(r"step scatter with batches of 5 / of 50: ([\d.]+)", text)
    assert 1.0 < scatter < 10**0.5 and abs(scatter - batch["step scatter"][1] / batch["step scatter"][0]) < 0.02
    # "drawing the batches without replacement from 300 images makes it about 3.4"; "the last number, from
    # each run's own spread at its end, is smaller still"
    assert abs(_number(r"drawn without replacement ([\d.]+);", text) - 3.4) < 0.05
    assert _number(r"with each run's own spread of single losses ([\d.]+)", text) < scatter
    # Answer 1: "The width and the learning rate moved the wiggle ... beyond its own uncertainty: the width
    # most (0.0218 to 0.0014), then the learning rate (to 0.0060). A wiggle from 10 epochs (9 steps) is itself
    # uncertain by about ±25 %, so the ratio of two of them by about ±35 %. The batch size's +51 % (to 0.0330)
    # ... does not size it, and the seed's −10 % (0.0218 to 0.0197) is within that uncertainty. The validation
    # size's +21 % is another case"; section 3: "This run's +21 % agrees with that but does not size it".
    wiggles = {knob: table["wiggle"] for knob, table in tables.items()}
    assert width["wiggle"] == (0.0218, 0.0014) and lr["wiggle"][1] == 0.0060 and batch["wiggle"][1] == 0.0330
    assert wiggles["seed"] == (0.0218, 0.0197) and found[2] == "+21"
    relative = (2 * 8) ** -0.5  # the relative standard error of a standard deviation from 9 values
    ratio_se = 2**0.5 * relative
    assert (round(relative, 2), round(ratio_se, 2)) == (0.25, 0.35)
    moved = {knob: changed / default - 1 for knob, (default, changed) in wiggles.items()}
    assert round(100 * moved["batch_size"]) == 51 and round(100 * moved["n_val"]) == 21
    assert round(-100 * moved["seed"]) == 10
    # "a change needs about twice that to stand out, a wiggle roughly halved or doubled. The width (−94 %) and the
    # learning rate (−72 %) do; the batch size's +51 % ... does not ... and the seed's −10 % ... is well within it"
    # (twice ±35 % on the log scale a ratio is even on: e^±0.7, 0.5 to 2)
    assert (round(100 * moved["width"]), round(100 * moved["lr"])) == (-94, -72)
    ratios = {knob: 1 + change for knob, change in moved.items()}
    assert max(ratios["width"], ratios["lr"]) < 0.5 and 0.5 < ratios["seed"] and ratios["batch_size"] < 2
    assert round(math.exp(-2 * ratio_se), 1) == 0.5 and round(math.exp(2 * ratio_se), 1) == 2.0
    # section 5: "They are close here (section 2's chart says a wobble of 0.0354 per epoch beside its table's wiggle
    # of 0.0330)"
    under_charts = " ".join(re.sub(r"<[^>]+>", " ", " ".join(charts(notebook))).split())
    assert "epoch-to-epoch wobble (0.0354 per epoch)" in under_charts and batch["wiggle"][1] == 0.0330
    # section 2: "the wiggle may also hold a larger images' part for this run ... since its per-image losses spread
    # more (its standard error 0.0552 against 0.0341)"
    assert tables["batch_size"]["standard error"] == (0.0341, 0.0552)
    # 4. "its loss is far above the default's and still falling, closer to guessing (ln 10) than to the default"
    narrow = width["last val"][1]
    assert narrow == width["lowest val"][1] and abs(LN_10 - narrow) < abs(narrow - width["last val"][0])
    # 5. "Will the two runs end at the same validation loss?" "No."
    assert abs(_number(r"seed 1 minus seed 0, last validation loss: ([+-][\d.]+)", text)) >= 0.01
    # "only about one image in ten is a zero, so a model that always answers 'not a zero' is right about
    # 90 % of the time"
    zeros = _number(r"zeros among the \d+ validation images: ([\d.]+)%", text)
    # "the entropy of the class prior, printed below for 'zero or not'": the binary entropy of that share
    share = zeros / 100
    anchor = _number(r"the same chance for every image: loss ([\d.]+)", text)
    assert abs(anchor + share * math.log(share) + (1 - share) * math.log(1 - share)) < 0.002
    assert 5 < zeros < 15 and 85 < _number(r"always 'not a zero': accuracy ([\d.]+)%", text) < 95
    # "beside the model's own 'zero or not' loss: a model that has learned something scores well below it"
    own = _number(
        r"the default model's own loss for 'zero or not' \(binary cross-entropy of its p\(zero\)\): ([\d.]+)", text
    )
    assert own < anchor / 2, (own, anchor)
    # "The table's validation loss is the ten-digit one: it belongs with ln 10": the seed table's default.
    ten = _number(r"its loss over all ten digits: ([\d.]+), held against ln 10 = 2.303", text)
    assert abs(ten - tables["seed"]["last val"][0]) < 1e-4 and own < ten
    # "The model finds 39 of the 43 zeros (recall 90.7 %) ... (39 of the 40 images it calls zeros: precision
    # 97.5 %) ... its standard error is about 4.4 points"
    assert "precision 97.5%, recall 90.7% for the zeros" in text
    assert (
        "it finds 39 of the 43 zeros and calls 40 images zeros; the recall's standard error from 43 zeros: 4.4%" in text
    )
    # "Wilson's interval, the last line, runs further below 90.7 % than above it"
    low, high = (
        float(v) for v in re.findall(r"Wilson's 95 % interval for the recall: ([\d.]+)% to ([\d.]+)%", text)[0]
    )
    assert (low, high) == (78.4, 96.3) and 90.7 - low > high - 90.7
    assert round(100 * 39 / 43, 1) == 90.7 and round(100 * 39 / 40, 1) == 97.5
    # 2. "The last line isolates that law ... Its ratio, 3.35, lands near the 3.44 the law predicts"; "The two
    # training runs' ratio, 2.15"; "the law predicts 1.75"; "the table: 0.0218 against 0.0330"
    fixed = _number(r"fixed weights, 2000 random batches: batches of 5 / of 50 scatter ([\d.]+)", text)
    assert fixed == 3.35 and abs(fixed / (10 * 295 / 250) ** 0.5 - 1) < 0.05 and scatter == 2.15
    assert _number(r"with each run's own spread of single losses ([\d.]+)", text) == 1.75
    assert batch["wiggle"] == (0.0218, 0.0330)
    # 2. "Yet 2.15 lies between the two predictions, above the 1.75 and below the 3.44"
    assert 1.75 < scatter < round((10 * 295 / 250) ** 0.5, 2) == 3.44
    # 3. "the grey dashed line "patience 5 would stop here" sits before the best epoch (the line under each
    # table: epoch 12 against a best at 13, and 20 against 22): early stopping with patience 5 would have
    # stopped there, kept an earlier best and missed a later one", each difference with its paired standard
    # error (the two epochs scored the same images)
    what_if = {
        label: (int(stop), int(kept), float(kept_val), int(best), float(best_val), float(gap), float(se), float(units))
        for label, stop, kept, kept_val, best, best_val, gap, se, units in re.findall(
            r"^(batches of 5|50 validation images): patience 5 would stop at epoch (\d+), keeping epoch (\d+) "
            r"\(([\d.]+)\); the run's best: epoch (\d+) \(([\d.]+)\); kept minus best \+([\d.]+) ± ([\d.]+) "
            r"\(paired, the same images: ([\d.]+) standard errors\)$",
            text,
            re.M,
        )
    }
    assert {label: row[::3][:2] for label, row in what_if.items()} == {
        "batches of 5": (12, 13),
        "50 validation images": (20, 22),
    }, what_if
    for stop, kept, kept_val, best, best_val, gap, se, units in what_if.values():
        assert kept < stop < best and abs(kept_val - best_val - gap) < 2e-4 and abs(gap / se - units) < 0.06
    # "The later best is lower by 0.0252 and 0.0041: 1.3 and 0.2 standard errors of the difference ... both
    # well under 2 ... too close to call"; "smaller than the table's standard error of one epoch"
    assert [row[5:] for row in what_if.values()] == [(0.0252, 0.0198, 1.3), (0.0041, 0.0218, 0.2)], what_if
    assert (
        what_if["batches of 5"][6] < batch["standard error"][1]
        and what_if["50 validation images"][6] < n_val["standard error"][1]
    )
    # 3. "these 50 images happen to be easier than the 400 on average (the last line: a loss 14 % lower)"
    assert found[1] == "-14"
    # 5. "On the same 400 images it is −0.060 ± 0.014, 4.2 paired standard errors"
    assert re.search(
        r"seed 1 minus seed 0, last validation loss: -0\.060 ± 0\.014 \(paired, the same 400 images: -4\.2 standard",
        text,
    ), text


CLAIMS["15_worksheet"] = worksheet


def class_lab_teacher(notebook: Any) -> None:
    text = printed(notebook)
    # Nine simulated students, three per weight decay; every run finished and in the table.
    assert "9 simulated students started" in text and "A class of 9 runs" in text
    assert text.count("finished") == 9
    assert "following the class folder 'class_runs'" in text and "/tmp" not in text
    # The sentence compares the groups at the last epoch every run reached (29 of 30), lowest first,
    # each with mean ± one standard error of its mean over 3 runs; the lowest points come second.
    said = [line for line in text.splitlines() if line.startswith("At epoch 29, the last epoch every run reached")]
    assert said, text
    for line in said:
        at, points = line.split(" Each run's lowest point, averaged")
        groups = re.findall(r"weight decay ([\d.]+): ([\d.]+) ± ([\d.]+) over 3 runs", at)
        assert len(groups) == 3 and [float(g[1]) for g in groups] == sorted(float(g[1]) for g in groups), line
        assert f"Each against weight decay {groups[0][0]} (the lowest): " in at and "lowest two" not in line
        # Student's t with Welch's degrees of freedom, between t(4) = 2.78 (equal spreads) and t(2) = 4.30
        # for 3 runs a group; the verdict follows it; both other groups are tested against the lowest.
        verdicts = re.findall(
            r"([\d.]+) standard errors, (above|below) the ([\d.]+) that these two groups of 3 runs need with their spreads: (clear|not clear yet)",
            at,
        )
        assert len(verdicts) == 2, line
        for units, side, cutoff, verdict in verdicts:
            assert 2.7 <= float(cutoff) <= 4.4
            assert (side == "above") == (verdict == "clear") == (float(units) >= float(cutoff) - 0.05)
        assert "clear" not in points and len(re.findall(r"weight decay [\d.]+ [\d.]+", points)) == 3
        # Each difference quoted (".2g") can be checked from the means as printed (3 significant digits):
        # equal within the rounding of the three numbers (half the quoted one's last digit, and the means').
        means = {label: float(mean) for label, mean, _ in groups}
        for label, difference in re.findall(r"weight decay ([\d.]+) \+([\d.]+), [\d.]+ standard errors", at):
            rounding = 0.5 * 10.0 ** -len(difference.split(".")[1]) + 0.001
            assert abs(means[label] - means[groups[0][0]] - float(difference)) <= rounding, (label, difference, means)
        assert all(len(mean.lstrip("0.")) >= 3 for _, mean, _ in groups), groups
    # Lesson 16's answer 3 quotes this sentence: "1.3 standard errors, below the 4.0 that 3 runs per group
    # need: not clear yet".
    assert (
        "1.3 standard errors, below the 4.0 that these two groups of 3 runs need with their spreads: not clear yet"
        in text
    )
    # The teacher is told whether two runs share a seed and a weight decay (one run twice).
    assert "runs sharing a weight decay and a seed: none" in text


CLAIMS["17_class_lab_teacher"] = class_lab_teacher


def steer_it_yourself(notebook: Any) -> None:
    text = printed(notebook)
    # "the jumps shrink to a fraction": the wobble after the three presses, against before.
    high = _number(r"wiggle at lr 1.0 \(epochs 0-7\): ([\d.]+)", text)
    low = _number(r"wiggle at lr 0.125 \(epochs 9-16\): ([\d.]+)", text)
    assert low < high / 2, (high, low)
    assert "recorded: lr 1 -> 0.125 at epoch 8, from 'api'" in text
    # "the model scores the best epoch's loss again"
    best = _number(r"run 1's best: epoch \d+, validation loss ([\d.]+)", text)
    assert _number(r"after Back to best the model scores ([\d.]+)", text) == best
    # "it ended lower at epoch 29 ... by 0.0608 ± 0.0173 (... paired, the same images, 3.5 standard errors)";
    two, one = (
        _number(r"at epoch 29: run 2 ([\d.]+)", text),
        _number(r"at epoch 29: run 2 [\d.]+, run 1 ([\d.]+)", text),
    )
    gap = re.search(
        r"at epoch 29, run 2 minus run 1: ([+-][\d.]+) ± ([\d.]+) \(paired, ([+-][\d.]+) standard errors\); "
        r"run 1's wiggle at lr 0.125: ([\d.]+)",
        text,
    )
    assert gap and gap.groups() == ("-0.0608", "0.0173", "-3.5", "0.033"), text
    assert abs(float(gap[1]) - (two - one)) < 2e-4 and low == float(gap[4])
    # "over the 14 epochs both runs have after the branch (the next line) the gap runs from −0.0750 to +0.0046,
    # and run 2 is lower at 12 of them, by 0.0315 on average ... by about half the gap at epoch 29"
    over = re.search(
        r"run 2 minus run 1 at each epoch both have after the branch \((\d+)-(\d+)\): below 0 at (\d+) of (\d+), "
        r"mean ([+-][\d.]+), from ([+-][\d.]+) to ([+-][\d.]+)",
        text,
    )
    assert over and over.groups() == ("16", "29", "12", "14", "-0.0315", "-0.0750", "+0.0046"), text
    # "the wiggles printed above measure the jumps' spread ...: 0.170 before, 0.033 after, a fifth"
    assert (high, low, round(low / high, 1)) == (0.170, 0.033, 0.2)
    assert float(over[6]) < float(gap[1]) and 0.4 < float(over[5]) / float(gap[1]) < 0.6
    # "a step from one epoch to the next is 3.3 times its paired standard error, mean for mean (0.204 against 0.062"
    step, step_se = (
        _number(r"mean size of a step from one epoch to the next, epochs 0-7: ([\d.]+)", text),
        _number(
            r"paired standard error of one step \(consecutive epochs, the same images\), epochs 0-7: ([\d.]+)", text
        ),
    )
    assert (step, step_se, round(step / step_se, 1)) == (0.204, 0.062, 3.3)
    # "not clearly how good its best weights are": within 2 paired standard errors.
    if "the branch point: no epoch after it scored lower" not in text:
        assert abs(_number(r"\(paired, ([+-][\d.]+) standard errors\)", text)) < 2
    # Too low: "ten epochs move it by a few hundredths"; "it falls steeply at once".
    start, tenth = (float(v) for v in re.search(r"at lr 0.002: validation loss ([\d.]+) -> ([\d.]+)", text).groups())
    assert 0.01 <= start - tenth < 0.1 and abs(start - 2.30) < 0.05
    assert _number(r"at lr 0.032: validation loss [\d.]+ -> ([\d.]+)", text) < tenth - 1.0


CLAIMS["18_steer_it_yourself"] = steer_it_yourself
