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


def is_it_real(notebook: Any) -> None:
    text = printed(notebook)
    best = _number(r"Best validation loss [\d.]+ at epoch (\d+)", text)
    # One best epoch on the screen: the status, the paired sentence, the diagnosis and min_delta_se's replay.
    assert _number(r"since the best epoch (\d+): [\d.]+ standard errors", text) == best
    assert _number(r"risen for \d+ epochs since the best epoch (\d+)", text) == best
    assert _number(r"min_delta_se=2: best epoch (\d+)", text) == best
    # "Four times the images halves the standard error (the ratio above is near 2 ...)"
    assert 1.5 < _number(r"the standard error is ([\d.]+) times smaller", text) < 2.7
    # "Two bands that overlap can still be a real difference": the paired test is sharper.
    assert _number(r"the paired test is ([\d.]+) times sharper", text) > 1.0
    paired = _number(r"(?m)^paired standard error +[\d.]+: ([\d.]+) standard errors", text)
    assert paired == _number(r"since the best epoch \d+: ([\d.]+) standard errors", text)  # the status's figure
    # The exercise's answer: n >= (2 x spread / 0.02)^2, from the spread it prints.
    spread = _number(r"spread of the per-image differences: ([\d.]+)", text)
    needed = _number(r"2 paired standard errors with n >= (\d+) images", text)
    assert abs(needed - (2 * spread / 0.02) ** 2) <= 0.01 * needed
    assert _number(r"unpaired, you would need n >= (\d+)", text) > needed


def remedies(notebook: Any) -> None:
    text = printed(notebook)
    rows = {
        match.group(1).strip(): (int(match.group(2)), float(match.group(5)), match.group(6))
        for match in re.finditer(
            r"^(baseline|weight decay|dropout|more data|smaller model) +(\d+) +([\d.]+) +([\d.]+) +(-?[\d.]+)  (.+)$",
            text,
            re.MULTILINE,
        )
    }
    assert len(rows) == 5, rows
    values = {
        m.group(1): float(m.group(2))
        for m in re.finditer(r"^(baseline|weight decay|dropout|more data|smaller model) +\d+ +([\d.]+)", text, re.M)
    }
    rise = {name: row[1] for name, row in rows.items()}
    kind = {name: row[2] for name, row in rows.items()}
    # "The baseline memorises ...: validation loss rises long after its best epoch."
    assert kind["baseline"] == "overfitting" and rows["baseline"][0] < 30
    # "Both make memorising harder: the rise shrinks, dropout's to a small fraction of the baseline's."
    assert rise["weight decay"] < rise["baseline"] and rise["dropout"] < rise["baseline"] / 3
    # "More data ...: the lowest validation loss of all, and a small rise."
    assert values["more data"] == min(values.values()) and rise["more data"] < rise["baseline"] / 3
    # "A smaller model ... does not overfit in 60 epochs; it is still learning, and its loss stays the highest"
    assert kind["smaller model"] == "learning" and values["smaller model"] == max(values.values())
    # "The diagnosis still says 'overfitting' for three remedies"
    assert [kind[name] for name in ("weight decay", "dropout", "more data")].count("overfitting") == 3
    # "In relative terms the loss rises many times more than the accuracy falls."
    loss_best = _number(r"at its best epoch \d+: validation loss ([\d.]+)", text)
    acc_best = _number(r"at its best epoch \d+: validation loss [\d.]+, accuracy ([\d.]+)", text)
    loss_last = _number(r"at the last epoch \d+: validation loss ([\d.]+)", text)
    acc_last = _number(r"at the last epoch \d+: validation loss [\d.]+, accuracy ([\d.]+)", text)
    assert (loss_last / loss_best - 1) > 5 * (1 - acc_last / acc_best)
    # "compare it with guessing": far below ln 10, far above 0.10
    assert _number(r"smaller model, last epoch: validation loss ([\d.]+)", text) < 2.303 / 2
    assert _number(r"smaller model, last epoch: .*accuracy ([\d.]+)", text) > 0.5


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


CLAIMS = {
    "12_moving_to_production": moving_to_production,
    "10_is_it_real": is_it_real,
    "11_remedies": remedies,
    "03_early_stopping_and_noise": early_stopping_and_noise,
    "02_seeing_overfitting": seeing_overfitting,
    "05_underfitting_and_capacity": underfitting_and_capacity,
}


# -- the lessons of issue #34, section 4 (00, 13, 14, 15) ---------------------------------------------

LN_10 = 2.302585092994046  # the loss of guessing evenly among 10 classes


