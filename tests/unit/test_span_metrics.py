"""Hand-worked cases for the SemEval-2020 Task 11 / NLP4IF-2019 span metrics."""

import pytest

from mindlens.evaluation.spans import flc_scores, merge_intervals, si_scores, tc_scores

# ------------------------------------------------------------------ SI


def test_si_partial_overlap():
    # gold [0,10), pred [5,15): |s∩t| = 5 -> P = 5/10, R = 5/10, F1 = 0.5
    r = si_scores([("a", 0, 10)], [("a", 5, 15)])
    assert r["precision"] == pytest.approx(0.5)
    assert r["recall"] == pytest.approx(0.5)
    assert r["f1"] == pytest.approx(0.5)
    assert (r["n_gold"], r["n_pred"]) == (1, 1)


def test_si_overlapping_predictions_are_merged_first():
    # pred [0,6) and [4,10) overlap -> one span [0,10) equal to gold -> P = R = 1, |S| = 1
    r = si_scores([("a", 0, 10)], [("a", 0, 6), ("a", 4, 10)])
    assert r["precision"] == pytest.approx(1.0)
    assert r["recall"] == pytest.approx(1.0)
    assert r["n_pred"] == 1


def test_si_nested_gold_spans_are_merged():
    # gold [0,20) contains [5,10) -> one gold span [0,20); pred [0,10)
    # P = 10/10 = 1, R = 10/20 = 0.5, F1 = 2*1*0.5/1.5 = 2/3
    r = si_scores([("a", 0, 20), ("a", 5, 10)], [("a", 0, 10)])
    assert r["n_gold"] == 1
    assert r["precision"] == pytest.approx(1.0)
    assert r["recall"] == pytest.approx(0.5)
    assert r["f1"] == pytest.approx(2 / 3)


def test_si_touching_spans_are_not_merged_like_the_official_scorer():
    # [0,5) and [5,10) share no character, so the official merge keeps them apart: |S| = 2.
    # P = (5/5 + 5/5) / 2 = 1; R = (5/10 + 5/10) / 1 = 1
    r = si_scores([("a", 0, 10)], [("a", 0, 5), ("a", 5, 10)])
    assert r["n_pred"] == 2
    assert r["precision"] == pytest.approx(1.0)
    assert r["recall"] == pytest.approx(1.0)
    assert merge_intervals([(5, 10), (0, 5), (2, 3)]) == [(0, 5), (5, 10)]


def test_si_several_predictions_inside_one_gold_span():
    # gold [0,20); preds [0,5) and [10,15) each fully inside gold
    # P = (5/5 + 5/5) / 2 = 1; R = (5/20 + 5/20) / 1 = 0.5; F1 = 2/3
    r = si_scores([("a", 0, 20)], [("a", 0, 5), ("a", 10, 15)])
    assert r["precision"] == pytest.approx(1.0)
    assert r["recall"] == pytest.approx(0.5)
    assert r["f1"] == pytest.approx(2 / 3)


def test_si_sums_over_articles_and_never_matches_across_them():
    gold = [("a", 0, 10), ("b", 0, 10)]
    # a: exact hit (credit 1 both ways); b: [20,30) misses; c: article without gold
    pred = [("a", 0, 10), ("b", 20, 30), ("c", 0, 5)]
    # P = 1/3, R = 1/2, F1 = 2*(1/3)*(1/2) / (5/6) = 0.4
    r = si_scores(gold, pred)
    assert r["precision"] == pytest.approx(1 / 3)
    assert r["recall"] == pytest.approx(1 / 2)
    assert r["f1"] == pytest.approx(0.4)
    # same offsets in another article earn nothing
    assert si_scores([("a", 0, 10)], [("b", 0, 10)])["f1"] == 0.0


def test_si_empty_predictions_and_empty_gold():
    r = si_scores([("a", 0, 10)], [])
    assert (r["precision"], r["recall"], r["f1"], r["n_pred"]) == (0.0, 0.0, 0.0, 0)
    r = si_scores([], [("a", 0, 10)])
    assert (r["precision"], r["recall"], r["f1"], r["n_gold"]) == (0.0, 0.0, 0.0, 0)
    assert si_scores([], [])["f1"] == 0.0


def test_si_rejects_empty_or_reversed_spans():
    with pytest.raises(ValueError, match="start < end"):
        si_scores([("a", 5, 5)], [])
    with pytest.raises(ValueError):
        si_scores([], [("a", 9, 3)])


# ------------------------------------------------------------------ FLC


def test_flc_technique_mismatch_gets_no_credit():
    # same characters, different technique -> C = 0 -> P = R = 0
    r = flc_scores([("a", "loaded_language", 0, 10)], [("a", "name_calling", 0, 10)])
    assert (r["precision"], r["recall"], r["f1"]) == (0.0, 0.0, 0.0)
    assert r["per_technique"]["name_calling"]["support"] == 0
    assert r["per_technique"]["loaded_language"]["recall"] == 0.0


def test_flc_partial_overlap_same_technique():
    # as SI: 5 shared characters of 10 -> P = R = 0.5
    r = flc_scores([("a", "doubt", 0, 10)], [("a", "doubt", 5, 15)])
    assert r["precision"] == pytest.approx(0.5)
    assert r["recall"] == pytest.approx(0.5)


