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
    # "The same thing on real images": the accuracy falls too, the training loss towards zero.
    assert _number(r"last epoch \d+: .*accuracy ([\d.]+)%", text) < _number(
        r"best epoch \d+: .*accuracy ([\d.]+)%", text
    )
    assert _number(r"training loss fell from [\d.]+ to ([\d.]+)", text) < 0.1
    # Answer 1: "the training loss rose at some epochs, several in a row at times"
    assert _number(r"the training loss rose at (\d+) of", text) > 0
    assert _number(r"at most (\d+) epochs in a row", text) >= 2


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
    assert {0, 1, 5, 10, 20} <= set(table), table
    final = _number(r"\(none\)\s+-\s+\d+\s+([\d.]+)  <- the final weights", text)
    # "With patience 0 or 1, the wobble triggers the stop while the model is still improving: ... clearly higher test loss."
    # The prediction's answer: patience 0 stops before the minimum, a few epochs in.
    for patience in (0, 1):
        assert table[patience][2] > table[10][2] + 0.05 and table[patience][1] < table[10][1]
    assert int(table[0][0]) <= 10
    # "Patience 5, 10 and 20 keep later epochs whose test losses are close to one another, and lower than the final weights'."
    moderate = [table[patience][2] for patience in (5, 10, 20)]
    assert max(moderate) - min(moderate) < 0.02 and max(moderate) < final
    # "How large was the rise, really?": both sets find the final weights worse; the 80 images put the rise at
    # several times the test set's, with a much larger standard error. The question: "rose by half".
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
        assert verdict.startswith("larger" if units >= 2 else "within")
    assert rises["validation"][0] == 80 and rises["test"][0] == 397
    assert rises["validation"][2] > 2.5 * rises["test"][2] and rises["validation"][3] > 2 * rises["test"][3]
    assert 40 <= rises["validation"][1] <= 70
    # "So on such a descent a larger min_delta stops earlier, not later": and keeps weights worse on the test set.
    # "A min_delta of 0.05, a little more than the wobble of this 80-image curve"
    assert 0.02 < _number(r"the epoch-to-epoch wobble of this validation curve: ([\d.]+)", text) < 0.05
    replay = [
        (int(stop), float(loss))
        for stop, loss in re.findall(
            r"min_delta=[\d.]+: patience 3 stops at epoch (\d+), keeps epoch \d+, test loss ([\d.]+)", text
        )
    ]
    assert len(replay) == 3 and [stop for stop, _ in replay] == sorted((stop for stop, _ in replay), reverse=True)
    assert replay[-1][0] < replay[0][0] and replay[-1][1] > replay[0][1]


