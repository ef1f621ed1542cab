"""Binary report and the label-set wrapper over multilabel_report."""

import numpy as np
import pytest

from mindlens.evaluation.classification import binary_report, multilabel_micro_macro


def test_binary_report_hand_worked():
    y = [1, 1, 0, 0]
    scores = [0.9, 0.4, 0.6, 0.1]
    # predictions at 0.5: [1, 0, 1, 0] -> tp=1 fp=1 fn=1 tn=1
    r = binary_report(y, scores)
    assert r["accuracy"] == pytest.approx(0.5)
    assert (r["precision"], r["recall"], r["f1"]) == (0.5, 0.5, 0.5)
    # AUC: positive/negative pairs (0.9>0.6, 0.9>0.1, 0.4<0.6, 0.4>0.1) -> 3/4
    assert r["roc_auc"] == pytest.approx(0.75)
    assert r["n"] == 4
    # threshold 0.3: predictions [1, 1, 1, 0] -> P = 2/3, R = 1
    r = binary_report(np.array(y), np.array(scores), threshold=0.3)
    assert r["precision"] == pytest.approx(2 / 3)
    assert r["recall"] == 1.0


def test_binary_report_one_class_has_no_auc():
    r = binary_report([0, 0, 0], [0.1, 0.7, 0.2])
    assert r["roc_auc"] is None
    assert r["precision"] == 0.0 and r["accuracy"] == pytest.approx(2 / 3)


def test_binary_report_rejects_bad_input():
    with pytest.raises(ValueError):
        binary_report([1, 0], [0.5])
    with pytest.raises(ValueError):
        binary_report([2, 0], [0.5, 0.5])


def test_multilabel_micro_macro_matches_multilabel_report():
    labels = ["a", "b", "c"]
    y_true = [{"a"}, {"a", "b"}, set(), {"b"}]
    y_pred = [{"a"}, {"b", "c"}, {"b"}, set()]
    # same case as test_metrics: tp=2 fp=2 fn=2 -> micro F1 0.5
    # a: f1 2/3, b: f1 0.5, c has no support -> macro (2/3 + 1/2) / 2
    r = multilabel_micro_macro(y_true, y_pred, labels)
    assert r["micro_f1"] == pytest.approx(0.5)
    assert r["macro_f1"] == pytest.approx((2 / 3 + 0.5) / 2)
    assert r["per_label"]["a"]["support"] == 2
    assert r["per_label"]["c"]["precision"] == 0.0


def test_multilabel_micro_macro_rejects_unknown_labels_and_length_mismatch():
    with pytest.raises(ValueError, match="'z'"):
        multilabel_micro_macro([{"a"}], [{"z"}], ["a"])
    with pytest.raises(ValueError):
        multilabel_micro_macro([{"a"}], [], ["a"])
