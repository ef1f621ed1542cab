"""Classification metrics: the multi-label report, its label-set wrapper and the binary report."""

import numpy as np
import pytest

from mindlens.evaluation.classification import binary_report, multilabel_micro_macro, multilabel_report


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


def _counts_oracle(y_true, y_pred):
    """P/R/F1 from tp/fp/fn counts, the definition (0 where a denominator is 0)."""
    tp, fp, fn = (y_true & y_pred).sum(), (~y_true & y_pred).sum(), (y_true & ~y_pred).sum()
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return p, r, f


def _cases():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n, k = int(rng.integers(1, 40)), int(rng.integers(1, 6))
        dens_true, dens_pred = rng.uniform(0, 0.6, size=2)
        yield rng.random((n, k)) < dens_true, rng.random((n, k)) < dens_pred
    for shape in ((5, 3), (5, 1), (0, 3), (4, 0)):  # one label, no rows, no labels
        zeros, ones = np.zeros(shape, bool), np.ones(shape, bool)
        yield from ((zeros, zeros), (zeros, ones), (ones, zeros), (ones, ones))


def test_report_matches_the_count_definitions_on_random_and_edge_cases():
    """zero_division=0 everywhere; macro over labels with gold support; F1 = 2tp/(2tp+fp+fn).

    (Checked bit for bit against the hand-rolled report this replaced: P, R and support
    identical, F1 within 1e-15, i.e. the last bit of 2PR/(P+R).)
    """
    for y_true, y_pred in _cases():
        labels = [f"l{j}" for j in range(y_true.shape[1])]
        r = multilabel_report(y_true, y_pred, labels)
        assert (r["micro_precision"], r["micro_recall"], r["micro_f1"]) == _counts_oracle(y_true, y_pred)
        for j, label in enumerate(labels):
            per = r["per_label"][label]
            assert (per["precision"], per["recall"], per["f1"]) == _counts_oracle(y_true[:, j], y_pred[:, j])
            assert per["support"] == int(y_true[:, j].sum())
        present = [r["per_label"][lab]["f1"] for j, lab in enumerate(labels) if y_true[:, j].any()]
        assert r["macro_f1"] == (float(np.mean(present)) if present else 0.0)
        any_true, any_pred = y_true.any(axis=1), y_pred.any(axis=1)
        assert r["propaganda_f1"] == _counts_oracle(any_true, any_pred)[2]
        assert r["n_sentences"] == len(y_true)
