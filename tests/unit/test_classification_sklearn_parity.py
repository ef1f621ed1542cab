"""Temporary: the scikit-learn multilabel_report against the hand-rolled one it replaces."""

import math

import numpy as np
import pytest

from mindlens.evaluation import metrics as old
from mindlens.evaluation.classification import multilabel_report

SCORES = ("micro_precision", "micro_recall", "micro_f1", "macro_f1", "propaganda_f1")


def _cases():
    rng = np.random.default_rng(0)
    for _ in range(2000):
        n, k = int(rng.integers(1, 60)), int(rng.integers(1, 8))
        dens_true, dens_pred = rng.uniform(0, 0.6, size=2)
        yield rng.random((n, k)) < dens_true, rng.random((n, k)) < dens_pred, [f"l{j}" for j in range(k)]
    # edges: nothing predicted, nothing gold, both empty, all on, one label, no rows, no labels
    for shape in ((5, 3), (5, 1), (1, 1), (0, 3), (4, 0)):
        zeros, ones = np.zeros(shape, bool), np.ones(shape, bool)
        labels = [f"l{j}" for j in range(shape[1])]
        for y_true, y_pred in ((zeros, zeros), (zeros, ones), (ones, zeros), (ones, ones)):
            yield y_true, y_pred, labels


def test_same_numbers_as_the_hand_rolled_report():
    exact = total = 0
    for y_true, y_pred, labels in _cases():
        a, b = old.multilabel_report(y_true, y_pred, labels), multilabel_report(y_true, y_pred, labels)
        assert a["n_sentences"] == b["n_sentences"]
        assert list(a["per_label"]) == list(b["per_label"])
        pairs = [(a[k], b[k], k) for k in SCORES]
        for label in labels:
            x, y = a["per_label"][label], b["per_label"][label]
            assert x["support"] == y["support"]
            assert x["precision"] == y["precision"] and x["recall"] == y["recall"]
            pairs.append((x["f1"], y["f1"], "f1"))
        for before, after, key in pairs:
            total += 1
            exact += before == after
            # P and R are the same divisions; F1 = 2tp/(2tp+fp+fn) in scikit-learn vs 2PR/(P+R)
            # before: equal up to the last bit
            if key.endswith(("precision", "recall")):
                assert before == after, key
            assert math.isclose(before, after, rel_tol=1e-15, abs_tol=1e-15), (key, before, after)
    print(f"{exact}/{total} scores bit-identical, the rest within 1e-15")


@pytest.mark.parametrize("k", [1, 3])
def test_same_shape_errors(k):
    with pytest.raises(ValueError, match="shape"):
        multilabel_report(np.zeros((2, k)), np.zeros((2, k + 1)), [str(j) for j in range(k)])
