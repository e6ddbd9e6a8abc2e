"""Every labelled curve in tests/diagnosis_cases.py gets the verdict a teacher would give."""

import numpy as np
import pytest
from diagnosis_cases import demo_run, synthetic_cases

import losswidget as lw

CASES = synthetic_cases()


def history_of(train, val):
    history = lw.History()
    for epoch, (t, v) in enumerate(zip(train, val)):
        history.log_epoch(epoch, {"train": float(t), "val": float(v)})
    return history


def test_the_table_is_large_and_covers_every_kind():
    kinds = {kind for *_, kind in CASES}
    assert len(CASES) + 2 >= 40 and kinds == set(lw.core.diagnosis.KINDS)  # + the two real runs below


@pytest.mark.parametrize("name, train, val, expected", CASES, ids=[case[0] for case in CASES])
def test_synthetic_curve(name, train, val, expected):
    diagnosis = lw.diagnose(history_of(train, val))
    assert diagnosis.kind == expected, diagnosis.message


def test_the_demo_at_its_early_stop_says_overfitting():
    train, val = demo_run()
    assert len(val) == 64 and int(np.argmin(val)) == 43  # the run the issue describes
    diagnosis = lw.diagnose(history_of(train, val))
    assert diagnosis.kind == "overfitting" and diagnosis.since_epoch == 43, diagnosis.message


def test_the_demo_run_for_300_epochs_says_overfitting():
    train, val = demo_run(patience=None, epochs=300)
    diagnosis = lw.diagnose(history_of(train, val))
    assert diagnosis.kind == "overfitting" and diagnosis.since_epoch == 43, diagnosis.message
    assert not diagnosis.message.startswith("probably")  # 256 epochs of evidence: no hedging


def test_thin_evidence_is_said_to_be_thin():
    n, minimum_at = 34, 30  # four epochs after the minimum
    train = np.linspace(1.0, 0.2, n)
    val = np.concatenate([np.linspace(1.0, 0.5, minimum_at + 1), [0.51, 0.52, 0.53]])
    diagnosis = lw.diagnose(history_of(train, val))
    assert diagnosis.kind == "overfitting", diagnosis.message  # no sampling error known: it "looks like" it
    assert diagnosis.message.startswith("looks like overfitting (only 3 epochs since the best epoch)"), (
        diagnosis.message
    )