def is_it_real(notebook: Any) -> None:
    text = printed(notebook)
    best = _number(r"best epoch (\d+): validation loss", text)
    last = _number(r"last epoch (\d+): validation loss", text)
    se_best = _number(r"best epoch \d+: validation loss [\d.]+, standard error ([\d.]+)", text)
    se_last = _number(r"last epoch \d+: validation loss [\d.]+, standard error ([\d.]+)", text)
    # The prediction's answer: the band grows as the model overfits.
    assert se_last > se_best
    # "Wider, many times wider": the band against the epoch-to-epoch wobble.
    assert _number(r"the band \(±2 standard errors\) is (\d+) to \d+ times the wobble", text) >= 4
    # "one sits above the other by a nearly constant gap, far larger than the gap's changes"
    gap = re.search(r"first half minus second half, epochs 20-\d+: ([+-][\d.]+) on average, varying by ([\d.]+)", text)
    assert gap and abs(float(gap.group(1))) > 5 * float(gap.group(2)), gap
    # "The standard error is the spread of other samples' means": each within 10 % of spread/√n, and 1/√n.
    for drawn, formula in re.findall(
        r"the 2,000 means spread by ([\d.]+); spread of single losses / √n = ([\d.]+)", text
    ):
        assert abs(float(drawn) / float(formula) - 1) < 0.1
    assert 1.8 < _number(r"the spread is ([\d.]+) times smaller", text) < 2.2
    # "close to 95 times in 100 ... another sample's mean ... only about 84 times in 100"
    assert 90 <= _number(r"band holds the population's mean (\d+) times in 100", text) <= 97
    assert 78 <= _number(r"another 200-image sample's mean (\d+) times in 100", text) <= 88
    # "The paired test is sharper than comparing the two bands, by the factor printed above."
    assert _number(r"the paired test is ([\d.]+) times sharper", text) > 1.2
    paired = _number(r"(?m)^paired standard error +[\d.]+: ([\d.]+) standard errors", text)
    assert paired >= 2  # "From the best to the last epoch ... real"
    # "two bands that overlap can still hide a real difference": an epoch whose bands overlap, 2+ paired SE.
    found = re.search(
        r"epoch (\d+): band ([\d.]+) to [\d.]+ overlaps the best epoch's [\d.]+ to ([\d.]+); "
        r"paired: ([+-][\d.]+), ([\d.]+) paired standard errors",
        text,
    )
    assert found, "no epoch whose band overlaps the best's with a real paired difference"
    assert float(found.group(2)) < float(found.group(3)) and float(found.group(5)) >= 2
    # "a small fraction of the loss ... real, yet too small to matter"
    assert _number(rf"epoch {found.group(1)}: [+-][\d.]+, ([\d.]+) % above the best", text) < 5
    # "the loss rose by about a third and accuracy fell by a few points"
    assert 20 <= _number(r"the loss rose (\d+) %", text) <= 50
    assert -8 <= _number(r"accuracy changed by ([+-][\d.]+) points", text) <= -2
    # The exercise: n >= (2 x spread / 0.02)^2, smaller for two nearby epochs than for the best and the last.
    needed = {
        (int(a), int(b)): (float(spread), int(n))
        for a, b, spread, n in re.findall(
            r"epochs (\d+) and (\d+): spread of the per-image differences ([\d.]+): .* n >= (\d+) images", text
        )
    }
    assert len(needed) == 2, needed
    for spread, n in needed.values():
        assert abs(n - (2 * spread / 0.02) ** 2) <= 0.01 * n + 1
    near, far = needed[(best, best + 2)], needed[(best, last)]
    assert near[1] < far[1]
    assert _number(r"unpaired, you would need n >= (\d+)", text) > far[1]
    # "Where they agree, as here": the plain and the min_delta_se=2 best epochs, and the chart's ◆.
    plain = _number(r"plain rule: best epoch (\d+)", text)
    assert plain == _number(r"min_delta_se=2: best epoch (\d+)", text) == best


