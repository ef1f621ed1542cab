"""Decoding network outputs into fragments (numpy only, shared by torch and ONNX)."""

from __future__ import annotations

import numpy as np
import pytest

from mindlens.models.decoding import (
    Decoding,
    FoundSpan,
    decode_windows,
    fuse_sentence,
    merge_spans,
    pad_tokens,
    tidy_spans,
    viterbi_inside,
)


def test_decode_windows_runs_per_technique_break_on_empty_offsets_and_padding() -> None:
    offsets = [(0, 0), (0, 4), (5, 9), (0, 0), (10, 14)]  # special tokens have empty offsets
    probs = np.array([[0.9, 0.1], [0.8, 0.1], [0.6, 0.7], [0.9, 0.9], [0.7, 0.2]])
    short = np.array([[0.9, 0.1], [0.9, 0.1]])  # a second, shorter window: padded, padding breaks runs
    both = decode_windows(
        pad_tokens([np.array(offsets), np.array([(0, 3), (4, 8)])]),
        pad_tokens([probs, short]),
        ["a", "b"],
        threshold=0.5,
    )
    spans = both[0]
    assert [(s.start, s.end, s.technique) for s in spans] == [
        (0, 9, "a"),
        (10, 14, "a"),
        (5, 9, "b"),
    ]
    assert spans[0].confidence == pytest.approx(0.7)
    assert [(s.start, s.end, s.technique) for s in both[1]] == [(0, 8, "a")]


def test_merge_spans_joins_overlaps_of_one_technique() -> None:
    merged = merge_spans([FoundSpan(0, 10, "a", 0.6), FoundSpan(5, 20, "a", 0.9), FoundSpan(5, 8, "b", 0.5)])
    assert merged == [FoundSpan(0, 20, "a", 0.9), FoundSpan(5, 8, "b", 0.5)]


def test_tidy_spans_snaps_joins_and_drops() -> None:
    """Fragments end on word boundaries, close pieces of one technique become one fragment
    (not across a sentence break), lone short words go."""
    text = "The expats are evil, corrupt traitors. Its the end; the end of it."
    at = text.index
    pieces = [
        FoundSpan(at("expats"), at("expats") + 2, "name_calling", 0.9),  # "ex": inside a word
        FoundSpan(at("evil"), at("evil") + 4, "loaded_language", 0.8),
        FoundSpan(at("traitors"), at("traitors") + 8, "loaded_language", 0.95),  # joins "evil"
        FoundSpan(at("Its"), at("Its") + 3, "doubt", 0.9),  # too short
        FoundSpan(at("the end;"), at("the end;") + 7, "slogans", 0.7),
        FoundSpan(at("the end of"), at("the end of") + 10, "slogans", 0.6),
    ]  # ";" between
    got = {(text[s.start : s.end], s.technique, s.confidence) for s in tidy_spans(text, pieces)}
    assert got == {
        ("expats", "name_calling", 0.9),
        ("evil, corrupt traitors", "loaded_language", 0.95),
        ("the end", "slogans", 0.7),
        ("the end of", "slogans", 0.6),
    }


def _plain_runs(probs: np.ndarray, threshold: float) -> np.ndarray:
    return probs >= threshold


def test_viterbi_without_cost_is_thresholding() -> None:
    rng = np.random.default_rng(0)
    probs = rng.random((6, 40))
    scores = np.log(probs / (1 - probs))  # threshold 0.5: log-odds against 0
    assert np.array_equal(viterbi_inside(scores, 0.0), _plain_runs(probs, 0.5))


def test_viterbi_fills_short_dips_and_drops_weak_blips() -> None:
    # a strong run with a one-token dip, then an isolated weak blip
    scores = np.array([[-3.0, 2.0, 2.0, -0.5, 2.0, 2.0, -3.0, -3.0, 0.4, -3.0]])
    got = viterbi_inside(scores, 1.0)[0]
    assert got.tolist() == [False, True, True, True, True, True, False, False, False, False]
    # with a cost below the blip's evidence it survives; -inf always breaks a run
    assert viterbi_inside(scores, 0.3)[0][8]
    scores[0, 3] = -np.inf
    assert not viterbi_inside(scores, 1.0)[0][3]


def test_decode_windows_per_label_thresholds_and_costs() -> None:
    offsets = [(0, 0), (0, 4), (5, 9), (10, 14), (15, 19), (0, 0)]
    probs = np.array([[0.0, 0.0], [0.9, 0.6], [0.4, 0.6], [0.9, 0.6], [0.1, 0.1], [0.0, 0.0]])
    window, window_probs = np.array([offsets]), probs[None]
    plain = decode_windows(window, window_probs, ["a", "b"], threshold=np.array([0.5, 0.7]))[0]
    assert [(s.start, s.end, s.technique) for s in plain] == [(0, 4, "a"), (10, 14, "a")]
    smooth = decode_windows(
        window, window_probs, ["a", "b"], np.array([0.5, 0.7]), switch_costs=np.array([2.0, 0.0])
    )[0]
    assert [(s.start, s.end, s.technique) for s in smooth] == [(0, 14, "a")]
    assert smooth[0].confidence == pytest.approx((0.9 + 0.4 + 0.9) / 3)


def test_fuse_sentence_is_geometric_and_a_no_op_at_zero_weight() -> None:
    tokens = np.array([[0.9, 0.9], [0.2, 0.2]])
    sentence = np.array([[0.1, 0.1]])
    assert fuse_sentence(tokens, sentence, np.zeros(2)) is tokens
    fused = fuse_sentence(tokens, sentence, np.array([0.5, 0.0]))
    assert fused[0, 0] == pytest.approx(np.sqrt(0.9 * 0.1))
    assert fused[:, 1] == pytest.approx(tokens[:, 1])


def test_decoding_round_trip_and_checks() -> None:
    decoding = Decoding(thresholds={"a": 0.7}, switch_costs={"a": 1.5})
    assert Decoding.from_dict(decoding.to_dict()) == decoding
    thresholds, costs, weights = decoding.arrays(["a", "b"], 0.5)
    assert thresholds.tolist() == [0.7, 0.5] and costs.tolist() == [1.5, 0.0] and weights.tolist() == [0, 0]
    with pytest.raises(ValueError, match="thresholds"):
        Decoding(thresholds={"a": 1.5})
    with pytest.raises(ValueError, match="unknown decoding keys"):
        Decoding.from_dict({"threshold": {}})


def test_tidy_rules_per_technique() -> None:
    """A technique's own join gap and minimum length replace the defaults for it only."""
    text = "The evil traitors and the corrupt liars."
    at = text.index
    pieces = [
        FoundSpan(at("evil"), at("evil") + 4, "loaded_language", 0.8),
        FoundSpan(at("corrupt"), at("corrupt") + 7, "loaded_language", 0.9),
        FoundSpan(at("traitors"), at("traitors") + 8, "name_calling", 0.9),
    ]
    default = {(text[s.start : s.end], s.technique) for s in tidy_spans(text, pieces)}
    assert ("evil traitors and the corrupt", "loaded_language") in default  # 25-char gap joins
    rules = Decoding(join_gaps={"loaded_language": 0}, min_chars={"name_calling": 10})
    tuned = {(text[s.start : s.end], s.technique) for s in tidy_spans(text, pieces, rules)}
    assert tuned == {("evil", "loaded_language"), ("corrupt", "loaded_language")}
    assert Decoding.from_dict(rules.to_dict()) == rules
