import numpy as np
import pytest

from mindlens.evaluation.metrics import multilabel_report


def test_hand_worked_micro_macro_and_any_propaganda():
    labels = ["a", "b", "c"]
    y_true = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 0], [0, 1, 0]])
    y_pred = np.array([[1, 0, 0], [0, 1, 1], [0, 1, 0], [0, 0, 0]])
    r = multilabel_report(y_true, y_pred, labels)
    # tp=2 (a@0, b@1), fp=2 (c@1, b@2), fn=2 (a@1, b@3)
    assert r["micro_precision"] == pytest.approx(0.5)
    assert r["micro_recall"] == pytest.approx(0.5)
    assert r["micro_f1"] == pytest.approx(0.5)
    # a: p=1, r=.5, f=2/3; b: p=.5, r=.5, f=.5; c has no support -> excluded from macro
    assert r["per_label"]["a"]["f1"] == pytest.approx(2 / 3)
    assert r["macro_f1"] == pytest.approx((2 / 3 + 0.5) / 2)
    # any-technique: true [1,1,0,1], pred [1,1,1,0] -> tp=2 fp=1 fn=1 -> f1=2/3
    assert r["propaganda_f1"] == pytest.approx(2 / 3)


def test_empty_predictions_and_empty_gold_score_zero_without_dividing_by_zero():
    labels = ["a"]
    r = multilabel_report(np.zeros((3, 1)), np.zeros((3, 1)), labels)
    assert r["micro_f1"] == 0.0 and r["macro_f1"] == 0.0
    r = multilabel_report(np.ones((2, 1)), np.zeros((2, 1)), labels)
    assert r["micro_recall"] == 0.0


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape"):
        multilabel_report(np.zeros((2, 2)), np.zeros((2, 3)), ["a", "b"])