def remedies(notebook: Any) -> None:
    text = printed(notebook)
    assert "the same validation images: True" in text
    names = "baseline|weight decay|dropout|more data|smaller model"
    rows = {
        name.strip(): (int(best), float(best_val), float(last_val), float(rise), float(train), kind)
        for name, best, best_val, last_val, rise, train, kind in re.findall(
            rf"^({names}) +(\d+) +([\d.]+) +([\d.]+) +(-?[\d.]+) +([\d.]+)  (.+)$", text, re.MULTILINE
        )
    }
    assert len(rows) == 5, rows
    best = {name: row[1] for name, row in rows.items()}
    rise = {name: row[3] for name, row in rows.items()}
    train = {name: row[4] for name, row in rows.items()}
    kind = {name: row[5] for name, row in rows.items()}
    # "The baseline ... its training loss falls towards zero and its validation loss rises long after its best epoch."
    assert kind["baseline"] == "overfitting" and rows["baseline"][0] < 30 and train["baseline"] < 0.05
    # "Both make memorising harder: the rise shrinks, dropout's to a small fraction of the baseline's
    # (dropout's best epoch comes late, and by the end its curve reads 'learning')."
    assert rise["weight decay"] < rise["baseline"] and rise["dropout"] < rise["baseline"] / 5
    assert rows["dropout"][0] > 40 and kind["dropout"] == "learning"
    # "More data: the lowest validation loss of all, and a rise a fraction of the baseline's."
    assert best["more data"] == min(best.values()) and rise["more data"] < rise["baseline"] / 3
    # "A smaller model has the highest training loss at the end and the highest best validation loss, and it is
    # still improving: its best epoch is its last, and the diagnosis reads 'learning'."
    assert best["smaller model"] == max(best.values())
    assert train["smaller model"] == max(train.values())
    assert rows["smaller model"][0] == 59 and kind["smaller model"] == "learning"
    # "their best losses are within a few hundredths of the baseline's ... Only more data lowered the best loss clearly."
    for name in ("weight decay", "dropout"):
        assert abs(best[name] - best["baseline"]) < 0.03
    assert best["more data"] < best["baseline"] - 0.1
    # "The diagnosis still reads 'overfitting' for weight decay and for more data"
    assert kind["weight decay"] == kind["more data"] == "overfitting"
    # "the error rate nearly doubled ... the loss rose several times more than the accuracy fell"
    loss_rise = _number(r"the loss rose (\d+) %", text)
    acc_fall = _number(r"the accuracy fell (\d+) %", text)
    assert loss_rise > 3 * acc_fall
    assert 1.5 <= _number(r"the error rate rose ([\d.]+) times", text) < 2.1
    # "compare it with guessing": far below ln 10, far above 0.10; "still falling at the end"
    assert _number(r"smaller model, last epoch: validation loss ([\d.]+)", text) < 2.303 / 2
    assert _number(r"smaller model, last epoch: .*accuracy ([\d.]+)", text) > 0.5
    falling = re.search(r"over the last 10 epochs: ([\d.]+) -> ([\d.]+)", text)
    assert falling and float(falling.group(2)) < float(falling.group(1))


def moving_to_production(notebook: Any) -> None:
    text = printed(notebook)
    cuts = [
        (int(cut), int(earlier), float(before), float(after))
        for cut, earlier, before, after in re.findall(
            r"cut at epoch (\d+): .*?\((\d+) epochs earlier\); training loss fell ([\d.]+) in the two epochs "
            r"before it, ([\d.]+) in the two after",
            text,
        )
    ]
    assert len(cuts) >= 3, text
    # "Each cut comes at least 4 epochs after the best validation loss before it"
    assert all(earlier >= 4 for _, earlier, _, _ in cuts)
    # "Right after the first cut the training loss falls faster than in the epochs before it"
    assert cuts[0][3] > cuts[0][2]
    # "from the third cut on, the rate is too small to change anything, and early stopping ends the run"
    assert all(after < 0.005 for *_, after in cuts[2:])
    assert re.search(r"the run ended: early stopping at epoch \d+", text)
    # "The diagnosis reads the panel too: it says when a bend or a plateau sits right after a cut."
    assert re.search(r"diagnosis: .*The learning rate was cut at epoch \d+", text)
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
    # The prediction's answer: "Here the validation loss ends a little lower ... the two curves stay close."
    found = re.search(r"last epoch \d+: training loss ([\d.]+), validation loss ([\d.]+)", text)
    assert found, "the last epoch's losses are no longer printed"
    train, val = float(found.group(1)), float(found.group(2))
    assert val < train < 1.3 * val


CLAIMS = {
    "12_moving_to_production": moving_to_production,
    "10_is_it_real": is_it_real,
    "11_remedies": remedies,
    "03_early_stopping_and_noise": early_stopping_and_noise,
    "02_seeing_overfitting": seeing_overfitting,
    "05_underfitting_and_capacity": underfitting_and_capacity,
    "01_quickstart": quickstart,
}
