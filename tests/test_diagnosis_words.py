"""The words under the chart, as two instructors read them in the rendered lessons (issue 34's
second reading): each test is one sentence they quoted, and fails on the old wording."""

import numpy as np
from diagnosis_cases import overfit_history

import losswidget as lw
from losswidget.classroom.folder import row_of
from losswidget.core.evidence import CurveEvidence, Evidence, RiseTest
from losswidget.core.schedule import rate_cuts
from losswidget.core.verdicts import keep


def test_a_stuck_run_is_not_told_that_width_cannot_help():
    # Lesson 05: width 2 kept a live unit where width 1 died; "a larger model does not fix" contradicted it.
    history = lw.History()
    for e in range(20):
        history.log_epoch(e, {"train": 2.3026 + 1e-4 * (e % 2), "val": 2.3030 + 1e-4 * (e % 3)})
    found = lw.diagnose(history)
    assert found.kind == "not learning", found.message
    assert "larger model" not in found.message
    assert "check the learning rate, the seed" in found.action.lower()
    assert "a wider network may help only by keeping some units alive" in found.action


def test_a_smooth_curve_s_tiny_wobble_is_not_quoted_as_a_multiple():
    # Lesson 02: "smoothed rise 0.0398, far beyond the wobble of 0.00000182 per epoch".
    found = lw.diagnose(overfit_history())
    assert found.kind == "overfitting", found.message
    assert "the curve barely wobbles here" in found.message, found.message
    assert "beyond the wobble" not in found.message and "× the wobble" not in found.message
    # Two rises in one sentence, each named: the raw one at the last epoch, the smoothed one.
    assert "at the last epoch" in found.verdict and "the smoothed curve rose" in found.message


def test_a_rise_the_sampling_error_cannot_tell_quotes_no_wobble_multiple():
    # Lesson 12: "16.1 × the wobble of 0.000309 per epoch" inside "... could be sampling error".
    found = lw.diagnose(overfit_history(se=0.5))
    assert found.verdict.startswith("Not clear yet"), found.verdict
    assert "wobble" not in found.message, found.message


def _evidence(wobble, rise=0.0193):
    return Evidence(
        train=None,
        val=CurveEvidence(wobble=wobble, trend=0.0, window=8),
        best_epoch=12,
        best=0.5,
        latest=0.5 + rise,
        latest_epoch=20,
        sampling=RiseTest(rise, rise / 2.6, 400, True),
    )


def test_the_best_weights_lead_is_nominal_and_promises_new_data_only_beyond_the_wobble():
    # Lesson 15 (seed 1): gain 0.0193 < wobble 0.0197 got "so they should do better on new data".
    within = keep(_evidence(wobble=0.0197))
    assert "nominally (the best epoch was chosen on these examples)" in within
    assert "should do better on new data" not in within and "may do no better" in within, within
    assert "2.6 standard errors (sampling error, paired: the same examples at both epochs)" in within
    assert "standard errors of sampling error" not in within
    beyond = keep(_evidence(wobble=0.005))
    assert "nominally" in beyond and beyond.endswith("so they should do better on new data"), beyond


def test_a_level_curve_whose_last_epoch_is_its_best_is_still_improving_not_finished():
    # Lesson 13 chart 1: "Plateau ... More epochs are unlikely to help" where the lowest epoch was the last.
    rng = np.random.default_rng(0)
    history = lw.History()
    val = 0.24 + 0.2 * np.exp(-np.arange(48) / 4) + rng.normal(0, 0.0005, 48)
    val[-1] = val.min() - 0.0002
    for e in range(48):
        history.log_epoch(e, {"train": val[e] - 0.05, "val": float(val[e])})
    found = lw.diagnose(history)
    assert found.verdict.startswith("Still improving slowly"), found.message
    assert "unlikely to help" not in found.message and "More epochs may still help" in found.action
    val[-1] = val[-2] + 0.0005  # the same run, its last epoch not its best: a plateau
    history = lw.History()
    for e in range(48):
        history.log_epoch(e, {"train": val[e] - 0.05, "val": float(val[e])})
    assert lw.diagnose(history).verdict.startswith("Plateau")


def test_a_smooth_decay_is_not_a_learning_rate_cut():
    # Lesson 07: the HF Trainer's linear decay (~0.8 % per epoch) read as "the learning-rate cuts at
    # epochs 8, 9, 10 and 11".
    decay = [1e-3 * (1 - e / 40) for e in range(30)]
    assert rate_cuts(overfit_history(rates=decay)).size == 0
    found = lw.diagnose(overfit_history(rates=decay))
    assert "cut" not in found.verdict, found.verdict
    steps = [0.1] * 24 + [0.05] * 6  # a halving is a cut
    assert rate_cuts(overfit_history(rates=steps)).tolist() == [24]
    assert "the learning-rate cut at epoch 24" in lw.diagnose(overfit_history(rates=steps)).verdict


def test_the_class_table_says_too_early_to_tell_in_a_teacher_s_words():
    # Lesson 17: the kind "insufficient data" was never defined for the teacher reading the table.
    history = lw.History()
    for e in range(3):
        history.log_epoch(e, {"train": 1.0 - 0.1 * e, "val": 1.1 - 0.1 * e})
    row = row_of("ada", {}, history, {"min_delta": 0.0, "min_delta_se": 0.0}, None, "running")
    assert row.diagnosis == "too early to tell"


def test_a_learning_run_s_share_names_the_smoothed_curve_it_is_read_from():
    # The third reading: "validation loss fell 12 % in the last 8 epochs" in the status, where the share
    # was the smoothed curve's (the raw values fell by another share) and only the details said so.
    history = lw.History()
    rng = np.random.default_rng(0)
    for e in range(30):
        wobble = 0.01 * rng.standard_normal()
        history.log_epoch(e, {"train": 2.0 - 0.05 * e, "val": 2.1 - 0.04 * e + wobble})
    found = lw.diagnose(history)
    assert found.kind == "learning", found.message
    assert "validation loss (smoothed over" in found.verdict, found.verdict
    assert "(smoothed)" in found.message and "→" in found.message, found.message