def test_flc_merges_per_technique_only():
    gold = [
        ("a", "loaded_language", 0, 10),
        ("a", "loaded_language", 5, 15),  # -> LL [0,15)
        ("a", "name_calling", 5, 15),
    ]  # stays separate
    pred = [("a", "loaded_language", 0, 15)]
    # |T| = 2 (LL [0,15), NC [5,15)), |S| = 1
    # P = 15/15 / 1 = 1; R = (15/15 + 0) / 2 = 0.5; F1 = 2/3
    r = flc_scores(gold, pred)
    assert (r["n_gold"], r["n_pred"]) == (2, 1)
    assert r["precision"] == pytest.approx(1.0)
    assert r["recall"] == pytest.approx(0.5)
    assert r["f1"] == pytest.approx(2 / 3)
    ll, nc = r["per_technique"]["loaded_language"], r["per_technique"]["name_calling"]
    assert (ll["precision"], ll["recall"], ll["f1"], ll["support"]) == (1.0, 1.0, 1.0, 1)
    assert (nc["precision"], nc["recall"], nc["f1"], nc["support"]) == (0.0, 0.0, 0.0, 1)


def test_flc_per_technique_counts_only_that_technique():
    gold = [("a", "doubt", 0, 10), ("b", "doubt", 0, 10), ("a", "slogans", 20, 30)]
    pred = [("a", "doubt", 0, 5), ("a", "slogans", 20, 30), ("a", "slogans", 40, 50)]
    # doubt: P = (5/5)/1 = 1, R = (5/10)/2 = 0.25
    # slogans: P = (1 + 0)/2 = 0.5, R = 1/1 = 1
    # overall: P = (1 + 1 + 0)/3 = 2/3, R = (0.5 + 0 + 1)/3 = 0.5
    r = flc_scores(gold, pred)
    assert r["per_technique"]["doubt"]["precision"] == pytest.approx(1.0)
    assert r["per_technique"]["doubt"]["recall"] == pytest.approx(0.25)
    assert r["per_technique"]["slogans"]["precision"] == pytest.approx(0.5)
    assert r["per_technique"]["slogans"]["recall"] == pytest.approx(1.0)
    assert r["precision"] == pytest.approx(2 / 3)
    assert r["recall"] == pytest.approx(0.5)


def test_flc_empty_sides():
    r = flc_scores([("a", "doubt", 0, 10)], [])
    assert (r["f1"], r["n_pred"]) == (0.0, 0)
    r = flc_scores([], [("a", "doubt", 0, 10)])
    assert (r["precision"], r["recall"], r["n_gold"]) == (0.0, 0.0, 0)


# ------------------------------------------------------------------ TC


def test_tc_single_label_spans():
    gold = [("a", 0, 10, "doubt"), ("a", 20, 30, "slogans"), ("b", 0, 5, "doubt")]
    pred = [("a", 0, 10, "doubt"), ("a", 20, 30, "doubt"), ("b", 0, 5, "doubt")]
    # correct = 2 of 3 -> micro P = R = F1 = accuracy = 2/3
    r = tc_scores(gold, pred)
    assert r["micro_f1"] == pytest.approx(2 / 3)
    assert r["accuracy"] == pytest.approx(2 / 3)
    # doubt: 2 correct of 3 predicted, 2 gold -> P = 2/3, R = 1, F1 = 0.8
    # slogans: 0 predicted, 1 gold -> F1 = 0; macro = (0.8 + 0) / 2
    assert r["per_class"]["doubt"]["precision"] == pytest.approx(2 / 3)
    assert r["per_class"]["doubt"]["recall"] == pytest.approx(1.0)
    assert r["per_class"]["doubt"]["f1"] == pytest.approx(0.8)
    assert r["per_class"]["slogans"]["support"] == 1
    assert r["macro_f1"] == pytest.approx(0.4)


def test_tc_multi_label_span_matches_in_any_order():
    gold = [("a", 10, 20, "loaded_language"), ("a", 10, 20, "repetition")]
    r = tc_scores(gold, [("a", 10, 20, "repetition"), ("a", 10, 20, "loaded_language")])
    assert r["micro_f1"] == pytest.approx(1.0)
    # predicting LL twice: multiset {LL, LL} ∩ {LL, rep} = {LL} -> 1 correct of 2 each way
    r = tc_scores(gold, [("a", 10, 20, "loaded_language"), ("a", 10, 20, "loaded_language")])
    assert r["precision"] == pytest.approx(0.5)
    assert r["recall"] == pytest.approx(0.5)
    # LL: 1 correct / 2 predicted, 1 gold -> P = 0.5, R = 1; repetition never predicted
    assert r["per_class"]["loaded_language"]["precision"] == pytest.approx(0.5)
    assert r["per_class"]["loaded_language"]["recall"] == pytest.approx(1.0)
    assert r["per_class"]["repetition"]["recall"] == 0.0


def test_tc_missing_predictions_lower_recall_only():
    gold = [("a", 0, 10, "doubt"), ("a", 20, 30, "slogans")]
    # 1 prediction, correct: P = 1/1, R = 1/2, F1 = 2/3, accuracy = 1/2
    r = tc_scores(gold, [("a", 0, 10, "doubt")])
    assert (r["precision"], r["recall"]) == (pytest.approx(1.0), pytest.approx(0.5))
    assert r["micro_f1"] == pytest.approx(2 / 3)
    assert r["accuracy"] == pytest.approx(0.5)


def test_tc_prediction_on_unknown_span_raises_naming_it():
    gold = [("a", 0, 10, "doubt")]
    with pytest.raises(ValueError, match=r"\('a', 0, 11\)"):
        tc_scores(gold, [("a", 0, 10, "doubt"), ("a", 0, 11, "doubt"), ("b", 0, 10, "doubt")])


def test_tc_empty_predictions():
    r = tc_scores([("a", 0, 10, "doubt")], [])
    assert (r["micro_f1"], r["precision"], r["recall"], r["accuracy"]) == (0.0, 0.0, 0.0, 0.0)