def what_a_loss_means(notebook: Any) -> None:
    text = printed(notebook)
    # "An untrained network is close to guessing, and its loss is close to ln 10."
    assert abs(_number(r"untrained network on the digits: validation loss ([\d.]+)", text) - LN_10) < 0.1
    # "The training loss ends below the floor ... The validation loss stays above the floor";
    # "no model can expect an MSE below 0.3² = 0.09"; "0.10 is excellent here".
    floor = _number(r"noise floor on the validation points \(the true sin\(x\)\): ([\d.]+)", text)
    best_val = _number(r"lowest validation loss: ([\d.]+)", text)
    assert abs(floor - 0.09) < 0.015
    assert _number(r"training loss at the last epoch: ([\d.]+)", text) < floor < best_val < 1.25 * floor
    # The chosen epoch's validation loss sits clearly below its test loss with 30 images, less so with
    # 100; the last epoch's gap is near zero.
    gaps = {
        int(n): (float(c), float(f)) for n, c, f in re.findall(r"^ +(\d+) +([+-][\d.]+) +([+-][\d.]+)$", text, re.M)
    }
    assert set(gaps) == {30, 100}, gaps
    assert gaps[30][0] < 0 and gaps[30][0] < gaps[100][0]
    assert abs(gaps[30][1]) < abs(gaps[30][0]) / 3 and abs(gaps[100][1]) < abs(gaps[30][0]) / 3
    # Dropout: the logged training loss is above validation; the training images in eval mode below it.
    found = re.search(
        r"1\. dropout.*logged training loss ([\d.]+).*training images ([\d.]+), validation ([\d.]+)", text
    )
    assert found, "lesson 00 no longer prints the dropout run"
    logged, in_eval, val = map(float, found.groups())
    assert logged > val > in_eval
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
    # Label noise: training above validation; the wrong labels' loss far above the right ones'; the right
    # ones close to validation.
    train = _number(r"3\. 20 % wrong labels, epoch \d+: training loss ([\d.]+)", text)
    val = _number(r"3\. 20 % wrong labels, epoch \d+: training loss [\d.]+, validation ([\d.]+)", text)
    right = _number(r"with the right label ([\d.]+)", text)
    assert train > val and _number(r"with a wrong label ([\d.]+)", text) > 2 * right and abs(right - val) < 0.25


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
    # "the seed moves one run's result by several times as much" as the paired standard error
    assert _number(r"spread from seed to seed \(SD\): [\d.]+, ([\d.]+) times as large", text) >= 2
    # The wobble: "this gain is several times larger"
    assert _number(r"the gain of weight decay, [\d.]+, is ([\d.]+) times the baseline's wobble", text) >= 2.5


CLAIMS["14_run_to_run_spread"] = run_to_run_spread


def learning_rate_and_batch_size(notebook: Any) -> None:
    text = printed(notebook)
    floor = 0.09  # the noise's variance, 0.3²: "every curve below has a floor to aim at"
    rates = {
        float(lr): (int(run), float(lowest), float(last), int(rose))
        for lr, run, _, lowest, last, rose in re.findall(
            r"^ +([\d.]+) +(\d+) +([\d.]+) +([\d.]+) +([\d.]+) +(\d+)$", text, re.M
        )
    }
    assert set(rates) == {0.0003, 0.003, 0.03}, rates
    # "0.0003, too low: ... after 30 epochs it is still far above the floor of 0.09"
    assert rates[0.0003][0] == 30 and rates[0.0003][2] > 1.4 * floor
    # "0.003, good: it gets close to the floor and settles."
    assert rates[0.003][2] < 1.2 * floor and rates[0.003][2] - rates[0.003][1] < 0.002
    # "0.03, too high: it gets near the floor quickly, then bounces: the validation loss rises in many
    # epochs (last column), and its last value is not its lowest."
    assert rates[0.03][1] < 1.2 * floor and rates[0.03][3] > 2 * max(rates[0.0003][3], rates[0.003][3])
    assert rates[0.03][2] > rates[0.03][1]
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
    batches = {
        int(batch): tuple(map(float, rest))
        for batch, *rest in re.findall(r"^ +(\d+) +\d+ +([\d.]+) +([\d.]+) +([\d.]+) +([\d.]+)$", text, re.M)
    }
    assert set(batches) == {4, 16, 64}, batches
    last, wobble, scatter, expected = ([batches[b][i] for b in (4, 16, 64)] for i in range(4))
    # "Step scatter ... shrinks as the batch grows, roughly as the last column expects from 1/√b"
    assert scatter[0] > scatter[1] > scatter[2]
    assert all(0.6 < s / e < 1.6 for s, e in zip(scatter, expected))
    # "... the three runs end at similar validation losses."
    assert max(last) - min(last) < 0.1 * min(last)
    # "Wobble: the smaller the batch ... the more the curve wobbles"; "the largest batch's curve is the smoothest"
    assert wobble[0] > wobble[1] > wobble[2]


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
    # 1. "Higher, and still falling: its lowest value is its last"; "the smoother one (a smaller wobble)"
    assert lr["last val"][1] > lr["last val"][0] and lr["lowest val"][1] == lr["last val"][1]
    assert lr["wobble"][1] < lr["wobble"][0]
    # 2. Smaller batches: the steps scatter more, the curve wobbles more; it learns and memorises faster.
    assert batch["step scatter"][1] > 1.5 * batch["step scatter"][0] and batch["wobble"][1] > batch["wobble"][0]
    assert batch["lowest val"][1] < batch["lowest val"][0]
    assert batch["last val"][1] - batch["lowest val"][1] > batch["last val"][0] - batch["lowest val"][0]
    # 3. "The standard error grows, by roughly √8 ≈ 2.8"; "the validation loss is not the same"; "the
    # chart's wobble changes far less than the level".
    assert 1.8 < _number(r"standard error with 50 images / with 400: ([\d.]+)", text) < 4
    level = abs(n_val["last val"][1] - n_val["last val"][0])
    assert level > 0.01 and abs(n_val["wobble"][1] - n_val["wobble"][0]) < level / 3
    # 4. "its loss is far above the default's and still falling, closer to guessing (ln 10) than to the default"
    narrow = width["last val"][1]
    assert narrow == width["lowest val"][1] and abs(LN_10 - narrow) < abs(narrow - width["last val"][0])
    # 5. "Will the two runs end at the same validation loss?" "No."
    assert abs(_number(r"seed 1 minus seed 0, last validation loss: ([+-][\d.]+)", text)) >= 0.01
    # "only about one image in ten is a zero, so a model that always answers 'not a zero' is right about
    # 90 % of the time"
    zeros = _number(r"zeros among the \d+ validation images: ([\d.]+)%", text)
    assert 5 < zeros < 15 and 85 < _number(r"always 'not a zero': accuracy ([\d.]+)%", text) < 95


CLAIMS["15_worksheet"] = worksheet
